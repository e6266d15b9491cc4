//! Sub — <https://onnx.ai/onnx/operators/onnx__Sub.html>, opsets 13, 14: elementwise `a - b` with
//! numpy (multidirectional) broadcasting.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Sub(a, b)`: `a - b`, broadcasting.
    pub fn sub(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Sub", &[a, b], vec![], "out", a.elem_type())
    }
}
