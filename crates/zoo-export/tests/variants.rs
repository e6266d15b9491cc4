//! Every registered variant, at a small input size with 5 classes and randomized
//! normalization state, exported and checked: burn vs ONNX Runtime (Rust) on a batch of 3
//! (≤ 1e-4, 100% argmax), batch size 1 through the dynamic batch dimension, initializer
//! names = dotted parameter names, metadata, tract (second runtime), and Python
//! (`onnx.checker` full_check + onnxruntime on the written test data).

mod common;

use std::collections::BTreeSet;

use burn::prelude::Device;
use common::{Timer, export_random, python_check, random_images, tract_run};
use zoo_export::test_data_dir;
use zoo_models::{ArchConfig, ArchSpec, Family, named_tensors, variants};
use zoo_verify::{LOGIT_TOLERANCE, OrtModel, max_abs_diff};

const CLASSES: usize = 5;
const ROWS: usize = 3;

/// A small input that still exercises every stage of the variant.
fn small_spec(spec: &ArchSpec) -> ArchSpec {
    let side = match &spec.config {
        ArchConfig::Resnet(c) => match c.stem {
            zoo_models::resnet::StemKind::Cifar => 16,
            zoo_models::resnet::StemKind::Imagenet => 32,
        },
        ArchConfig::Vit(c) => 2 * c.patch_size,
        ArchConfig::Convnext(c) => (c.stem_patch << (c.dims.len() - 1)).max(16),
    };
    spec.clone().with_io([3, side, side], CLASSES)
}

fn check_family(family: Family) {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    let mut report = Vec::new();
    let family_variants: Vec<_> = variants().into_iter().filter(|v| v.family() == family).collect();
    assert!(family_variants.len() >= 2, "{family}");
    for (i, variant) in family_variants.iter().enumerate() {
        let timer = Timer::start();
        let spec = small_spec(&variant.spec);
        let opts = common::test_metadata(&spec, &format!("{}.random_s{i}", spec.name));
        let (model, verified) = export_random(&spec, 100 + i as u64, ROWS, &opts);
        let name = &spec.name;
        let a = verified.agreement;
        assert!(a.max_abs_diff <= LOGIT_TOLERANCE && a.argmax_agreement == 1.0, "{name}: {a:?}");
        assert_eq!(a.rows, ROWS);
        let expected = verified.expected.as_f32().unwrap().to_vec();
        assert!(expected.iter().all(|v| v.is_finite()), "{name}: non-finite burn logits");
        // Logits differ between rows: the comparison is not against a constant.
        assert!(
            max_abs_diff(&expected[..CLASSES], &expected[CLASSES..2 * CLASSES]).unwrap() > 1e-5
        );

        // Initializers are exactly the named tensors, under their dotted names, same values
        // for every normalization tensor.
        let onnx = &verified.model;
        let params: BTreeSet<String> = named_tensors(&model).into_iter().map(|t| t.name).collect();
        let inits: BTreeSet<String> = onnx
            .initializer_names()
            .into_iter()
            .filter(|n| !n.contains('/'))
            .map(String::from)
            .collect();
        assert_eq!(params, inits, "{name}: initializer names");
        let norms = model.norm_layers();
        for t in named_tensors(&model)
            .into_iter()
            .filter(|t| norms.iter().any(|n| t.name.starts_with(&format!("{n}."))))
        {
            let init = onnx.initializer(&t.name).unwrap().unwrap();
            assert_eq!(init.dims(), t.shape.as_slice(), "{}", t.name);
            assert_eq!(init.as_f32().unwrap(), t.data.as_slice(), "{}", t.name);
        }
        let meta: std::collections::BTreeMap<_, _> = onnx.metadata().into_iter().collect();
        for key in [
            "arch",
            "family",
            "dataset",
            "labels",
            "input_mean",
            "input_std",
            "source",
            "member",
            "accuracy",
            "pdiff_zoo_version",
            "recipe_hash",
        ] {
            assert!(meta.contains_key(key), "{name}: metadata `{key}` missing: {meta:?}");
        }
        assert_eq!(meta["arch"], name.as_str());
        assert_eq!(meta["family"], family.as_str());

        // Dynamic batch: one row gives the first row of the batch of three.
        let [c, h, w] = spec.input;
        let images = verified.input.as_f32().unwrap();
        let mut ort = OrtModel::from_model(onnx, name).unwrap_or_else(|e| panic!("{e}"));
        let one = ort.run(&images[..c * h * w], [1, c, h, w]).unwrap_or_else(|e| panic!("{e}"));
        let d1 = max_abs_diff(&one, &expected[..CLASSES]).unwrap();
        assert!(d1 <= LOGIT_TOLERANCE, "{name}: batch of one differs by {d1}");
        let five = random_images(7, [5, c, h, w]);
        let burn5 = zoo_export::burn_logits(&model, &five, [5, c, h, w], &Device::flex());
        let ort5 = ort.run(&five, [5, c, h, w]).unwrap();
        let d5 = max_abs_diff(&ort5, &burn5).unwrap();
        assert!(d5 <= LOGIT_TOLERANCE, "{name}: batch of five differs by {d5}");
        drop(ort);

        let path = dir.path().join(name).join("model.onnx");
        verified.write(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(test_data_dir(&path).join("input_0.pb").is_file());
        assert!(test_data_dir(&path).join("output_0.pb").is_file());
        let check = zoo_export::verify_file(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(check.passed(), "{check:?}");

        let tract = tract_run(&path, images, [ROWS, c, h, w]);
        let dt = max_abs_diff(&tract[0], &expected).unwrap();
        assert!(dt <= LOGIT_TOLERANCE, "{name}: tract differs from burn by {dt:e}");
        report.push(format!(
            "{name:<15} {:>11} params  ORT {:.2e}  tract {dt:.2e}  {:5.1} s",
            zoo_models::count_params(&model),
            a.max_abs_diff,
            timer.secs()
        ));
        paths.push(path);
    }
    let timer = Timer::start();
    let diffs = python_check(&paths);
    for (line, d) in report.iter_mut().zip(&diffs) {
        assert!(*d <= LOGIT_TOLERANCE, "{line}: python onnxruntime differs by {d:e}");
        line.push_str(&format!("  python {d:.2e}"));
    }
    eprintln!("{}\npython check {:.1} s", report.join("\n"), timer.secs());
}

#[test]
fn every_resnet_variant_matches_burn_in_ort_tract_and_python() {
    check_family(Family::Resnet);
}

#[test]
fn every_vit_variant_matches_burn_in_ort_tract_and_python() {
    check_family(Family::Vit);
}

#[test]
fn every_convnext_variant_matches_burn_in_ort_tract_and_python() {
    check_family(Family::Convnext);
}

/// The family defaults at opsets 13 (LayerNorm and GELU written out), 18 (ReduceMean axes as
/// an input) and 21 (native Gelu, IR 10) agree with burn and pass the checker.
#[test]
fn family_defaults_export_at_other_opsets() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for family in [Family::Resnet, Family::Vit, Family::Convnext] {
        let spec = small_spec(&zoo_models::family_default(family).spec);
        for opset in [13, 18, 21] {
            let mut opts = common::test_metadata(&spec, "opset");
            opts.opset = opset;
            let (_, verified) = export_random(&spec, opset as u64, 2, &opts);
            assert_eq!(verified.model.opset(), Some(opset));
            let path = dir.path().join(format!("{}_{opset}", spec.name)).join("model.onnx");
            verified.write(&path).unwrap();
            paths.push(path);
        }
    }
    for d in python_check(&paths) {
        assert!(d <= LOGIT_TOLERANCE, "{d}");
    }
}
