//! Conv — <https://onnx.ai/onnx/operators/onnx__Conv.html>, opsets 11 and 22 (identical
//! attributes; written the same for every opset in 13..=21).
//!
//! 2-D convolution over NCHW with strides, pads, dilations and groups: a depthwise convolution
//! is `groups = channels` with a `[C, 1, kH, kW]` weight. `kernel_shape` is left to be inferred
//! from the weight.

use crate::builder::{GraphBuilder, Value, attr_int, attr_ints};
use crate::error::{Result, invalid};

/// Attributes of a 2-D [`GraphBuilder::conv`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvAttrs {
    /// Stride along H and W.
    pub strides: [usize; 2],
    /// Padding in ONNX order: `[top, left, bottom, right]`.
    pub pads: [usize; 4],
    /// Dilation along H and W.
    pub dilations: [usize; 2],
    /// Number of groups (1: dense; channels: depthwise).
    pub groups: usize,
}

impl Default for ConvAttrs {
    fn default() -> Self {
        ConvAttrs { strides: [1, 1], pads: [0; 4], dilations: [1, 1], groups: 1 }
    }
}

impl ConvAttrs {
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

    /// The same dilation along H and W.
    pub fn dilation(mut self, d: usize) -> Self {
        self.dilations = [d, d];
        self
    }

    /// The number of groups.
    pub fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
}

fn ints(v: &[usize]) -> impl Iterator<Item = i64> + '_ {
    v.iter().map(|&x| x as i64)
}

impl GraphBuilder {
    /// `Conv(x, weight[, bias])`: x `[N, C, H, W]`, weight `[M, C/groups, kH, kW]`, bias `[M]`.
    pub fn conv(
        &mut self,
        x: &Value,
        scope: &str,
        weight: &Value,
        bias: Option<&Value>,
        attrs: &ConvAttrs,
    ) -> Result<Value> {
        if attrs.groups == 0 || attrs.strides.contains(&0) || attrs.dilations.contains(&0) {
            return Err(invalid(
                scope,
                format!("Conv needs groups, strides and dilations ≥ 1, got {attrs:?}"),
            ));
        }
        let mut inputs = vec![x, weight];
        inputs.extend(bias);
        let attributes = vec![
            attr_ints("strides", ints(&attrs.strides)),
            attr_ints("pads", ints(&attrs.pads)),
            attr_ints("dilations", ints(&attrs.dilations)),
            attr_int("group", attrs.groups as i64),
        ];
        self.emit(scope, "Conv", &inputs, attributes, "out", x.elem_type())
    }
}
