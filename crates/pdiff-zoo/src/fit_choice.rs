//! Choosing among several fits of one collection (different fit seeds) by what they generate
//! on the **validation** split: the margin of diversity over the noise-added baseline, among
//! the fits whose members meet the accuracy floors. The test split is never read for the
//! choice (docs/METHOD-NOTES.md §18).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::prelude::Device;
use pdiff::FittedPdiff;
use serde::{Deserialize, Serialize};
use zoo_data::Dataset;
use zoo_models::Model;
use zoo_report::{BEST_FLOOR_PP, MEDIAN_FLOOR_PP};
use zoo_train::collect::Collection;
use zoo_train::compare::Comparison;

use crate::parallel::map_parallel;
use crate::progress;
use crate::stages::{GenerateSettings, Generation, generate};

/// One candidate fit, as the choice sees it: validation figures only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// The fit's directory.
    pub fitted: PathBuf,
    /// Generated validation best and median reach the trained set's minus the floors.
    pub meets_val_floors: bool,
    /// Generated validation best (percent).
    pub val_best: f64,
    /// Generated validation median (percent).
    pub val_median: f64,
    /// The validation margin (noise − generated max-IoU); `None` where unknown.
    pub validation_margin: Option<f64>,
}

impl Candidate {
    /// The candidate `fitted` as its comparison `c` shows it.
    pub fn of(fitted: &Path, c: &Comparison) -> Self {
        let (t, g) = (&c.trained.val, &c.generated.val);
        Self {
            fitted: fitted.to_path_buf(),
            meets_val_floors: g.best >= t.best - BEST_FLOOR_PP
                && g.median >= t.median - MEDIAN_FLOOR_PP,
            val_best: g.best,
            val_median: g.median,
            validation_margin: c.diversity.validation_margin.as_ref().map(|m| m.margin),
        }
    }

    /// Whether `self` is preferred to `other`: meeting the floors first, then the higher
    /// validation margin, a known one before none (an earlier candidate wins a tie).
    pub fn beats(&self, other: &Self) -> bool {
        let key = |c: &Self| (c.meets_val_floors, c.validation_margin.unwrap_or(f64::NEG_INFINITY));
        key(self) > key(other)
    }

    /// One line for logs: the fit, its margin and accuracies.
    pub fn line(&self) -> String {
        format!(
            "{}: validation margin {}, generated val best / median {:.2} / {:.2}{}",
            self.fitted.display(),
            self.validation_margin.map_or("unknown".to_string(), |m| format!("{m:+.3}")),
            self.val_best,
            self.val_median,
            if self.meets_val_floors { "" } else { " (below the floors on validation)" }
        )
    }
}

/// The kept candidate's generation, and every candidate's figures.
pub struct Chosen {
    /// Index of the kept fit in the list given.
    pub index: usize,
    /// Its members, baselines and comparison.
    pub generation: Generation,
    /// All candidates in the order given (one: no choice was made).
    pub candidates: Vec<Candidate>,
}

impl Chosen {
    /// `{"chosen": path, "candidates": [...]}` when there was a choice, `None` for one fit.
    pub fn selection(&self) -> Option<serde_json::Value> {
        (self.candidates.len() > 1).then(|| {
            serde_json::json!({
                "chosen": self.candidates[self.index].fitted,
                "candidates": self.candidates,
            })
        })
    }
}

/// Generates from each fit in `fits` (as [`generate`]), `jobs` fits at a time, and keeps the
/// best by [`Candidate::beats`]; the choice does not depend on `jobs`. `label` prefixes the
/// progress bars; `report` receives each candidate as it is scored.
#[allow(clippy::too_many_arguments)]
pub fn generate_best(
    fits: &[PathBuf],
    trained: &Collection,
    model: &Model,
    data: &Dataset,
    settings: &GenerateSettings,
    device: &Device,
    jobs: usize,
    label: &str,
    report: &(dyn Fn(&Candidate) + Sync),
) -> Result<Chosen> {
    let generations = map_parallel(fits, jobs, |i, path| {
        let fitted = FittedPdiff::load(path, device)
            .with_context(|| format!("loading fit {}", path.display()))?;
        let bar = match fits.len() {
            1 => progress::bar(0, label),
            n => progress::bar(0, &format!("{label} {}/{n}", i + 1)),
        };
        let generation = generate(&fitted, trained, model, data, settings, device, &bar)?;
        bar.finish_and_clear();
        let candidate = Candidate::of(path, &generation.comparison);
        report(&candidate);
        Ok((candidate, generation))
    })?;
    let mut index = 0;
    for (i, (candidate, _)) in generations.iter().enumerate() {
        if candidate.beats(&generations[index].0) {
            index = i;
        }
    }
    let (candidates, generations): (Vec<_>, Vec<_>) = generations.into_iter().unzip();
    let generation = generations.into_iter().nth(index).context("no fit to generate from")?;
    Ok(Chosen { index, generation, candidates })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(meets_val_floors: bool, validation_margin: Option<f64>) -> Candidate {
        Candidate {
            fitted: PathBuf::from("f"),
            meets_val_floors,
            val_best: 99.0,
            val_median: 98.0,
            validation_margin,
        }
    }

    #[test]
    fn a_candidate_meeting_the_floors_beats_a_wider_margin_below_them() {
        let (low, high) = (candidate(true, Some(-0.05)), candidate(true, Some(0.02)));
        assert!(high.beats(&low) && !low.beats(&high));
        assert!(low.beats(&candidate(false, Some(0.3))));
        // A tie keeps the earlier candidate; an unknown margin loses to any known one.
        assert!(!low.beats(&low.clone()));
        assert!(low.beats(&candidate(true, None)) && !candidate(true, None).beats(&low));
    }
}
