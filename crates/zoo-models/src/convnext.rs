//! ConvNeXt (Liu et al. 2022, "A ConvNet for the 2020s", arXiv 2201.03545).
//!
//! Mirrors timm's `convnext.py`: patchify stem + LayerNorm2d, stages of blocks (7×7 depthwise
//! conv, channels-last LayerNorm, inverted-bottleneck MLP with exact GELU, layer scale,
//! residual), LayerNorm2d + 2×2 stride-2 conv downsampling between stages, and a head of
//! global pooling, LayerNorm and a linear classifier. Parameter names equal timm's:
//! `stem.0.weight`, `stages.1.downsample.1.weight`, `stages.3.blocks.2.conv_dw.weight`,
//! `stages.3.blocks.2.gamma`, `head.norm.weight`, `head.fc.weight`.

use burn::module::{Module, Param};
use burn::nn::conv::Conv2d;
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::gelu;
use serde::{Deserialize, Serialize};

use crate::layers::{Activation, LayerNorm2d, conv2d, global_avg_pool};
use crate::segments::Segment;

/// timm's LayerNorm epsilon for ConvNeXt.
pub const CONVNEXT_LN_EPS: f64 = 1e-6;

/// Architecture hyper-parameters of a ConvNeXt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvNextConfig {
    /// Blocks per stage.
    pub depths: Vec<usize>,
    /// Channels per stage.
    pub dims: Vec<usize>,
    /// Side (and stride) of the patchify stem.
    pub stem_patch: usize,
    /// Initial value of the layer-scale parameters.
    pub layer_scale_init: f64,
    /// Hidden width of the block MLP as a multiple of the stage width.
    pub mlp_ratio: usize,
}

impl ConvNextConfig {
    /// timm `convnext_tiny`.
    pub fn tiny() -> Self {
        Self::imagenet(vec![3, 3, 9, 3], vec![96, 192, 384, 768])
    }

    /// timm `convnext_base`.
    pub fn base() -> Self {
        Self::imagenet(vec![3, 3, 27, 3], vec![128, 256, 512, 1024])
    }

    fn imagenet(depths: Vec<usize>, dims: Vec<usize>) -> Self {
        Self { depths, dims, stem_patch: 4, layer_scale_init: 1e-6, mlp_ratio: 4 }
    }

    /// Builds the network for `in_channels` input channels and `num_classes` outputs.
    pub fn init(&self, in_channels: usize, num_classes: usize, device: &Device) -> ConvNext {
        let trunc = Initializer::Normal { mean: 0.0, std: 0.02 };
        let linear = |d_in, d_out| {
            LinearConfig::new(d_in, d_out).with_initializer(trunc.clone()).init(device)
        };
        let p = self.stem_patch;
        let stem = (
            conv2d([in_channels, self.dims[0]], p, p, 0, 1, true, device),
            LayerNorm2d::new(self.dims[0], CONVNEXT_LN_EPS, device),
        );
        let mut stages = Vec::new();
        for (index, (&depth, &dim)) in self.depths.iter().zip(&self.dims).enumerate() {
            let downsample = (index > 0).then(|| {
                let previous = self.dims[index - 1];
                (
                    LayerNorm2d::new(previous, CONVNEXT_LN_EPS, device),
                    conv2d([previous, dim], 2, 2, 0, 1, true, device),
                )
            });
            let blocks = (0..depth)
                .map(|_| ConvNextBlock {
                    conv_dw: conv2d([dim, dim], 7, 1, 3, dim, true, device),
                    norm: LayerNormConfig::new(dim).with_epsilon(CONVNEXT_LN_EPS).init(device),
                    mlp: ConvNextMlp {
                        fc1: linear(dim, self.mlp_ratio * dim),
                        fc2: linear(self.mlp_ratio * dim, dim),
                    },
                    gamma: Param::from_tensor(Tensor::full([dim], self.layer_scale_init, device)),
                })
                .collect();
            stages.push(ConvNextStage { downsample, blocks });
        }
        let last = *self.dims.last().expect("at least one stage");
        ConvNext {
            stem,
            stages,
            head: ConvNextHead {
                norm: LayerNormConfig::new(last).with_epsilon(CONVNEXT_LN_EPS).init(device),
                fc: linear(last, num_classes),
            },
        }
    }
}

/// The inverted-bottleneck MLP of a block.
#[derive(Module, Debug)]
pub struct ConvNextMlp {
    /// Expansion.
    pub fc1: Linear,
    /// Projection.
    pub fc2: Linear,
}

/// A ConvNeXt block.
#[derive(Module, Debug)]
pub struct ConvNextBlock {
    /// 7×7 depthwise convolution.
    pub conv_dw: Conv2d,
    /// Channels-last LayerNorm.
    pub norm: LayerNorm,
    /// Inverted-bottleneck MLP.
    pub mlp: ConvNextMlp,
    /// Layer scale.
    pub gamma: Param<Tensor<1>>,
}

