//! One type for any network of the zoo, with its serializable architecture description.

use std::sync::Mutex;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::convnext::{ConvNext, ConvNextConfig};
use crate::layers::Activation;
use crate::resnet::{ResNet, ResNetConfig};
use crate::segments::Segment;
use crate::vit::{Vit, VitConfig};

/// Architecture family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// Residual convolutional networks.
    Resnet,
    /// Vision transformers.
    Vit,
    /// ConvNeXt.
    Convnext,
}

impl Family {
    /// The classifier tensors (torchvision ResNet `fc`, timm ViT `head`, timm ConvNeXt
    /// `head.fc`).
    pub fn head(self) -> [&'static str; 2] {
        match self {
            Family::Resnet => ["fc.weight", "fc.bias"],
            Family::Vit => ["head.weight", "head.bias"],
            Family::Convnext => ["head.fc.weight", "head.fc.bias"],
        }
    }

    /// Lower-case name (`resnet`, `vit`, `convnext`).
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Resnet => "resnet",
            Family::Vit => "vit",
            Family::Convnext => "convnext",
        }
    }
}

impl std::fmt::Display for Family {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Family-specific hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "lowercase")]
pub enum ArchConfig {
    /// A ResNet.
    Resnet(ResNetConfig),
    /// A ViT.
    Vit(VitConfig),
    /// A ConvNeXt.
    Convnext(ConvNextConfig),
}

/// Everything needed to rebuild a network: variant name, hyper-parameters, input and classes.
/// Saved next to every model file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchSpec {
    /// Registry name of the variant (`resnet18`, `vit-micro`).
    pub name: String,
    /// Input `[channels, height, width]`.
    pub input: [usize; 3],
    /// Number of output classes.
    pub num_classes: usize,
    /// Hyper-parameters.
    pub config: ArchConfig,
}

impl ArchSpec {
    /// The family of the architecture.
    pub fn family(&self) -> Family {
        match self.config {
            ArchConfig::Resnet(_) => Family::Resnet,
            ArchConfig::Vit(_) => Family::Vit,
            ArchConfig::Convnext(_) => Family::Convnext,
        }
    }

    /// Builds a freshly initialized network on `device`. Its weights come from burn's
    /// process-wide RNG, lazily; use [`ArchSpec::init_seeded`] for reproducible weights.
    pub fn init(&self, device: &Device) -> Model {
        let [channels, _, _] = self.input;
        match &self.config {
            ArchConfig::Resnet(c) => Model::Resnet(c.init(channels, self.num_classes, device)),
            ArchConfig::Vit(c) => Model::Vit(c.init(self.input, self.num_classes, device)),
            ArchConfig::Convnext(c) => Model::Convnext(c.init(channels, self.num_classes, device)),
        }
    }
}

/// Serializes every use of burn's process-wide RNG made through [`ArchSpec::init_seeded`].
static GLOBAL_RNG: Mutex<()> = Mutex::new(());

impl ArchSpec {
    /// A freshly initialized network whose weights depend only on `seed` (on a given
    /// backend), also when other threads build networks at the same time: seeding burn's
    /// process-wide RNG and drawing every weight happen under one lock.
    ///
    /// burn draws weights lazily, at first use; they are drawn here by one forward pass of a
    /// blank image (the order of a first training step, so models keep the weights they had
    /// when the draw happened in training), then any weight that pass did not touch.
    pub fn init_seeded(&self, seed: u64, device: &Device) -> Model {
        let _guard = GLOBAL_RNG.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        device.seed(seed);
        let model = self.init(device);
        let [c, h, w] = self.input;
        let _ = model.forward(Tensor::zeros([1, c, h, w], device));
        model.visit(&mut Materialize);
        model
    }
}

/// Runs the lazy initializer of every parameter not drawn yet.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

/// Any network of the zoo.
#[derive(Module, Debug)]
pub enum Model {
    /// A ResNet.
    Resnet(ResNet),
    /// A ViT.
    Vit(Vit),
    /// A ConvNeXt.
    Convnext(ConvNext),
}

impl Model {
    /// Logits for a batch of images.
    ///
    /// # Shapes
    /// - input: `[batch, channels, height, width]`, output: `[batch, classes]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let end = self.segments().len();
        self.forward_range(Activation::Maps(images), 0..end).flat()
    }

    /// The forward chain of the network.
    pub fn segments(&self) -> Vec<Segment> {
        match self {
            Model::Resnet(m) => m.segments(),
            Model::Vit(m) => m.segments(),
            Model::Convnext(m) => m.segments(),
        }
    }

    /// Runs segments `range` of [`Model::segments`] on `x`.
    pub fn forward_range(&self, mut x: Activation, range: std::ops::Range<usize>) -> Activation {
        for index in range {
            x = match self {
                Model::Resnet(m) => m.forward_segment(index, x),
                Model::Vit(m) => m.forward_segment(index, x),
                Model::Convnext(m) => m.forward_segment(index, x),
            };
        }
        x
    }

    /// Names of the normalization layers in forward order (`layer4.1.bn2`).
    pub fn norm_layers(&self) -> Vec<String> {
        match self {
            Model::Resnet(m) => m.norm_layers(),
            Model::Vit(m) => m.norm_layers(),
            Model::Convnext(m) => m.norm_layers(),
        }
    }
}
