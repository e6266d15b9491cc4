//! Finding and starting ONNX Runtime (`ort` with `load-dynamic`).
//!
//! The shared library is looked up, in order:
//! 1. `ORT_DYLIB_PATH` — if set (non-empty) it must exist; no fallback;
//! 2. the project's `.venv` (repository root found from this crate's `CARGO_MANIFEST_DIR`),
//!    then `$VIRTUAL_ENV`, then `.venv` in the current directory or its ancestors:
//!    `lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.1*`;
//! 3. `LD_LIBRARY_PATH` folders and common system folders (`/usr/local/lib`, `/usr/lib`, …):
//!    `libonnxruntime.so*`.
//!
//! The file is checked and dlopened through `ort::init_from`, which returns an error rather
//! than panicking like `ort`'s implicit loader; remaining panics are caught. Initialisation
//! happens once per process; a failure is remembered and returned to every caller.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;

use crate::error::RuntimeError;

/// The environment variable naming the ONNX Runtime shared library.
pub const ORT_DYLIB_ENV: &str = "ORT_DYLIB_PATH";

/// An initialised ONNX Runtime.
#[derive(Debug)]
pub struct Runtime {
    pub(crate) env: Environment,
    library: PathBuf,
}

impl Runtime {
    /// The shared library in use.
    pub fn library(&self) -> &Path {
        &self.library
    }

    /// ONNX Runtime's build string (version, commit).
    pub fn build_info(&self) -> &'static str {
        ort::info()
    }
}

fn is_ort_library(name: &str) -> bool {
    name == "libonnxruntime.so"
        || name.starts_with("libonnxruntime.so.1")
        || (name.starts_with("libonnxruntime.1.") && name.ends_with(".dylib"))
}

/// Library files in `dir` (highest version first).
fn libraries_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| is_ort_library(&e.file_name().to_string_lossy()))
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(natural_key(p)));
    found
}

/// `libonnxruntime.so.1.32.0` → [1, 32, 0] so that 1.100 sorts above 1.32.
fn natural_key(path: &Path) -> Vec<u64> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    name.split(|c: char| !c.is_ascii_digit()).filter_map(|s| s.parse().ok()).collect()
}

/// `venv/lib/python3*/site-packages/onnxruntime/capi`.
fn venv_capi_dirs(venv: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(venv.join("lib")) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3"))
        .map(|e| e.path().join("site-packages/onnxruntime/capi"))
        .collect();
    dirs.sort();
    dirs
}

/// The repository root: the nearest folder holding `Cargo.lock` above the package folder that
/// cargo names at run time (`cargo test` and `cargo run` set `CARGO_MANIFEST_DIR`), else above
/// the one this crate was built in. Run time first: cargo reuses a build made in a clone at
/// another path when the two share one target folder, and that build keeps the other clone's
/// path compiled in (its venv may be gone).
pub fn repo_root() -> PathBuf {
    let built = Path::new(env!("CARGO_MANIFEST_DIR"));
    let now = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    now.as_deref()
        .into_iter()
        .chain([built])
        .find_map(|dir| dir.ancestors().find(|d| d.join("Cargo.lock").is_file()))
        .unwrap_or_else(|| built.ancestors().nth(2).unwrap_or(Path::new(".")))
        .to_path_buf()
}

/// The project venv's Python (`.venv/bin/python` under [`repo_root`]), or a message saying
/// how to create it. Tests that cross-check against Python onnx / onnxruntime use it.
pub fn project_python() -> Result<PathBuf, String> {
    let python = repo_root().join(".venv/bin/python");
    if python.is_file() {
        Ok(python)
    } else {
        Err(format!(
            "{} is missing: run scripts/setup-python.sh to create the project venv (onnx, \
             onnxruntime, numpy)",
            python.display()
        ))
    }
}

/// Finds the ONNX Runtime shared library (see the module docs for the order).
pub fn locate_library() -> Result<PathBuf, RuntimeError> {
    if let Some(path) = std::env::var_os(ORT_DYLIB_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() { Ok(path) } else { Err(RuntimeError::EnvPathMissing { path }) };
    }
    let mut venvs = vec![repo_root().join(".venv")];
    venvs.extend(std::env::var_os("VIRTUAL_ENV").map(PathBuf::from));
    if let Ok(cwd) = std::env::current_dir() {
        venvs.extend(cwd.ancestors().map(|d| d.join(".venv")));
    }
    let mut searched = Vec::new();
    for venv in venvs {
        if searched.contains(&venv) {
            continue;
        }
        for capi in venv_capi_dirs(&venv) {
            if let Some(lib) = libraries_in(&capi).into_iter().next() {
                return Ok(lib);
            }
        }
        searched.push(venv);
    }
    let mut system: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    system.extend(
        [
            "/usr/local/lib",
            "/usr/lib",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/opt/onnxruntime/lib",
        ]
        .map(PathBuf::from),
    );
    for dir in system {
        if let Some(lib) = libraries_in(&dir).into_iter().next() {
            return Ok(lib);
        }
        searched.push(dir);
    }
    Err(RuntimeError::NotFound { searched })
}

fn start(path: PathBuf) -> Result<Runtime, RuntimeError> {
    let load = |reason: String| RuntimeError::Load { path: path.clone(), reason };
    // Opening the file first gives a plain I/O message for permissions and the like.
    let mut head = [0u8; 4];
    let read = std::fs::File::open(&path).and_then(|mut f| std::io::Read::read(&mut f, &mut head));
    read.map_err(|e| load(e.to_string()))?;
    if cfg!(target_os = "linux") && head != *b"\x7fELF" {
        return Err(load("not a shared library (no ELF header)".into()));
    }
    let absolute = std::fs::canonicalize(&path).map_err(|e| load(e.to_string()))?;
    let result = std::panic::catch_unwind(|| -> Result<Environment, String> {
        let builder = ort::init_from(&absolute).map_err(|e| e.to_string())?;
        builder.with_name("pdiff-zoo").with_telemetry(false).build().map_err(|e| e.to_string())
    });
    let env = match result {
        Ok(Ok(env)) => env,
        Ok(Err(reason)) => return Err(load(reason)),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "ort panicked".into());
            return Err(load(reason));
        }
    };
    Ok(Runtime { env, library: path })
}

/// ONNX Runtime, located and initialised on first use (once per process).
pub fn runtime() -> Result<&'static Runtime, RuntimeError> {
    static RUNTIME: OnceLock<Result<Runtime, RuntimeError>> = OnceLock::new();
    RUNTIME.get_or_init(|| locate_library().and_then(start)).as_ref().map_err(Clone::clone)
}
