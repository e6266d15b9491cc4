//! OrtModel: loading a zoo-onnx model from a file, its signature and metadata, running it,
//! and the errors for corrupt files, wrong inputs and unknown outputs; model-zoo test data
//! read back by ONNX Runtime in Python.

mod common;

use std::path::Path;

use common::{python, rand_nd};
use zoo_onnx::test_data::{test_data_set_dir, write_test_data_set};
use zoo_onnx::{GemmAttrs, GraphBuilder, TensorData, dims};
use zoo_verify::{
    LOGIT_TOLERANCE, OrtModel, SigDim, VerifyError, accuracy, check_test_data_set, compare_logits,
    runtime,
};

/// input [B, 1, 4, 4] → GAP → flatten → gemm(3) = "logits", softmax = "probs".
fn two_output_model(path: &Path) -> (Vec<f32>, Vec<f32>) {
    let w = rand_nd(7, &[3, 1]);
    let b = rand_nd(8, &[3]);
    let mut g = GraphBuilder::new("tiny");
    let x = g.input("input", &dims![batch, 1, 4, 4]).unwrap();
    let y = g.global_average_pool(&x, "pool").unwrap();
    let y = g.flatten(&y, "flatten", 1).unwrap();
    let wv = g.initializer("fc.weight", w.tensor()).unwrap();
    let bv = g.initializer("fc.bias", b.tensor()).unwrap();
    let logits = g.gemm(&y, "fc", &wv, Some(&bv), GemmAttrs::linear()).unwrap();
    let probs = g.softmax(&logits, "softmax", -1).unwrap();
    g.output(&logits, "logits", &dims![batch, 3]).unwrap();
    g.output(&probs, "probs", &dims![batch, 3]).unwrap();
    g.set_doc_string("two outputs");
    g.set_metadata("arch", "tiny");
    g.set_metadata("member", "tiny.m0");
    g.build().unwrap().write(path).unwrap();
    (w.data, b.data)
}

fn reference_logits(input: &[f32], w: &[f32], b: &[f32]) -> Vec<f32> {
    input
        .chunks(16)
        .flat_map(|img| {
            let mean = img.iter().map(|&v| v as f64).sum::<f64>() / 16.0;
            (0..3).map(move |k| (mean * w[k] as f64 + b[k] as f64) as f32).collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn runtime_is_found_and_started_once() {
    let rt = runtime().unwrap_or_else(|e| panic!("{e}"));
    assert!(rt.library().is_file());
    assert!(rt.build_info().contains("ORT Build Info"), "{}", rt.build_info());
    assert!(std::ptr::eq(rt, runtime().unwrap()));
}

#[test]
fn loads_signature_metadata_and_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.onnx");
    let (w, b) = two_output_model(&path);
    let mut model = OrtModel::load(&path).unwrap_or_else(|e| panic!("{e}"));

    assert_eq!(model.label(), path.display().to_string());
    assert_eq!(model.producer(), Some("pdiff-zoo"));
    assert_eq!(model.doc_string(), Some("two outputs"));
    assert_eq!(model.metadata().get("arch").map(String::as_str), Some("tiny"));
    assert_eq!(model.metadata().get("member").map(String::as_str), Some("tiny.m0"));
    let input = &model.inputs()[0];
    assert_eq!(input.name, "input");
    assert_eq!(
        input.dims,
        [SigDim::Dynamic("batch".into()), SigDim::Fixed(1), SigDim::Fixed(4), SigDim::Fixed(4)]
    );
    assert_eq!(input.shape_text(), "[batch, 1, 4, 4]");
    let outs: Vec<_> = model.outputs().iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outs, ["logits", "probs"]);

    for batch in [1, 5] {
        let x = rand_nd(batch as u64, &[batch, 1, 4, 4]);
        let logits = model.run(&x.data, [batch, 1, 4, 4]).unwrap();
        let want = reference_logits(&x.data, &w, &b);
        let agree = compare_logits(&logits, &want, 3).unwrap();
        assert!(agree.within(LOGIT_TOLERANCE), "{agree:?}");
        assert_eq!(agree.argmax_agreement, 1.0);
        assert_eq!(agree.rows, batch);

        let probs = model.run_output(&x.data, [batch, 1, 4, 4], "probs").unwrap();
        for row in probs.chunks(3) {
            assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        }
        let all = model.run_tensors(&[&x.tensor()]).unwrap();
        assert_eq!(all[0].name, "logits");
        assert_eq!(all[0].data.dims(), [batch, 3]);
        assert_eq!(all[1].data.as_f32().unwrap(), probs.as_slice());
    }
}

#[test]
fn input_mismatches_are_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.onnx");
    two_output_model(&path);
    let mut model = OrtModel::load(&path).unwrap();
    let x = vec![0.0f32; 2 * 16];

    let err = model.run(&x, [2, 1, 8, 2]).unwrap_err();
    assert!(matches!(err, VerifyError::Input { .. }));
    assert_eq!(
        err.to_string(),
        format!(
            "{}: input `input` expects shape [batch, 1, 4, 4], got [2, 1, 8, 2]",
            path.display()
        )
    );
    let err = model.run(&x, [3, 1, 4, 4]).unwrap_err();
    assert!(err.to_string().contains("needs 48 values, got 32"), "{err}");
    let rank3 = TensorData::f32([2, 4, 4], x.clone()).unwrap();
    assert!(model.run_tensors(&[&rank3]).unwrap_err().to_string().contains("expects shape"));
    let ints = TensorData::i64([2, 1, 4, 4], vec![0; 32]).unwrap();
    assert!(model.run_tensors(&[&ints]).unwrap_err().to_string().contains("element type"));
    let ok = TensorData::f32([2, 1, 4, 4], x.clone()).unwrap();
    let err = model.run_tensors(&[&ok, &ok]).unwrap_err();
    assert!(err.to_string().contains("expects 1 input(s) (input), got 2"), "{err}");
    let err = model.run_output(&x, [2, 1, 4, 4], "nope").unwrap_err();
    assert!(matches!(err, VerifyError::UnknownOutput { .. }));
    assert!(err.to_string().contains("outputs: logits, probs"), "{err}");
    // still usable afterwards
    assert_eq!(model.run(&x, [2, 1, 4, 4]).unwrap().len(), 6);
}

