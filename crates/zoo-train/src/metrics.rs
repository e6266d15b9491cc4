//! Accuracy summaries and diversity (p-diff §5): the similarity of two models is the IoU of
//! their sets of wrongly classified samples.

use serde::{Deserialize, Serialize};

/// best / mean / median / min of a set of accuracies (percent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Highest.
    pub best: f64,
    /// Mean.
    pub mean: f64,
    /// Median.
    pub median: f64,
    /// Lowest.
    pub min: f64,
    /// Count.
    pub n: usize,
}

impl Summary {
    /// Summarizes `values`; all zeros when empty.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self { best: 0.0, mean: 0.0, median: 0.0, min: 0.0, n: 0 };
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median =
            if n % 2 == 1 { sorted[n / 2] } else { 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]) };
        Self {
            best: sorted[n - 1],
            mean: sorted.iter().sum::<f64>() / n as f64,
            median,
            min: sorted[0],
            n,
        }
    }
}

/// Which samples a model gets wrong, as a bit set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorSet {
    bits: Vec<u64>,
}

impl ErrorSet {
    /// The errors of `predictions` against `labels`.
    pub fn new(predictions: &[u16], labels: &[u16]) -> Self {
        let mut bits = vec![0u64; labels.len().div_ceil(64)];
        for (i, (p, l)) in predictions.iter().zip(labels).enumerate() {
            if p != l {
                bits[i / 64] |= 1 << (i % 64);
            }
        }
        Self { bits }
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Whether the model makes no error.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// |A ∩ B| / |A ∪ B|; 1 when both are empty (identical behaviour).
    pub fn iou(&self, other: &ErrorSet) -> f64 {
        let (mut inter, mut union) = (0u32, 0u32);
        for (a, b) in self.bits.iter().zip(&other.bits) {
            inter += (a & b).count_ones();
            union += (a | b).count_ones();
        }
        if union == 0 { 1.0 } else { inter as f64 / union as f64 }
    }

    /// Sum of `weights` over the errors (`weights[i]`: how often sample `i` counts).
    pub fn weighted_len(&self, weights: &[u32]) -> u64 {
        weighted_sum(weights, self.bits.iter().copied())
    }

    /// [`iou`](Self::iou) with every sample counted `weights[i]` times; with all weights 1
    /// it equals `iou`.
    pub fn weighted_iou(&self, other: &ErrorSet, weights: &[u32]) -> f64 {
        let pairs = || self.bits.iter().zip(&other.bits);
        let inter = weighted_sum(weights, pairs().map(|(a, b)| a & b));
        let union = weighted_sum(weights, pairs().map(|(a, b)| a | b));
        if union == 0 { 1.0 } else { inter as f64 / union as f64 }
    }
}

/// Sum of `weights` over the set bits of `words` (bit `i` of word `w` is sample `64w + i`).
fn weighted_sum(weights: &[u32], words: impl Iterator<Item = u64>) -> u64 {
    let mut sum = 0u64;
    for (w, mut word) in words.enumerate() {
        while word != 0 {
            sum += weights[w * 64 + word.trailing_zeros() as usize] as u64;
            word &= word - 1;
        }
    }
    sum
}

/// Mean IoU over all unordered pairs within `sets` (0 when fewer than two).
pub fn mean_pairwise_iou(sets: &[ErrorSet]) -> f64 {
    let mut sum = 0.0;
    let mut count = 0usize;
    for i in 0..sets.len() {
        for j in i + 1..sets.len() {
            sum += sets[i].iou(&sets[j]);
            count += 1;
        }
    }
    if count == 0 { 0.0 } else { sum / count as f64 }
}

/// Mean IoU over all pairs across two groups.
pub fn mean_cross_iou(a: &[ErrorSet], b: &[ErrorSet]) -> f64 {
    let count = a.len() * b.len();
    if count == 0 {
        return 0.0;
    }
    a.iter().flat_map(|x| b.iter().map(move |y| x.iou(y))).sum::<f64>() / count as f64
}

/// For each set of `members`, its highest IoU with any of `reference`.
pub fn max_iou_to(members: &[ErrorSet], reference: &[ErrorSet]) -> Vec<f64> {
    nearest_in(members, reference).into_iter().map(|(_, iou)| iou).collect()
}

/// For each set of `members`, the index of the set of `reference` it has the highest IoU with
/// (the first of equals; 0 when `reference` is empty) and that IoU (0 then).
pub fn nearest_in(members: &[ErrorSet], reference: &[ErrorSet]) -> Vec<(usize, f64)> {
    members
        .iter()
        .map(|m| {
            reference.iter().enumerate().fold((0, 0.0), |best, (j, r)| {
                let iou = m.iou(r);
                if iou > best.1 { (j, iou) } else { best }
            })
        })
        .collect()
}

/// For each set, its highest IoU with any *other* set of the same group.
pub fn nearest_neighbour_iou(sets: &[ErrorSet]) -> Vec<f64> {
    (0..sets.len())
        .map(|i| {
            (0..sets.len()).filter(|&j| j != i).map(|j| sets[i].iou(&sets[j])).fold(0.0, f64::max)
        })
        .collect()
}

/// For each row of `members` (length-`p` vectors), the Euclidean distance to the nearest
/// row of `reference`.
pub fn l2_to_nearest(members: &[f32], reference: &[f32], p: usize) -> Vec<f64> {
    members
        .chunks(p)
        .map(|m| {
            reference
                .chunks(p)
                .map(|r| m.iter().zip(r).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>())
                .fold(f64::INFINITY, f64::min)
                .sqrt()
        })
        .collect()
}

/// Mean of a slice (0 when empty).
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() { 0.0 } else { values.iter().sum::<f64>() / values.len() as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_matches_hand_computation() {
        let s = Summary::of(&[90.0, 92.0, 91.0, 95.0]);
        assert_eq!((s.best, s.min, s.n), (95.0, 90.0, 4));
        assert_eq!(s.median, 91.5);
        assert_eq!(s.mean, 92.0);
        assert_eq!(Summary::of(&[3.0, 1.0, 2.0]).median, 2.0);
    }

    #[test]
    fn iou_of_error_sets() {
        let labels = [0, 1, 2, 3, 4, 5];
        let a = ErrorSet::new(&[9, 9, 2, 3, 4, 5], &labels); // errors {0,1}
        let b = ErrorSet::new(&[9, 1, 9, 3, 4, 5], &labels); // errors {0,2}
        assert_eq!(a.len(), 2);
        assert!((a.iou(&b) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(a.iou(&a), 1.0);
        let perfect = ErrorSet::new(&labels, &labels);
        assert_eq!(perfect.iou(&perfect), 1.0);
        assert_eq!(perfect.iou(&a), 0.0);
        assert!(
            (mean_pairwise_iou(&[a.clone(), b.clone(), a.clone()])
                - (1.0 / 3.0 + 1.0 + 1.0 / 3.0) / 3.0)
                .abs()
                < 1e-12
        );
        assert_eq!(
            nearest_neighbour_iou(&[a.clone(), b.clone(), a.clone()]),
            vec![1.0, 1.0 / 3.0, 1.0]
        );
        assert_eq!(max_iou_to(std::slice::from_ref(&b), &[a.clone(), b.clone()]), vec![1.0]);
    }

    #[test]
    fn l2_to_nearest_row() {
        let reference = [0.0, 0.0, 3.0, 4.0];
        assert_eq!(l2_to_nearest(&[3.0, 4.0, 0.0, 1.0], &reference, 2), vec![0.0, 1.0]);
    }
}
