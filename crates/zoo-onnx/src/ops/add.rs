//! Add — <https://onnx.ai/onnx/operators/onnx__Add.html>, opsets 13, 14: elementwise `a + b` with
//! numpy (multidirectional) broadcasting.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Add(a, b)`: `a + b`, broadcasting.
    pub fn add(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Add", &[a, b], vec![], "out", a.elem_type())
    }
}
