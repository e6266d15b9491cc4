//! The error type of the builder, the model file and the test-data files.

use std::path::PathBuf;

/// Everything that can go wrong while building, writing or reading ONNX files.
#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    /// A tensor's data does not fill its shape.
    #[error("tensor of shape {dims:?} needs {expected} values, got {got}")]
    DataLength {
        /// The declared shape.
        dims: Vec<usize>,
        /// Values the shape holds.
        expected: usize,
        /// Values supplied.
        got: usize,
    },
    /// A value, initializer or graph output name is already taken.
    #[error("name `{name}` is already used in this graph")]
    DuplicateName {
        /// The name.
        name: String,
    },
    /// The opset is outside what the builder emits.
    #[error("opset {opset} is not supported: the builder emits opsets {min}..={max}")]
    UnsupportedOpset {
        /// The requested opset.
        opset: u32,
        /// Lowest supported opset.
        min: u32,
        /// Highest supported opset.
        max: u32,
    },
    /// An operator was called with arguments it cannot take.
    #[error("{node}: {reason}")]
    Invalid {
        /// The scope (node name prefix) of the call.
        node: String,
        /// What is wrong.
        reason: String,
    },
    /// A node reads a value this graph never defined.
    #[error("{node}: input `{value}` is not defined in this graph")]
    UndefinedValue {
        /// The node (or graph output) that reads it.
        node: String,
        /// The missing value.
        value: String,
    },
    /// Protobuf could not encode the model (for example beyond protobuf's 2 GiB limit).
    #[error("cannot encode {what}: {reason}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// Protobuf's message.
        reason: String,
    },
    /// A file is not the protobuf message it should be, or holds data this crate cannot read.
    #[error("{path}: {reason}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] zoo_io::IoError),
}

/// Result alias for this crate.
pub type Result<T, E = OnnxError> = std::result::Result<T, E>;

pub(crate) fn invalid(node: &str, reason: impl Into<String>) -> OnnxError {
    OnnxError::Invalid { node: node.to_string(), reason: reason.into() }
}
