//! ResNet (He et al. 2016, "Deep Residual Learning for Image Recognition", arXiv 1512.03385).
//!
//! Mirrors torchvision's `resnet.py` (v1.5: the stride of a bottleneck sits on its 3×3 conv)
//! for the ImageNet variants, and the CIFAR-style networks of the paper's §4.2 (3×3 stem,
//! stages 16-32-64, 6n+2 layers) for small inputs. Parameter names equal torchvision's
//! `state_dict` keys: `conv1.weight`, `layer4.1.bn2.weight`, `layer2.0.downsample.0.weight`,
//! `fc.weight`.

use burn::module::Module;
use burn::nn::conv::Conv2d;
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use serde::{Deserialize, Serialize};

use crate::layers::{Activation, conv2d, global_avg_pool};
use crate::segments::Segment;

/// Residual block kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Two 3×3 convolutions (ResNet-18/34 and the CIFAR ResNets).
    Basic,
    /// 1×1 → 3×3 → 1×1 with a 4× wider output (ResNet-50 and deeper).
    Bottleneck,
}

impl BlockKind {
    fn expansion(self) -> usize {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// The stem: 7×7 stride 2 + 3×3 max-pool (ImageNet) or a single 3×3 stride 1 (CIFAR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StemKind {
    /// torchvision: `conv1` 7×7 stride 2, padding 3, then max-pool 3×3 stride 2.
    Imagenet,
    /// He et al. §4.2: `conv1` 3×3 stride 1, padding 1, no pooling.
    Cifar,
}

/// Architecture hyper-parameters of a ResNet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResNetConfig {
    /// Residual block kind.
    pub block: BlockKind,
    /// Blocks per stage.
    pub layers: Vec<usize>,
    /// Base width of each stage (the block output is `width × expansion`).
    pub widths: Vec<usize>,
    /// Stem kind.
    pub stem: StemKind,
}

impl ResNetConfig {
    /// torchvision `resnet18`.
    pub fn resnet18() -> Self {
        Self::imagenet(BlockKind::Basic, vec![2, 2, 2, 2])
    }

    /// torchvision `resnet50`.
    pub fn resnet50() -> Self {
        Self::imagenet(BlockKind::Bottleneck, vec![3, 4, 6, 3])
    }

    fn imagenet(block: BlockKind, layers: Vec<usize>) -> Self {
        Self { block, layers, widths: vec![64, 128, 256, 512], stem: StemKind::Imagenet }
    }

    /// The CIFAR ResNet with `6n + 2` layers (n basic blocks per stage, widths 16-32-64).
    pub fn cifar(n: usize) -> Self {
        Self {
            block: BlockKind::Basic,
            layers: vec![n; 3],
            widths: vec![16, 32, 64],
            stem: StemKind::Cifar,
        }
    }

    /// Builds the network for `in_channels` input channels and `num_classes` outputs.
    pub fn init(&self, in_channels: usize, num_classes: usize, device: &Device) -> ResNet {
        let stem_width = self.widths[0];
        let conv1 = match self.stem {
            StemKind::Imagenet => conv2d([in_channels, stem_width], 7, 2, 3, 1, false, device),
            StemKind::Cifar => conv2d([in_channels, stem_width], 3, 1, 1, 1, false, device),
        };
        let mut in_planes = stem_width;
        let mut stages = Vec::new();
        for (stage, (&blocks, &width)) in self.layers.iter().zip(&self.widths).enumerate() {
            let mut stage_blocks = Vec::new();
            for index in 0..blocks {
                let stride = if stage > 0 && index == 0 { 2 } else { 1 };
                stage_blocks.push(ResidualBlock::new(self.block, in_planes, width, stride, device));
                in_planes = width * self.block.expansion();
            }
            stages.push(stage_blocks);
        }
        let maxpool = match self.stem {
            StemKind::Imagenet => Some(
                MaxPool2dConfig::new([3, 3])
                    .with_strides([2, 2])
                    .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                    .init(),
            ),
            StemKind::Cifar => None,
        };
        let mut layers = stages.into_iter();
        ResNet {
            conv1,
            bn1: batch_norm(stem_width, device),
            maxpool,
            layer1: layers.next().unwrap_or_default(),
            layer2: layers.next().unwrap_or_default(),
            layer3: layers.next().unwrap_or_default(),
            layer4: layers.next().unwrap_or_default(),
            fc: LinearConfig::new(in_planes, num_classes).init(device),
        }
    }
}

