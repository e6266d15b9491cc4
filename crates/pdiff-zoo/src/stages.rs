//! The compute stages shared by the single-stage commands (`train`, `collect`, `fit`, `sample`)
//! and the pipeline (`run`): each takes resolved settings, does its work and writes its output
//! atomically. Argument parsing and printing stay in the commands.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use indicatif::ProgressBar;
use pdiff::{FittedPdiff, Layout, PdiffConfig, Sampler};
use serde::{Deserialize, Serialize};
use zoo_data::{Dataset, Split};
use zoo_models::{ArchSpec, Model};
use zoo_train::collect::{CollectConfig, Collection, collect};
use zoo_train::compare::{
    Comparison, NoiseBaseline, NoiseCalibration, NoiseDirections, Scored, calibrate_sigma, compare,
    gaussian_fit, interpolations, matched_noise_sigma,
};
use zoo_train::drift::{Drift, centred};
use zoo_train::gate::{GateReport, Gates, gated_draw, round_seed};
use zoo_train::members::{MemberBase, MemberScore};
use zoo_train::metrics::{ErrorSet, Summary, max_iou_to, mean, nearest_neighbour_iou};
use zoo_train::prefix::cut_for;
use zoo_train::{Evaluation, ModelCard, PrefixCache, Tensors, TrainConfig, save_model, train};

