//! Gelu — <https://onnx.ai/onnx/operators/onnx__Gelu.html>, opset 20, exact form
//! (`approximate = "none"`): `0.5 * x * (1 + erf(x / sqrt(2)))`.
//!
//! Below opset 20 the same formula is written with
//! [Div](https://onnx.ai/onnx/operators/onnx__Div.html),
//! [Erf](https://onnx.ai/onnx/operators/onnx__Erf.html) (opset 13),
//! [Add](https://onnx.ai/onnx/operators/onnx__Add.html) and
//! [Mul](https://onnx.ai/onnx/operators/onnx__Mul.html).

use crate::builder::{Attr, GraphBuilder, Value, attr};
use crate::error::Result;

impl GraphBuilder {
    /// Exact (erf) GELU.
    pub fn gelu(&mut self, x: &Value, scope: &str) -> Result<Value> {
        let elem = x.elem_type();
        if self.opset() >= 20 {
            let attributes = vec![attr("approximate", Attr::String("none".into()))];
            return self.emit(scope, "Gelu", &[x], attributes, "out", elem);
        }
        let sqrt2 = self.const_scalar(scope, "sqrt2", std::f32::consts::SQRT_2)?;
        let scaled = self.emit(scope, "Div", &[x, &sqrt2], vec![], "scaled", elem)?;
        let erf = self.emit(scope, "Erf", &[&scaled], vec![], "erf", elem)?;
        let one = self.const_scalar(scope, "one", 1.0)?;
        let gate = self.emit(scope, "Add", &[&erf, &one], vec![], "gate", elem)?;
        let gated = self.emit(scope, "Mul", &[x, &gate], vec![], "gated", elem)?;
        let half = self.const_scalar(scope, "half", 0.5)?;
        self.emit(scope, "Mul", &[&gated, &half], vec![], "out", elem)
    }
}
