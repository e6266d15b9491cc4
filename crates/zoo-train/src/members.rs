//! Evaluating many members that differ only in the selected parameters: each vector is
//! spliced into the frozen network and only the tail runs, on cached prefix activations.

use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use zoo_models::{Model, ParamLayout};

use crate::TrainError;
use crate::eval::Evaluation;
use crate::prefix::PrefixCache;

/// Accuracies and predictions of one member.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberScore {
    /// Validation accuracy, percent.
    pub val: f64,
    /// Test accuracy, percent.
    pub test: f64,
    /// Validation-split predictions (for diversity on validation, which selection may read).
    pub val_predictions: Vec<u16>,
    /// Test-split predictions.
    pub test_predictions: Vec<u16>,
}

/// A frozen network and the layout of the parameters its members differ in.
#[derive(Debug, Clone, Copy)]
pub struct MemberBase<'a> {
    /// Architecture name (for splice errors).
    pub arch: &'a str,
    /// The frozen network (a validation copy).
    pub model: &'a Model,
    /// Where each value of a member's vector goes.
    pub layout: &'a ParamLayout,
}

impl MemberBase<'_> {
    /// Evaluates every row of `vectors` (N × P, row-major) spliced into the network on each
    /// of `splits`: `result[member][split]`. Runs on `threads` threads (members are
    /// independent, so the result does not depend on it). Fails on any unclean splice.
    /// `on_member` is called after each member with the number evaluated so far.
    pub fn evaluate(
        &self,
        vectors: &[f32],
        splits: &[&PrefixCache],
        threads: usize,
        on_member: impl Fn(usize) + Sync,
    ) -> Result<Vec<Vec<Evaluation>>, TrainError> {
        let p = self.layout.len().max(1);
        let count = vectors.len() / p;
        let done = AtomicUsize::new(0);
        // Contiguous shares, one per thread, each splicing into its own copy of the network.
        let share = count.div_ceil(threads.clamp(1, count.max(1))).max(1);
        let parts: Vec<Result<Vec<Vec<Evaluation>>, TrainError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = vectors
                .chunks(share * p)
                .map(|rows| {
                    let (done, on_member) = (&done, &on_member);
                    scope.spawn(move || {
                        let mut member = self.model.clone();
                        let mut out = Vec::with_capacity(rows.len() / p);
                        for vector in rows.chunks(p) {
                            let (spliced, _) = self.layout.splice(self.arch, member, vector)?;
                            out.push(splits.iter().map(|split| split.evaluate(&spliced)).collect());
                            member = spliced;
                            on_member(done.fetch_add(1, Ordering::Relaxed) + 1);
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("an evaluation thread panicked")).collect()
        });
        let mut evaluations = Vec::with_capacity(count);
        for part in parts {
            evaluations.extend(part?);
        }
        Ok(evaluations)
    }

    /// Validation and test accuracy and predictions of every row of `vectors`
    /// ([`MemberBase::evaluate`] on the two splits).
    pub fn score(
        &self,
        vectors: &[f32],
        val: &PrefixCache,
        test: &PrefixCache,
        threads: usize,
        on_member: impl Fn(usize) + Sync,
    ) -> Result<Vec<MemberScore>, TrainError> {
        let evaluations = self.evaluate(vectors, &[val, test], threads, on_member)?;
        Ok(evaluations
            .into_iter()
            .map(|pair| {
                let [v, t]: [Evaluation; 2] = pair.try_into().expect("two splits");
                MemberScore {
                    val: v.accuracy,
                    test: t.accuracy,
                    val_predictions: v.predictions,
                    test_predictions: t.predictions,
                }
            })
            .collect())
    }
}
