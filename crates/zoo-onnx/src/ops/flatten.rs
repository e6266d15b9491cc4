//! Flatten — <https://onnx.ai/onnx/operators/onnx__Flatten.html>, opsets 13 and 21: to 2-D,
//! `[d0 * … * d(axis-1), d(axis) * … * dn]`.

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;

impl GraphBuilder {
    /// `Flatten(x)` at `axis` (1 turns `[N, C, 1, 1]` into `[N, C]`).
    pub fn flatten(&mut self, x: &Value, scope: &str, axis: i64) -> Result<Value> {
        self.emit(scope, "Flatten", &[x], vec![attr_int("axis", axis)], "out", x.elem_type())
    }
}
