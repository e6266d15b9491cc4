//! The registry: every named variant, one front door to build any of them.

use serde::Serialize;

use crate::convnext::ConvNextConfig;
use crate::model::{ArchConfig, ArchSpec, Family};
use crate::resnet::ResNetConfig;
use crate::vit::VitConfig;

/// A registered variant.
#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// Registry name.
    pub name: &'static str,
    /// One-line description.
    pub description: &'static str,
    /// Whether this is its family's default small variant (used by recipes and quick runs).
    pub family_default: bool,
    /// The architecture at its default input and class count.
    pub spec: ArchSpec,
}

impl Variant {
    /// The family.
    pub fn family(&self) -> Family {
        self.spec.family()
    }
}

fn variant(
    name: &'static str,
    description: &'static str,
    family_default: bool,
    input: [usize; 3],
    num_classes: usize,
    config: ArchConfig,
) -> Variant {
    Variant {
        name,
        description,
        family_default,
        spec: ArchSpec { name: name.to_string(), input, num_classes, config },
    }
}

const IMAGENET: [usize; 3] = [3, 224, 224];
const MNIST: [usize; 3] = [1, 28, 28];

/// Every registered variant, grouped by family, small before standard.
pub fn variants() -> Vec<Variant> {
    use ArchConfig::{Convnext, Resnet, Vit};
    let small_vit = |patch, dim, depth, heads| VitConfig {
        mlp_dim: 2 * dim,
        ..VitConfig::new(patch, dim, depth, heads)
    };
    let small_convnext = |depths: Vec<usize>, dims: Vec<usize>| ConvNextConfig {
        depths,
        dims,
        stem_patch: 2,
        layer_scale_init: 0.1,
        mlp_ratio: 4,
    };
    vec![
        variant(
            "resnet8",
            "CIFAR-style ResNet-8 (16-32-64, 1 block per stage)",
            true,
            MNIST,
            10,
            Resnet(ResNetConfig::cifar(1)),
        ),
        variant(
            "resnet14",
            "CIFAR-style ResNet-14 (2 blocks per stage)",
            false,
            MNIST,
            10,
            Resnet(ResNetConfig::cifar(2)),
        ),
        variant(
            "resnet20",
            "CIFAR-style ResNet-20 (He et al. 2016, 3 blocks per stage)",
            false,
            MNIST,
            10,
            Resnet(ResNetConfig::cifar(3)),
        ),
        variant(
            "resnet32",
            "CIFAR-style ResNet-32 (5 blocks per stage)",
            false,
            MNIST,
            10,
            Resnet(ResNetConfig::cifar(5)),
        ),
        variant(
            "resnet18",
            "torchvision ResNet-18",
            false,
            IMAGENET,
            1000,
            Resnet(ResNetConfig::resnet18()),
        ),
        variant(
            "resnet50",
            "torchvision ResNet-50",
            false,
            IMAGENET,
            1000,
            Resnet(ResNetConfig::resnet50()),
        ),
        variant(
            "vit-micro",
            "ViT, patch 7, width 64, 4 blocks, 4 heads",
            true,
            MNIST,
            10,
            Vit(small_vit(7, 64, 4, 4)),
        ),
        variant(
            "vit-mini",
            "ViT, patch 4, width 128, 6 blocks, 4 heads",
            false,
            MNIST,
            10,
            Vit(small_vit(4, 128, 6, 4)),
        ),
        variant(
            "vit-tiny",
            "timm vit_tiny_patch16_224",
            false,
            IMAGENET,
            1000,
            Vit(VitConfig::tiny()),
        ),
        variant(
            "vit-small",
            "timm vit_small_patch16_224",
            false,
            IMAGENET,
            1000,
            Vit(VitConfig::small()),
        ),
        variant(
            "vit-base",
            "timm vit_base_patch16_224",
            false,
            IMAGENET,
            1000,
            Vit(VitConfig::base()),
        ),
        variant(
            "convnext-micro",
            "ConvNeXt, stem 2, stages 32-64-128, depths 1-1-2",
            true,
            MNIST,
            10,
            Convnext(small_convnext(vec![1, 1, 2], vec![32, 64, 128])),
        ),
        variant(
            "convnext-mini",
            "ConvNeXt, stem 2, stages 48-96-192, depths 2-2-4",
            false,
            MNIST,
            10,
            Convnext(small_convnext(vec![2, 2, 4], vec![48, 96, 192])),
        ),
        variant(
            "convnext-tiny",
            "timm convnext_tiny",
            false,
            IMAGENET,
            1000,
            Convnext(ConvNextConfig::tiny()),
        ),
        variant(
            "convnext-base",
            "timm convnext_base",
            false,
            IMAGENET,
            1000,
            Convnext(ConvNextConfig::base()),
        ),
    ]
}

/// Looks a variant up by name.
pub fn find(name: &str) -> Result<Variant, crate::ModelError> {
    variants().into_iter().find(|v| v.name == name).ok_or_else(|| crate::ModelError::UnknownArch {
        name: name.to_string(),
        known: variants().iter().map(|v| v.name.to_string()).collect(),
    })
}

/// The default small variant of a family.
pub fn family_default(family: Family) -> Variant {
    variants()
        .into_iter()
        .find(|v| v.family() == family && v.family_default)
        .expect("every family has a default variant")
}

/// Variants whose name matches a glob (`resnet*`, `vit-?iny`); all when `pattern` is `None`.
pub fn matching(pattern: Option<&str>) -> Result<Vec<Variant>, crate::ModelError> {
    let Some(pattern) = pattern else {
        return Ok(variants());
    };
    let glob = globset::Glob::new(pattern)
        .map_err(|e| crate::ModelError::BadPattern {
            pattern: pattern.to_string(),
            reason: e.to_string(),
        })?
        .compile_matcher();
    Ok(variants().into_iter().filter(|v| glob.is_match(v.name)).collect())
}

impl ArchSpec {
    /// The same architecture for another input shape and class count.
    pub fn with_io(mut self, input: [usize; 3], num_classes: usize) -> Self {
        self.input = input;
        self.num_classes = num_classes;
        self
    }
}