#[test]
fn corrupt_and_missing_files_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("corrupt.onnx");
    std::fs::write(&bad, b"this is not an onnx model at all").unwrap();
    let err = OrtModel::load(&bad).unwrap_err();
    assert!(matches!(err, VerifyError::ModelLoad { .. }));
    assert!(
        err.to_string().starts_with(&format!("{}: cannot load ONNX model:", bad.display())),
        "{err}"
    );

    // a valid model cut in half
    let good = dir.path().join("tiny.onnx");
    two_output_model(&good);
    let bytes = std::fs::read(&good).unwrap();
    let half = dir.path().join("half.onnx");
    std::fs::write(&half, &bytes[..bytes.len() / 2]).unwrap();
    let err = OrtModel::load(&half).unwrap_err();
    assert!(err.to_string().contains("half.onnx"), "{err}");

    let missing = dir.path().join("missing.onnx");
    let err = OrtModel::load(&missing).unwrap_err();
    assert!(
        err.to_string().contains("missing.onnx") && err.to_string().contains("No such file"),
        "{err}"
    );
    let err = OrtModel::load(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a file"), "{err}");
}

#[test]
fn test_data_sets_round_trip_through_ort_in_rust_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.onnx");
    two_output_model(&path);
    let mut model = OrtModel::load(&path).unwrap();
    let x = rand_nd(99, &[4, 1, 4, 4]);
    let outs = model.run_tensors(&[&x.tensor()]).unwrap();
    let set = test_data_set_dir(dir.path(), 0);
    write_test_data_set(
        &set,
        &[("input", &x.tensor())],
        &[("logits", &outs[0].data), ("probs", &outs[1].data)],
    )
    .unwrap();

    let checks = check_test_data_set(&mut model, &set, 0.0).unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[1].name, "probs");

    // a wrong expectation is reported with the file
    let mut wrong = outs[0].data.as_f32().unwrap().to_vec();
    wrong[0] += 0.5;
    let wrong = TensorData::f32([4, 3], wrong).unwrap();
    let bad_set = test_data_set_dir(dir.path(), 1);
    write_test_data_set(&bad_set, &[("input", &x.tensor())], &[("logits", &wrong)]).unwrap();
    let err = check_test_data_set(&mut model, &bad_set, 1e-4).unwrap_err();
    assert!(err.to_string().contains("test_data_set_1 output_0.pb (`logits`)"), "{err}");

    // any runtime reads the layout: onnx.numpy_helper + onnxruntime in Python
    let script = "import sys, onnx, numpy as np, onnxruntime as ort\n\
                  from onnx import numpy_helper as nh\n\
                  model, d = sys.argv[1], sys.argv[2]\n\
                  x = nh.to_array(onnx.load_tensor(d + '/input_0.pb'))\n\
                  want = [nh.to_array(onnx.load_tensor(d + f'/output_{i}.pb')) for i in range(2)]\n\
                  got = ort.InferenceSession(model, providers=['CPUExecutionProvider']).run(None, {'input': x})\n\
                  assert all(np.abs(g - w).max() <= 1e-6 for g, w in zip(got, want))\n\
                  print('python ok', x.shape, x.dtype)";
    let out = python(script, &[&path, &set]);
    assert!(out.contains("python ok (4, 1, 4, 4) float32"), "{out}");
}

#[test]
fn accuracy_and_comparisons() {
    let logits =
        [0.1, 0.9, 0.0, /**/ 2.0, 1.0, 0.0, /**/ 0.0, 0.0, 3.0, /**/ 1.0, 1.0, 0.0];
    assert_eq!(zoo_verify::predictions(&logits, 3).unwrap(), [1, 0, 2, 0]);
    assert_eq!(accuracy(&logits, &[1u16, 0, 1, 0], 3).unwrap(), 0.75);
    assert_eq!(accuracy(&logits, &[1usize, 0, 2, 0], 3).unwrap(), 1.0);
    assert!(accuracy(&logits, &[1u8, 0, 2], 3).is_err());
    assert!(accuracy(&logits, &[1i32, 0, 2, -1], 3).is_err());
    assert!(accuracy(&logits, &[1u8, 0, 2, 3], 3).is_err());
    assert!(compare_logits(&logits, &logits[..9], 3).is_err());
    assert!(compare_logits(&logits[..10], &logits[..10], 3).is_err());

    let mut other = logits;
    other[2] = 0.9; // row 0 now ties → argmax stays the first max (1)
    other[3] = -2.0; // row 1 flips to class 1
    let agree = compare_logits(&logits, &other, 3).unwrap();
    assert_eq!(agree.rows, 4);
    assert_eq!(agree.max_abs_diff, 4.0);
    assert_eq!(agree.argmax_agreement, 0.75);
    assert!(!agree.within(LOGIT_TOLERANCE));

    other = logits;
    other[5] = f32::NAN;
    let agree = compare_logits(&logits, &other, 3).unwrap();
    assert!(agree.max_abs_diff.is_nan() && !agree.within(1.0), "NaN must not pass");
}

#[test]
fn models_can_move_to_worker_threads() {
    fn assert_send<T: Send>() {}
    assert_send::<OrtModel>();
    assert_send::<VerifyError>();
}
