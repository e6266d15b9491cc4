//! AveragePool — <https://onnx.ai/onnx/operators/onnx__AveragePool.html>, opsets 11, 19
//! (adds `dilations`, left at 1 here) and 22: 2-D average pooling over NCHW, with
//! `count_include_pad` choosing whether padded zeros count in the divisor.

use crate::builder::{GraphBuilder, Value, attr_int};
use crate::error::Result;
use crate::ops::PoolAttrs;

impl GraphBuilder {
    /// `AveragePool(x)`.
    pub fn average_pool(&mut self, x: &Value, scope: &str, attrs: &PoolAttrs) -> Result<Value> {
        let mut attributes = attrs.attributes(scope)?;
        attributes.push(attr_int("count_include_pad", i64::from(attrs.count_include_pad)));
        self.emit(scope, "AveragePool", &[x], attributes, "out", x.elem_type())
    }
}
