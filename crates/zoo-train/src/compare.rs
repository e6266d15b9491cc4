//! The evidence p-diff is judged by (METHOD §4–5): accuracy of trained, generated and
//! noise-added members side by side, and how different they are (IoU of error sets, L2 to
//! the nearest trained vector).
//!
//! The noise-added baseline is trained vectors plus Gaussian noise whose scale is chosen so
//! that its mean **validation** accuracy equals the generated members' ([`calibrate_sigma`]):
//! the paper's comparison at equal accuracy. The mean, not the median: the median of a few
//! dozen accuracies stays flat over a wide range of σ (BatchNorm affine parameters tolerate
//! noise), so it fixes no scale, while the mean falls steadily and crosses the target once. A second set at the generated members' L2
//! distance from the trained set is scored on the test split only, for the stricter
//! comparison at equal distance. A third baseline, [`interpolations`] between two trained
//! checkpoints, tells generated members that are new from ones that only interpolate the
//! collection (Zeng et al. 2025 found p-diff's members to be mostly that), and a fourth,
//! [`gaussian_fit`], draws from a normal distribution with the collection's mean and
//! covariance: what a generator learns if it learns only the first two moments.

use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Normal, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::bootstrap::{self, MarginInterval};
use crate::collect::Collection;
use crate::drift::{centred, column_mean};
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
    /// Mean max-IoU to the trained set of noise-added members placed at the generated
    /// members' mean L2 distance from the trained set (σ = [`NoiseCalibration::equal_l2_sigma`]).
    #[serde(default)]
    pub noise_equal_l2_max_iou_to_trained_mean: f64,
    /// The max-IoU means again over only the members whose validation accuracy reaches the
    /// trained set's lowest: whether generated members differ from the trained ones at
    /// trained-level accuracy, whatever their weaker tail does to the matched noise.
    #[serde(default)]
    pub at_trained_accuracy: AtTrainedAccuracy,
    /// Mean max-IoU to the trained set of the [`interpolations`] baseline (`None` in files
    /// written before it existed).
    #[serde(default)]
    pub interpolated_max_iou_to_trained_mean: Option<f64>,
    /// Mean max-IoU to the trained set of the [`gaussian_fit`] baseline (`None` in files
    /// written before it existed).
    #[serde(default)]
    pub gaussian_max_iou_to_trained_mean: Option<f64>,
    /// `noise_max_iou_to_trained_mean − max_iou_to_trained_mean` with its bootstrap interval
    /// over test samples and members ([`crate::bootstrap`]; `None` in files written before it).
    #[serde(default)]
    pub margin: Option<MarginInterval>,
    /// The same margin on the **validation** split's error sets: the figure a selection (of
    /// fit seeds, settings) may read, where `margin` (test) is evidence only. `None` in files
    /// written before it, or when the trained checkpoints' validation predictions are unknown.
    #[serde(default)]
    pub validation_margin: Option<MarginInterval>,
}

/// Mean max-IoU to the trained set of the members at trained-level validation accuracy
/// (≥ the lowest trained checkpoint's), per group; `None` where a group has no such member.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct AtTrainedAccuracy {
    /// The validation accuracy threshold (the trained set's minimum).
    pub min_val: f64,
    /// Generated members at or above it.
    pub generated: usize,
    /// Their mean max-IoU to the trained set.
    pub generated_max_iou_mean: Option<f64>,
    /// Noise-added members at or above it.
    pub noise_added: usize,
    /// Their mean max-IoU to the trained set.
    pub noise_max_iou_mean: Option<f64>,
}