impl ConvNextBlock {
    /// # Shapes
    /// - input and output: `[batch, dim, h, w]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_rest(self.conv_dw.forward(x.clone()), x)
    }

    /// The block after its depthwise convolution: `shortcut + γ · mlp(norm(main))`.
    ///
    /// # Shapes
    /// - `main` (the depthwise convolution's output), `shortcut` and output: `[batch, dim, h, w]`
    pub fn forward_rest(&self, main: Tensor<4>, shortcut: Tensor<4>) -> Tensor<4> {
        let y = main.permute([0, 2, 3, 1]); // [batch, h, w, dim]
        let y = self.mlp.fc2.forward(gelu(self.mlp.fc1.forward(self.norm.forward(y))));
        let y = y * self.gamma.val().unsqueeze::<4>();
        shortcut + y.permute([0, 3, 1, 2])
    }
}

/// A stage: optional downsampling `(LayerNorm2d, 2×2 stride-2 conv)` then blocks.
#[derive(Module, Debug)]
pub struct ConvNextStage {
    /// Downsampling (absent in the first stage).
    pub downsample: Option<(LayerNorm2d, Conv2d)>,
    /// Blocks.
    pub blocks: Vec<ConvNextBlock>,
}

/// Head: global average pool, LayerNorm, classifier.
#[derive(Module, Debug)]
pub struct ConvNextHead {
    /// Norm of the pooled features.
    pub norm: LayerNorm,
    /// Classifier.
    pub fc: Linear,
}

/// A ConvNeXt classifier.
#[derive(Module, Debug)]
pub struct ConvNext {
    /// Patchify stem `(conv, LayerNorm2d)`.
    pub stem: (Conv2d, LayerNorm2d),
    /// Stages.
    pub stages: Vec<ConvNextStage>,
    /// Head.
    pub head: ConvNextHead,
}

/// What one segment of a ConvNeXt runs.
enum Step<'a> {
    Stem,
    Downsample(&'a (LayerNorm2d, Conv2d)),
    /// A block's depthwise convolution (its output and the shortcut go on).
    BlockEntry(&'a ConvNextBlock),
    /// The rest of a block.
    BlockRest(&'a ConvNextBlock),
    Head,
}

impl ConvNext {
    fn steps(&self) -> Vec<(Segment, Step<'_>)> {
        let mut steps = vec![(Segment::new("stem", ["stem"]), Step::Stem)];
        for (s, stage) in self.stages.iter().enumerate() {
            if let Some(down) = &stage.downsample {
                let name = format!("stages.{s}.downsample");
                steps.push((Segment::new(&name, [&name]), Step::Downsample(down)));
            }
            for (b, block) in stage.blocks.iter().enumerate() {
                let name = format!("stages.{s}.blocks.{b}");
                let conv = format!("{name}.conv_dw");
                steps.push((Segment::new(&conv, [&conv]), Step::BlockEntry(block)));
                let rest = ["norm", "mlp", "gamma"].map(|p| format!("{name}.{p}"));
                steps.push((Segment::new(&name, rest), Step::BlockRest(block)));
            }
        }
        steps.push((Segment::new("head", ["head"]), Step::Head));
        steps
    }

    /// The forward pass as a chain: `stem`, each downsampling, two segments per block (its
    /// depthwise convolution `stages.3.blocks.2.conv_dw`, then the rest `stages.3.blocks.2`),
    /// `head`. A subset starting at a block's `norm` leaves the convolution in the prefix.
    pub fn segments(&self) -> Vec<Segment> {
        self.steps().into_iter().map(|(segment, _)| segment).collect()
    }

    /// Runs segment `index` of [`ConvNext::segments`].
    pub fn forward_segment(&self, index: usize, x: Activation) -> Activation {
        let steps = self.steps();
        match &steps[index].1 {
            Step::Stem => Activation::Maps(self.stem.1.forward(self.stem.0.forward(x.maps()))),
            Step::Downsample((norm, conv)) => {
                Activation::Maps(conv.forward(norm.forward(x.maps())))
            }
            Step::BlockEntry(block) => {
                let x = x.maps();
                Activation::Residual { main: block.conv_dw.forward(x.clone()), shortcut: x }
            }
            Step::BlockRest(block) => {
                let (main, shortcut) = x.residual();
                Activation::Maps(block.forward_rest(main, shortcut))
            }
            Step::Head => {
                let pooled = global_avg_pool(x.maps());
                Activation::Flat(self.head.fc.forward(self.head.norm.forward(pooled)))
            }
        }
    }

    /// Names of the normalization layers in forward order.
    pub fn norm_layers(&self) -> Vec<String> {
        let mut names = vec!["stem.1".to_string()];
        for (s, stage) in self.stages.iter().enumerate() {
            if stage.downsample.is_some() {
                names.push(format!("stages.{s}.downsample.0"));
            }
            names.extend((0..stage.blocks.len()).map(|b| format!("stages.{s}.blocks.{b}.norm")));
        }
        names.push("head.norm".into());
        names
    }
}
