//! A realistic synthetic zoo for tests and the demo: members are simulated error sets on a
//! test split, so accuracies, IoU figures and the similarity matrix are mutually consistent.
//!
//! Model: each test item has a difficulty `s_i ~ N(0, 1)`; a member errs on item i when
//! `s_i + sigma * z_mi > threshold`. Trained checkpoints share a small sigma (they come from
//! one training run), generated members a larger one (p-diff finds new minima), and a
//! noise-added member is a trained one whose scores get extra noise and a lower threshold.

#![allow(dead_code)]

use std::collections::BTreeMap;

use zoo_report::{
    Accuracy, ArchDetail, CreatedBy, Diversity, Ensemble, EnsembleAccuracy, Group, GroupStats,
    Manifest, Margin, Member, OrtCheck, Point, RecipeRef, ReportInput, SimilarityMatrix, Source,
    ZOO_WIDE,
};

/// SplitMix64 with Box–Muller normals.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn normal(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

/// One architecture's simulation settings.
pub struct ArchSpec {
    pub arch: &'static str,
    pub family: &'static str,
    pub params: u64,
    /// Error rate of the trained checkpoints (fraction).
    pub error_rate: f64,
    pub k: usize,
    pub n: usize,
    pub sigma_trained: f64,
    pub sigma_generated: f64,
    /// Extra error rate of generated members (fraction; small).
    pub generated_penalty: f64,
    /// Noise-added: extra noise and extra error rate.
    pub noise_sigma: f64,
    pub noise_penalty: f64,
}

/// The three families at small size, as in `zoo/mnist-quick.toml`.
pub fn specs(k: usize, n: usize) -> Vec<ArchSpec> {
    vec![
        ArchSpec {
            arch: "resnet8",
            family: "resnet",
            params: 78_042,
            error_rate: 0.024,
            k,
            n,
            sigma_trained: 0.18,
            sigma_generated: 0.42,
            generated_penalty: 0.002,
            noise_sigma: 0.12,
            noise_penalty: 0.012,
        },
        ArchSpec {
            arch: "vit-micro",
            family: "vit",
            params: 215_306,
            error_rate: 0.061,
            k,
            n,
            sigma_trained: 0.2,
            sigma_generated: 0.38,
            generated_penalty: 0.004,
            noise_sigma: 0.15,
            noise_penalty: 0.03,
        },
        ArchSpec {
            arch: "convnext-micro",
            family: "convnext",
            params: 180_650,
            error_rate: 0.043,
            k,
            n,
            sigma_trained: 0.22,
            sigma_generated: 0.2,
            generated_penalty: 0.02,
            noise_sigma: 0.1,
            noise_penalty: 0.006,
        },
    ]
}

const TEST_ITEMS: usize = 1000;

struct Sim {
    id: String,
    errors: Vec<bool>,
    val: f64,
}

impl Sim {
    fn test(&self) -> f64 {
        100.0 * (1.0 - self.errors.iter().filter(|&&e| e).count() as f64 / self.errors.len() as f64)
    }
}

fn iou(a: &[bool], b: &[bool]) -> f64 {
    let (mut inter, mut union) = (0usize, 0usize);
    for (&x, &y) in a.iter().zip(b) {
        inter += usize::from(x && y);
        union += usize::from(x || y);
    }
    if union == 0 { 1.0 } else { inter as f64 / union as f64 }
}

/// Threshold for an error rate `p` on N(0, 1 + sigma^2) scores (inverse normal, bisection).
fn threshold(p: f64, sigma: f64) -> f64 {
    let sd = (1.0 + sigma * sigma).sqrt();
    let tail = |t: f64| 0.5 * erfc(t / sd / std::f64::consts::SQRT_2);
    let (mut lo, mut hi) = (-6.0, 6.0);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if tail(mid) > p { lo = mid } else { hi = mid }
    }
    0.5 * (lo + hi)
}

