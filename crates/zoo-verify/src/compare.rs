//! Comparing logits and scoring predictions, with named tolerances.

use crate::error::{Result, VerifyError};

/// Largest |Δ| accepted between burn and ONNX Runtime logits of the same network.
pub const LOGIT_TOLERANCE: f32 = 1e-4;
/// Largest |Δ| accepted between one ONNX operator in ONNX Runtime and its reference.
pub const OP_TOLERANCE: f32 = 1e-5;

/// How closely two sets of logits agree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Agreement {
    /// Number of rows (samples) compared.
    pub rows: usize,
    /// Largest absolute difference over all entries (NaN if any entry is NaN in one only,
    /// or in both).
    pub max_abs_diff: f32,
    /// Fraction of rows whose argmax is the same, in `[0, 1]`.
    pub argmax_agreement: f64,
}

impl Agreement {
    /// `max_abs_diff <= tolerance` (false for NaN).
    pub fn within(&self, tolerance: f32) -> bool {
        self.max_abs_diff <= tolerance
    }
}

/// Largest absolute difference of two equally long slices; NaN anywhere makes it NaN.
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> Result<f32> {
    if a.len() != b.len() {
        return Err(VerifyError::Compare(format!("lengths differ: {} vs {}", a.len(), b.len())));
    }
    Ok(a.iter().zip(b).fold(0.0f32, |m, (x, y)| {
        let d = (x - y).abs();
        if m.is_nan() || d.is_nan() { f32::NAN } else { m.max(d) }
    }))
}

/// Index of the largest entry (the first on ties; NaN entries are skipped; 0 if all are NaN).
pub fn argmax(row: &[f32]) -> usize {
    let mut best = (0, f32::NEG_INFINITY);
    for (i, &v) in row.iter().enumerate() {
        if v > best.1 {
            best = (i, v);
        }
    }
    best.0
}

fn rows(logits: &[f32], classes: usize) -> Result<std::slice::ChunksExact<'_, f32>> {
    if classes == 0 || !logits.len().is_multiple_of(classes) {
        return Err(VerifyError::Compare(format!(
            "{} logits are not a whole number of rows of {classes} classes",
            logits.len()
        )));
    }
    Ok(logits.chunks_exact(classes))
}

/// Argmax class of each row of row-major `[rows, classes]` logits.
pub fn predictions(logits: &[f32], classes: usize) -> Result<Vec<usize>> {
    Ok(rows(logits, classes)?.map(argmax).collect())
}

/// Compares two row-major `[rows, classes]` logit tensors.
pub fn compare_logits(a: &[f32], b: &[f32], classes: usize) -> Result<Agreement> {
    let max_abs_diff = max_abs_diff(a, b)?;
    let (pa, pb) = (predictions(a, classes)?, predictions(b, classes)?);
    let same = pa.iter().zip(&pb).filter(|(x, y)| x == y).count();
    let rows = pa.len();
    let argmax_agreement = if rows == 0 { 1.0 } else { same as f64 / rows as f64 };
    Ok(Agreement { rows, max_abs_diff, argmax_agreement })
}

/// Fraction of rows whose argmax equals the label.
pub fn accuracy<L: Copy + TryInto<usize>>(
    logits: &[f32],
    labels: &[L],
    classes: usize,
) -> Result<f64> {
    let preds = predictions(logits, classes)?;
    if preds.len() != labels.len() {
        return Err(VerifyError::Compare(format!(
            "{} rows of logits but {} labels",
            preds.len(),
            labels.len()
        )));
    }
    let mut correct = 0usize;
    for (p, &l) in preds.iter().zip(labels) {
        let l: usize = l
            .try_into()
            .map_err(|_| VerifyError::Compare("a label is not a class index".into()))?;
        if l >= classes {
            return Err(VerifyError::Compare(format!(
                "label {l} is out of range for {classes} classes"
            )));
        }
        correct += usize::from(*p == l);
    }
    Ok(if preds.is_empty() { 0.0 } else { correct as f64 / preds.len() as f64 })
}
