//! Ensemble graphs: mean of member softmax probabilities (and stacked member logits) against
//! a Rust computation from burn's logits, in ONNX Runtime, tract and Python.

mod common;

use burn::prelude::Device;
use common::{python_check, random_images, randomized, tract_run};
use zoo_export::{
    EnsembleOptions, ExportError, MEMBER_LOGITS_NAME, PROBABILITIES_NAME, export_model,
};
use zoo_onnx::TensorData;
use zoo_verify::{LOGIT_TOLERANCE, OrtModel, max_abs_diff};

fn softmax_rows(logits: &[f32], classes: usize) -> Vec<f64> {
    logits
        .chunks(classes)
        .flat_map(|row| {
            let max = row.iter().cloned().fold(f32::NEG_INFINITY, f32::max) as f64;
            let exp: Vec<f64> = row.iter().map(|&v| (v as f64 - max).exp()).collect();
            let sum: f64 = exp.iter().sum();
            exp.into_iter().map(move |e| e / sum)
        })
        .collect()
}

#[test]
fn mixed_family_ensemble_matches_the_mean_of_member_softmaxes() {
    let classes = 4;
    let specs: Vec<_> = ["resnet8", "vit-micro", "convnext-micro", "resnet8"]
        .iter()
        .map(|n| zoo_models::find(n).unwrap().spec.with_io([1, 28, 28], classes))
        .collect();
    let shape = [6, 1, 28, 28];
    let images = random_images(3, shape);
    let mut members = Vec::new();
    let mut burn_logits = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let model = randomized(spec, 10 + i as u64);
        let opts = common::test_metadata(spec, &format!("{}.m{i}", spec.name));
        members.push(export_model(&model, spec, &opts).unwrap());
        burn_logits.push(zoo_export::burn_logits(&model, &images, shape, &Device::flex()));
    }
    let opts = EnsembleOptions { member_logits: true, accuracy: Some(50.0), ..Default::default() };
    let ens = zoo_export::ensemble(&members, &opts).unwrap_or_else(|e| panic!("{e}"));
    let k = members.len();
    // Reference: mean of softmaxes, in f64.
    let mut want = vec![0f64; 6 * classes];
    for l in &burn_logits {
        for (w, p) in want.iter_mut().zip(softmax_rows(l, classes)) {
            *w += p / k as f64;
        }
    }
    let want: Vec<f32> = want.into_iter().map(|v| v as f32).collect();
    // Stacked member logits: [batch, K, classes].
    let mut stacked = Vec::new();
    for row in 0..6 {
        for l in &burn_logits {
            stacked.extend_from_slice(&l[row * classes..(row + 1) * classes]);
        }
    }
    let mut ort = OrtModel::from_model(&ens, "ensemble").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(ort.metadata()["source"], "ensemble");
    assert_eq!(ort.metadata()["member_count"], "4");
    assert_eq!(ort.metadata()["arch"], "resnet8+vit-micro+convnext-micro");
    let probs = ort.run_output(&images, shape, PROBABILITIES_NAME).unwrap();
    let d = max_abs_diff(&probs, &want).unwrap();
    assert!(d <= 1e-5, "probabilities differ by {d:e}");
    for row in probs.chunks(classes) {
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }
    let logits = ort.run_output(&images, shape, MEMBER_LOGITS_NAME).unwrap();
    let dl = max_abs_diff(&logits, &stacked).unwrap();
    assert!(dl <= LOGIT_TOLERANCE, "member logits differ by {dl:e}");
    // The prefixed initializers of every member are there.
    let names = ens.initializer_names();
    assert!(names.contains(&"m0.conv1.weight") && names.contains(&"m1.cls_token"));
    assert!(names.contains(&"m2.stem.0.weight") && names.contains(&"m3.fc.bias"));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ens").join("ensemble.onnx");
    let input = TensorData::f32(shape, images.clone()).unwrap();
    let p = TensorData::f32([6, classes], want.clone()).unwrap();
    let m = TensorData::f32([6, k, classes], stacked.clone()).unwrap();
    zoo_export::write_with_test_data(
        &ens,
        &path,
        &input,
        &[(PROBABILITIES_NAME, &p), (MEMBER_LOGITS_NAME, &m)],
    )
    .unwrap();
    let check = zoo_export::verify_file(&path).unwrap();
    assert!(check.passed(), "{check:?}");
    let tract = tract_run(&path, &images, shape);
    assert!(max_abs_diff(&tract[0], &want).unwrap() <= 1e-5);
    assert!(max_abs_diff(&tract[1], &stacked).unwrap() <= LOGIT_TOLERANCE);
    for d in python_check(&[path]) {
        assert!(d <= LOGIT_TOLERANCE, "{d}");
    }
}

#[test]
fn ensemble_refuses_members_that_do_not_fit() {
    let a = zoo_models::find("resnet8").unwrap().spec.with_io([1, 28, 28], 4);
    let b = a.clone().with_io([1, 28, 28], 5);
    let c = a.clone().with_io([3, 28, 28], 4);
    let ma = export_model(&randomized(&a, 1), &a, &Default::default()).unwrap();
    let mb = export_model(&randomized(&b, 2), &b, &Default::default()).unwrap();
    let mc = export_model(&randomized(&c, 3), &c, &Default::default()).unwrap();
    let o13 = zoo_export::ExportOptions { opset: 13, ..Default::default() };
    let m13 = export_model(&randomized(&a, 4), &a, &o13).unwrap();
    for (bad, what) in [(&mb, "classes"), (&mc, "channels"), (&m13, "opset")] {
        let err =
            zoo_export::ensemble(&[ma.clone(), bad.clone()], &Default::default()).unwrap_err();
        assert!(matches!(err, ExportError::Ensemble(_)), "{what}: {err}");
    }
    assert!(zoo_export::ensemble(&[], &Default::default()).is_err());
    let labelled = export_model(&randomized(&a, 5), &a, &common::test_metadata(&a, "x")).unwrap();
    let mut other = common::test_metadata(&a, "y");
    other.metadata.dataset = "other".into();
    let other = export_model(&randomized(&a, 6), &a, &other).unwrap();
    let err = zoo_export::ensemble(&[labelled, other], &Default::default()).unwrap_err();
    assert!(err.to_string().contains("dataset"), "{err}");
}
