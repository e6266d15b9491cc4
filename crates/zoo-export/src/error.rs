//! [`ExportError`]: everything that can stop an export, an ensemble or a verification.

use std::path::PathBuf;

/// Why an export, an ensemble or a verification failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The network contains a layer or a setting the exporter cannot write.
    #[error("`{arch}`: unsupported layer `{layer}`: {reason}")]
    UnsupportedLayer {
        /// The architecture.
        arch: String,
        /// The layer's dotted name.
        layer: String,
        /// What is not supported.
        reason: String,
    },
    /// The network has tensors the exporter did not place in the graph (a layer it does not
    /// know), or lacks tensors it needs.
    #[error("`{arch}`: the exported graph does not cover the network: {reason}")]
    Coverage {
        /// The architecture.
        arch: String,
        /// Which tensors are unused or missing.
        reason: String,
    },
    /// The opset is outside what the emitters support.
    #[error("opset {opset} is not supported: the exporter writes opsets {min}..={max}")]
    UnsupportedOpset {
        /// The requested opset.
        opset: u32,
        /// Lowest supported opset.
        min: u32,
        /// Highest supported opset.
        max: u32,
    },
    /// An input shape does not fit the network or the model file.
    #[error("`{arch}`: wrong input shape {got:?}: {reason}")]
    InputShape {
        /// The architecture (or model file).
        arch: String,
        /// The shape given.
        got: Vec<usize>,
        /// What was expected.
        reason: String,
    },
    /// A metadata value cannot be written (for example a label containing a comma).
    #[error("metadata `{key}`: {reason}")]
    Metadata {
        /// The key.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// Ensemble members do not fit together.
    #[error("ensemble: {0}")]
    Ensemble(String),
    /// Member selection was asked for something impossible.
    #[error("member selection: {0}")]
    Selection(String),
    /// ONNX Runtime's output differs from the reference beyond the tolerance.
    #[error(
        "{model}: ONNX Runtime disagrees with burn: max |Δlogit| {max_abs_diff:e} (tolerance {tolerance:e}), argmax agreement {:.2}%",
        100.0 * argmax_agreement
    )]
    Mismatch {
        /// The model (file or label).
        model: String,
        /// Largest absolute difference.
        max_abs_diff: f32,
        /// Fraction of rows with the same argmax.
        argmax_agreement: f64,
        /// The tolerance applied.
        tolerance: f32,
    },
    /// The output path cannot hold the model-zoo layout.
    #[error("{path}: {reason}", path = path.display())]
    Layout {
        /// The output path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Building, encoding, writing or reading ONNX.
    #[error(transparent)]
    Onnx(#[from] zoo_onnx::OnnxError),
    /// ONNX Runtime (missing library, refused model, failed run).
    #[error(transparent)]
    Verify(#[from] zoo_verify::VerifyError),
    /// A file operation.
    #[error(transparent)]
    Io(#[from] zoo_io::IoError),
}

/// Result alias for this crate.
pub type Result<T, E = ExportError> = std::result::Result<T, E>;
