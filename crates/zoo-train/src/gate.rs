//! The validation gate: keep only drawn members whose **validation** accuracy reaches a
//! threshold (the trained set's lowest), drawing again until enough pass. Applied the same way
//! to the generated members and to every baseline, so the comparison stays symmetric; it never
//! reads the test split.

use serde::{Deserialize, Serialize};

use crate::eval::Evaluation;

/// Draw rounds a gated group tries before it fills up with its best rejected members.
pub const MAX_ROUNDS: usize = 6;
/// A round draws at most this many times the group size.
pub const MAX_BATCH_FACTOR: usize = 4;

/// What a gated draw did for one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct GateReport {
    /// Rounds drawn (1 when the first draw was enough).
    pub rounds: usize,
    /// Members drawn in all rounds.
    pub drawn: usize,
    /// Drawn members below the threshold.
    pub rejected: usize,
    /// Members kept below the threshold because fewer than the group size passed in
    /// [`MAX_ROUNDS`] rounds (the best rejected by validation accuracy).
    pub filled_below: usize,
}

/// The gate of one comparison: its threshold and what it did to each group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Gates {
    /// The validation accuracy every kept member reaches (the trained set's lowest), percent.
    pub min_val: f64,
    /// Generated members.
    pub generated: GateReport,
    /// Noise-added baseline.
    pub noise_added: GateReport,
    /// Interpolation baseline.
    pub interpolated: GateReport,
    /// Gaussian baseline.
    pub gaussian: GateReport,
}

/// What the gate reads of a member's validation score: its accuracy, percent.
pub trait ValAccuracy {
    /// Validation accuracy, percent.
    fn val_accuracy(&self) -> f64;
}

impl ValAccuracy for f64 {
    fn val_accuracy(&self) -> f64 {
        *self
    }
}

impl ValAccuracy for Evaluation {
    fn val_accuracy(&self) -> f64 {
        self.accuracy
    }
}

/// A gated group: its vectors (row-major), their validation scores and the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Gated<S = f64> {
    /// `count` × P vectors.
    pub vectors: Vec<f32>,
    /// Validation score of each (an accuracy, or an [`Evaluation`] with the predictions).
    pub val: Vec<S>,
    /// What the gate did.
    pub report: GateReport,
}

/// The seed of draw round `round` of a group seeded `seed`: round 0 keeps `seed` (an ungated
/// run draws exactly round 0), later rounds take seeds far from the small offsets the
/// baselines use.
pub fn round_seed(seed: u64, round: usize) -> u64 {
    if round == 0 { seed } else { seed ^ (round as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) }
}

