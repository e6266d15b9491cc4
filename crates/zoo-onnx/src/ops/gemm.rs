//! Gemm — <https://onnx.ai/onnx/operators/onnx__Gemm.html>, opsets 11 and 13:
//! `Y = alpha * op(A) @ op(B) + beta * C` for 2-D `A`, `B`; `C` optional and broadcast.
//! A PyTorch `Linear` on `[N, in]` is `trans_b = true` with its `[out, in]` weight.

use crate::builder::{GraphBuilder, Value, attr_float, attr_int};
use crate::error::Result;

/// Attributes of [`GraphBuilder::gemm`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GemmAttrs {
    /// Multiplier of `A @ B`.
    pub alpha: f32,
    /// Multiplier of `C`.
    pub beta: f32,
    /// Transpose `A` first.
    pub trans_a: bool,
    /// Transpose `B` first.
    pub trans_b: bool,
}

impl Default for GemmAttrs {
    fn default() -> Self {
        GemmAttrs { alpha: 1.0, beta: 1.0, trans_a: false, trans_b: false }
    }
}

impl GemmAttrs {
    /// A PyTorch `Linear`: `x @ W^T + b` with `W` stored `[out, in]`.
    pub fn linear() -> Self {
        GemmAttrs { trans_b: true, ..GemmAttrs::default() }
    }
}

impl GraphBuilder {
    /// `Gemm(a, b[, c])`.
    pub fn gemm(
        &mut self,
        a: &Value,
        scope: &str,
        b: &Value,
        c: Option<&Value>,
        attrs: GemmAttrs,
    ) -> Result<Value> {
        let mut inputs = vec![a, b];
        inputs.extend(c);
        let attributes = vec![
            attr_float("alpha", attrs.alpha),
            attr_float("beta", attrs.beta),
            attr_int("transA", i64::from(attrs.trans_a)),
            attr_int("transB", i64::from(attrs.trans_b)),
        ];
        self.emit(scope, "Gemm", &inputs, attributes, "out", a.elem_type())
    }
}
