//! Mul — <https://onnx.ai/onnx/operators/onnx__Mul.html>, opsets 13, 14: elementwise `a * b` with
//! numpy (multidirectional) broadcasting.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Mul(a, b)`: `a * b`, broadcasting.
    pub fn mul(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Mul", &[a, b], vec![], "out", a.elem_type())
    }
}
