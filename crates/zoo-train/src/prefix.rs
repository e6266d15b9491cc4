//! Shared-prefix evaluation: activations before the first segment that owns a selected
//! parameter are the same for every member, so they are computed once per split and only
//! the tail runs per member.

use burn::prelude::*;
use zoo_models::segments::first_owner;
use zoo_models::{Activation, Model, ModelError, ParamLayout};

use crate::batches::Tensors;
use crate::eval::{EVAL_BATCH, Evaluation, argmax};

/// A split pushed through the frozen prefix of a network.
#[derive(Debug, Clone)]
pub struct PrefixCache {
    /// Index of the first tail segment.
    pub cut: usize,
    /// Activations entering segment `cut`, one row per sample.
    pub activations: Activation,
    /// Labels of the samples.
    pub labels: Vec<u16>,
}

/// The first segment owning any parameter of `layout`.
pub fn cut_for(model: &Model, layout: &ParamLayout, arch: &str) -> Result<usize, ModelError> {
    first_owner(&model.segments(), &layout.names()).ok_or_else(|| ModelError::EmptySelection {
        arch: arch.to_string(),
        patterns: layout.names(),
    })
}

impl PrefixCache {
    /// Runs segments `0..cut` of `model` (a validation copy) over all of `data`.
    pub fn new(model: &Model, data: &Tensors, cut: usize, device: &Device) -> Self {
        let mut parts = Vec::new();
        for start in (0..data.len()).step_by(EVAL_BATCH) {
            let end = (start + EVAL_BATCH).min(data.len());
            let x = Activation::Maps(data.images_range(start, end, device));
            parts.push(model.forward_range(x, 0..cut));
        }
        Self { cut, activations: Activation::cat(parts), labels: data.labels.clone() }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Rows at `indices`, for training batches.
    pub fn rows(&self, indices: &[usize], device: &Device) -> Activation {
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(indices.iter().map(|&i| i as i64).collect::<Vec<_>>(), [indices.len()]),
            device,
        );
        self.activations.select_rows(index, device)
    }

    /// Logits of the tail of `model` (a validation copy) for every cached sample.
    pub fn tail_logits(&self, model: &Model) -> Vec<f32> {
        let end = model.segments().len();
        let mut out = Vec::new();
        for start in (0..self.len()).step_by(EVAL_BATCH) {
            let stop = (start + EVAL_BATCH).min(self.len());
            let x = self.activations.slice_batch(start, stop);
            let logits = model.forward_range(x, self.cut..end).flat();
            out.extend(logits.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32"));
        }
        out
    }

    /// Accuracy and predictions of the tail of `model` (a validation copy).
    pub fn evaluate(&self, model: &Model) -> Evaluation {
        let end = model.segments().len();
        let mut predictions = Vec::with_capacity(self.len());
        for start in (0..self.len()).step_by(EVAL_BATCH) {
            let stop = (start + EVAL_BATCH).min(self.len());
            let x = self.activations.slice_batch(start, stop);
            predictions.extend(argmax(model.forward_range(x, self.cut..end).flat()));
        }
        Evaluation::from_predictions(predictions, &self.labels)
    }
}
