//! Cast — <https://onnx.ai/onnx/operators/onnx__Cast.html>, opsets 13, 19 (adds `saturate`,
//! irrelevant for f32/i64) and 21: converts the element type.

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;
use crate::tensor::ElemType;

impl GraphBuilder {
    /// `Cast(x)` to `to` (f32 → i64 truncates toward zero).
    pub fn cast(&mut self, x: &Value, scope: &str, to: ElemType) -> Result<Value> {
        self.emit(scope, "Cast", &[x], vec![attr_int("to", i64::from(to.onnx_code()))], "out", to)
    }
}
