//! GlobalAveragePool — <https://onnx.ai/onnx/operators/onnx__GlobalAveragePool.html>, opsets 1, 22: `[N, C, H, W]` → `[N, C, 1, 1]`, the mean over all spatial positions.

use crate::builder::{GraphBuilder, Value};
use crate::error::Result;

impl GraphBuilder {
    /// `GlobalAveragePool(x)`: `[N, C, H, W]` → `[N, C, 1, 1]`, the mean over all spatial positions.
    pub fn global_average_pool(&mut self, x: &Value, scope: &str) -> Result<Value> {
        self.emit(scope, "GlobalAveragePool", &[x], vec![], "out", x.elem_type())
    }
}
