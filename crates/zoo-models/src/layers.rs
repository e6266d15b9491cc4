//! Small building blocks shared by the families: channels-first LayerNorm, conv helpers,
//! global pooling and the activation type passed between network segments.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, PaddingConfig2d};
use burn::prelude::*;

/// A 2-D convolution with symmetric padding, PyTorch-style Kaiming-normal (fan-out) weights.
pub fn conv2d(
    [in_channels, out_channels]: [usize; 2],
    kernel: usize,
    stride: usize,
    padding: usize,
    groups: usize,
    bias: bool,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new([in_channels, out_channels], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(padding, padding, padding, padding))
        .with_groups(groups)
        .with_bias(bias)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(device)
}

/// A LayerNorm over the channel axis of an NCHW tensor (timm's `LayerNorm2d`).
///
/// Its parameters are named `weight` and `bias` like every other normalization layer.
#[derive(Module, Debug)]
pub struct LayerNorm2d {
    /// The underlying LayerNorm over `channels`.
    pub inner: LayerNorm,
}

impl LayerNorm2d {
    /// A channels-first LayerNorm over `channels` with the given epsilon.
    pub fn new(channels: usize, epsilon: f64, device: &Device) -> Self {
        Self { inner: LayerNormConfig::new(channels).with_epsilon(epsilon).init(device) }
    }

    /// # Shapes
    /// - input and output: `[batch, channels, height, width]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = x.permute([0, 2, 3, 1]); // [batch, height, width, channels]
        self.inner.forward(x).permute([0, 3, 1, 2])
    }
}

/// Mean over the spatial axes of an NCHW tensor.
///
/// # Shapes
/// - input: `[batch, channels, height, width]`, output: `[batch, channels]`
pub fn global_avg_pool(x: Tensor<4>) -> Tensor<2> {
    let [batch, channels, _, _] = x.dims();
    x.mean_dim(3).mean_dim(2).reshape([batch, channels])
}

/// The value flowing between two segments of a network: feature maps, tokens, logits, or a
/// residual block cut after its first frozen layers.
// An activation moves a few times per forward pass; boxing the two-tensor variant buys nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Activation {
    /// Feature maps `[batch, channels, height, width]`.
    Maps(Tensor<4>),
    /// Token sequences `[batch, tokens, dim]`.
    Tokens(Tensor<3>),
    /// Flat features or logits `[batch, features]`.
    Flat(Tensor<2>),
    /// Inside a residual block: the main path so far and the shortcut, both
    /// `[batch, channels, height, width]` (their channels may differ).
    Residual {
        /// The main path after the block's first layers.
        main: Tensor<4>,
        /// What the block adds back at its end.
        shortcut: Tensor<4>,
    },
}

impl Activation {
    /// The feature maps; panics if the segment chain is mis-wired (a programming error).
    pub fn maps(self) -> Tensor<4> {
        match self {
            Activation::Maps(x) => x,
            other => panic!("expected feature maps, got {}", other.kind()),
        }
    }

    /// The token sequence; panics if the segment chain is mis-wired (a programming error).
    pub fn tokens(self) -> Tensor<3> {
        match self {
            Activation::Tokens(x) => x,
            other => panic!("expected tokens, got {}", other.kind()),
        }
    }

    /// The flat features; panics if the segment chain is mis-wired (a programming error).
    pub fn flat(self) -> Tensor<2> {
        match self {
            Activation::Flat(x) => x,
            other => panic!("expected flat features, got {}", other.kind()),
        }
    }

    /// `(main, shortcut)` of a cut residual block; panics if the segment chain is mis-wired
    /// (a programming error).
    pub fn residual(self) -> (Tensor<4>, Tensor<4>) {
        match self {
            Activation::Residual { main, shortcut } => (main, shortcut),
            other => panic!("expected a cut residual block, got {}", other.kind()),
        }
    }

    /// The shape of the activation (of the main path for a cut residual block).
    pub fn dims(&self) -> Vec<usize> {
        match self {
            Activation::Maps(x) | Activation::Residual { main: x, .. } => x.dims().to_vec(),
            Activation::Tokens(x) => x.dims().to_vec(),
            Activation::Flat(x) => x.dims().to_vec(),
        }
    }

    /// Rows `start..end` of the batch.
    pub fn slice_batch(&self, start: usize, end: usize) -> Activation {
        self.clone().map_batch(
            |x| x.slice(start..end),
            |x| x.slice(start..end),
            |x| x.slice(start..end),
        )
    }

    /// The rows at `index`, in that order, on `device`.
    pub fn select_rows(&self, index: Tensor<1, Int>, device: &Device) -> Activation {
        let index = index.to_device(device);
        self.clone().map_batch(
            |x| x.to_device(device).select(0, index.clone()),
            |x| x.to_device(device).select(0, index.clone()),
            |x| x.to_device(device).select(0, index.clone()),
        )
    }

    /// Concatenates activations of the same kind along the batch axis.
    pub fn cat(parts: Vec<Activation>) -> Activation {
        match parts.first() {
            Some(Activation::Maps(_)) => {
                Activation::Maps(Tensor::cat(parts.into_iter().map(Self::maps).collect(), 0))
            }
            Some(Activation::Tokens(_)) => {
                Activation::Tokens(Tensor::cat(parts.into_iter().map(Self::tokens).collect(), 0))
            }
            Some(Activation::Flat(_)) => {
                Activation::Flat(Tensor::cat(parts.into_iter().map(Self::flat).collect(), 0))
            }
            Some(Activation::Residual { .. }) => {
                let (main, shortcut) = parts.into_iter().map(Self::residual).unzip();
                Activation::Residual {
                    main: Tensor::cat(main, 0),
                    shortcut: Tensor::cat(shortcut, 0),
                }
            }
            None => panic!("Activation::cat needs at least one part"),
        }
    }

    /// Moves the activation to a device.
    pub fn to_device(self, device: &Device) -> Activation {
        self.map_batch(|x| x.to_device(device), |x| x.to_device(device), |x| x.to_device(device))
    }

    /// Applies a batch-wise operation to every tensor of the activation, by rank.
    fn map_batch(
        self,
        maps: impl Fn(Tensor<4>) -> Tensor<4>,
        tokens: impl Fn(Tensor<3>) -> Tensor<3>,
        flat: impl Fn(Tensor<2>) -> Tensor<2>,
    ) -> Activation {
        match self {
            Activation::Maps(x) => Activation::Maps(maps(x)),
            Activation::Tokens(x) => Activation::Tokens(tokens(x)),
            Activation::Flat(x) => Activation::Flat(flat(x)),
            Activation::Residual { main, shortcut } => {
                Activation::Residual { main: maps(main), shortcut: maps(shortcut) }
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Activation::Maps(_) => "feature maps",
            Activation::Tokens(_) => "tokens",
            Activation::Flat(_) => "flat features",
            Activation::Residual { .. } => "a cut residual block",
        }
    }
}
