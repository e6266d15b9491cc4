//! Batched evaluation: logits, predictions and accuracy.

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use zoo_models::Model;

use crate::batches::Tensors;

/// Batch size used for evaluation unless a caller says otherwise.
pub const EVAL_BATCH: usize = 500;

/// The outcome of evaluating one model on one split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Accuracy in percent.
    pub accuracy: f64,
    /// Predicted class of every sample.
    pub predictions: Vec<u16>,
}

impl Evaluation {
    /// Scores predictions against labels.
    pub fn from_predictions(predictions: Vec<u16>, labels: &[u16]) -> Self {
        let correct = predictions.iter().zip(labels).filter(|(p, l)| p == l).count();
        let accuracy = 100.0 * correct as f64 / labels.len().max(1) as f64;
        Self { accuracy, predictions }
    }

    /// Indices of the wrongly classified samples.
    pub fn errors(&self, labels: &[u16]) -> Vec<usize> {
        self.predictions
            .iter()
            .zip(labels)
            .enumerate()
            .filter(|(_, (p, l))| p != l)
            .map(|(i, _)| i)
            .collect()
    }
}

/// Row-wise argmax of a `[batch, classes]` tensor.
pub fn argmax(logits: Tensor<2>) -> Vec<u16> {
    logits
        .argmax(1)
        .into_data()
        .convert::<i64>()
        .try_into_vec::<i64>()
        .expect("argmax yields integers")
        .into_iter()
        .map(|v| v as u16)
        .collect()
}

/// Logits of `model` for every sample of `data`, row-major `len × classes`.
///
/// `model` should be a validation copy (`model.valid()`) on a plain device.
pub fn logits(model: &Model, data: &Tensors, device: &Device) -> Vec<f32> {
    let mut out = Vec::new();
    for start in (0..data.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(data.len());
        let logits = model.forward(data.images_range(start, end, device));
        out.extend(logits.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32"));
    }
    out
}

/// Accuracy and predictions of `model` on `data`.
///
/// `model` should be a validation copy (`model.valid()`) on a plain device.
pub fn evaluate(model: &Model, data: &Tensors, device: &Device) -> Evaluation {
    let mut predictions = Vec::with_capacity(data.len());
    for start in (0..data.len()).step_by(EVAL_BATCH) {
        let end = (start + EVAL_BATCH).min(data.len());
        predictions.extend(argmax(model.forward(data.images_range(start, end, device))));
    }
    Evaluation::from_predictions(predictions, &data.labels)
}