fn batch_norm(channels: usize, device: &Device) -> BatchNorm {
    BatchNormConfig::new(channels).init(device)
}

/// A ResNet: stem, up to four stages of residual blocks, global average pool, `fc`.
#[derive(Module, Debug)]
pub struct ResNet {
    /// Stem convolution.
    pub conv1: Conv2d,
    /// Stem normalization.
    pub bn1: BatchNorm,
    /// Stem max-pool (ImageNet stem only).
    pub maxpool: Option<MaxPool2d>,
    /// Stage 1.
    pub layer1: Vec<ResidualBlock>,
    /// Stage 2.
    pub layer2: Vec<ResidualBlock>,
    /// Stage 3.
    pub layer3: Vec<ResidualBlock>,
    /// Stage 4 (empty for CIFAR ResNets).
    pub layer4: Vec<ResidualBlock>,
    /// Classifier.
    pub fc: Linear,
}

impl ResNet {
    fn stages(&self) -> [(&'static str, &Vec<ResidualBlock>); 4] {
        [
            ("layer1", &self.layer1),
            ("layer2", &self.layer2),
            ("layer3", &self.layer3),
            ("layer4", &self.layer4),
        ]
    }

    fn blocks(&self) -> impl Iterator<Item = (String, &ResidualBlock)> {
        self.stages().into_iter().flat_map(|(name, blocks)| {
            blocks.iter().enumerate().map(move |(i, block)| (format!("{name}.{i}"), block))
        })
    }

    /// The forward pass as a chain: `stem`, two segments per residual block, `head`.
    ///
    /// A block splits after its first convolution: `layer3.0.conv1` runs `conv1` and the
    /// shortcut (owning `conv1` and `downsample`), `layer3.0` the rest from `bn1` on. When the
    /// p-diff subset starts at a block's `bn1` (the default for every ResNet), the
    /// convolutions before it are part of the shared prefix.
    pub fn segments(&self) -> Vec<Segment> {
        let mut segments = vec![Segment::new("stem", ["conv1", "bn1"])];
        for (name, _) in self.blocks() {
            let entry = ["conv1", "downsample"].map(|p| format!("{name}.{p}"));
            let rest = ["bn1", "conv2", "bn2", "conv3", "bn3"].map(|p| format!("{name}.{p}"));
            segments.push(Segment::new(&format!("{name}.conv1"), entry));
            segments.push(Segment::new(&name, rest));
        }
        segments.push(Segment::new("head", ["fc"]));
        segments
    }

    /// Runs segment `index` of [`ResNet::segments`].
    pub fn forward_segment(&self, index: usize, x: Activation) -> Activation {
        let blocks = self.blocks().count();
        if index == 0 {
            let x = relu(self.bn1.forward(self.conv1.forward(x.maps())));
            let x = match &self.maxpool {
                Some(pool) => pool.forward(x),
                None => x,
            };
            Activation::Maps(x)
        } else if index <= 2 * blocks {
            let (_, block) = self.blocks().nth((index - 1) / 2).expect("block index in range");
            if index % 2 == 1 {
                let (main, shortcut) = block.forward_entry(x.maps());
                Activation::Residual { main, shortcut }
            } else {
                let (main, shortcut) = x.residual();
                Activation::Maps(block.forward_rest(main, shortcut))
            }
        } else {
            Activation::Flat(self.fc.forward(global_avg_pool(x.maps())))
        }
    }

    /// Names of the normalization layers in forward order.
    pub fn norm_layers(&self) -> Vec<String> {
        let mut names = vec!["bn1".to_string()];
        for (name, block) in self.blocks() {
            // The shortcut runs first, so the main path's norms are a block's last ones.
            if block.downsample.is_some() {
                names.push(format!("{name}.downsample.1"));
            }
            let count = match block.bn3 {
                Some(_) => 3,
                None => 2,
            };
            names.extend((1..=count).map(|i| format!("{name}.bn{i}")));
        }
        names
    }
}

/// A basic or bottleneck residual block with torchvision's field names.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    /// First convolution (3×3 basic, 1×1 bottleneck).
    pub conv1: Conv2d,
    /// Normalization after `conv1`.
    pub bn1: BatchNorm,
    /// Second convolution (3×3, carries the stride).
    pub conv2: Conv2d,
    /// Normalization after `conv2`.
    pub bn2: BatchNorm,
    /// Third convolution (bottleneck only, 1×1 expansion).
    pub conv3: Option<Conv2d>,
    /// Normalization after `conv3` (bottleneck only).
    pub bn3: Option<BatchNorm>,
    /// Projection shortcut `(1×1 conv, BatchNorm)` when the shape changes.
    pub downsample: Option<(Conv2d, BatchNorm)>,
}

