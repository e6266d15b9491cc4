//! Vision Transformer (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words",
//! arXiv 2010.11929).
//!
//! Mirrors timm's `vision_transformer.py` (class token, learned position embedding, pre-norm
//! blocks, LayerNorm epsilon 1e-6, exact GELU, classifier on the class token). Parameter
//! names equal timm's: `patch_embed.proj.weight`, `cls_token`, `pos_embed`,
//! `blocks.11.attn.qkv.weight`, `blocks.11.norm2.weight`, `norm.weight`, `head.weight`.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};
use serde::{Deserialize, Serialize};

use crate::layers::{Activation, conv2d};
use crate::segments::Segment;

/// timm's LayerNorm epsilon for ViTs.
pub const VIT_LN_EPS: f64 = 1e-6;

/// Architecture hyper-parameters of a ViT.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VitConfig {
    /// Side of the square patches.
    pub patch_size: usize,
    /// Token width.
    pub dim: usize,
    /// Number of transformer blocks.
    pub depth: usize,
    /// Attention heads per block.
    pub heads: usize,
    /// Hidden width of the MLP.
    pub mlp_dim: usize,
}

impl VitConfig {
    /// timm `vit_tiny_patch16_224`.
    pub fn tiny() -> Self {
        Self::new(16, 192, 12, 3)
    }

    /// timm `vit_small_patch16_224`.
    pub fn small() -> Self {
        Self::new(16, 384, 12, 6)
    }

    /// timm `vit_base_patch16_224`.
    pub fn base() -> Self {
        Self::new(16, 768, 12, 12)
    }

    /// A ViT with MLP ratio 4.
    pub fn new(patch_size: usize, dim: usize, depth: usize, heads: usize) -> Self {
        Self { patch_size, dim, depth, heads, mlp_dim: 4 * dim }
    }

    /// Builds the network for `[channels, height, width]` inputs and `num_classes` outputs.
    pub fn init(&self, input: [usize; 3], num_classes: usize, device: &Device) -> Vit {
        let [channels, height, width] = input;
        let tokens = (height / self.patch_size) * (width / self.patch_size) + 1;
        let trunc = Initializer::Normal { mean: 0.0, std: 0.02 };
        let linear = |d_in, d_out| {
            LinearConfig::new(d_in, d_out).with_initializer(trunc.clone()).init(device)
        };
        let norm = || LayerNormConfig::new(self.dim).with_epsilon(VIT_LN_EPS).init(device);
        let blocks = (0..self.depth)
            .map(|_| VitBlock {
                norm1: norm(),
                attn: Attention {
                    qkv: linear(self.dim, 3 * self.dim),
                    proj: linear(self.dim, self.dim),
                    heads: self.heads,
                },
                norm2: norm(),
                mlp: Mlp {
                    fc1: linear(self.dim, self.mlp_dim),
                    fc2: linear(self.mlp_dim, self.dim),
                },
            })
            .collect();
        let p = self.patch_size;
        Vit {
            patch_embed: PatchEmbed {
                proj: conv2d([channels, self.dim], p, p, 0, 1, true, device),
            },
            cls_token: Param::from_tensor(Tensor::random(
                [1, 1, self.dim],
                burn::tensor::Distribution::Normal(0.0, 1e-6),
                device,
            )),
            pos_embed: Param::from_tensor(Tensor::random(
                [1, tokens, self.dim],
                burn::tensor::Distribution::Normal(0.0, 0.02),
                device,
            )),
            blocks,
            norm: norm(),
            head: linear(self.dim, num_classes),
        }
    }
}

/// Patch embedding: a `patch × patch` convolution with stride `patch`.
#[derive(Module, Debug)]
pub struct PatchEmbed {
    /// The patchifying convolution.
    pub proj: Conv2d,
}

/// Multi-head self-attention with a fused `qkv` projection (timm layout).
#[derive(Module, Debug)]
pub struct Attention {
    /// Fused query/key/value projection `dim → 3·dim`.
    pub qkv: Linear,
    /// Output projection.
    pub proj: Linear,
    /// Number of heads.
    pub heads: usize,
}

