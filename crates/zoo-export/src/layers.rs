//! The export context shared by the family exporters: parameters become initializers under
//! their dotted names (each used exactly once; leftovers mean an unknown layer), and burn
//! layers (Conv2d, BatchNorm, LayerNorm, Linear, MaxPool2d) become ONNX nodes with the
//! layer's own settings.
//!
//! Public (hidden from the docs, not a stable API) only so that `tests/layers_vs_burn.rs` can
//! drive each per-layer emitter against the burn layer it mirrors.

use std::collections::BTreeMap;

use burn::nn::conv::Conv2d;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, LayerNorm, Linear, PaddingConfig2d};
use zoo_models::{Model, named_tensors};
use zoo_onnx::{ConvAttrs, GemmAttrs, GraphBuilder, PoolAttrs, TensorData, Value};

use crate::error::{ExportError, Result};

/// A graph under construction plus the network's tensors not yet placed in it.
pub struct Ctx {
    /// The graph under construction.
    pub g: GraphBuilder,
    arch: String,
    tensors: BTreeMap<String, zoo_models::NamedTensor>,
}

impl Ctx {
    /// The context of network `model` (architecture `arch`) on `g`.
    pub fn new(g: GraphBuilder, arch: &str, model: &Model) -> Self {
        Self::from_tensors(g, arch, named_tensors(model))
    }

    /// A context whose unplaced tensors are `tensors` (by dotted name): the per-layer tests
    /// give the tensors of single burn layers under the layer names they emit.
    pub fn from_tensors(
        g: GraphBuilder,
        arch: &str,
        tensors: Vec<zoo_models::NamedTensor>,
    ) -> Self {
        let tensors = tensors.into_iter().map(|t| (t.name.clone(), t)).collect();
        Ctx { g, arch: arch.to_string(), tensors }
    }

    /// An [`ExportError::UnsupportedLayer`] for `layer` of this network.
    pub fn unsupported(&self, layer: &str, reason: impl Into<String>) -> ExportError {
        ExportError::UnsupportedLayer {
            arch: self.arch.clone(),
            layer: layer.to_string(),
            reason: reason.into(),
        }
    }

    /// Shape of tensor `name` (still unplaced).
    pub fn shape(&self, name: &str) -> Result<Vec<usize>> {
        self.tensors.get(name).map(|t| t.shape.clone()).ok_or_else(|| self.missing(name))
    }

    fn missing(&self, name: &str) -> ExportError {
        ExportError::Coverage {
            arch: self.arch.clone(),
            reason: format!("tensor `{name}` is missing or used twice"),
        }
    }

    /// Places tensor `name` as an initializer of the same name.
    pub fn param(&mut self, name: &str) -> Result<Value> {
        let t = self.tensors.remove(name).ok_or_else(|| self.missing(name))?;
        Ok(self.g.initializer(name, TensorData::f32(t.shape, t.data)?)?)
    }

    /// Fails if a tensor of the network was not placed: its layer is unknown to the exporter.
    pub fn finish(self) -> Result<GraphBuilder> {
        if !self.tensors.is_empty() {
            let names: Vec<_> = self.tensors.keys().take(8).cloned().collect();
            return Err(ExportError::Coverage {
                arch: self.arch,
                reason: format!(
                    "{} tensor(s) belong to no exported layer: {}",
                    self.tensors.len(),
                    names.join(", ")
                ),
            });
        }
        Ok(self.g)
    }

    fn pads(&self, layer: &str, padding: &PaddingConfig2d) -> Result<[usize; 4]> {
        match padding {
            PaddingConfig2d::Valid => Ok([0; 4]),
            // burn: (top, left, bottom, right); ONNX: [top, left, bottom, right].
            PaddingConfig2d::Explicit(t, l, b, r) => Ok([*t, *l, *b, *r]),
            PaddingConfig2d::Same => Err(self.unsupported(layer, "`Same` padding")),
        }
    }