fn erfc(x: f64) -> f64 {
    // Numerical Recipes erfcc, |error| < 1.2e-7.
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let r = t
        * (-z * z - 1.265_512_23
            + t * (1.000_023_68
                + t * (0.374_091_96
                    + t * (0.096_784_18
                        + t * (-0.186_288_06
                            + t * (0.278_868_07
                                + t * (-1.135_203_98
                                    + t * (1.488_515_87
                                        + t * (-0.822_152_23 + t * 0.170_872_77)))))))))
            .exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

struct ArchSim {
    trained: Vec<Sim>,
    generated: Vec<Sim>,
    noise: Vec<Sim>,
}

fn simulate(spec: &ArchSpec, rng: &mut Rng) -> ArchSim {
    let s: Vec<f64> = (0..TEST_ITEMS).map(|_| rng.normal()).collect();
    let tag = |g: &str, i: usize| format!("{}.{g}{i:03}", spec.arch);
    let member = |rng: &mut Rng, id: String, sigma: f64, p: f64, base: Option<&[f64]>| {
        let thr = threshold(p, sigma);
        let z: Vec<f64> = (0..TEST_ITEMS).map(|_| rng.normal()).collect();
        let errors: Vec<bool> = (0..TEST_ITEMS)
            .map(|i| match base {
                Some(b) => b[i] + spec.noise_sigma * z[i] > thr,
                None => s[i] + sigma * z[i] > thr,
            })
            .collect();
        let val = 100.0 * (1.0 - p) + 0.35 * rng.normal();
        (Sim { id, errors, val }, z)
    };
    let mut trained = Vec::new();
    let mut trained_scores = Vec::new();
    for k in 0..spec.k {
        let (sim, z) = member(rng, tag("c", k), spec.sigma_trained, spec.error_rate, None);
        trained_scores
            .push((0..TEST_ITEMS).map(|i| s[i] + spec.sigma_trained * z[i]).collect::<Vec<_>>());
        trained.push(sim);
    }
    let generated = (0..spec.n)
        .map(|g| {
            let p = spec.error_rate + spec.generated_penalty * rng.uniform() * 2.0;
            member(rng, tag("g", g), spec.sigma_generated, p, None).0
        })
        .collect();
    let noise = (0..spec.n)
        .map(|g| {
            let parent = &trained_scores[g % spec.k];
            let p = spec.error_rate + spec.noise_penalty * (0.3 + 1.4 * rng.uniform());
            // The parent's scores already carry sigma_trained; the threshold sees both.
            let sigma = (spec.sigma_trained.powi(2) + spec.noise_sigma.powi(2)).sqrt();
            member(rng, tag("n", g), sigma, p, Some(parent)).0
        })
        .collect();
    ArchSim { trained, generated, noise }
}

fn max_iou(of: &Sim, to: &[Sim]) -> f64 {
    to.iter().filter(|t| t.id != of.id).map(|t| iou(&of.errors, &t.errors)).fold(0.0, f64::max)
}

fn mean_pairwise(a: &[Sim], b: &[Sim], same: bool) -> f64 {
    let (mut sum, mut n) = (0.0, 0usize);
    for (i, x) in a.iter().enumerate() {
        for (j, y) in b.iter().enumerate() {
            if same && j <= i {
                continue;
            }
            sum += iou(&x.errors, &y.errors);
            n += 1;
        }
    }
    if n == 0 { 0.0 } else { sum / n as f64 }
}

fn hex(rng: &mut Rng) -> String {
    (0..4).map(|_| format!("{:016x}", rng.next_u64())).collect()
}

/// A whole synthetic zoo: `k` trained, `n` generated and `n` noise-added per architecture,
/// the best `export` of each group exported as members, two ensembles per architecture.
pub fn synthetic_input(k: usize, n: usize, export: usize, seed: u64) -> ReportInput {
    let mut rng = Rng::new(seed);
    let recipe = RecipeRef { name: "mnist-quick".into(), sha256: hex(&mut rng) };
    let created_by = CreatedBy {
        tool: "pdiff-zoo".into(),
        command: "run zoo/mnist-quick.toml".into(),
        created_at: Some("2026-11-25T09:12:00Z".into()),
    };
    let mut manifest = Manifest::new("mnist-quick", recipe, created_by);
    let mut archs = Vec::new();
    let mut zoo_wide = BTreeMap::new();
    zoo_wide.insert("report".to_string(), 1.8);
    zoo_wide.insert("ensemble".to_string(), 6.4);
    manifest.timings.insert(ZOO_WIDE.into(), zoo_wide);
    for spec in specs(k, n) {
        let sim = simulate(&spec, &mut rng);
        let points = |group: &[Sim]| -> Vec<Point> {
            group
                .iter()
                .map(|m| Point {
                    id: m.id.clone(),
                    val: m.val,
                    test: m.test(),
                    max_iou_to_trained: max_iou(m, &sim.trained),
                })
                .collect()
        };
        let (trained, generated, noise_added) =
            (points(&sim.trained), points(&sim.generated), points(&sim.noise));
        let mean = |p: &[Point]| {
            p.iter().map(|x| x.max_iou_to_trained).sum::<f64>() / p.len().max(1) as f64
        };
        let diversity = Diversity {
            trained_iou_mean: mean_pairwise(&sim.trained, &sim.trained, true),
            generated_iou_mean: mean_pairwise(&sim.generated, &sim.generated, true),
            cross_iou_mean: mean_pairwise(&sim.generated, &sim.trained, false),
            max_iou_to_trained_mean: mean(&generated),
            noise_max_iou_to_trained_mean: mean(&noise_added),
            trained_nn_iou_mean: mean(&trained),
            noise_equal_l2_max_iou_to_trained_mean: None,
            generated_max_iou_at_trained_accuracy: Some(0.7),
            noise_max_iou_at_trained_accuracy: None,
            interpolated_max_iou_to_trained_mean: Some(0.993),
            gaussian_max_iou_to_trained_mean: Some(0.961),
            margin_interval: Some([-0.02, 0.05]),
            validation_margin: Some(Margin { margin: 0.01, low: -0.03, high: 0.06 }),
        };

        // Export the best `export` of trained and generated by validation accuracy.
        let mut exported = Vec::new();
        for (source, group) in [(Source::Trained, &trained), (Source::Generated, &generated)] {
            let mut order: Vec<&Point> = group.iter().collect();
            order.sort_by(|a, b| b.val.total_cmp(&a.val));
            for p in order.into_iter().take(export) {
                let diff = 10f64.powf(-5.5 + 0.6 * rng.normal());
                manifest.members.push(Member {
                    id: p.id.clone(),
                    arch: spec.arch.into(),
                    family: spec.family.into(),
                    source,
                    onnx: format!("{}/{}.onnx", spec.arch, p.id),
                    sha256: hex(&mut rng),
                    params: spec.params,
                    accuracy: Accuracy { val: p.val, test: p.test },
                    ort: OrtCheck { test: p.test, max_abs_diff: diff, argmax_agreement: 100.0 },
                });
                exported.push((source, p.id.clone(), p.test));
            }
        }
        for (tag, source) in
            [("ens_trained", Source::Trained), ("ens_generated", Source::Generated)]
        {
            let members: Vec<&(Source, String, f64)> =
                exported.iter().filter(|e| e.0 == source).take(5).collect();
            if members.is_empty() {
                continue;
            }
            let accs = GroupStats::from_values(members.iter().map(|e| e.2));
            let gain = if source == Source::Generated { 0.45 } else { 0.2 };
            manifest.ensembles.push(Ensemble {
                id: format!("{}.{tag}{}", spec.arch, members.len()),
                onnx: format!("{}/ensembles/{}.{tag}{}.onnx", spec.arch, spec.arch, members.len()),
                sha256: Some(hex(&mut rng)),
                members: members.iter().map(|e| e.1.clone()).collect(),
                accuracy: EnsembleAccuracy {
                    test: accs.best + gain,
                    best_member: Some(accs.best),
                    median_member: Some(accs.median),
                },
            });
        }

        // Similarity matrix of a subset: up to 10 of each group.
        let take = 10;
        let subset: Vec<(Group, &Sim)> = [
            (Group::Trained, &sim.trained),
            (Group::Generated, &sim.generated),
            (Group::NoiseAdded, &sim.noise),
        ]
        .into_iter()
        .flat_map(|(g, v)| v.iter().take(take).map(move |m| (g, m)))
        .collect();
        let similarity = SimilarityMatrix {
            labels: subset
                .iter()
                .map(|(_, m)| {
                    m.id.trim_start_matches(spec.arch).trim_start_matches('.').to_string()
                })
                .collect(),
            groups: subset.iter().map(|(g, _)| *g).collect(),
            values: subset
                .iter()
                .map(|(_, a)| subset.iter().map(|(_, b)| iou(&a.errors, &b.errors)).collect())
                .collect(),
        };
        let scale = spec.params as f64 / 78_042.0;
        let stage_times: BTreeMap<String, f64> = [
            ("train", 48.0 * scale),
            ("collect", 61.0 * scale),
            ("fit", 212.0),
            ("sample", 23.0 * scale),
            ("export", 3.1),
            ("verify", 4.7 * scale),
        ]
        .into_iter()
        .map(|(s, t)| (s.to_string(), t))
        .collect();
        manifest.timings.insert(spec.arch.into(), stage_times);
        let detail = ArchDetail {
            arch: spec.arch.into(),
            trained,
            generated,
            noise_added,
            similarity: Some(similarity),
        };
        manifest.summary.insert(spec.arch.into(), detail.summary(diversity));
        archs.push(detail);
    }
    ReportInput { manifest, archs }
}
