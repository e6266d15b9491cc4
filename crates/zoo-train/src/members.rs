//! Evaluating many members that differ only in the selected parameters: each vector is
//! spliced into the frozen network and only the tail runs, on cached prefix activations.

use serde::{Deserialize, Serialize};
use zoo_models::{Model, ParamLayout};

use crate::TrainError;
use crate::prefix::PrefixCache;

/// Accuracies and test predictions of one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberScore {
    /// Validation accuracy, percent.
    pub val: f64,
    /// Test accuracy, percent.
    pub test: f64,
    /// Test-split predictions.
    pub test_predictions: Vec<u16>,
}

/// Scores every row of `vectors` (N × P, row-major) spliced into `model` (a validation
/// copy). Fails on any unclean splice. `on_member` is called after each member.
pub fn score_members(
    arch: &str,
    model: &Model,
    layout: &ParamLayout,
    vectors: &[f32],
    val: &PrefixCache,
    test: &PrefixCache,
    mut on_member: impl FnMut(usize),
) -> Result<Vec<MemberScore>, TrainError> {
    let p = layout.len();
    let mut scores = Vec::with_capacity(vectors.len() / p.max(1));
    let mut member = model.clone();
    for (i, vector) in vectors.chunks(p).enumerate() {
        let (spliced, _) = layout.splice(arch, member, vector)?;
        let v = val.evaluate(&spliced);
        let t = test.evaluate(&spliced);
        scores.push(MemberScore {
            val: v.accuracy,
            test: t.accuracy,
            test_predictions: t.predictions,
        });
        member = spliced;
        on_member(i + 1);
    }
    Ok(scores)
}
