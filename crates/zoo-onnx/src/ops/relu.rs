//! Relu — <https://onnx.ai/onnx/operators/onnx__Relu.html>, opsets 13, 14: `max(x, 0)`.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Relu(x)`: `max(x, 0)`.
    pub fn relu(&mut self, x: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Relu", &[x], vec![], "out", x.elem_type())
    }
}
