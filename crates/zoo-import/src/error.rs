//! Errors of reading and importing state dicts; each names the file and, where one is at
//! fault, the tensor.

use std::path::PathBuf;

/// Why a state dict could not be read or imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be opened or read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file is not a readable checkpoint of the format its extension names.
    #[error("{}: not a readable {format} file: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// `safetensors` or `PyTorch checkpoint`.
        format: &'static str,
        /// What the parser said.
        reason: String,
    },
    /// The file extension names no supported format.
    #[error(
        "{}: unknown weights format; expected .safetensors, .pth, .pt, .bin or .ckpt",
        path.display()
    )]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// A tensor has an element type that cannot become f32 weights.
    #[error(
        "{}: tensor `{name}` has dtype {dtype}; only floating-point tensors (F32, F16, BF16, F64) can be imported",
        path.display()
    )]
    UnsupportedDtype {
        /// The file.
        path: PathBuf,
        /// The tensor.
        name: String,
        /// Its element type.
        dtype: String,
    },
    /// The file holds no floating-point tensor at all.
    #[error("{}: holds no floating-point tensors", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}
