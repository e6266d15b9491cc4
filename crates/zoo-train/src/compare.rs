//! The evidence p-diff is judged by (METHOD §4–5): accuracy of trained, generated and
//! noise-added members side by side, and how different they are (IoU of error sets, L2 to
//! the nearest trained vector).

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use crate::collect::Collection;
use crate::members::MemberScore;
use crate::metrics::{
    ErrorSet, Summary, l2_to_nearest, max_iou_to, mean, mean_cross_iou, mean_pairwise_iou,
    nearest_neighbour_iou,
};

/// Accuracy summaries of one group of members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    /// Validation accuracy.
    pub val: Summary,
    /// Test accuracy.
    pub test: Summary,
}

/// Diversity figures on the test split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diversity {
    /// Mean pairwise IoU among trained checkpoints.
    pub trained_iou_mean: f64,
    /// Mean pairwise IoU among generated members.
    pub generated_iou_mean: f64,
    /// Mean IoU between generated and trained.
    pub cross_iou_mean: f64,
    /// Mean over generated members of their max IoU to any trained checkpoint.
    pub max_iou_to_trained_mean: f64,
    /// The same for noise-added members.
    pub noise_max_iou_to_trained_mean: f64,
    /// Mean over trained checkpoints of their max IoU to another checkpoint.
    pub trained_nn_iou_mean: f64,
    /// Mean L2 distance of generated vectors to the nearest trained vector.
    pub generated_l2_to_trained_mean: f64,
    /// Mean L2 distance of noise-added vectors to the nearest trained vector.
    pub noise_l2_to_trained_mean: f64,
}

/// One member in the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRow {
    /// `trained`, `generated` or `noise_added`.
    pub source: String,
    /// Index within its group.
    pub index: usize,
    /// Validation accuracy.
    pub val: f64,
    /// Test accuracy.
    pub test: f64,
    /// Max IoU of its errors with any trained checkpoint (itself excluded for trained).
    pub max_iou_to_trained: f64,
    /// L2 distance to the nearest trained vector (itself excluded for trained).
    pub l2_to_nearest_trained: f64,
}

/// The full comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Trained checkpoints.
    pub trained: GroupSummary,
    /// Generated members.
    pub generated: GroupSummary,
    /// Noise-added baseline.
    pub noise_added: GroupSummary,
    /// Std of the Gaussian noise of the baseline.
    pub noise_sigma: f64,
    /// Diversity.
    pub diversity: Diversity,
    /// Every member.
    pub members: Vec<MemberRow>,
}

/// Noise std that puts noise-added vectors as far from the trained set as the generated
/// ones are (mean nearest-trained L2 distance spread over P coordinates), so the baseline
/// is compared at equal distance.
pub fn matched_noise_sigma(trained: &Collection, generated: &[f32]) -> f64 {
    let p = trained.layout.len();
    mean(&l2_to_nearest(generated, &trained.params, p)) / (p as f64).sqrt()
}

/// `n` noise-added vectors: trained row `i mod K` plus N(0, σ²) per value.
pub fn noise_added(trained: &Collection, sigma: f64, n: usize, seed: u64) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0, sigma.max(0.0)).expect("finite sigma");
    (0..n)
        .flat_map(|i| trained.row(i % trained.len()).to_vec())
        .map(|v| v + normal.sample(&mut rng) as f32)
        .collect()
}

fn group(scores: &[MemberScore]) -> GroupSummary {
    let val: Vec<f64> = scores.iter().map(|s| s.val).collect();
    let test: Vec<f64> = scores.iter().map(|s| s.test).collect();
    GroupSummary { val: Summary::of(&val), test: Summary::of(&test) }
}

/// Compares generated and noise-added members (already scored) with the trained collection.
pub fn compare(
    trained: &Collection,
    labels: &[u16],
    generated: &[f32],
    generated_scores: &[MemberScore],
    noise: &[f32],
    noise_scores: &[MemberScore],
    noise_sigma: f64,
) -> Comparison {
    let p = trained.layout.len();
    let trained_sets: Vec<ErrorSet> =
        trained.test_predictions.iter().map(|pr| ErrorSet::new(pr, labels)).collect();
    let sets = |scores: &[MemberScore]| -> Vec<ErrorSet> {
        scores.iter().map(|s| ErrorSet::new(&s.test_predictions, labels)).collect()
    };
    let generated_sets = sets(generated_scores);
    let noise_sets = sets(noise_scores);
    let gen_max = max_iou_to(&generated_sets, &trained_sets);
    let noise_max = max_iou_to(&noise_sets, &trained_sets);
    let trained_nn = nearest_neighbour_iou(&trained_sets);
    let gen_l2 = l2_to_nearest(generated, &trained.params, p);
    let noise_l2 = l2_to_nearest(noise, &trained.params, p);
    let trained_l2: Vec<f64> = (0..trained.len())
        .map(|k| {
            let others: Vec<f32> = (0..trained.len())
                .filter(|&j| j != k)
                .flat_map(|j| trained.row(j).to_vec())
                .collect();
            l2_to_nearest(trained.row(k), &others, p)[0]
        })
        .collect();

    let mut members = Vec::new();
    for k in 0..trained.len() {
        members.push(MemberRow {
            source: "trained".into(),
            index: k,
            val: trained.val_accuracy[k],
            test: trained.test_accuracy[k],
            max_iou_to_trained: trained_nn[k],
            l2_to_nearest_trained: trained_l2[k],
        });
    }
    let mut push = |source: &str, scores: &[MemberScore], max: &[f64], l2: &[f64]| {
        for (i, s) in scores.iter().enumerate() {
            members.push(MemberRow {
                source: source.into(),
                index: i,
                val: s.val,
                test: s.test,
                max_iou_to_trained: max[i],
                l2_to_nearest_trained: l2[i],
            });
        }
    };
    push("generated", generated_scores, &gen_max, &gen_l2);
    push("noise_added", noise_scores, &noise_max, &noise_l2);

    Comparison {
        trained: GroupSummary {
            val: Summary::of(&trained.val_accuracy),
            test: Summary::of(&trained.test_accuracy),
        },
        generated: group(generated_scores),
        noise_added: group(noise_scores),
        noise_sigma,
        diversity: Diversity {
            trained_iou_mean: mean_pairwise_iou(&trained_sets),
            generated_iou_mean: mean_pairwise_iou(&generated_sets),
            cross_iou_mean: mean_cross_iou(&generated_sets, &trained_sets),
            max_iou_to_trained_mean: mean(&gen_max),
            noise_max_iou_to_trained_mean: mean(&noise_max),
            trained_nn_iou_mean: mean(&trained_nn),
            generated_l2_to_trained_mean: mean(&gen_l2),
            noise_l2_to_trained_mean: mean(&noise_l2),
        },
        members,
    }
}
