//! Slice — <https://onnx.ai/onnx/operators/onnx__Slice.html>, opset 13: `starts`, `ends`,
//! `axes`, `steps` as `int64` inputs (here constants). Ends past the dimension clamp, so
//! `i64::MAX` means "to the end".

use crate::builder::{GraphBuilder, Value};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Slice(x, starts, ends, axes[, steps])` with constant bounds (numpy `x[start:end:step]`
    /// on each listed axis).
    pub fn slice(
        &mut self,
        x: &Value,
        scope: &str,
        starts: &[i64],
        ends: &[i64],
        axes: &[i64],
        steps: Option<&[i64]>,
    ) -> Result<Value> {
        let n = axes.len();
        if starts.len() != n || ends.len() != n || steps.is_some_and(|s| s.len() != n) {
            return Err(invalid(
                scope,
                "Slice needs starts, ends, axes (and steps) of equal length",
            ));
        }
        if steps.is_some_and(|s| s.contains(&0)) {
            return Err(invalid(scope, "Slice steps cannot be 0"));
        }
        let starts = self.const_i64(scope, "starts", starts)?;
        let ends = self.const_i64(scope, "ends", ends)?;
        let axes = self.const_i64(scope, "axes", axes)?;
        let mut inputs = vec![x, &starts, &ends, &axes];
        let steps = steps.map(|s| self.const_i64(scope, "steps", s)).transpose()?;
        inputs.extend(steps.as_ref());
        self.emit(scope, "Slice", &inputs, vec![], "out", x.elem_type())
    }
}
