//! MaxPool — <https://onnx.ai/onnx/operators/onnx__MaxPool.html>, opsets 12 and 22 (same
//! attributes): 2-D max pooling over NCHW; padded positions never win.

use crate::builder::{GraphBuilder, Value, attr_int, attr_ints};
use crate::error::{Result, invalid};

/// Attributes of 2-D [`GraphBuilder::max_pool`] and [`GraphBuilder::average_pool`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PoolAttrs {
    /// Window height and width.
    pub kernel: [usize; 2],
    /// Stride along H and W.
    pub strides: [usize; 2],
    /// Padding in ONNX order: `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Round output sizes up instead of down.
    pub ceil_mode: bool,
    /// AveragePool only: count padded zeros in the divisor (PyTorch's default is `true`).
    pub count_include_pad: bool,
}

impl PoolAttrs {
    /// A `k × k` window with stride `k`, no padding.
    pub fn new(k: usize) -> Self {
        PoolAttrs {
            kernel: [k, k],
            strides: [k, k],
            pads: [0; 4],
            ceil_mode: false,
            count_include_pad: false,
        }
    }

    /// The same stride along H and W.
    pub fn stride(mut self, s: usize) -> Self {
        self.strides = [s, s];
        self
    }

    /// The same padding on all four sides.
    pub fn pad(mut self, p: usize) -> Self {
        self.pads = [p; 4];
        self
    }

    pub(crate) fn attributes(&self, scope: &str) -> Result<Vec<onnx_protobuf::AttributeProto>> {
        if self.kernel.contains(&0) || self.strides.contains(&0) {
            return Err(invalid(
                scope,
                format!("pooling needs kernel and strides ≥ 1, got {self:?}"),
            ));
        }
        let ints = |v: &[usize]| v.iter().map(|&x| x as i64).collect::<Vec<_>>();
        Ok(vec![
            attr_ints("kernel_shape", ints(&self.kernel)),
            attr_ints("strides", ints(&self.strides)),
            attr_ints("pads", ints(&self.pads)),
            attr_int("ceil_mode", i64::from(self.ceil_mode)),
        ])
    }
}

impl GraphBuilder {
    /// `MaxPool(x)` (the optional indices output is not emitted).
    pub fn max_pool(&mut self, x: &Value, scope: &str, attrs: &PoolAttrs) -> Result<Value> {
        let attributes = attrs.attributes(scope)?;
        self.emit(scope, "MaxPool", &[x], attributes, "out", x.elem_type())
    }
}
