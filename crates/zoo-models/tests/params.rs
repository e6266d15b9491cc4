//! Reading, writing and splicing parameters by name.

use burn::prelude::*;
use zoo_models::{
    Activation, Selection, find, named_tensors, segments::first_owner, write_tensors,
};

#[test]
fn splice_round_trips_and_changes_the_output() {
    let device = Device::flex();
    device.seed(1);
    let spec = find("resnet8").unwrap().spec;
    let model = spec.init(&device);
    let layout = Selection::LastNorms.resolve("resnet8", &model).unwrap();
    let original = layout.flatten(&model);
    assert_eq!(original.len(), layout.len());
    let x = Tensor::<4>::random([4, 1, 28, 28], burn::tensor::Distribution::Default, &device);
    let before = model.forward(x.clone());

    let shifted: Vec<f32> = original.iter().map(|v| v + 0.5).collect();
    let (model, report) = layout.splice("resnet8", model, &shifted).unwrap();
    assert_eq!(report.applied, layout.names());
    assert_eq!(layout.flatten(&model), shifted);
    let after = model.forward(x.clone());
    assert!((after.clone() - before.clone()).abs().max().into_scalar::<f32>() > 1e-3);

    let (model, _) = layout.splice("resnet8", model, &original).unwrap();
    let back = model.forward(x);
    assert!((back - before).abs().max().into_scalar::<f32>() < 1e-6);
}

#[test]
fn splice_rejects_wrong_length_and_reports_mismatches() {
    let device = Device::flex();
    let model = find("vit-micro").unwrap().spec.init(&device);
    let layout = Selection::LastNorms.resolve("vit-micro", &model).unwrap();
    let err = layout.splice("vit-micro", model, &[0.0; 3]).unwrap_err();
    assert!(err.to_string().contains("needs"), "{err}");

    let model = find("vit-micro").unwrap().spec.init(&device);
    let mut tensors = named_tensors(&model);
    tensors.retain(|t| t.name == "norm.weight");
    tensors[0].shape = vec![tensors[0].data.len() / 2, 2];
    tensors.push(zoo_models::NamedTensor {
        name: "no.such.tensor".into(),
        shape: vec![1],
        data: vec![0.0],
        kind: zoo_models::TensorKind::Param,
    });
    let (_, report) = write_tensors(model, &tensors);
    assert_eq!(report.mismatched.len(), 1);
    assert_eq!(report.unused, vec!["no.such.tensor".to_string()]);
    assert!(!report.is_clean());
}

#[test]
fn glob_selection_and_empty_selection_error() {
    let device = Device::flex();
    let model = find("resnet18").unwrap().spec.init(&device);
    let layout = Selection::Patterns(vec!["layer4.1.bn*.weight".into()])
        .resolve("resnet18", &model)
        .unwrap();
    assert_eq!(layout.names(), vec!["layer4.1.bn1.weight", "layer4.1.bn2.weight"]);
    let err = Selection::Patterns(vec!["nope.*".into()]).resolve("resnet18", &model).unwrap_err();
    assert!(err.to_string().contains("match no parameter"), "{err}");
}

#[test]
fn prefix_plus_tail_equals_full_forward() {
    let device = Device::flex();
    for arch in ["resnet8", "vit-micro", "convnext-micro"] {
        device.seed(2);
        let model = find(arch).unwrap().spec.init(&device);
        let layout = Selection::LastNorms.resolve(arch, &model).unwrap();
        let segments = model.segments();
        let cut = first_owner(&segments, &layout.names()).unwrap();
        assert!(cut > 0, "{arch}: the prefix is not empty");
        let x = Tensor::<4>::random([2, 1, 28, 28], burn::tensor::Distribution::Default, &device);
        let full = model.forward(x.clone());
        let prefix = model.forward_range(Activation::Maps(x), 0..cut);
        let tail = model.forward_range(prefix, cut..segments.len()).flat();
        let diff = (full - tail).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-6, "{arch}: {diff}");
    }
}

#[test]
fn default_cut_puts_the_convolution_before_the_first_selected_norm_in_the_prefix() {
    let device = Device::flex();
    for (arch, tail_start, before) in [
        ("resnet8", "layer3.0", "layer3.0.conv1"),
        ("resnet18", "layer4.1", "layer4.1.conv1"),
        ("convnext-micro", "stages.2.blocks.1", "stages.2.blocks.1.conv_dw"),
    ] {
        let model = find(arch).unwrap().spec.init(&device);
        let layout = Selection::LastNorms.resolve(arch, &model).unwrap();
        let segments = model.segments();
        let cut = first_owner(&segments, &layout.names()).unwrap();
        assert_eq!(segments[cut].name, tail_start, "{arch}: {:?}", layout.names());
        assert_eq!(segments[cut - 1].name, before, "{arch}");
        // The subset starts at the first norm the tail segment owns.
        assert!(segments[cut].owns(&layout.names()[0]), "{arch}");
    }
}

#[test]
fn a_subset_in_the_shortcut_cuts_at_the_block_entry() {
    let device = Device::flex();
    device.seed(3);
    let model = find("resnet8").unwrap().spec.init(&device);
    let layout = Selection::Patterns(vec!["layer3.0.downsample.1.*".into()])
        .resolve("resnet8", &model)
        .unwrap();
    let segments = model.segments();
    let cut = first_owner(&segments, &layout.names()).unwrap();
    assert_eq!(segments[cut].name, "layer3.0.conv1");
    let x = Tensor::<4>::random([2, 1, 28, 28], burn::tensor::Distribution::Default, &device);
    let full = model.forward(x.clone());
    let prefix = model.forward_range(Activation::Maps(x), 0..cut);
    let tail = model.forward_range(prefix, cut..segments.len()).flat();
    assert!((full - tail).abs().max().into_scalar::<f32>() < 1e-6);
}
