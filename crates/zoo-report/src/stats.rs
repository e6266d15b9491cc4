//! Summary statistics of a group's accuracies.

use serde::{Deserialize, Serialize};

/// Best / mean / median / min of a group's test accuracies (percent), and its size.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GroupStats {
    /// Highest value.
    pub best: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Median (mean of the two middle values for even `n`).
    pub median: f64,
    /// Lowest value.
    pub min: f64,
    /// Number of values.
    pub n: usize,
}

impl GroupStats {
    /// Statistics of `values` (NaNs ignored); all zero with `n = 0` when none is left.
    pub fn from_values(values: impl IntoIterator<Item = f64>) -> Self {
        let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
        if v.is_empty() {
            return GroupStats { best: 0.0, mean: 0.0, median: 0.0, min: 0.0, n: 0 };
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        GroupStats {
            best: v[n - 1],
            mean: v.iter().sum::<f64>() / n as f64,
            median: quantile_sorted(&v, 0.5),
            min: v[0],
            n,
        }
    }
}

/// An optional IoU (or any 0–1 figure) to three decimals, or "—" where it is undefined.
pub fn iou_or_dash(v: Option<f64>) -> String {
    v.map_or("—".to_string(), |v| format!("{v:.3}"))
}

/// Linear-interpolation quantile (`q` in [0, 1]) of sorted, non-empty values.
pub(crate) fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Sorted copy without NaNs.
pub(crate) fn sorted(values: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.into_iter().filter(|x| !x.is_nan()).collect();
    v.sort_by(f64::total_cmp);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_of_even_and_odd_groups() {
        let s = GroupStats::from_values([3.0, 1.0, 2.0, 4.0]);
        assert_eq!((s.best, s.min, s.median, s.mean, s.n), (4.0, 1.0, 2.5, 2.5, 4));
        let s = GroupStats::from_values([5.0, f64::NAN, 1.0, 9.0]);
        assert_eq!((s.median, s.n), (5.0, 3));
        assert_eq!(GroupStats::from_values([]).n, 0);
    }
}
