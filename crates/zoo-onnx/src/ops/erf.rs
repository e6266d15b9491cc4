//! Erf — <https://onnx.ai/onnx/operators/onnx__Erf.html>, opsets 13: elementwise Gauss error function.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `Erf(x)`: elementwise Gauss error function.
    pub fn erf(&mut self, x: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "Erf", &[x], vec![], "out", x.elem_type())
    }
}