impl AtTrainedAccuracy {
    fn new(
        trained_val: &[f64],
        generated: (&[MemberScore], &[f64]),
        noise: (&[MemberScore], &[f64]),
    ) -> Self {
        let min_val = trained_val.iter().copied().fold(f64::INFINITY, f64::min);
        let band = |(scores, max_iou): (&[MemberScore], &[f64])| {
            let kept: Vec<f64> = scores
                .iter()
                .zip(max_iou)
                .filter(|(s, _)| s.val >= min_val)
                .map(|(_, &m)| m)
                .collect();
            (kept.len(), (!kept.is_empty()).then(|| mean(&kept)))
        };
        let (generated, generated_max_iou_mean) = band(generated);
        let (noise_added, noise_max_iou_mean) = band(noise);
        Self { min_val, generated, generated_max_iou_mean, noise_added, noise_max_iou_mean }
    }
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
    /// Interpolation baseline ([`interpolations`]; `None` in files written before it).
    #[serde(default)]
    pub interpolated: Option<GroupSummary>,
    /// Gaussian baseline ([`gaussian_fit`]; `None` in files written before it).
    #[serde(default)]
    pub gaussian: Option<GroupSummary>,
    /// Std of the Gaussian noise of the baseline.
    pub noise_sigma: f64,
    /// How `noise_sigma` was found.
    #[serde(default)]
    pub noise_calibration: NoiseCalibration,
    /// Diversity.
    pub diversity: Diversity,
    /// The validation gate, when one was applied to every group (`None`: ungated draws).
    #[serde(default)]
    pub gate: Option<crate::gate::Gates>,
    /// Every member.
    pub members: Vec<MemberRow>,
}

/// Noise std that puts noise-added vectors as far from the trained set as the generated
/// ones are (mean nearest-trained L2 distance spread over P coordinates).
pub fn matched_noise_sigma(trained: &Collection, generated: &[f32]) -> f64 {
    let p = trained.layout.len();
    mean(&l2_to_nearest(generated, &trained.params, p)) / (p as f64).sqrt()
}

/// The interpolation baseline: `n` vectors (1 − λ)·a + λ·b, each from two distinct trained
/// checkpoints a, b and λ ~ U(0, 1), drawn from `seed` (row-major `[n, P]`). A generator that
/// only interpolates its training checkpoints makes members like these.
///
/// # Panics
/// If the collection has fewer than two checkpoints.
pub fn interpolations(trained: &Collection, n: usize, seed: u64) -> Vec<f32> {
    let k = trained.len();
    assert!(k >= 2, "interpolation needs two checkpoints, the collection has {k}");
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * trained.layout.len());
    for _ in 0..n {
        let a = rng.random_range(0..k);
        let b = (a + rng.random_range(1..k)) % k;
        let lambda: f32 = rng.random();
        out.extend(
            trained.row(a).iter().zip(trained.row(b)).map(|(x, y)| (1.0 - lambda) * x + lambda * y),
        );
    }
    out
}

/// The Gaussian baseline: `n` draws (row-major `[n, P]`, from `seed`) from the normal
/// distribution with the trained collection's mean μ and sample covariance, as
/// μ + Σₖ wₖ (cₖ − μ) / √(K − 1) with w ~ N(0, I_K). The simplest generative model of the
/// checkpoints: the DDPM has learned more than their first two moments only where p-diff's
/// members beat these.
///
/// # Panics
/// If the collection has fewer than two checkpoints.
pub fn gaussian_fit(trained: &Collection, n: usize, seed: u64) -> Vec<f32> {
    let (k, p) = (trained.len(), trained.layout.len());
    assert!(k >= 2, "a covariance needs two checkpoints, the collection has {k}");
    let mean = column_mean(&trained.params, p);
    let centred = centred(&trained.params, p);
    let scale = 1.0 / ((k - 1) as f64).sqrt();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::with_capacity(n * p);
    for _ in 0..n {
        let mut member = mean.clone();
        for row in centred.chunks_exact(p) {
            let w: f64 = rng.sample::<f64, _>(StandardNormal) * scale;
            member.iter_mut().zip(row).for_each(|(m, c)| *m += w * c);
        }
        out.extend(member.iter().map(|v| *v as f32));
    }
    out
}

/// The draws of a noise-added group: member `i` is trained row `parents[i]` plus σ · `z_i`
/// (`z_i` standard normal), so groups at different σ share parents and directions and their
/// accuracy falls smoothly with σ (common random numbers).
#[derive(Debug, Clone)]
pub struct NoiseDirections {
    parents: Vec<usize>,
    z: Vec<f32>,
}

