//! Gather — <https://onnx.ai/onnx/operators/onnx__Gather.html>, opset 13: picks entries of
//! `x` along `axis` by `int64` indices; a scalar index drops the axis, so the class token
//! `x[:, 0]` of a `[B, N, D]` sequence is `select(x, 1, 0)` → `[B, D]`.

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;
use crate::tensor::TensorData;

impl GraphBuilder {
    /// `Gather(x, indices)` along `axis`; the output rank is `rank(x) - 1 + rank(indices)`.
    pub fn gather(&mut self, x: &Value, scope: &str, indices: &Value, axis: i64) -> Result<Value> {
        self.emit(
            scope,
            "Gather",
            &[x, indices],
            vec![attr_int("axis", axis)],
            "out",
            x.elem_type(),
        )
    }

    /// `x[.., index, ..]` at `axis`, dropping that axis (Gather with a scalar index).
    pub fn select(&mut self, x: &Value, scope: &str, axis: i64, index: i64) -> Result<Value> {
        let idx = self.constant(scope, "index", TensorData::scalar_i64(index))?;
        self.gather(x, scope, &idx, axis)
    }
}
