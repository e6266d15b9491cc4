//! LayerNormalization — <https://onnx.ai/onnx/operators/onnx__LayerNormalization.html>,
//! opset 17 (the operator's only version), over the last axis.
//!
//! Below opset 17 the same function is written out with
//! [ReduceMean](https://onnx.ai/onnx/operators/onnx__ReduceMean.html),
//! [Sub](https://onnx.ai/onnx/operators/onnx__Sub.html),
//! [Pow](https://onnx.ai/onnx/operators/onnx__Pow.html),
//! [Sqrt](https://onnx.ai/onnx/operators/onnx__Sqrt.html) and
//! [Div](https://onnx.ai/onnx/operators/onnx__Div.html):
//! `(x - mean) / sqrt(mean((x - mean)^2) + epsilon) * scale + bias`.

use crate::builder::{GraphBuilder, Value, attr_float, attr_int};
use crate::error::{Result, invalid};

/// Parameters of [`GraphBuilder::layer_norm`] over the last axis of size `D`.
#[derive(Clone, Copy, Debug)]
pub struct LayerNorm<'a> {
    /// γ, `[D]` (PyTorch `weight`).
    pub scale: &'a Value,
    /// β, `[D]` (PyTorch `bias`); `None` for none.
    pub bias: Option<&'a Value>,
    /// Added to the variance.
    pub epsilon: f32,
}

impl GraphBuilder {
    /// Layer normalization over the last axis (`axis = -1`).
    pub fn layer_norm(&mut self, x: &Value, scope: &str, p: LayerNorm<'_>) -> Result<Value> {
        if p.epsilon.is_nan() || p.epsilon < 0.0 {
            return Err(invalid(
                scope,
                format!("LayerNormalization epsilon must be ≥ 0, got {}", p.epsilon),
            ));
        }
        let elem = x.elem_type();
        if self.opset() >= 17 {
            let mut inputs = vec![x, p.scale];
            inputs.extend(p.bias);
            let attributes = vec![attr_int("axis", -1), attr_float("epsilon", p.epsilon)];
            return self.emit(scope, "LayerNormalization", &inputs, attributes, "out", elem);
        }
        let mean = self.reduce_mean_labeled(x, scope, &[-1], true, "mean")?;
        let centered = self.emit(scope, "Sub", &[x, &mean], vec![], "centered", elem)?;
        let two = self.const_scalar(scope, "two", 2.0)?;
        let squared = self.emit(scope, "Pow", &[&centered, &two], vec![], "squared", elem)?;
        let var = self.reduce_mean_labeled(&squared, scope, &[-1], true, "var")?;
        let eps = self.const_scalar(scope, "epsilon", p.epsilon)?;
        let var_eps = self.emit(scope, "Add", &[&var, &eps], vec![], "var_eps", elem)?;
        let std = self.emit(scope, "Sqrt", &[&var_eps], vec![], "std", elem)?;
        let normed = self.emit(scope, "Div", &[&centered, &std], vec![], "normed", elem)?;
        match p.bias {
            Some(bias) => {
                let scaled =
                    self.emit(scope, "Mul", &[&normed, p.scale], vec![], "scaled", elem)?;
                self.emit(scope, "Add", &[&scaled, bias], vec![], "out", elem)
            }
            None => self.emit(scope, "Mul", &[&normed, p.scale], vec![], "out", elem),
        }
    }
}
