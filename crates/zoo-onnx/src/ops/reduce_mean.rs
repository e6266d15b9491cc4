//! ReduceMean — <https://onnx.ai/onnx/operators/onnx__ReduceMean.html>, opsets 13 (`axes`
//! attribute) and 18 (`axes` as an `int64` input); the builder writes whichever the opset needs.

use crate::builder::{GraphBuilder, Value, attr_int, attr_ints};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// Mean over `axes` (negative counts from the end), keeping them as size 1 if `keepdims`.
    pub fn reduce_mean(
        &mut self,
        x: &Value,
        scope: &str,
        axes: &[i64],
        keepdims: bool,
    ) -> Result<Value> {
        self.reduce_mean_labeled(x, scope, axes, keepdims, "out")
    }

    pub(crate) fn reduce_mean_labeled(
        &mut self,
        x: &Value,
        scope: &str,
        axes: &[i64],
        keepdims: bool,
        label: &str,
    ) -> Result<Value> {
        if axes.is_empty() {
            return Err(invalid(scope, "ReduceMean needs at least one axis"));
        }
        let keep = attr_int("keepdims", i64::from(keepdims));
        if self.opset() >= 18 {
            let axes = self.const_i64(scope, &format!("{label}_axes"), axes)?;
            self.emit(scope, "ReduceMean", &[x, &axes], vec![keep], label, x.elem_type())
        } else {
            let attributes = vec![attr_ints("axes", axes.iter().copied()), keep];
            self.emit(scope, "ReduceMean", &[x], attributes, label, x.elem_type())
        }
    }
}
