//! The p-diff floors: what a generated group must reach to count as a success.

use crate::manifest::ArchSummary;

/// Generated best may trail trained best by at most this many percentage points.
pub const BEST_FLOOR_PP: f64 = 0.5;
/// Generated median may trail trained median by at most this many percentage points.
pub const MEDIAN_FLOOR_PP: f64 = 1.5;

/// Pass/fail of the three floors for one architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floors {
    /// Generated best ≥ trained best − [`BEST_FLOOR_PP`].
    pub best: bool,
    /// Generated median ≥ trained median − [`MEDIAN_FLOOR_PP`].
    pub median: bool,
    /// Mean max-IoU-to-trained of generated members < that of noise-added members
    /// (generated members are more different from the trained ones than noise is).
    pub diversity: bool,
}

impl Floors {
    /// Evaluates the floors on a summary. An empty generated group fails all three.
    pub fn check(s: &ArchSummary) -> Self {
        let has = s.generated.n > 0 && s.trained.n > 0;
        Floors {
            best: has && s.generated.best >= s.trained.best - BEST_FLOOR_PP,
            median: has && s.generated.median >= s.trained.median - MEDIAN_FLOOR_PP,
            diversity: has
                && s.noise_added.n > 0
                && s.diversity.max_iou_to_trained_mean < s.diversity.noise_max_iou_to_trained_mean,
        }
    }

    /// All three pass.
    pub fn all(&self) -> bool {
        self.best && self.median && self.diversity
    }
}
