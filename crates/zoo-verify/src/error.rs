//! Error types: [`RuntimeError`] for finding and starting ONNX Runtime, [`VerifyError`] for
//! everything else. Messages name the file and end with a `hint:` line where one helps.

use std::path::PathBuf;

/// The hint printed when ONNX Runtime cannot be found or loaded.
pub const SETUP_HINT: &str = "hint: run scripts/setup-python.sh (creates .venv with the onnxruntime wheel) or set ORT_DYLIB_PATH to libonnxruntime.so";

/// ONNX Runtime could not be located or initialised. Cloneable: the first failure is kept and
/// returned to every later caller in the process.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RuntimeError {
    /// `ORT_DYLIB_PATH` names a file that does not exist.
    #[error("ORT_DYLIB_PATH={path} does not exist\n{SETUP_HINT}", path = path.display())]
    EnvPathMissing {
        /// The path from the environment.
        path: PathBuf,
    },
    /// No library in the project `.venv`, `$VIRTUAL_ENV` or the usual system folders.
    #[error("ONNX Runtime shared library not found; looked in:\n{}\n{SETUP_HINT}", list(searched))]
    NotFound {
        /// Places searched, in order.
        searched: Vec<PathBuf>,
    },
    /// The file exists but could not be opened, dlopened or is an unsupported version.
    #[error("cannot load ONNX Runtime from {path}: {reason}\n{SETUP_HINT}", path = path.display())]
    Load {
        /// The library.
        path: PathBuf,
        /// The loader's message.
        reason: String,
    },
}

fn list(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| format!("  {}", p.display())).collect::<Vec<_>>().join("\n")
}

/// Errors of loading and running models and of comparisons.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// ONNX Runtime is not available.
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    /// A model file could not be read or ONNX Runtime refused it.
    #[error("{model}: cannot load ONNX model: {reason}")]
    ModelLoad {
        /// The file (or in-memory label).
        model: String,
        /// What went wrong.
        reason: String,
    },
    /// Inputs do not match the model's signature.
    #[error("{model}: {reason}")]
    Input {
        /// The model.
        model: String,
        /// What does not match.
        reason: String,
    },
    /// The model has no output of that name.
    #[error("{model}: no output named `{name}` (outputs: {available})")]
    UnknownOutput {
        /// The model.
        model: String,
        /// The requested name.
        name: String,
        /// The outputs it has.
        available: String,
    },
    /// ONNX Runtime failed while running, or returned something unreadable.
    #[error("{model}: inference failed: {reason}")]
    Run {
        /// The model.
        model: String,
        /// ONNX Runtime's message.
        reason: String,
    },
    /// Two tensors cannot be compared (lengths, class count, labels).
    #[error("cannot compare: {0}")]
    Compare(String),
    /// Model-zoo test data could not be read.
    #[error(transparent)]
    Onnx(#[from] zoo_onnx::OnnxError),
}

/// Result alias for this crate.
pub type Result<T, E = VerifyError> = std::result::Result<T, E>;
