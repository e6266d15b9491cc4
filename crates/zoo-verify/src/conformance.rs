//! Running a model on model-zoo test data (`test_data_set_N/input_*.pb`, `output_*.pb`,
//! written and read by `zoo_onnx::test_data`).

use std::path::Path;

use crate::compare::max_abs_diff;
use crate::error::{Result, VerifyError};
use crate::model::OrtModel;

/// The result for one expected output of a test-data set.
#[derive(Clone, Debug, PartialEq)]
pub struct OutputCheck {
    /// Output name (from the model).
    pub name: String,
    /// Largest absolute difference from the expected values.
    pub max_abs_diff: f32,
}

/// Runs `model` on the inputs of the `test_data_set_N` folder `dir` and compares every output
/// (by position) with the stored one. Fails if a shape or type differs or any difference
/// exceeds `tolerance`; otherwise returns the differences.
pub fn check_test_data_set(
    model: &mut OrtModel,
    dir: &Path,
    tolerance: f32,
) -> Result<Vec<OutputCheck>> {
    let set = zoo_onnx::test_data::read_test_data_set(dir)?;
    let inputs: Vec<_> = set.inputs.iter().map(|t| &t.data).collect();
    let got = model.run_tensors(&inputs)?;
    if got.len() < set.outputs.len() {
        return Err(VerifyError::Compare(format!(
            "{}: {} expected outputs but the model has {}",
            dir.display(),
            set.outputs.len(),
            got.len()
        )));
    }
    let mut checks = Vec::new();
    for (i, (expected, actual)) in set.outputs.iter().zip(&got).enumerate() {
        let what = format!("{} output_{i}.pb (`{}`)", dir.display(), actual.name);
        if expected.data.dims() != actual.data.dims() {
            return Err(VerifyError::Compare(format!(
                "{what}: shape {:?} expected, model gives {:?}",
                expected.data.dims(),
                actual.data.dims()
            )));
        }
        let diff = match (expected.data.as_f32(), actual.data.as_f32()) {
            (Some(e), Some(a)) => max_abs_diff(e, a)?,
            _ if expected.data == actual.data => 0.0,
            _ => return Err(VerifyError::Compare(format!("{what}: values differ"))),
        };
        if diff.is_nan() || diff > tolerance {
            return Err(VerifyError::Compare(format!(
                "{what}: max |Δ| {diff:e} exceeds {tolerance:e}"
            )));
        }
        checks.push(OutputCheck { name: actual.name.clone(), max_abs_diff: diff });
    }
    Ok(checks)
}
