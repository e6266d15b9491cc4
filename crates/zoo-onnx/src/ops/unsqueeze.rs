//! Unsqueeze — <https://onnx.ai/onnx/operators/onnx__Unsqueeze.html>, opsets 13 and 21:
//! inserts size-1 axes; `axes` is an `int64` input (an attribute only before opset 13).

use crate::builder::{GraphBuilder, Value};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Unsqueeze(x, axes)`; axes index the output (negative counts from its end).
    pub fn unsqueeze(&mut self, x: &Value, scope: &str, axes: &[i64]) -> Result<Value> {
        if axes.is_empty() {
            return Err(invalid(scope, "Unsqueeze needs at least one axis"));
        }
        let axes = self.const_i64(scope, "axes", axes)?;
        self.emit(scope, "Unsqueeze", &[x, &axes], vec![], "out", x.elem_type())
    }
}
