//! Mean — <https://onnx.ai/onnx/operators/onnx__Mean.html>, opset 13: elementwise mean of
//! any number of inputs, with broadcasting (averages ensemble members' softmax outputs).

use crate::builder::{GraphBuilder, Value};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Mean(inputs…)`.
    pub fn mean(&mut self, inputs: &[&Value], scope: &str) -> Result<Value> {
        let Some(first) = inputs.first() else {
            return Err(invalid(scope, "Mean needs at least one input"));
        };
        let elem = first.elem_type();
        self.emit(scope, "Mean", inputs, vec![], "out", elem)
    }
}