impl NoiseDirections {
    /// `n` members over the K rows of `trained` (parents spread evenly: row ⌊i·K/n⌋).
    pub fn new(trained: &Collection, n: usize, seed: u64) -> Self {
        let (k, p) = (trained.len(), trained.layout.len());
        let mut rng = StdRng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, 1.0).expect("unit normal");
        let parents = (0..n).map(|i| i * k / n.max(1)).collect();
        let z = (0..n * p).map(|_| normal.sample(&mut rng)).collect();
        Self { parents, z }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.parents.len()
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.parents.is_empty()
    }

    /// Members `rows` at noise scale `sigma`, row-major.
    pub fn members(&self, trained: &Collection, sigma: f64, rows: &[usize]) -> Vec<f32> {
        let p = trained.layout.len();
        let mut out = Vec::with_capacity(rows.len() * p);
        for &i in rows {
            let z = &self.z[i * p..(i + 1) * p];
            out.extend(
                trained.row(self.parents[i]).iter().zip(z).map(|(v, z)| v + sigma as f32 * z),
            );
        }
        out
    }

    /// Every member at noise scale `sigma`.
    pub fn all(&self, trained: &Collection, sigma: f64) -> Vec<f32> {
        self.members(trained, sigma, &(0..self.len()).collect::<Vec<_>>())
    }

    /// About `count` members spread evenly over the group, for calibration probes.
    pub fn probe_rows(&self, count: usize) -> Vec<usize> {
        let step = self.len().div_ceil(count.max(1)).max(1);
        (0..self.len()).step_by(step).collect()
    }
}

/// How the noise scale of the baseline was chosen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NoiseCalibration {
    /// Mean validation accuracy of the generated members: what the baseline is matched to.
    pub target_val_mean: f64,
    /// Each probe: `[σ, mean validation accuracy of the probe members]`, in order.
    pub probes: Vec<[f64; 2]>,
    /// The σ that puts noise-added vectors at the generated members' L2 distance.
    pub equal_l2_sigma: f64,
}

/// Bisection rounds of [`calibrate_sigma`] after the bracket is found.
const BISECTIONS: usize = 4;
/// Doublings [`calibrate_sigma`] tries while bracketing from below.
const MAX_DOUBLINGS: usize = 10;
/// Halvings [`calibrate_sigma`] tries while bracketing from above: σ / 16 is as good as no
/// noise, so a target still out of reach there is one no noise level meets.
const MAX_HALVINGS: usize = 4;

/// Finds σ at which `accuracy(σ)` (validation accuracy of noise-added members, falling as σ
/// grows) meets `target`: from `start`, doubles (at most [`MAX_DOUBLINGS`] times) or halves
/// (at most [`MAX_HALVINGS`] times) σ until the target is bracketed, then bisects in log σ.
/// Returns the probed σ nearest the target (the larger on ties) and every probe
/// `[σ, accuracy]`. When even the smallest σ tried stays below the target (generated members
/// beat the trained ones), that σ is returned; when the largest stays above it, the largest.
pub fn calibrate_sigma<E>(
    start: f64,
    target: f64,
    mut accuracy: impl FnMut(f64) -> Result<f64, E>,
) -> Result<(f64, Vec<[f64; 2]>), E> {
    let mut probes: Vec<[f64; 2]> = Vec::new();
    let mut probe = |sigma: f64, probes: &mut Vec<[f64; 2]>| -> Result<bool, E> {
        let a = accuracy(sigma)?;
        probes.push([sigma, a]);
        Ok(a >= target)
    };
    let start = if start.is_finite() && start > 0.0 { start } else { 1e-3 };
    // `low` keeps accuracy ≥ target, `high` falls below it.
    let (mut low, mut high) = (None, None);
    let mut sigma = start;
    let (mut doublings, mut halvings) = (0, 0);
    loop {
        if probe(sigma, &mut probes)? {
            low = Some(sigma);
            if high.is_some() || doublings == MAX_DOUBLINGS {
                break;
            }
            sigma *= 2.0;
            doublings += 1;
        } else {
            high = Some(sigma);
            if low.is_some() || halvings == MAX_HALVINGS {
                break;
            }
            sigma /= 2.0;
            halvings += 1;
        }
    }
    if let (Some(mut lo), Some(mut hi)) = (low, high) {
        for _ in 0..BISECTIONS {
            let mid = (lo * hi).sqrt();
            if probe(mid, &mut probes)? { lo = mid } else { hi = mid }
        }
    }
    let gap = |p: &[f64; 2]| (p[1] - target).abs();
    let best = probes
        .iter()
        .min_by(|a, b| gap(a).total_cmp(&gap(b)).then(b[0].total_cmp(&a[0])))
        .map(|p| p[0])
        .unwrap_or(start);
    Ok((best, probes))
}

