//! MatMul — <https://onnx.ai/onnx/operators/onnx__MatMul.html>, opset 13: numpy `matmul`
//! (batched over leading dimensions, which broadcast).

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `MatMul(a, b)`.
    pub fn matmul(&mut self, a: &Value, b: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "MatMul", &[a, b], vec![], "out", a.elem_type())
    }
}
