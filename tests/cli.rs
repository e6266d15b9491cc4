//! End-to-end tests of the `pdiff-zoo` binary in temporary directories.

use std::path::Path;
use std::process::{Command, Output};

fn pdiff_zoo(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pdiff-zoo"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn list_json_shows_all_families_and_published_counts() {
    let dir = tempfile::tempdir().unwrap();
    let out = pdiff_zoo(&["list", "--json"], dir.path());
    assert!(out.status.success(), "{}", stderr(&out));
    let rows: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let rows = rows.as_array().unwrap();
    let count =
        |name: &str| rows.iter().find(|r| r["name"] == name).map(|r| r["params"].as_u64().unwrap());
    assert_eq!(count("resnet18"), Some(11_689_512));
    assert_eq!(count("resnet50"), Some(25_557_032));
    assert_eq!(count("vit-tiny"), Some(5_717_416));
    assert_eq!(count("vit-small"), Some(22_050_664));
    assert_eq!(count("vit-base"), Some(86_567_656));
    assert_eq!(count("convnext-tiny"), Some(28_589_128));
    assert_eq!(count("convnext-base"), Some(88_591_464));
    for family in ["resnet", "vit", "convnext"] {
        assert!(rows.iter().any(|r| r["family"] == family), "{family}");
    }
    let glob = pdiff_zoo(&["list", "vit-*", "--json"], dir.path());
    let vits: serde_json::Value = serde_json::from_str(&stdout(&glob)).unwrap();
    assert!(vits.as_array().unwrap().iter().all(|r| r["family"] == "vit"));
}

#[test]
fn train_then_collect_a_few_steps_writes_model_card_and_collection() {
    let dir = tempfile::tempdir().unwrap();
    let out = pdiff_zoo(
        &["train", "--arch", "vit-micro", "--max-steps", "20", "-o", "m/vit.safetensors"],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(summary["test_accuracy"].as_f64().unwrap() > 10.0, "{summary}");
    let card: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("m/vit.json")).unwrap()).unwrap();
    assert_eq!(card["arch"]["name"], "vit-micro");
    assert_eq!(card["dataset"]["mean"][0].as_f64().unwrap() as f32, 0.1307);

    let out = pdiff_zoo(
        &[
            "collect",
            "--model",
            "m/vit.safetensors",
            "-k",
            "4",
            "--interval",
            "2",
            "--warmup",
            "2",
            "-o",
            "m/c.safetensors",
        ],
        dir.path(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["checkpoints"], 4);
    assert_eq!(report["values"], 4 * 64, "norm2 + final norm of width 64");
    for share in ["trend_fraction", "top_component_fraction"] {
        let v = report["drift"][share].as_f64().unwrap_or(f64::NAN);
        assert!((0.0..=1.0 + 1e-9).contains(&v), "{share} {v} in {report}");
    }
    assert!(dir.path().join("m/c.safetensors").exists());
}