fn group(scores: &[MemberScore]) -> GroupSummary {
    let val: Vec<f64> = scores.iter().map(|s| s.val).collect();
    let test: Vec<f64> = scores.iter().map(|s| s.test).collect();
    GroupSummary { val: Summary::of(&val), test: Summary::of(&test) }
}

/// A group of members: their vectors (row-major) and scores.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    /// N × P vectors.
    pub vectors: &'a [f32],
    /// One score per vector.
    pub scores: &'a [MemberScore],
}

/// The noise-added baseline, scored: its members at the calibrated σ, how σ was chosen, and
/// the test predictions of the same directions at `calibration.equal_l2_sigma`.
#[derive(Debug, Clone)]
pub struct NoiseBaseline<'a> {
    /// Members at `sigma`.
    pub members: Scored<'a>,
    /// The σ found by [`calibrate_sigma`].
    pub sigma: f64,
    /// The probes behind `sigma`.
    pub calibration: NoiseCalibration,
    /// Test predictions of the members at the equal-L2 σ.
    pub equal_l2_predictions: &'a [Vec<u16>],
}

/// Compares generated members with the trained collection and the baselines, all already
/// scored: `noise` (see [`NoiseBaseline`]), `interpolated` ([`interpolations`]) and
/// `gaussian` ([`gaussian_fit`]). `labels` are the test split's, `val_labels` the validation
/// split's (read with `trained.val_predictions` for [`Diversity::validation_margin`]).
pub fn compare(
    trained: &Collection,
    labels: &[u16],
    val_labels: &[u16],
    generated: Scored,
    noise: NoiseBaseline,
    interpolated: Scored,
    gaussian: Scored,
) -> Comparison {
    let p = trained.layout.len();
    let trained_sets: Vec<ErrorSet> =
        trained.test_predictions.iter().map(|pr| ErrorSet::new(pr, labels)).collect();
    let sets = |scores: &[MemberScore]| -> Vec<ErrorSet> {
        scores.iter().map(|s| ErrorSet::new(&s.test_predictions, labels)).collect()
    };
    let generated_sets = sets(generated.scores);
    let noise_sets = sets(noise.members.scores);
    let equal_l2_sets: Vec<ErrorSet> =
        noise.equal_l2_predictions.iter().map(|pr| ErrorSet::new(pr, labels)).collect();
    let gen_max = max_iou_to(&generated_sets, &trained_sets);
    let noise_max = max_iou_to(&noise_sets, &trained_sets);
    let interpolated_max = max_iou_to(&sets(interpolated.scores), &trained_sets);
    let gaussian_max = max_iou_to(&sets(gaussian.scores), &trained_sets);
    let trained_nn = nearest_neighbour_iou(&trained_sets);
    let gen_l2 = l2_to_nearest(generated.vectors, &trained.params, p);
    let noise_l2 = l2_to_nearest(noise.members.vectors, &trained.params, p);
    let interpolated_l2 = l2_to_nearest(interpolated.vectors, &trained.params, p);
    let gaussian_l2 = l2_to_nearest(gaussian.vectors, &trained.params, p);
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
    push("generated", generated.scores, &gen_max, &gen_l2);
    push("noise_added", noise.members.scores, &noise_max, &noise_l2);
    push("interpolated", interpolated.scores, &interpolated_max, &interpolated_l2);
    push("gaussian", gaussian.scores, &gaussian_max, &gaussian_l2);

    Comparison {
        trained: GroupSummary {
            val: Summary::of(&trained.val_accuracy),
            test: Summary::of(&trained.test_accuracy),
        },
        generated: group(generated.scores),
        noise_added: group(noise.members.scores),
        interpolated: Some(group(interpolated.scores)),
        gaussian: Some(group(gaussian.scores)),
        noise_sigma: noise.sigma,
        noise_calibration: noise.calibration,
        diversity: Diversity {
            trained_iou_mean: mean_pairwise_iou(&trained_sets),
            generated_iou_mean: mean_pairwise_iou(&generated_sets),
            cross_iou_mean: mean_cross_iou(&generated_sets, &trained_sets),
            max_iou_to_trained_mean: mean(&gen_max),
            noise_max_iou_to_trained_mean: mean(&noise_max),
            trained_nn_iou_mean: mean(&trained_nn),
            generated_l2_to_trained_mean: mean(&gen_l2),
            noise_l2_to_trained_mean: mean(&noise_l2),
            noise_equal_l2_max_iou_to_trained_mean: mean(&max_iou_to(
                &equal_l2_sets,
                &trained_sets,
            )),
            at_trained_accuracy: AtTrainedAccuracy::new(
                &trained.val_accuracy,
                (generated.scores, &gen_max),
                (noise.members.scores, &noise_max),
            ),
            interpolated_max_iou_to_trained_mean: Some(mean(&interpolated_max)),
            gaussian_max_iou_to_trained_mean: Some(mean(&gaussian_max)),
            margin: bootstrap::max_iou_margin(
                &trained_sets,
                &generated_sets,
                &noise_sets,
                labels.len(),
                bootstrap::REPLICATES,
                bootstrap::SEED,
            ),
            validation_margin: validation_margin(
                trained,
                val_labels,
                generated.scores,
                noise.members.scores,
            ),
        },
        gate: None,
        members,
    }
}