impl Attention {
    /// # Shapes
    /// - input and output: `[batch, tokens, dim]`
    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        let [batch, tokens, dim] = x.dims();
        let head_dim = dim / self.heads;
        let qkv = self
            .qkv
            .forward(x)
            .reshape([batch, tokens, 3, self.heads, head_dim])
            .permute([2, 0, 3, 1, 4]); // [3, batch, heads, tokens, head_dim]
        let q = qkv.clone().slice(0..1).squeeze_dim::<4>(0);
        let k = qkv.clone().slice(1..2).squeeze_dim::<4>(0);
        let v = qkv.slice(2..3).squeeze_dim::<4>(0);
        let scale = (head_dim as f64).powf(-0.5);
        let attn = softmax(q.matmul(k.swap_dims(2, 3)).mul_scalar(scale), 3);
        let out = attn.matmul(v).swap_dims(1, 2).reshape([batch, tokens, dim]);
        self.proj.forward(out)
    }
}

/// Two-layer MLP with exact GELU.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Expansion.
    pub fc1: Linear,
    /// Projection back to the token width.
    pub fc2: Linear,
}

impl Mlp {
    /// # Shapes
    /// - input and output: `[..., dim]`
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Tensor<D> {
        self.fc2.forward(gelu(self.fc1.forward(x)))
    }
}

/// A pre-norm transformer block.
#[derive(Module, Debug)]
pub struct VitBlock {
    /// Norm before attention.
    pub norm1: LayerNorm,
    /// Self-attention.
    pub attn: Attention,
    /// Norm before the MLP.
    pub norm2: LayerNorm,
    /// MLP.
    pub mlp: Mlp,
}

/// A ViT classifying from its class token.
#[derive(Module, Debug)]
pub struct Vit {
    /// Patch embedding.
    pub patch_embed: PatchEmbed,
    /// Learned class token `[1, 1, dim]`.
    pub cls_token: Param<Tensor<3>>,
    /// Learned position embedding `[1, tokens, dim]`.
    pub pos_embed: Param<Tensor<3>>,
    /// Transformer blocks.
    pub blocks: Vec<VitBlock>,
    /// Final norm.
    pub norm: LayerNorm,
    /// Classifier.
    pub head: Linear,
}

impl Vit {
    /// The forward pass as a chain: `embed`, then per block its attention half and its MLP
    /// half (so a tail starting at a block's `norm2` skips that block's attention), `head`.
    pub fn segments(&self) -> Vec<Segment> {
        let mut segments = vec![Segment::new("embed", ["patch_embed", "cls_token", "pos_embed"])];
        for i in 0..self.blocks.len() {
            let block = format!("blocks.{i}");
            segments.push(Segment::new(
                &format!("{block}.attn"),
                [format!("{block}.norm1"), format!("{block}.attn")],
            ));
            segments.push(Segment::new(
                &format!("{block}.mlp"),
                [format!("{block}.norm2"), format!("{block}.mlp")],
            ));
        }
        segments.push(Segment::new("head", ["norm", "head"]));
        segments
    }

    /// Runs segment `index` of [`Vit::segments`].
    pub fn forward_segment(&self, index: usize, x: Activation) -> Activation {
        let last = 2 * self.blocks.len() + 1;
        if index == 0 {
            let x = self.patch_embed.proj.forward(x.maps()); // [batch, dim, h/p, w/p]
            let [batch, dim, _, _] = x.dims();
            let x = x.flatten::<3>(2, 3).swap_dims(1, 2); // [batch, patches, dim]
            let cls = self.cls_token.val().expand([batch as i64, 1, dim as i64]);
            let x = Tensor::cat(vec![cls, x], 1) + self.pos_embed.val();
            Activation::Tokens(x)
        } else if index < last {
            let block = &self.blocks[(index - 1) / 2];
            let x = x.tokens();
            let x = if index % 2 == 1 {
                x.clone() + block.attn.forward(block.norm1.forward(x))
            } else {
                x.clone() + block.mlp.forward(block.norm2.forward(x))
            };
            Activation::Tokens(x)
        } else {
            let x = self.norm.forward(x.tokens());
            let [batch, _, dim] = x.dims();
            let cls = x.slice(s![.., 0..1]).reshape([batch, dim]);
            Activation::Flat(self.head.forward(cls))
        }
    }

    /// Names of the normalization layers in forward order.
    pub fn norm_layers(&self) -> Vec<String> {
        let mut names: Vec<String> = (0..self.blocks.len())
            .flat_map(|i| [format!("blocks.{i}.norm1"), format!("blocks.{i}.norm2")])
            .collect();
        names.push("norm".into());
        names
    }
}
