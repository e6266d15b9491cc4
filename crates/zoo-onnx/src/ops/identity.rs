//! Identity — <https://onnx.ai/onnx/operators/onnx__Identity.html>, opsets 13, 14, 16, 19, 21: the input unchanged.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Identity(x)`: the input unchanged.
    pub fn identity(&mut self, x: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Identity", &[x], vec![], "out", x.elem_type())
    }
}
