//! Bad input gives a clear, typed error and leaves no file behind.

mod common;

use burn::prelude::Device;
use common::{random_images, randomized};
use zoo_export::{ExportError, ExportOptions, Metadata, export_model, export_verified};

#[test]
fn a_vit_spec_whose_input_does_not_match_the_position_embedding_is_refused() {
    let spec = zoo_models::find("vit-micro").unwrap().spec;
    let model = randomized(&spec, 1);
    let wrong = spec.clone().with_io([1, 14, 14], spec.num_classes);
    let err = export_model(&model, &wrong, &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, ExportError::InputShape { .. }), "{err}");
    assert!(err.to_string().contains("pos_embed"), "{err}");
    let channels = spec.clone().with_io([3, 28, 28], spec.num_classes);
    let err = export_model(&model, &channels, &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, ExportError::InputShape { .. }), "{err}");
}

#[test]
fn a_convnext_input_too_small_for_its_stages_is_refused() {
    let spec = zoo_models::find("convnext-micro").unwrap().spec.with_io([1, 4, 4], 10);
    let model = randomized(&spec, 1);
    let err = export_model(&model, &spec, &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, ExportError::InputShape { .. }), "{err}");
}

#[test]
fn a_batch_of_the_wrong_shape_is_refused_before_anything_runs() {
    let spec = zoo_models::find("resnet8").unwrap().spec;
    let model = randomized(&spec, 1);
    let images = random_images(1, [2, 1, 27, 27]);
    let err = export_verified(
        &model,
        &spec,
        &ExportOptions::default(),
        &images,
        [2, 1, 27, 27],
        &Device::flex(),
    )
    .unwrap_err();
    assert!(matches!(err, ExportError::InputShape { .. }), "{err}");
}

#[test]
fn unsupported_opsets_and_bad_metadata_are_refused() {
    let spec = zoo_models::find("resnet8").unwrap().spec;
    let model = randomized(&spec, 1);
    for opset in [12, 22] {
        let opts = ExportOptions { opset, ..ExportOptions::default() };
        let err = export_model(&model, &spec, &opts).unwrap_err();
        assert!(matches!(err, ExportError::UnsupportedOpset { .. }), "{err}");
    }
    let mut labels: Vec<String> = (0..10).map(|i| i.to_string()).collect();
    labels[3] = "three, or so".into();
    let opts = ExportOptions::with_metadata(Metadata { labels, ..Metadata::default() });
    let err = export_model(&model, &spec, &opts).unwrap_err();
    assert!(matches!(err, ExportError::Metadata { .. }), "{err}");
    let opts = ExportOptions::with_metadata(Metadata {
        input_mean: vec![0.1, 0.2],
        ..Metadata::default()
    });
    assert!(matches!(export_model(&model, &spec, &opts), Err(ExportError::Metadata { .. })));
}

#[test]
fn a_network_of_another_family_than_its_spec_is_refused() {
    let resnet = zoo_models::find("resnet8").unwrap().spec;
    let vit = zoo_models::find("vit-micro").unwrap().spec;
    let err = export_model(&randomized(&resnet, 1), &vit, &ExportOptions::default()).unwrap_err();
    assert!(matches!(err, ExportError::UnsupportedLayer { .. }), "{err}");
}

#[test]
fn corrupt_or_incomplete_files_are_errors_and_a_shared_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let spec = zoo_models::find("resnet8").unwrap().spec;
    let model = randomized(&spec, 1);
    let images = random_images(1, [2, 1, 28, 28]);
    let verified = export_verified(
        &model,
        &spec,
        &ExportOptions::default(),
        &images,
        [2, 1, 28, 28],
        &Device::flex(),
    )
    .unwrap();
    let good = dir.path().join("a").join("model.onnx");
    verified.write(&good).unwrap();
    assert!(zoo_export::verify_file(&good).unwrap().passed());

    // A second model in the same folder would overwrite the first one's test data.
    let second = dir.path().join("a").join("other.onnx");
    let err = verified.write(&second).unwrap_err();
    assert!(matches!(err, ExportError::Layout { .. }), "{err}");
    assert!(!second.exists());
    // Not .onnx.
    assert!(verified.write(&dir.path().join("b").join("model.bin")).is_err());
    assert!(!dir.path().join("b").exists());

    // Corrupt model: an error, not a mismatch.
    let bad = dir.path().join("c").join("model.onnx");
    std::fs::create_dir_all(bad.parent().unwrap()).unwrap();
    std::fs::write(&bad, b"not an onnx model").unwrap();
    assert!(zoo_export::verify_file(&bad).is_err());
    // Missing test data.
    let lonely = dir.path().join("d").join("model.onnx");
    std::fs::create_dir_all(lonely.parent().unwrap()).unwrap();
    verified.model.write(&lonely).unwrap();
    assert!(zoo_export::verify_file(&lonely).is_err());
    // Tampered expected output: a mismatch, reported as not passed.
    let tampered = dir.path().join("e").join("model.onnx");
    let mut wrong = verified.expected.as_f32().unwrap().to_vec();
    wrong[0] += 0.01;
    let wrong = zoo_onnx::TensorData::f32(verified.expected.dims().to_vec(), wrong).unwrap();
    zoo_export::write_with_test_data(
        &verified.model,
        &tampered,
        &verified.input,
        &[("logits", &wrong)],
    )
    .unwrap();
    let check = zoo_export::verify_file(&tampered).unwrap();
    assert!(!check.passed() && check.max_abs_diff > 5e-3, "{check:?}");
}
