//! Shape — <https://onnx.ai/onnx/operators/onnx__Shape.html>, opsets 13, 15 (`start`/`end`
//! attributes), 19 and 21: the input's shape as a 1-D `int64` tensor. A sub-range before
//! opset 15 is cut with [Slice](https://onnx.ai/onnx/operators/onnx__Slice.html).

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;
use crate::tensor::ElemType;

impl GraphBuilder {
    /// `Shape(x)[start..end]` (`None`: from the first / to the last dimension; negative counts
    /// from the end).
    pub fn shape(
        &mut self,
        x: &Value,
        scope: &str,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Value> {
        if start.is_none() && end.is_none() {
            return self.emit(scope, "Shape", &[x], vec![], "out", ElemType::I64);
        }
        if self.opset() >= 15 {
            let mut attributes = vec![attr_int("start", start.unwrap_or(0))];
            attributes.extend(end.map(|e| attr_int("end", e)));
            return self.emit(scope, "Shape", &[x], attributes, "out", ElemType::I64);
        }
        let full = self.emit(scope, "Shape", &[x], vec![], "full", ElemType::I64)?;
        self.slice(&full, scope, &[start.unwrap_or(0)], &[end.unwrap_or(i64::MAX)], &[0], None)
    }
}