    /// burn `Conv2d` `name` (weight `[out, in/groups, kH, kW]`, optional bias).
    pub fn conv(&mut self, x: &Value, name: &str, conv: &Conv2d) -> Result<Value> {
        let attrs = ConvAttrs {
            strides: conv.stride,
            pads: self.pads(name, &conv.padding)?,
            dilations: conv.dilation,
            groups: conv.groups,
        };
        let w = self.param(&format!("{name}.weight"))?;
        let b = match conv.bias {
            Some(_) => Some(self.param(&format!("{name}.bias"))?),
            None => None,
        };
        Ok(self.g.conv(x, name, &w, b.as_ref(), &attrs)?)
    }

    /// burn `BatchNorm` `name` in inference form (running statistics, the layer's epsilon).
    pub fn batch_norm(&mut self, x: &Value, name: &str, bn: &BatchNorm) -> Result<Value> {
        let scale = self.param(&format!("{name}.weight"))?;
        let bias = self.param(&format!("{name}.bias"))?;
        let mean = self.param(&format!("{name}.running_mean"))?;
        let var = self.param(&format!("{name}.running_var"))?;
        let p = zoo_onnx::BatchNorm {
            scale: &scale,
            bias: &bias,
            mean: &mean,
            var: &var,
            epsilon: bn.epsilon as f32,
        };
        Ok(self.g.batch_norm(x, name, p)?)
    }

    /// burn `LayerNorm` `name` over the last axis.
    pub fn layer_norm(&mut self, x: &Value, name: &str, ln: &LayerNorm) -> Result<Value> {
        let epsilon = layer_norm_epsilon(ln)
            .ok_or_else(|| self.unsupported(name, "cannot read the LayerNorm epsilon"))?;
        let scale = self.param(&format!("{name}.weight"))?;
        let bias = match ln.beta {
            Some(_) => Some(self.param(&format!("{name}.bias"))?),
            None => None,
        };
        let p = zoo_onnx::LayerNorm { scale: &scale, bias: bias.as_ref(), epsilon: epsilon as f32 };
        Ok(self.g.layer_norm(x, name, p)?)
    }

    /// timm's `LayerNorm2d` `name` on NCHW: to channels-last, LayerNorm, back.
    pub fn layer_norm_2d(&mut self, x: &Value, name: &str, ln: &LayerNorm) -> Result<Value> {
        let nhwc = self.g.transpose(x, &format!("{name}/to_nhwc"), &[0, 2, 3, 1])?;
        let y = self.layer_norm(&nhwc, name, ln)?;
        Ok(self.g.transpose(&y, &format!("{name}/to_nchw"), &[0, 3, 1, 2])?)
    }

    /// burn `Linear` `name`: one Gemm on `[N, in]` (`rank == 2`), MatMul + Add otherwise.
    pub fn linear(&mut self, x: &Value, name: &str, linear: &Linear, rank: usize) -> Result<Value> {
        let w = self.param(&format!("{name}.weight"))?;
        let b = match linear.bias {
            Some(_) => Some(self.param(&format!("{name}.bias"))?),
            None => None,
        };
        if rank == 2 {
            Ok(self.g.gemm(x, name, &w, b.as_ref(), GemmAttrs::linear())?)
        } else {
            Ok(self.g.linear(x, name, &w, b.as_ref())?)
        }
    }

    /// burn `MaxPool2d` (padding positions never win, as in ONNX).
    pub fn max_pool(&mut self, x: &Value, name: &str, pool: &MaxPool2d) -> Result<Value> {
        if pool.dilation != [1, 1] {
            return Err(self.unsupported(name, "dilated max pooling"));
        }
        let attrs = PoolAttrs {
            kernel: pool.kernel_size,
            strides: pool.stride,
            pads: self.pads(name, &pool.padding)?,
            ceil_mode: pool.ceil_mode,
            count_include_pad: false,
        };
        Ok(self.g.max_pool(x, name, &attrs)?)
    }
}

/// The epsilon of a burn `LayerNorm`. burn keeps the field private but shows it in the
/// module's display (`LayerNorm {d_model: 6, epsilon: 0.00001, …}`), which is parsed here.
pub fn layer_norm_epsilon(ln: &LayerNorm) -> Option<f64> {
    let text = ln.to_string();
    let start = text.find("epsilon: ")? + "epsilon: ".len();
    let rest = &text[start..];
    let end = rest.find([',', '}', ' ']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok().filter(|e: &f64| e.is_finite() && *e >= 0.0)
}
