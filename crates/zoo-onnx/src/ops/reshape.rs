//! Reshape — <https://onnx.ai/onnx/operators/onnx__Reshape.html>, opsets 13, 14, 19, 21.
//! The target shape is an `int64` initializer; `0` copies the input dimension (`allowzero`
//! left at 0) and one `-1` is inferred.

use crate::builder::{GraphBuilder, Value};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Reshape(x, shape)` with a constant target `shape` (`0` keeps, one `-1` infers).
    pub fn reshape(&mut self, x: &Value, scope: &str, shape: &[i64]) -> Result<Value> {
        if shape.iter().filter(|&&d| d == -1).count() > 1 || shape.iter().any(|&d| d < -1) {
            return Err(invalid(
                scope,
                format!("Reshape target {shape:?}: at most one -1 and no other negative"),
            ));
        }
        let target = self.const_i64(scope, "shape", shape)?;
        self.reshape_to(x, scope, &target)
    }

    /// `Reshape(x, shape)` with a computed `int64` target shape.
    pub fn reshape_to(&mut self, x: &Value, scope: &str, shape: &Value) -> Result<Value> {
        self.emit(scope, "Reshape", &[x, shape], vec![], "out", x.elem_type())
    }
}