/// Trains `spec` on `data` from scratch, or fine-tunes `base` (built as `spec`), and saves
/// weights and card to `output` (card beside it as .json).
#[allow(clippy::too_many_arguments)]
pub fn train_base(
    spec: &ArchSpec,
    base: Option<Model>,
    data: &Dataset,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    output: &Path,
    bar: &ProgressBar,
) -> Result<ModelCard> {
    let outcome = match base {
        None => train(spec, data, config, seed, device, bar)?,
        Some(model) => zoo_train::fine_tune(spec, model, data, config, seed, device, bar)?,
    };
    let card = ModelCard {
        schema: zoo_train::store::CARD_SCHEMA,
        arch: spec.clone(),
        dataset: data.info.clone(),
        val_accuracy: outcome.val.accuracy,
        test_accuracy: outcome.test.accuracy,
        seed,
        training: serde_json::json!({ "config": config, "history": outcome.history }),
        seconds: outcome.seconds,
        pdiff_zoo_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    save_model(output, &outcome.model, &card)?;
    Ok(card)
}

/// Collects checkpoints of the selected parameters of `model` (saved at `model_path`) and
/// writes them to `output`. Returns the collection and its spread report.
#[allow(clippy::too_many_arguments)]
pub fn collect_checkpoints(
    model_path: &Path,
    model: &Model,
    card: &ModelCard,
    data: &Dataset,
    config: &CollectConfig,
    seed: u64,
    device: &Device,
    output: &Path,
    bar: &ProgressBar,
) -> Result<(Collection, serde_json::Value)> {
    if output == model_path {
        bail!("output {} would overwrite the model", output.display());
    }
    config.validate()?;
    let mut collection = collect(&card.arch.name, model, data, config, seed, device, bar)?;
    collection.info["base_model"] = serde_json::json!(model_path);
    let report = spread_report(&collection, &data.test.labels);
    collection.save(output)?;
    Ok((collection, report))
}

/// How far a collection spreads (L2 to the mean vector, nearest-neighbour IoU of errors) and
/// in how many directions ([`Drift`]).
pub fn spread_report(collection: &Collection, labels: &[u16]) -> serde_json::Value {
    let p = collection.layout.len();
    let k = collection.len();
    let to_centre: Vec<f64> = centred(&collection.params, p)
        .chunks(p)
        .map(|row| row.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let sets: Vec<ErrorSet> =
        collection.test_predictions.iter().map(|pred| ErrorSet::new(pred, labels)).collect();
    let first_last = collection.row(0).iter().zip(collection.row(k - 1));
    serde_json::json!({
        "checkpoints": k,
        "values": p,
        "val": Summary::of(&collection.val_accuracy),
        "test": Summary::of(&collection.test_accuracy),
        "l2_to_mean": mean(&to_centre),
        "l2_first_last": first_last.map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt(),
        "trained_nn_iou_mean": mean(&nearest_neighbour_iou(&sets)),
        "iou_first_last": sets[0].iou(&sets[k - 1]),
        "drift": Drift::of(&collection.params, p),
    })
}

/// The layout of a collection in the method crate's terms.
pub fn pdiff_layout(collection: &Collection) -> Layout {
    Layout::from_shapes(collection.layout.tensors.iter().map(|t| (t.name.clone(), t.shape.clone())))
}

/// Fits the autoencoder and the latent DDPM to `collection` and saves them to `output`.
pub fn fit_collection(
    collection: &Collection,
    config: &PdiffConfig,
    seed: u64,
    device: &Device,
    output: &Path,
    bar: &ProgressBar,
) -> Result<FittedPdiff> {
    config.validate()?;
    let fitted =
        pdiff::fit(&collection.params, &pdiff_layout(collection), config, device, seed, bar)?;
    fitted.save(output)?;
    Ok(fitted)
}

/// Settings of the generation stage.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GenerateSettings {
    /// Members to draw.
    pub count: usize,
    /// Sampler of the latents.
    pub sampler: Sampler,
    /// Seed of the sampler (the noise-added baseline uses `seed + 1`, the interpolation
    /// baseline `seed + 2`, the Gaussian baseline `seed + 3`; later gate rounds derive theirs
    /// with [`round_seed`]).
    pub seed: u64,
    /// The validation gate ([`zoo_train::gate`]): keep only members, generated and baseline
    /// alike, whose validation accuracy reaches the trained set's lowest, drawing again until
    /// `count` pass; the noise scale is then matched on the gated groups.
    #[serde(default)]
    pub gate: bool,
}

/// Noise-added members evaluated per calibration probe (on the validation split only).
const NOISE_PROBE_MEMBERS: usize = 25;

impl GenerateSettings {
    /// The validation accuracy a member must reach: the trained set's lowest with the gate,
    /// none without.
    fn gate_threshold(&self, trained: &Collection) -> f64 {
        if self.gate {
            trained.val_accuracy.iter().copied().fold(f64::INFINITY, f64::min)
        } else {
            f64::NEG_INFINITY
        }
    }

    /// Seed of the noise-added baseline.
    fn noise_seed(&self) -> u64 {
        self.seed.wrapping_add(1)
    }

    /// Seed of the interpolation baseline.
    fn interpolation_seed(&self) -> u64 {
        self.seed.wrapping_add(2)
    }

    /// Seed of the Gaussian baseline.
    fn gaussian_seed(&self) -> u64 {
        self.seed.wrapping_add(3)
    }
}

/// Generated members, the noise-added baseline and their comparison with the trained ones.
pub struct Generation {
    /// The N generated vectors with their scores (a collection of the same layout).
    pub generated: Collection,
    /// The noise-added baseline (trained vectors + Gaussian noise), scored.
    pub noise: Collection,
    /// Trained vs generated vs noise-added: accuracy summaries and diversity.
    pub comparison: Comparison,
    /// Seconds spent sampling (decoding included).
    pub sample_seconds: f64,
    /// Seconds spent splicing and evaluating all members.
    pub evaluate_seconds: f64,
}

/// Draws `settings.count` members from `fitted`, splices each into `model`, evaluates them
/// with shared-prefix evaluation and compares them with `trained` and a noise-added baseline
/// of the same size.
pub fn generate(
    fitted: &FittedPdiff,
    trained: &Collection,
    model: &Model,
    data: &Dataset,
    settings: &GenerateSettings,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Generation> {
    if settings.count == 0 {
        bail!("the number of generated members must be at least 1");
    }
    if fitted.layout().len() != trained.layout.len() {
        bail!(
            "the fit is for vectors of {} values, the collection has {}",
            fitted.layout().len(),
            trained.layout.len()
        );
    }
    let started = Instant::now();
    let n = settings.count;
    let scorer = Scorer::new(model, trained, data, device, bar)?;
    let with_val;
    let trained = if trained.val_predictions.len() == trained.len() {
        trained
    } else {
        // A collection written before validation predictions were stored: score them once.
        bar.inc_length(trained.len() as u64);
        with_val =
            Collection { val_predictions: scorer.val_predictions(trained)?, ..trained.clone() };
        &with_val
    };
    let test = scorer.prefix(&data.test, data, device);
    let min_val = settings.gate_threshold(trained);
    // Each group: validation for every draw, test for the kept; equal-L2 noise: test only.
    bar.set_length(9 * n as u64);
    let gated = |draw: &mut dyn FnMut(usize, usize) -> Result<Vec<f32>>| {
        scorer.gated_group(n, min_val, &test, draw)
    };

    let mut sample_seconds = 0.0;
    let generated = gated(&mut |round, m| {
        let started = Instant::now();
        let vectors = fitted.sample(m, settings.sampler, round_seed(settings.seed, round))?;
        sample_seconds += started.elapsed().as_secs_f64();
        Ok(vectors)
    })?;

    // The noise-added baseline at the generated members' mean validation accuracy (both
    // after the gate, when there is one).
    let target = mean(&generated.scores.iter().map(|s| s.val).collect::<Vec<_>>());
    let directions = NoiseDirections::new(trained, n, settings.noise_seed());
    let equal_l2_sigma = matched_noise_sigma(trained, &generated.vectors);
    let probe_rows = directions.probe_rows(NOISE_PROBE_MEMBERS);
    bar.set_message("calibrating the noise-added baseline");
    let (sigma, probes) = calibrate_sigma(equal_l2_sigma, target, |sigma| {
        bar.inc_length(probe_rows.len() as u64);
        let accuracies = scorer.val_accuracies(&directions.members(trained, sigma, &probe_rows))?;
        let passed: Vec<f64> = accuracies.into_iter().filter(|&a| a >= min_val).collect();
        // The gated mean; a probe where nothing passes sits at the threshold.
        Ok::<f64, anyhow::Error>(if passed.is_empty() { min_val } else { mean(&passed) })
    })?;
    bar.set_message("");
    let noise_seed = settings.noise_seed();
    let noise = gated(&mut |round, m| {
        Ok(NoiseDirections::new(trained, m, round_seed(noise_seed, round)).all(trained, sigma))
    })?;
    let equal_l2_predictions: Vec<Vec<u16>> = scorer
        .evaluate(&directions.all(trained, equal_l2_sigma), &test)?
        .into_iter()
        .map(|e| e.predictions)
        .collect();
    let interpolation_seed = settings.interpolation_seed();
    let interpolated = gated(&mut |round, m| {
        Ok(interpolations(trained, m, round_seed(interpolation_seed, round)))
    })?;
    let gaussian_seed = settings.gaussian_seed();
    let gaussian =
        gated(&mut |round, m| Ok(gaussian_fit(trained, m, round_seed(gaussian_seed, round))))?;
    let evaluate_seconds = started.elapsed().as_secs_f64() - sample_seconds;
    let mut comparison = compare(
        trained,
        &data.test.labels,
        &data.val.labels,
        generated.scored(),
        NoiseBaseline {
            members: noise.scored(),
            sigma,
            calibration: NoiseCalibration { target_val_mean: target, probes, equal_l2_sigma },
            equal_l2_predictions: &equal_l2_predictions,
        },
        interpolated.scored(),
        gaussian.scored(),
    );
    comparison.gate = settings.gate.then_some(Gates {
        min_val,
        generated: generated.gate,
        noise_added: noise.gate,
        interpolated: interpolated.gate,
        gaussian: gaussian.gate,
    });
    let as_collection = |group: ScoredGroup, info| {
        let val_accuracy = group.scores.iter().map(|s| s.val).collect();
        let test_accuracy = group.scores.iter().map(|s| s.test).collect();
        let (val_predictions, test_predictions) =
            group.scores.into_iter().map(|s| (s.val_predictions, s.test_predictions)).unzip();
        Collection {
            arch: trained.arch.clone(),
            layout: trained.layout.clone(),
            params: group.vectors,
            val_accuracy,
            test_accuracy,
            val_predictions,
            test_predictions,
            info,
        }
    };
    let info = |source: &str| {
        serde_json::json!({
            "source": source, "sampler": format!("{:?}", settings.sampler),
            "seed": settings.seed, "noise_seed": settings.noise_seed(), "noise_sigma": sigma,
            "gate": settings.gate, "gate_min_val": min_val,
        })
    };
    Ok(Generation {
        generated: as_collection(generated, info("generated")),
        noise: as_collection(noise, info("noise_added")),
        comparison,
        sample_seconds,
        evaluate_seconds,
    })
}

/// Threads for member evaluation: one network copy per core.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What splice errors of generated and baseline members say.
const SPLICE: &str = "splicing generated parameters into the network";

/// Scores members of one frozen network on cached prefix activations (the validation split's
/// held, others on request), one tick of `bar` per member and split.
struct Scorer<'a> {
    base: MemberBase<'a>,
    cut: usize,
    val: PrefixCache,
    threads: usize,
    bar: &'a ProgressBar,
}

/// A drawn group after the gate: its vectors, their scores and what the gate did.
struct ScoredGroup {
    vectors: Vec<f32>,
    scores: Vec<MemberScore>,
    gate: GateReport,
}

impl ScoredGroup {
    fn scored(&self) -> Scored<'_> {
        Scored { vectors: &self.vectors, scores: &self.scores }
    }
}

