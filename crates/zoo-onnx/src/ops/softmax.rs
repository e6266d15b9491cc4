//! Softmax — <https://onnx.ai/onnx/operators/onnx__Softmax.html>, opset 13 (the per-axis form;
//! before 13 the input was coerced to 2-D, which is why the builder starts at opset 13).

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;

impl GraphBuilder {
    /// `Softmax(x)` along `axis` (negative counts from the end).
    pub fn softmax(&mut self, x: &Value, scope: &str, axis: i64) -> Result<Value> {
        self.emit(scope, "Softmax", &[x], vec![attr_int("axis", axis)], "out", x.elem_type())
    }
}
