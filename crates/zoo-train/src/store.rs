//! The model file: `NAME.safetensors` (every tensor by dotted PyTorch-style name, PyTorch
//! layout) and `NAME.json` (the [`ModelCard`]). Both written atomically.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use zoo_data::DatasetInfo;
use zoo_io::F32Tensor;
use zoo_models::{ArchSpec, Model, NamedTensor, TensorKind, named_tensors, write_tensors};

use crate::TrainError;

/// Version of the card format.
pub const CARD_SCHEMA: u32 = 1;

/// Everything known about a saved model besides its weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelCard {
    /// Card format version.
    pub schema: u32,
    /// The architecture (rebuilds the network).
    pub arch: ArchSpec,
    /// The data the model was trained on, with the input normalization.
    pub dataset: DatasetInfo,
    /// Validation accuracy in percent.
    pub val_accuracy: f64,
    /// Test accuracy in percent.
    pub test_accuracy: f64,
    /// Seed of the run.
    pub seed: u64,
    /// How it was trained (free-form, e.g. the training config).
    pub training: serde_json::Value,
    /// Training wall time in seconds.
    pub seconds: f64,
    /// pdiff-zoo version that wrote the card.
    pub pdiff_zoo_version: String,
}

/// The card path belonging to a weights path (`x.safetensors` → `x.json`).
pub fn card_path(weights: &Path) -> PathBuf {
    weights.with_extension("json")
}

/// Maps a file error into a training error.
pub(crate) fn io(e: zoo_io::IoError) -> TrainError {
    match e {
        zoo_io::IoError::Os { path, source } => TrainError::Io { path, source },
        zoo_io::IoError::Format { path, reason } => TrainError::BadFile { path, reason },
    }
}

/// Saves weights and card atomically (card last, so a card means complete weights).
pub fn save_model(weights: &Path, model: &Model, card: &ModelCard) -> Result<(), TrainError> {
    let tensors: Vec<F32Tensor> = named_tensors(model)
        .into_iter()
        .map(|t| F32Tensor { name: t.name, shape: t.shape, data: t.data })
        .collect();
    let metadata = [("format".to_string(), "pdiff-zoo model".to_string())].into();
    zoo_io::write_safetensors(weights, &tensors, Some(metadata)).map_err(io)?;
    zoo_io::write_json(&card_path(weights), card).map_err(io)
}

/// Reads a card.
pub fn load_card(weights: &Path) -> Result<ModelCard, TrainError> {
    let path = card_path(weights);
    let card: ModelCard = zoo_io::read_json(&path).map_err(io)?;
    if card.schema != CARD_SCHEMA {
        return Err(TrainError::BadFile {
            path,
            reason: format!(
                "card schema {} is not supported (expected {CARD_SCHEMA})",
                card.schema
            ),
        });
    }
    Ok(card)
}

/// Loads a model saved by [`save_model`] onto `device`. Every tensor must match.
pub fn load_model(weights: &Path, device: &Device) -> Result<(Model, ModelCard), TrainError> {
    let card = load_card(weights)?;
    let (tensors, _) = zoo_io::read_safetensors(weights).map_err(io)?;
    let named: Vec<NamedTensor> = tensors
        .into_iter()
        .map(|t| NamedTensor {
            name: t.name,
            shape: t.shape,
            data: t.data,
            kind: TensorKind::Param,
        })
        .collect();
    let model = card.arch.init(device);
    let (model, report) = write_tensors(model, &named);
    if !report.is_clean() {
        return Err(TrainError::BadFile {
            path: weights.to_path_buf(),
            reason: format!("weights do not fit `{}`: {}", card.arch.name, report.summary()),
        });
    }
    Ok((model, card))
}
