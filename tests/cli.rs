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
}

#[test]
fn cuda_backend_without_support_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = pdiff_zoo(&["train", "--arch", "resnet8", "--backend", "cuda"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("--backend cuda") && err.contains("hint:"), "{err}");
}
