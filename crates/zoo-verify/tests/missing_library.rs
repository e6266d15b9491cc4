//! ONNX Runtime that cannot be found or loaded is a typed error with a hint, not a panic.
//! `ort` initialises once per process, so each scenario runs this test binary again as a
//! child process with its own `ORT_DYLIB_PATH`.

use std::process::Command;

const CHILD: &str = "ZOO_VERIFY_CHILD_EXPECT";

/// Runs in the child only (`ZOO_VERIFY_CHILD_EXPECT` set): every entry point must return the
/// runtime error, every time, with the hint.
#[test]
fn child_reports_runtime_error() {
    let Ok(expect) = std::env::var(CHILD) else { return };
    let err = zoo_verify::runtime().unwrap_err().to_string();
    assert!(err.contains(&expect), "error does not mention `{expect}`:\n{err}");
    assert!(err.contains("hint: run scripts/setup-python.sh"), "{err}");
    assert!(err.contains("ORT_DYLIB_PATH"), "{err}");
    // the failure is remembered, and loading a model reports it too
    assert_eq!(zoo_verify::runtime().unwrap_err().to_string(), err);
    let load = zoo_verify::OrtModel::from_bytes(b"", "m").unwrap_err();
    assert!(matches!(load, zoo_verify::VerifyError::Runtime(_)), "{load}");
    println!("CHILD-OK: {err}");
}

fn run_child(dylib: &std::path::Path, expect: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_reports_runtime_error", "--nocapture", "--test-threads=1"])
        .env("ORT_DYLIB_PATH", dylib)
        .env(CHILD, expect)
        .output()
        .unwrap();
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success() && text.contains("CHILD-OK"), "child failed:\n{text}");
    text
}

#[test]
fn nonexistent_library_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("no-such-libonnxruntime.so");
    let text = run_child(&path, &format!("ORT_DYLIB_PATH={} does not exist", path.display()));
    assert!(!text.contains("panicked"), "{text}");
}

#[test]
fn unloadable_library_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let text_file = dir.path().join("libonnxruntime.so.1.99.0");
    std::fs::write(&text_file, b"not an ELF file").unwrap();
    let out = run_child(&text_file, "no ELF header");
    assert!(!out.contains("panicked"), "{out}");

    // passes the header check, then dlopen (inside ort) refuses it
    let broken_elf = dir.path().join("libonnxruntime.so.1.98.0");
    std::fs::write(&broken_elf, b"\x7fELF and then nothing useful").unwrap();
    let out =
        run_child(&broken_elf, &format!("cannot load ONNX Runtime from {}", broken_elf.display()));
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn a_shared_library_that_is_not_onnx_runtime_is_a_clear_error() {
    let candidates = [
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/usr/lib/x86_64-linux-gnu/libm.so.6",
        "/lib64/libm.so.6",
    ];
    let Some(libm) = candidates.iter().map(std::path::Path::new).find(|p| p.is_file()) else {
        eprintln!("no libm.so.6 in {candidates:?}; scenario not run");
        return;
    };
    let out = run_child(libm, "does not export `OrtGetApiBase`");
    assert!(!out.contains("panicked"), "{out}");
}
