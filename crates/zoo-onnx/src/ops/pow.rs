//! Pow — <https://onnx.ai/onnx/operators/onnx__Pow.html>, opsets 13, 15: elementwise `a ^ b` with
//! numpy (multidirectional) broadcasting.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Pow(a, b)`: `a ^ b`, broadcasting.
    pub fn pow(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Pow", &[a, b], vec![], "out", a.elem_type())
    }
}
