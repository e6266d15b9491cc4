//! The registry drives these tests: every registered variant is checked.

use burn::prelude::*;
use zoo_models::{Family, Selection, count_params, find, tensor_infos, variants};

/// Published parameter counts (torchvision / timm, 1,000 classes, 224×224).
const PUBLISHED: [(&str, usize); 7] = [
    ("resnet18", 11_689_512),
    ("resnet50", 25_557_032),
    ("vit-tiny", 5_717_416),
    ("vit-small", 22_050_664),
    ("vit-base", 86_567_656),
    ("convnext-tiny", 28_589_128),
    ("convnext-base", 88_591_464),
];

#[test]
fn standard_variants_have_the_published_parameter_counts() {
    let device = Device::flex();
    for (name, expected) in PUBLISHED {
        let model = find(name).unwrap().spec.init(&device);
        assert_eq!(count_params(&model), expected, "{name}");
    }
}

#[test]
fn every_small_variant_maps_a_batch_to_logits() {
    let device = Device::flex();
    for variant in variants().into_iter().filter(|v| v.spec.input == [1, 28, 28]) {
        device.seed(0);
        let spec = variant.spec.clone();
        let model = spec.init(&device);
        let [c, h, w] = spec.input;
        let x = Tensor::<4>::random([3, c, h, w], burn::tensor::Distribution::Default, &device);
        assert_eq!(model.forward(x).dims(), [3, spec.num_classes], "{}", variant.name);
        // Also at 3×32×32 with 100 classes (CIFAR-100 shape).
        let spec = spec.with_io([3, 32, 32], 100);
        let model = spec.init(&device);
        let x = Tensor::<4>::random([2, 3, 32, 32], burn::tensor::Distribution::Default, &device);
        assert_eq!(model.forward(x).dims(), [2, 100], "{} at 32×32", variant.name);
    }
}

#[test]
fn each_family_has_one_default_small_variant() {
    for family in [Family::Resnet, Family::Vit, Family::Convnext] {
        let defaults: Vec<_> =
            variants().into_iter().filter(|v| v.family() == family && v.family_default).collect();
        assert_eq!(defaults.len(), 1, "{family}");
    }
}

fn names(arch: &str) -> Vec<String> {
    let device = Device::flex();
    let model = find(arch).unwrap().spec.init(&device);
    tensor_infos(&model).into_iter().map(|t| t.name).collect()
}

#[test]
fn resnet18_names_match_torchvision_state_dict_keys() {
    let names = names("resnet18");
    for key in [
        "conv1.weight",
        "bn1.weight",
        "bn1.running_mean",
        "layer1.0.conv1.weight",
        "layer2.0.downsample.0.weight",
        "layer2.0.downsample.1.running_var",
        "layer4.1.bn2.bias",
        "fc.weight",
        "fc.bias",
    ] {
        assert!(names.contains(&key.to_string()), "missing {key}");
    }
    assert_eq!(names.len(), 122 - 20, "torchvision has 122 keys incl. 20 num_batches_tracked");
}

#[test]
fn vit_and_convnext_names_match_timm_keys() {
    let vit = names("vit-tiny");
    for key in [
        "cls_token",
        "pos_embed",
        "patch_embed.proj.weight",
        "blocks.11.attn.qkv.weight",
        "blocks.11.attn.proj.bias",
        "blocks.11.mlp.fc2.weight",
        "blocks.11.norm2.weight",
        "norm.bias",
        "head.weight",
    ] {
        assert!(vit.contains(&key.to_string()), "vit-tiny missing {key}");
    }
    assert_eq!(vit.len(), 152, "timm vit_tiny has 152 state-dict keys");
    let convnext = names("convnext-tiny");
    for key in [
        "stem.0.weight",
        "stem.1.weight",
        "stages.1.downsample.0.weight",
        "stages.1.downsample.1.weight",
        "stages.3.blocks.2.conv_dw.weight",
        "stages.3.blocks.2.norm.weight",
        "stages.3.blocks.2.mlp.fc1.weight",
        "stages.3.blocks.2.gamma",
        "head.norm.weight",
        "head.fc.weight",
    ] {
        assert!(convnext.contains(&key.to_string()), "convnext-tiny missing {key}");
    }
}

#[test]
fn linear_weights_use_pytorch_layout() {
    let device = Device::flex();
    let model = find("resnet18").unwrap().spec.init(&device);
    let fc = tensor_infos(&model).into_iter().find(|t| t.name == "fc.weight").unwrap();
    assert_eq!(fc.shape, vec![1000, 512]);
}

#[test]
fn default_selection_is_the_last_two_norm_layers() {
    let device = Device::flex();
    let expect = [
        (
            "resnet18",
            vec![
                "layer4.1.bn1.weight",
                "layer4.1.bn1.bias",
                "layer4.1.bn2.weight",
                "layer4.1.bn2.bias",
            ],
            2048,
        ),
        (
            "resnet50",
            vec![
                "layer4.2.bn2.weight",
                "layer4.2.bn2.bias",
                "layer4.2.bn3.weight",
                "layer4.2.bn3.bias",
            ],
            2 * 512 + 2 * 2048,
        ),
        (
            "vit-tiny",
            vec!["blocks.11.norm2.weight", "blocks.11.norm2.bias", "norm.weight", "norm.bias"],
            4 * 192,
        ),
        (
            "convnext-tiny",
            vec![
                "stages.3.blocks.2.norm.weight",
                "stages.3.blocks.2.norm.bias",
                "head.norm.weight",
                "head.norm.bias",
            ],
            4 * 768,
        ),
    ];
    for (arch, names, len) in expect {
        let model = find(arch).unwrap().spec.init(&device);
        let layout = Selection::LastNorms.resolve(arch, &model).unwrap();
        assert_eq!(layout.names(), names, "{arch}");
        assert_eq!(layout.len(), len, "{arch}");
    }
}

#[test]
fn a_single_block_resnet_selects_its_main_path_norms() {
    let device = Device::flex();
    let model = find("resnet8").unwrap().spec.init(&device);
    let layout = Selection::LastNorms.resolve("resnet8", &model).unwrap();
    assert_eq!(
        layout.names(),
        vec![
            "layer3.0.bn1.weight",
            "layer3.0.bn1.bias",
            "layer3.0.bn2.weight",
            "layer3.0.bn2.bias"
        ]
    );
}

#[test]
fn every_standard_variant_maps_an_image_to_its_logits() {
    let device = Device::flex();
    for variant in variants().into_iter().filter(|v| v.spec.input == [3, 224, 224]) {
        let model = variant.spec.init(&device);
        let x = Tensor::<4>::random([1, 3, 224, 224], burn::tensor::Distribution::Default, &device);
        assert_eq!(model.forward(x).dims(), [1, 1000], "{}", variant.name);
    }
}
