//! Training and evaluation of zoo networks with burn, and their files.
//!
//! - [`train`]: supervised training of a base model with a progress bar and per-epoch
//!   validation, deterministic for a seed on CPU.
//! - [`eval`]: batched evaluation (accuracy, predictions) of a model or of many members
//!   that share a prefix.
//! - [`gate`]: the validation gate that keeps only members at trained-level validation
//!   accuracy, applied alike to generated members and baselines.
//! - [`bootstrap`]: the interval around the diversity margin (test samples and members
//!   redrawn), so a verdict within chance reads as one.
//! - [`drift`]: whether a collection is a cloud around an optimum or a still-moving path.
//! - [`store`]: the model file (safetensors with dotted PyTorch-style names + a JSON card),
//!   written atomically.

pub mod batches;
pub mod bootstrap;
pub mod collect;
pub mod compare;
pub mod drift;
pub mod eval;
pub mod gate;
pub mod members;
pub mod metrics;
pub mod prefix;
pub mod store;
pub mod train;

pub use batches::Tensors;
pub use collect::{CollectConfig, CollectCycle, Collection, collect};
pub use eval::{Evaluation, evaluate};
pub use prefix::PrefixCache;
pub use store::{ModelCard, load_model, save_model};
pub use train::{
    FineTune, LrSchedule, OptimizerConfig, TrainConfig, TrainOutcome, fine_tune, train,
};

/// Errors of training, evaluation and model files.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Reading or writing a file failed (the cause is the `source`).
    #[error("{}", path.display())]
    Io {
        /// The file.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A model file or card is malformed.
    #[error("{path}: {reason}")]
    BadFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A configuration value is invalid.
    #[error("invalid training setting `{field}`: {reason}")]
    BadConfig {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// The data does not fit the model.
    #[error("dataset `{dataset}` does not fit `{arch}`: {reason}")]
    Mismatch {
        /// The dataset.
        dataset: String,
        /// The architecture.
        arch: String,
        /// Why.
        reason: String,
    },
    /// An error from the model crate.
    #[error(transparent)]
    Model(#[from] zoo_models::ModelError),
}
