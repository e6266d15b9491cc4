//! Sqrt — <https://onnx.ai/onnx/operators/onnx__Sqrt.html>, opsets 13: elementwise square root.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Sqrt(x)`: elementwise square root.
    pub fn sqrt(&mut self, x: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Sqrt", &[x], vec![], "out", x.elem_type())
    }
}