impl ResidualBlock {
    fn new(
        kind: BlockKind,
        in_planes: usize,
        width: usize,
        stride: usize,
        device: &Device,
    ) -> Self {
        let out_planes = width * kind.expansion();
        let downsample = (stride != 1 || in_planes != out_planes).then(|| {
            (
                conv2d([in_planes, out_planes], 1, stride, 0, 1, false, device),
                batch_norm(out_planes, device),
            )
        });
        match kind {
            BlockKind::Basic => Self {
                conv1: conv2d([in_planes, width], 3, stride, 1, 1, false, device),
                bn1: batch_norm(width, device),
                conv2: conv2d([width, width], 3, 1, 1, 1, false, device),
                bn2: batch_norm(width, device),
                conv3: None,
                bn3: None,
                downsample,
            },
            BlockKind::Bottleneck => Self {
                conv1: conv2d([in_planes, width], 1, 1, 0, 1, false, device),
                bn1: batch_norm(width, device),
                conv2: conv2d([width, width], 3, stride, 1, 1, false, device),
                bn2: batch_norm(width, device),
                conv3: Some(conv2d([width, out_planes], 1, 1, 0, 1, false, device)),
                bn3: Some(batch_norm(out_planes, device)),
                downsample,
            },
        }
    }

    /// # Shapes
    /// - input: `[batch, in_planes, h, w]`, output: `[batch, out_planes, h / stride, w / stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let (main, shortcut) = self.forward_entry(x);
        self.forward_rest(main, shortcut)
    }

    /// The block up to its first normalization: `(conv1(x), shortcut(x))`.
    ///
    /// # Shapes
    /// - input: `[batch, in_planes, h, w]`; main: `[batch, width, h', w']` (basic: h' = h /
    ///   stride; bottleneck: h' = h), shortcut: `[batch, out_planes, h / stride, w / stride]`
    pub fn forward_entry(&self, x: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let shortcut = match &self.downsample {
            Some((conv, bn)) => bn.forward(conv.forward(x.clone())),
            None => x.clone(),
        };
        (self.conv1.forward(x), shortcut)
    }

    /// The rest of the block, from `bn1` on, given [`ResidualBlock::forward_entry`]'s output.
    pub fn forward_rest(&self, main: Tensor<4>, shortcut: Tensor<4>) -> Tensor<4> {
        let out = relu(self.bn1.forward(main));
        let out = self.bn2.forward(self.conv2.forward(out));
        let out = match (&self.conv3, &self.bn3) {
            (Some(conv3), Some(bn3)) => bn3.forward(conv3.forward(relu(out))),
            _ => out,
        };
        relu(out + shortcut)
    }
}
