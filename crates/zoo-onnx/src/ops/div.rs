//! Div — <https://onnx.ai/onnx/operators/onnx__Div.html>, opsets 13, 14: elementwise `a / b` with
//! numpy (multidirectional) broadcasting.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Div(a, b)`: `a / b`, broadcasting.
    pub fn div(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Div", &[a, b], vec![], "out", a.elem_type())
    }
}
