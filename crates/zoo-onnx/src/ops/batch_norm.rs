//! BatchNormalization — <https://onnx.ai/onnx/operators/onnx__BatchNormalization.html>,
//! opsets 9, 14 and 15, inference form only (`training_mode = 0`, one output):
//! `y = scale * (x - mean) / sqrt(var + epsilon) + bias` per channel (axis 1).

use crate::builder::{GraphBuilder, Value, attr_float};
use crate::error::{Result, invalid};

/// Parameters of an inference-mode [`GraphBuilder::batch_norm`], each `[C]`.
#[derive(Clone, Copy, Debug)]
pub struct BatchNorm<'a> {
    /// γ (PyTorch `weight`).
    pub scale: &'a Value,
    /// β (PyTorch `bias`).
    pub bias: &'a Value,
    /// Running mean.
    pub mean: &'a Value,
    /// Running variance.
    pub var: &'a Value,
    /// Added to the variance.
    pub epsilon: f32,
}

impl GraphBuilder {
    /// `BatchNormalization(x, scale, bias, mean, var)` with the running statistics.
    pub fn batch_norm(&mut self, x: &Value, scope: &str, p: BatchNorm<'_>) -> Result<Value> {
        if p.epsilon.is_nan() || p.epsilon < 0.0 {
            return Err(invalid(
                scope,
                format!("BatchNormalization epsilon must be ≥ 0, got {}", p.epsilon),
            ));
        }
        let attributes = vec![attr_float("epsilon", p.epsilon)];
        self.emit(
            scope,
            "BatchNormalization",
            &[x, p.scale, p.bias, p.mean, p.var],
            attributes,
            "out",
            x.elem_type(),
        )
    }
}
