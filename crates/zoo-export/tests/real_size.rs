//! The standard variants at their registry input (3×224×224, 1,000 classes), randomized
//! normalization state, burn vs ONNX Runtime on a batch of 2 plus Python's checker and
//! onnxruntime. Slow (minutes, GBs of memory): `cargo test --release -p zoo-export --test
//! real_size -- --ignored --nocapture`.

mod common;

use common::{Timer, export_random, python_check};
use zoo_verify::LOGIT_TOLERANCE;

#[test]
#[ignore = "standard variants at 224×224: minutes; run with --ignored"]
fn standard_variants_at_their_real_size_match_burn() {
    let total = Timer::start();
    for name in [
        "resnet18",
        "resnet50",
        "vit-tiny",
        "vit-small",
        "vit-base",
        "convnext-tiny",
        "convnext-base",
    ] {
        let timer = Timer::start();
        let spec = zoo_models::find(name).unwrap().spec;
        assert_eq!(spec.input, [3, 224, 224]);
        let opts = common::test_metadata(&spec, &format!("{name}.random"));
        let (_, verified) = export_random(&spec, 7, 2, &opts);
        let a = verified.agreement;
        assert!(a.max_abs_diff <= LOGIT_TOLERANCE && a.argmax_agreement == 1.0, "{name}: {a:?}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.onnx");
        verified.write(&path).unwrap();
        let py = python_check(&[path])[0];
        assert!(py <= LOGIT_TOLERANCE, "{name}: python {py:e}");
        eprintln!("{name:<14} ORT {:.2e} python {py:.2e}  {:6.1} s", a.max_abs_diff, timer.secs());
    }
    eprintln!("total {:.1} s", total.secs());
}