/// Draws `count` members of `p` values that reach `min_val` validation accuracy.
/// `draw(round, n)` returns `n` new vectors (round 0 draws `count`); `score` scores vectors
/// on validation. Passing members are kept in draw order; after [`MAX_ROUNDS`] rounds a
/// short group is filled with the best rejected ones (ties: first drawn). With
/// `min_val = f64::NEG_INFINITY` this is one ungated draw.
pub fn gated_draw<S: ValAccuracy, E>(
    count: usize,
    p: usize,
    min_val: f64,
    mut draw: impl FnMut(usize, usize) -> Result<Vec<f32>, E>,
    mut score: impl FnMut(&[f32]) -> Result<Vec<S>, E>,
) -> Result<Gated<S>, E> {
    let p = p.max(1);
    let (mut vectors, mut val) = (Vec::with_capacity(count * p), Vec::with_capacity(count));
    let mut rejected: Vec<(Vec<f32>, S)> = Vec::new();
    let mut report = GateReport::default();
    while val.len() < count && report.rounds < MAX_ROUNDS {
        let need = count - val.len();
        let n = if report.rounds == 0 {
            count
        } else {
            // Enough for the remainder at the acceptance rate so far.
            let passed = report.drawn - report.rejected;
            let cap = MAX_BATCH_FACTOR * count;
            if passed == 0 { cap } else { (need * report.drawn).div_ceil(passed).clamp(need, cap) }
        };
        let batch = draw(report.rounds, n)?;
        let scores = score(&batch)?;
        report.rounds += 1;
        report.drawn += scores.len();
        for (row, a) in batch.chunks(p).zip(scores) {
            if a.val_accuracy() < min_val {
                report.rejected += 1;
                rejected.push((row.to_vec(), a));
            } else if val.len() < count {
                vectors.extend_from_slice(row);
                val.push(a);
            }
        }
    }
    if val.len() < count {
        rejected.sort_by(|a, b| b.1.val_accuracy().total_cmp(&a.1.val_accuracy()));
        for (row, a) in rejected.into_iter().take(count - val.len()) {
            vectors.extend_from_slice(&row);
            val.push(a);
            report.filled_below += 1;
        }
    }
    Ok(Gated { vectors, val, report })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One-value members whose "validation accuracy" is the value itself; round r draws
    /// values r·100 + 0, 1, 2, ….
    fn scored(count: usize, min_val: f64) -> (Gated, Vec<(usize, usize)>) {
        let mut calls = Vec::new();
        let gated = gated_draw::<f64, ()>(
            count,
            1,
            min_val,
            |round, n| {
                calls.push((round, n));
                Ok((0..n).map(|i| (round * 100 + i) as f32).collect())
            },
            |v| Ok(v.iter().map(|&x| f64::from(x)).collect()),
        )
        .unwrap();
        (gated, calls)
    }

    #[test]
    fn ungated_is_one_draw_of_count() {
        let (g, calls) = scored(5, f64::NEG_INFINITY);
        assert_eq!(calls, vec![(0, 5)]);
        assert_eq!(g.val, vec![0.0, 1.0, 2.0, 3.0, 4.0]);
        assert_eq!(g.report, GateReport { rounds: 1, drawn: 5, rejected: 0, filled_below: 0 });
    }

    #[test]
    fn rejects_below_threshold_and_draws_again_at_the_acceptance_rate() {
        // Round 0 draws 0..10: 6..9 pass (4 of 10); round 1 needs 6 more at rate 0.4 → 15,
        // draws 100..114, all pass, the first 6 are kept.
        let (g, calls) = scored(10, 6.0);
        assert_eq!(calls, vec![(0, 10), (1, 15)]);
        assert_eq!(g.val, vec![6.0, 7.0, 8.0, 9.0, 100.0, 101.0, 102.0, 103.0, 104.0, 105.0]);
        assert_eq!(g.report, GateReport { rounds: 2, drawn: 25, rejected: 6, filled_below: 0 });
        assert!(g.val.iter().all(|&v| v >= 6.0));
    }

    #[test]
    fn fills_with_the_best_rejected_when_too_few_pass() {
        // Nothing reaches 1000: every round draws the cap, then the best rejected fill up.
        let (g, calls) = scored(3, 1000.0);
        assert_eq!(calls.len(), MAX_ROUNDS);
        assert_eq!(calls[0], (0, 3));
        assert!(calls[1..].iter().all(|&(_, n)| n == MAX_BATCH_FACTOR * 3));
        assert_eq!(g.val, vec![511.0, 510.0, 509.0]);
        assert_eq!(g.report.filled_below, 3);
        assert_eq!(g.report.rejected, g.report.drawn);
    }

    #[test]
    fn round_zero_keeps_the_seed_and_later_rounds_move_away() {
        assert_eq!(round_seed(7, 0), 7);
        let later: Vec<u64> = (1..MAX_ROUNDS).map(|r| round_seed(7, r)).collect();
        assert!(later.iter().all(|&s| s.abs_diff(7) > 1_000));
        let mut unique = later.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), later.len());
    }

    #[test]
    fn vectors_follow_their_scores() {
        let gated = gated_draw::<f64, ()>(
            2,
            2,
            0.5,
            |_, n| Ok((0..n).flat_map(|i| [i as f32, -(i as f32)]).collect()),
            |v| Ok(v.chunks(2).map(|r| if r[0] >= 1.0 { 1.0 } else { 0.0 }).collect()),
        )
        .unwrap();
        assert_eq!(gated.vectors, vec![1.0, -1.0, 1.0, -1.0]);
    }
}