/// [`Diversity::validation_margin`]: the bootstrap margin on validation error sets (`None`
/// where a member's validation predictions are missing).
fn validation_margin(
    trained: &Collection,
    labels: &[u16],
    generated: &[MemberScore],
    noise: &[MemberScore],
) -> Option<MarginInterval> {
    fn sets<'a>(rows: impl Iterator<Item = &'a Vec<u16>>, labels: &[u16]) -> Option<Vec<ErrorSet>> {
        rows.map(|pr| (pr.len() == labels.len()).then(|| ErrorSet::new(pr, labels))).collect()
    }
    if trained.val_predictions.len() != trained.len() {
        return None;
    }
    bootstrap::max_iou_margin(
        &sets(trained.val_predictions.iter(), labels)?,
        &sets(generated.iter().map(|s| &s.val_predictions), labels)?,
        &sets(noise.iter().map(|s| &s.val_predictions), labels)?,
        labels.len(),
        bootstrap::REPLICATES,
        bootstrap::SEED,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use zoo_models::{ParamLayout, TensorInfo, TensorKind};

    fn collection(k: usize, p: usize) -> Collection {
        let tensor = TensorInfo { name: "w".into(), shape: vec![p], kind: TensorKind::Param };
        Collection {
            arch: "toy".into(),
            layout: ParamLayout { tensors: vec![tensor] },
            params: (0..k * p).map(|i| i as f32).collect(),
            val_accuracy: vec![0.0; k],
            test_accuracy: vec![0.0; k],
            val_predictions: Vec::new(),
            test_predictions: vec![Vec::new(); k],
            info: serde_json::Value::Null,
        }
    }

    #[test]
    fn interpolations_lie_between_two_distinct_checkpoints_and_follow_the_seed() {
        let (k, p, n) = (5, 6, 40);
        let mut trained = collection(k, p);
        trained.params = (0..k * p).map(|i| ((i / p * 7 + i % p * 3) as f32).sin()).collect();
        let members = interpolations(&trained, n, 9);
        assert_eq!(members.len(), n * p);
        for m in members.chunks(p) {
            let on_a_segment = (0..k).any(|a| {
                (0..k).filter(|&b| b != a).any(|b| {
                    let (ra, rb) = (trained.row(a), trained.row(b));
                    let lambda = (m[0] - ra[0]) / (rb[0] - ra[0]);
                    (-1e-5..=1.0 + 1e-5).contains(&lambda)
                        && (0..p)
                            .all(|j| ((1.0 - lambda) * ra[j] + lambda * rb[j] - m[j]).abs() < 1e-4)
                })
            });
            assert!(on_a_segment, "{m:?} is no interpolation of two checkpoints");
            let copy = (0..k).any(|a| trained.row(a).iter().zip(m).all(|(x, y)| x == y));
            assert!(!copy, "{m:?} copies a checkpoint");
        }
        assert_eq!(members, interpolations(&trained, n, 9));
        assert_ne!(members, interpolations(&trained, n, 10));
    }

    #[test]
    fn gaussian_fit_has_the_collections_mean_and_covariance_and_follows_the_seed() {
        // Rows k·p + j: the checkpoints lie on a line along (1, …, 1), coordinate j's mean is
        // p(K − 1)/2 + j and its sample variance p² K(K + 1)/12.
        let (k, p, n) = (5, 4, 4000);
        let trained = collection(k, p);
        let members = gaussian_fit(&trained, n, 3);
        assert_eq!(members.len(), n * p);
        let offsets: Vec<f64> =
            members.chunks(p).map(|m| m[0] as f64 - p as f64 * (k - 1) as f64 / 2.0).collect();
        for (m, offset) in members.chunks(p).zip(&offsets) {
            for (j, v) in m.iter().enumerate() {
                let on_the_line = *v as f64 - j as f64 - p as f64 * (k - 1) as f64 / 2.0;
                assert!((on_the_line - offset).abs() < 1e-3, "{m:?} leaves the checkpoints' line");
            }
        }
        let mean_offset = mean(&offsets);
        let variance = offsets.iter().map(|o| o * o).sum::<f64>() / n as f64;
        let expected = (p * p) as f64 * (k * (k + 1)) as f64 / 12.0;
        assert!(mean_offset.abs() < 0.1 * expected.sqrt(), "mean off by {mean_offset}");
        assert!((variance / expected - 1.0).abs() < 0.08, "variance {variance} vs {expected}");
        assert_eq!(members, gaussian_fit(&trained, n, 3));
        assert_ne!(members, gaussian_fit(&trained, n, 4));
    }

    #[test]
    fn at_trained_accuracy_keeps_members_reaching_the_lowest_trained_val() {
        let score = |val: f64| MemberScore {
            val,
            test: val,
            val_predictions: Vec::new(),
            test_predictions: Vec::new(),
        };
        let generated = [score(98.0), score(96.0), score(97.5)];
        let noise = [score(90.0)];
        let band =
            AtTrainedAccuracy::new(&[97.5, 99.0], (&generated, &[0.9, 0.1, 0.7]), (&noise, &[0.5]));
        assert_eq!(band.min_val, 97.5);
        assert_eq!(band.generated, 2);
        assert!((band.generated_max_iou_mean.unwrap() - 0.8).abs() < 1e-12);
        assert_eq!((band.noise_added, band.noise_max_iou_mean), (0, None));
    }

    #[test]
    fn validation_margin_reads_validation_predictions_and_needs_the_trained_ones() {
        let labels = vec![0u16; 40];
        // Wrong (1) on samples `errors`, right elsewhere.
        let predictions = |errors: std::ops::Range<usize>| -> Vec<u16> {
            (0..labels.len()).map(|i| u16::from(errors.contains(&i))).collect()
        };
        let member = |errors| MemberScore {
            val: 75.0,
            test: 75.0,
            val_predictions: predictions(errors),
            test_predictions: Vec::new(),
        };
        let mut trained = collection(3, 2);
        trained.val_predictions = vec![predictions(0..20); 3];
        // Generated members copy the trained errors (max IoU 1), noise errs elsewhere (0);
        // half the samples are errors, so no replicate misses them all.
        let generated = vec![member(0..20); 4];
        let noise = vec![member(20..40); 4];
        let m = validation_margin(&trained, &labels, &generated, &noise).unwrap();
        assert_eq!((m.margin, m.low, m.high), (-1.0, -1.0, -1.0));
        let swapped = validation_margin(&trained, &labels, &noise, &generated).unwrap();
        assert_eq!(swapped.margin, 1.0);
        // Unknown validation predictions (older files) give no margin rather than a wrong one.
        let mut older = trained.clone();
        older.val_predictions.clear();
        assert!(validation_margin(&older, &labels, &generated, &noise).is_none());
        let mut short = generated.clone();
        short[1].val_predictions.clear();
        assert!(validation_margin(&trained, &labels, &short, &noise).is_none());
    }

    #[test]
    fn calibration_meets_a_monotone_target_and_records_every_probe() {
        let mut calls = 0;
        let (sigma, probes) = calibrate_sigma(0.1, 95.0, |s| {
            calls += 1;
            Ok::<_, ()>(100.0 - 10.0 * s)
        })
        .unwrap();
        assert!((sigma - 0.5).abs() < 0.02, "σ {sigma}");
        assert_eq!(probes.len(), calls);
        assert_eq!(probes.len(), 4 + BISECTIONS, "0.1, 0.2, 0.4, 0.8, then bisections");
        assert!(probes.iter().all(|[s, a]| (a - (100.0 - 10.0 * s)).abs() < 1e-12));
    }

    #[test]
    fn calibration_from_above_and_unreachable_targets() {
        // Start too large: halves until the accuracy reaches the target.
        let (sigma, _) = calibrate_sigma(8.0, 95.0, |s| Ok::<_, ()>(100.0 - 10.0 * s)).unwrap();
        assert!((sigma - 0.5).abs() < 0.02, "σ {sigma}");
        // Generated better than any noise: the smallest σ tried.
        let (sigma, probes) = calibrate_sigma(1.0, 101.0, |s| Ok::<_, ()>(100.0 - s)).unwrap();
        assert_eq!(probes.len(), MAX_HALVINGS + 1);
        assert_eq!(sigma, 1.0 / 16.0);
        // Ties (accuracy flat at the target's distance) go to the larger σ.
        let (sigma, _) = calibrate_sigma(1.0, 101.0, |_| Ok::<_, ()>(100.0)).unwrap();
        assert_eq!(sigma, 1.0);
        // A non-positive start (all generated vectors on the trained ones) still probes.
        let (sigma, _) = calibrate_sigma(0.0, 95.0, |s| Ok::<_, ()>(100.0 - 10.0 * s)).unwrap();
        assert!((sigma - 0.5).abs() < 0.03, "σ {sigma}");
        // Errors of a probe stop the calibration.
        assert_eq!(calibrate_sigma(1.0, 90.0, |_| Err::<f64, _>("splice")), Err("splice"));
    }

    #[test]
    fn noise_directions_are_shared_across_scales() {
        let trained = collection(10, 3);
        let directions = NoiseDirections::new(&trained, 5, 7);
        assert_eq!(directions.len(), 5);
        // σ = 0 gives the parents, spread evenly over the trained rows.
        let parents: Vec<f32> =
            [0, 2, 4, 6, 8].iter().flat_map(|&k| trained.row(k).to_vec()).collect();
        assert_eq!(directions.all(&trained, 0.0), parents);
        // The displacement is linear in σ, with the same direction at every scale.
        let one = directions.all(&trained, 1.0);
        let half = directions.all(&trained, 0.5);
        for ((a, b), p) in one.iter().zip(&half).zip(&parents) {
            assert!(((a - p) - 2.0 * (b - p)).abs() < 1e-5);
        }
        assert_eq!(directions.members(&trained, 1.0, &[3]), one[9..12].to_vec());
        assert_eq!(directions.probe_rows(2), vec![0, 3]);
        assert_eq!(NoiseDirections::new(&trained, 5, 7).all(&trained, 1.0), one, "seeded");
    }
}