impl<'a> Scorer<'a> {
    /// Caches the prefix activations of `model` before the first layer of `trained`'s layout
    /// on the validation split.
    fn new(
        model: &'a Model,
        trained: &'a Collection,
        data: &Dataset,
        device: &Device,
        bar: &'a ProgressBar,
    ) -> Result<Self> {
        let cut = cut_for(model, &trained.layout, &trained.arch)?;
        let val = PrefixCache::new(model, &Tensors::new(&data.val, &data.info), cut, device);
        let base = MemberBase { arch: &trained.arch, model, layout: &trained.layout };
        Ok(Self { base, cut, val, threads: threads(), bar })
    }

    /// The prefix activations of another split (members are scored on validation and test
    /// only: never a prefix pass over the training split).
    fn prefix(&self, split: &Split, data: &Dataset, device: &Device) -> PrefixCache {
        PrefixCache::new(self.base.model, &Tensors::new(split, &data.info), self.cut, device)
    }

    fn evaluate(&self, vectors: &[f32], split: &PrefixCache) -> Result<Vec<Evaluation>> {
        let evaluations = self
            .base
            .evaluate(vectors, &[split], self.threads, |_| self.bar.inc(1))
            .context(SPLICE)?;
        Ok(evaluations.into_iter().map(|mut e| e.remove(0)).collect())
    }

