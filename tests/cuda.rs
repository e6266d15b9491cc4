//! The CUDA backend end to end. Compiled only with `--features cuda` (CI type-checks it with
//! `DOCS_RS=1 cargo clippy --features pdiff-zoo/cuda`); it needs an NVIDIA GPU and says so
//! on stderr when the machine has none.
#![cfg(feature = "cuda")]

use std::path::Path;
use std::process::Command;
use zoo_verify::runtime::repo_root as repo;

/// The GPUs `nvidia-smi -L` lists, if any.
fn gpus() -> Option<String> {
    let out = Command::new("nvidia-smi").arg("-L").output().ok()?;
    let list = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && list.contains("GPU")).then_some(list)
}

fn run_tiny(dir: &Path, backend: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(repo().join("tests/recipes/tiny.toml")).unwrap();
    let recipe = dir.join(format!("tiny-{backend}.toml"));
    std::fs::write(&recipe, format!("backend = \"{backend}\"\n{text}")).unwrap();
    let zoo = dir.join(backend);
    let out = Command::new(env!("CARGO_BIN_EXE_pdiff-zoo"))
        .args(["run", recipe.to_str().unwrap(), "-o", zoo.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{backend}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&std::fs::read(zoo.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn a_tiny_zoo_on_cuda_agrees_with_cpu() {
    let Some(list) = gpus() else {
        eprintln!("SKIPPED a_tiny_zoo_on_cuda_agrees_with_cpu: no NVIDIA GPU (`nvidia-smi -L`)");
        return;
    };
    eprintln!("running on {list}");
    let tmp = tempfile::tempdir().unwrap();
    let (cpu, cuda) = (run_tiny(tmp.path(), "cpu"), run_tiny(tmp.path(), "cuda"));
    for member in cuda["members"].as_array().unwrap() {
        let argmax = member["ort"]["argmax_agreement"].as_f64().unwrap();
        assert_eq!(argmax, 100.0, "{}: ORT disagrees with burn-cuda", member["id"]);
    }
    for (arch, summary) in cuda["summary"].as_object().unwrap() {
        for group in ["trained", "generated"] {
            let (a, b) = (&summary[group]["median"], &cpu["summary"][arch][group]["median"]);
            let gap = (a.as_f64().unwrap() - b.as_f64().unwrap()).abs();
            assert!(gap <= 5.0, "{arch} {group}: median test accuracy cuda {a} vs cpu {b}");
        }
    }
}
