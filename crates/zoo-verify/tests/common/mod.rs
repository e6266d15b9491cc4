//! Shared test helpers: the project venv's Python, the ONNX checker, seeded random tensors.
#![allow(dead_code)]

pub mod reference;

use std::path::{Path, PathBuf};
use std::process::Command;

use rand::{Rng, SeedableRng, rngs::StdRng};
use zoo_onnx::{Dim, TensorData};

pub use reference::Nd;

/// `.venv/bin/python` of the repository; fails the test with the reason if absent.
pub fn venv_python() -> PathBuf {
    zoo_verify::runtime::project_python().unwrap_or_else(|e| panic!("{e}"))
}

/// Runs a Python snippet in the venv with `args`; panics with its output on failure.
pub fn python(script: &str, args: &[&Path]) -> String {
    let out = Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("start python");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python failed:\n{text}");
    text
}

/// `onnx.checker.check_model(m, full_check=True)` on every file, in one Python process.
pub fn onnx_check(paths: &[PathBuf]) {
    let script = "import sys, onnx\n\
                  for p in sys.argv[1:]:\n\
                  \x20   try:\n\
                  \x20       onnx.checker.check_model(onnx.load(p), full_check=True)\n\
                  \x20   except Exception as e:\n\
                  \x20       sys.exit(f'{p}: {e}')\n\
                  print('checked', len(sys.argv) - 1)";
    let args: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let out = python(script, &args);
    assert!(out.contains(&format!("checked {}", paths.len())), "{out}");
}

/// Uniform values in [-1, 1) of shape `dims`, from `seed`.
pub fn rand_nd(seed: u64, dims: &[usize]) -> Nd {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = dims.iter().product();
    Nd::new(dims, (0..n).map(|_| rng.random_range(-1.0f32..1.0)).collect())
}

/// Uniform values in [lo, hi).
pub fn rand_range(seed: u64, dims: &[usize], lo: f32, hi: f32) -> Nd {
    let mut rng = StdRng::seed_from_u64(seed);
    let n = dims.iter().product();
    Nd::new(dims, (0..n).map(|_| rng.random_range(lo..hi)).collect())
}

/// Graph dims for a tensor: the first dimension dynamic (batch), the rest fixed.
pub fn batch_dims(dims: &[usize]) -> Vec<Dim> {
    dims.iter().enumerate().map(|(i, &d)| if i == 0 { Dim::Batch } else { Dim::Fixed(d) }).collect()
}

/// All dims fixed.
pub fn fixed_dims(dims: &[usize]) -> Vec<Dim> {
    dims.iter().map(|&d| Dim::Fixed(d)).collect()
}

/// Asserts `got` equals the reference within `tol` (absolute), naming the case.
pub fn assert_close(case: &str, got: &TensorData, want: &Nd, tol: f32) -> f32 {
    assert_eq!(got.dims(), want.dims.as_slice(), "{case}: shape");
    let g = got.as_f32().unwrap_or_else(|| panic!("{case}: output is not f32"));
    let diff = zoo_verify::max_abs_diff(g, &want.data).unwrap();
    assert!(diff <= tol, "{case}: max |Δ| {diff:e} > {tol:e}");
    diff
}
