//! Concat — <https://onnx.ai/onnx/operators/onnx__Concat.html>, opset 13: joins tensors
//! along `axis` (negative counts from the end).

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Concat(inputs…)` along `axis`.
    pub fn concat(&mut self, inputs: &[&Value], scope: &str, axis: i64) -> Result<Value> {
        let Some(first) = inputs.first() else {
            return Err(invalid(scope, "Concat needs at least one input"));
        };
        let elem = first.elem_type();
        self.emit(scope, "Concat", inputs, vec![attr_int("axis", axis)], "out", elem)
    }
}
