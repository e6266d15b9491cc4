//! Choosing ensemble members from plain vectors: the `k` most accurate, or a greedy set of
//! members whose errors overlap least (lowest IoU of error sets) among those accurate enough.
//! Select on the validation split; report on the test split.

use zoo_train::metrics::ErrorSet;

use crate::error::{ExportError, Result};

/// Indices of the `k` highest accuracies, best first (ties: lower index first).
pub fn top_k(accuracies: &[f64], k: usize) -> Result<Vec<usize>> {
    if k == 0 || k > accuracies.len() {
        return Err(ExportError::Selection(format!("top-{k} of {} candidates", accuracies.len())));
    }
    let mut order: Vec<usize> = (0..accuracies.len()).collect();
    order.sort_by(|&a, &b| accuracies[b].total_cmp(&accuracies[a]).then(a.cmp(&b)));
    order.truncate(k);
    Ok(order)
}

/// Greedy diverse selection: among candidates with accuracy ≥ `min_accuracy`, start from the
/// most accurate, then repeatedly add the candidate whose error set has the lowest mean IoU
/// with the members chosen so far (ties: higher accuracy, then lower index; two members
/// without errors count as identical, IoU 1). `predictions[i]`
/// are candidate `i`'s predicted classes on the samples whose true classes are `labels`.
pub fn diverse(
    accuracies: &[f64],
    predictions: &[Vec<u16>],
    labels: &[u16],
    k: usize,
    min_accuracy: f64,
) -> Result<Vec<usize>> {
    if accuracies.len() != predictions.len() {
        return Err(ExportError::Selection(format!(
            "{} accuracies but {} prediction vectors",
            accuracies.len(),
            predictions.len()
        )));
    }
    if let Some(p) = predictions.iter().find(|p| p.len() != labels.len()) {
        return Err(ExportError::Selection(format!(
            "{} predictions for {} labels",
            p.len(),
            labels.len()
        )));
    }
    let eligible: Vec<usize> =
        (0..accuracies.len()).filter(|&i| accuracies[i] >= min_accuracy).collect();
    if k == 0 || eligible.len() < k {
        return Err(ExportError::Selection(format!(
            "{k} diverse members wanted but {} of {} candidates reach accuracy {min_accuracy}",
            eligible.len(),
            accuracies.len()
        )));
    }
    let errors: Vec<ErrorSet> = predictions.iter().map(|p| ErrorSet::new(p, labels)).collect();
    let best = *top_k(&eligible.iter().map(|&i| accuracies[i]).collect::<Vec<_>>(), 1)?
        .first()
        .expect("one");
    let mut chosen = vec![eligible[best]];
    while chosen.len() < k {
        let score = |i: usize| {
            chosen.iter().map(|&c| errors[i].iou(&errors[c])).sum::<f64>() / chosen.len() as f64
        };
        let next = eligible
            .iter()
            .copied()
            .filter(|i| !chosen.contains(i))
            .min_by(|&a, &b| {
                score(a)
                    .total_cmp(&score(b))
                    .then(accuracies[b].total_cmp(&accuracies[a]))
                    .then(a.cmp(&b))
            })
            .expect("enough eligible candidates");
        chosen.push(next);
    }
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_orders_by_accuracy_then_index() {
        assert_eq!(top_k(&[90.0, 95.0, 95.0, 80.0], 3).unwrap(), vec![1, 2, 0]);
        assert!(top_k(&[1.0], 2).is_err());
    }

    #[test]
    fn diverse_prefers_disjoint_errors_and_respects_the_floor() {
        let labels = [0u16; 6];
        // 0: errors {0,1}; 1: errors {0,1} (same as 0); 2: errors {4,5}; 3: errors {0..5} (too weak).
        let preds = vec![
            vec![1, 1, 0, 0, 0, 0],
            vec![1, 1, 0, 0, 0, 0],
            vec![0, 0, 0, 0, 1, 1],
            vec![1, 1, 1, 1, 1, 1],
        ];
        let acc = [66.7, 66.6, 66.5, 0.0];
        assert_eq!(diverse(&acc, &preds, &labels, 2, 50.0).unwrap(), vec![0, 2]);
        assert_eq!(top_k(&acc, 2).unwrap(), vec![0, 1]);
        assert!(diverse(&acc, &preds, &labels, 4, 50.0).is_err());
        // Two error-free members behave identically: the second pick is the one that errs.
        let preds = vec![vec![0; 6], vec![0; 6], vec![0, 0, 0, 0, 0, 1]];
        assert_eq!(diverse(&[100.0, 100.0, 83.3], &preds, &labels, 2, 50.0).unwrap(), vec![0, 2]);
    }
}
