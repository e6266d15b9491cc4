//! A PyTorch `Linear` on inputs of any rank — not an ONNX operator but a composition of
//! [Transpose](https://onnx.ai/onnx/operators/onnx__Transpose.html),
//! [MatMul](https://onnx.ai/onnx/operators/onnx__MatMul.html) and
//! [Add](https://onnx.ai/onnx/operators/onnx__Add.html) (opset 13 forms), so the weight
//! initializer keeps PyTorch's `[out, in]` layout. ONNX Runtime folds the constant Transpose.
//! For 2-D inputs [`GraphBuilder::gemm`] with [`GemmAttrs::linear`](crate::GemmAttrs::linear)
//! is one node.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `x @ weight^T (+ bias)` for `x` `[…, in]`, `weight` `[out, in]`, `bias` `[out]`.
    pub fn linear(
        &mut self,
        x: &Value,
        scope: &str,
        weight: &Value,
        bias: Option<&Value>,
    ) -> Result<Value> {
        let elem = x.elem_type();
        let wt = self.transpose(weight, &format!("{scope}/weight_t"), &[1, 0])?;
        match bias {
            Some(b) => {
                let xw = self.emit(scope, "MatMul", &[x, &wt], vec![], "matmul", elem)?;
                self.emit(scope, "Add", &[&xw, b], vec![], "out", elem)
            }
            None => self.emit(scope, "MatMul", &[x, &wt], vec![], "out", elem),
        }
    }
}