    /// Validation accuracy of each row of `vectors`.
    fn val_accuracies(&self, vectors: &[f32]) -> Result<Vec<f64>> {
        Ok(self.evaluate(vectors, &self.val)?.iter().map(|e| e.accuracy).collect())
    }

    /// Validation predictions of each member of `members`: stored ones where the collection
    /// has them, otherwise evaluated.
    fn val_predictions(&self, members: &Collection) -> Result<Vec<Vec<u16>>> {
        if members.val_predictions.len() == members.len() {
            return Ok(members.val_predictions.clone());
        }
        Ok(self.evaluate(&members.params, &self.val)?.into_iter().map(|e| e.predictions).collect())
    }

    /// Draws a group of `count` through the gate at `min_val` ([`gated_draw`]; rounds after
    /// the first lengthen the bar) and scores the kept members on `test`.
    fn gated_group(
        &self,
        count: usize,
        min_val: f64,
        test: &PrefixCache,
        draw: &mut dyn FnMut(usize, usize) -> Result<Vec<f32>>,
    ) -> Result<ScoredGroup> {
        let p = self.base.layout.len();
        let draw = |round, m| {
            if round > 0 {
                self.bar.inc_length(2 * m as u64);
            }
            draw(round, m)
        };
        let gated = gated_draw(count, p, min_val, draw, |v| self.evaluate(v, &self.val))?;
        let scores = self
            .evaluate(&gated.vectors, test)?
            .into_iter()
            .zip(gated.val)
            .map(|(t, v)| MemberScore {
                val: v.accuracy,
                test: t.accuracy,
                val_predictions: v.predictions,
                test_predictions: t.predictions,
            })
            .collect();
        Ok(ScoredGroup { vectors: gated.vectors, scores, gate: gated.report })
    }
}

/// For each generated member, the max IoU of its **validation** errors with any trained
/// checkpoint's: the similarity members may be selected on (the test-split figures of the
/// comparison are evidence, never a selection criterion).
pub fn val_max_iou_to_trained(
    trained: &Collection,
    generated: &Collection,
    model: &Model,
    data: &Dataset,
    device: &Device,
) -> Result<Vec<f64>> {
    let bar = ProgressBar::hidden();
    let scorer = Scorer::new(model, trained, data, device, &bar)?;
    let error_sets = |members: &Collection| -> Result<Vec<ErrorSet>> {
        let predictions = scorer.val_predictions(members)?;
        Ok(predictions.iter().map(|pr| ErrorSet::new(pr, &data.val.labels)).collect())
    };
    Ok(max_iou_to(&error_sets(generated)?, &error_sets(trained)?))
}

/// Loads a trained model and checks that a collection belongs to it.
pub fn load_model_for(
    model_path: &Path,
    collection: &Collection,
    device: &Device,
) -> Result<(Model, ModelCard)> {
    let (model, card) = zoo_train::load_model(model_path, device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    if collection.arch != card.arch.name {
        bail!(
            "the collection is of `{}` but the model {} is `{}`",
            collection.arch,
            model_path.display(),
            card.arch.name
        );
    }
    Ok((model, card))
}