#[test]
fn bad_input_fails_with_exit_code_2_and_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let out = pdiff_zoo(&["train", "--arch", "resnet9000"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown architecture `resnet9000`"), "{}", stderr(&out));

    let out = pdiff_zoo(&["train", "--arch", "resnet8", "--dataset", "no/such/dir"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no/such/dir"), "{}", stderr(&out));

    let out = pdiff_zoo(&["collect", "--model", "missing.safetensors"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));

    let out = pdiff_zoo(&["train", "--arch", "resnet8", "--epochs", "0"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("epochs"), "{}", stderr(&out));

    let args = ["sample", "--fitted", "f", "--collection", "c", "--model", "m", "--ddim-eta", "2"];
    let out = pdiff_zoo(&args, dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2 is outside [0, 1]"), "{}", stderr(&out));
}

#[test]
fn sample_over_several_fits_keeps_the_highest_validation_margin() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| {
        let out = pdiff_zoo(args, d);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        out
    };
    run(&["train", "--arch", "vit-micro", "--max-steps", "30", "-o", "m.safetensors"]);
    let collect = ["--model", "m.safetensors", "-k", "10", "--interval", "2", "--warmup", "4"];
    run(&[&["collect"][..], &collect, &["-o", "c.safetensors"]].concat());
    for seed in ["0", "1"] {
        let out = format!("fit{seed}");
        let fit = ["--ae-steps", "30", "--ddpm-steps", "30", "--seed", seed, "-o", &out];
        run(&[&["fit", "--collection", "c.safetensors"][..], &fit].concat());
    }
    let args = [
        "sample",
        "--fitted",
        "fit0",
        "fit1",
        "--collection",
        "c.safetensors",
        "--model",
        "m.safetensors",
        "-n",
        "6",
        "--ddim-steps",
        "5",
        "-o",
        "g.safetensors",
    ];
    let out = run(&args);
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("g.json")).unwrap()).unwrap();
    let selection = &report["selection"];
    let candidates = selection["candidates"].as_array().unwrap();
    assert_eq!(candidates.len(), 2, "{selection}");
    // The kept fit is the first of the best by (floors met, validation margin), and the
    // written comparison is that fit's.
    let key = |c: &serde_json::Value| {
        (c["meets_val_floors"].as_bool().unwrap(), c["validation_margin"].as_f64().unwrap())
    };
    let best = if key(&candidates[1]) > key(&candidates[0]) { 1 } else { 0 };
    assert_eq!(selection["chosen"], candidates[best]["fitted"], "{selection}");
    let margin = report["diversity"]["validation_margin"]["margin"].as_f64().unwrap();
    assert_eq!(margin, key(&candidates[best]).1);
    assert!(stderr(&out).contains("highest validation margin"), "{}", stderr(&out));
    // The candidates were sampled side by side; one at a time gives the same report.
    let serial = [&["sample", "--fitted", "fit0", "fit1", "--jobs", "1"][..], &args[4..12]];
    run(&[&serial.concat()[..], &["-o", "g1.safetensors"]].concat());
    assert_eq!(std::fs::read(d.join("g1.json")).unwrap(), std::fs::read(d.join("g.json")).unwrap());
}

#[test]
fn cuda_backend_without_support_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = pdiff_zoo(&["train", "--arch", "resnet8", "--backend", "cuda"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--backend cuda") && err.contains("hint:"), "{err}");
}

#[test]
fn export_verify_and_ensemble_a_model_and_its_collection_rows() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let run = |args: &[&str]| pdiff_zoo(args, d);
    let out = run(&["train", "--arch", "resnet8", "--max-steps", "20", "-o", "m/r8.safetensors"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = run(&[
        "collect",
        "--model",
        "m/r8.safetensors",
        "-k",
        "3",
        "--interval",
        "2",
        "--warmup",
        "2",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let collection = "m/r8.collection.safetensors";

    let out = run(&["export", "--model", "m/r8.safetensors", "-o", "x/base/model.onnx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(summary["max_abs_diff"].as_f64().unwrap() <= 1e-4, "{summary}");
    assert_eq!(summary["ort_test_accuracy"], summary["burn_test_accuracy"]);
    assert!(d.join("x/base/test_data_set_0/input_0.pb").is_file());
    let row = format!("{collection}:1");
    let out =
        run(&["export", "--model", "m/r8.safetensors", "--params", &row, "-o", "x/k1/model.onnx"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A row out of range is an error and writes nothing.
    let bad_row = format!("{collection}:7");
    let out = run(&[
        "export",
        "--model",
        "m/r8.safetensors",
        "--params",
        &bad_row,
        "-o",
        "x/k7/model.onnx",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!d.join("x/k7").exists());

    let out = run(&["verify", "x"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(stdout(&out).matches(" ok").count(), 2, "{}", stdout(&out));

    let out = run(&[
        "ensemble",
        "--model",
        "m/r8.safetensors",
        "--collection",
        collection,
        "--top-k",
        "2",
        "-o",
        "e/top/ensemble.onnx",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["members"].as_array().unwrap().len(), 2);
    assert!(report["ensemble_test_accuracy"].as_f64().unwrap() > 0.0, "{report}");
    let out = run(&[
        "ensemble",
        "--members",
        "x/base/model.onnx,x/k1/model.onnx",
        "-o",
        "e/files/ensemble.onnx",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // Member files keep their opset; asking for another one is refused, naming the file.
    let out = run(&[
        "ensemble",
        "--members",
        "x/base/model.onnx,x/k1/model.onnx",
        "--opset",
        "13",
        "-o",
        "e/opset/ensemble.onnx",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("x/base/model.onnx") && stderr(&out).contains("--opset 13"));
    assert!(!d.join("e/opset/ensemble.onnx").exists());
    let out = run(&["verify", "e"]);
    assert!(out.status.success(), "{}{}", stdout(&out), stderr(&out));

    // Another model's expected output: a mismatch (exit 1). A corrupt file: an error (exit 2).
    std::fs::copy(
        d.join("x/k1/test_data_set_0/output_0.pb"),
        d.join("x/base/test_data_set_0/output_0.pb"),
    )
    .unwrap();
    let out = run(&["verify", "x/base/model.onnx"]);
    assert_eq!(out.status.code(), Some(1), "{}{}", stdout(&out), stderr(&out));
    std::fs::write(d.join("x/k1/model.onnx"), b"garbage").unwrap();
    let out = run(&["verify", "x"]);
    assert_eq!(out.status.code(), Some(2), "{}{}", stdout(&out), stderr(&out));
    assert!(stderr(&out).contains("x/k1/model.onnx"), "{}", stderr(&out));
}
