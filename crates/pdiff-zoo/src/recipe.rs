//! Recipes (`zoo/*.toml`): everything a zoo run needs, validated in full before any work.
//!
//! Top-level sections set defaults for every architecture; an `[[arch]]` entry may override
//! `train`, `collect`, `pdiff` and `generate` for itself. Every key is documented in
//! `docs/RECIPES.md`. Unknown keys and bad values are errors naming the key and its line.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use pdiff::{PdiffConfig, Sampler};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zoo_models::{Family, Selection};
use zoo_train::collect::{CollectConfig, CollectCycle};
use zoo_train::train::{FineTune, LrSchedule, OptimizerConfig, TrainConfig};

use crate::backend::Backend;

/// A parsed, validated recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Zoo name; the default output folder is `exports/<name>/`.
    pub name: String,
    /// Free text shown in the report.
    #[serde(default)]
    pub description: String,
    /// Seed of every stage.
    #[serde(default)]
    pub seed: u64,
    /// Compute backend.
    #[serde(default)]
    pub backend: Backend,
    /// Where the images come from.
    #[serde(default)]
    pub dataset: DatasetSection,
    /// Base-training overrides for every architecture.
    #[serde(default)]
    pub train: TrainSection,
    /// Checkpoint collection for every architecture.
    #[serde(default)]
    pub collect: CollectSection,
    /// p-diff settings for every architecture (a partial `PdiffConfig`, plus step shortcuts).
    #[serde(default)]
    pub pdiff: toml::Table,
    /// Generation for every architecture.
    #[serde(default)]
    pub generate: GenerateSection,
    /// ONNX export.
    #[serde(default)]
    pub export: ExportSection,
    /// Ensembles per architecture.
    #[serde(default)]
    pub ensembles: EnsembleSection,
    /// The architectures of the zoo, in order.
    pub arch: Vec<ArchEntry>,
}

/// `[dataset]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetSection {
    /// `mnist` (embedded) or a path (MNIST IDX, CIFAR-10/100 binary, image folder).
    #[serde(default = "default_source")]
    pub source: String,
    /// `[height, width]` for image folders.
    #[serde(default)]
    pub image_size: Option<[usize; 2]>,
    /// Share of the training split held out for validation (formats without a validation split).
    #[serde(default)]
    pub val_fraction: Option<f64>,
    /// Use at most this many training images (quick trials).
    #[serde(default)]
    pub limit: Option<usize>,
}

fn default_source() -> String {
    "mnist".into()
}

impl Default for DatasetSection {
    fn default() -> Self {
        Self { source: default_source(), image_size: None, val_fraction: None, limit: None }
    }
}

/// Optimizer names in recipes and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum OptimizerName {
    /// SGD with Nesterov momentum 0.9.
    Sgd,
    /// AdamW.
    Adamw,
}

/// Learning-rate schedule names in recipes and on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ScheduleName {
    /// Warm-up then cosine decay.
    Cosine,
    /// Constant.
    Constant,
    /// ×0.1 every third of the run.
    Step,
}

/// `[train]`: every field optional; unset fields keep the family's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSection {
    /// Passes over the training split.
    pub epochs: Option<usize>,
    /// Samples per step.
    pub batch_size: Option<usize>,
    /// Optimizer.
    pub optimizer: Option<OptimizerName>,
    /// Peak learning rate.
    pub lr: Option<f64>,
    /// Weight decay.
    pub weight_decay: Option<f64>,
    /// Learning-rate schedule.
    pub schedule: Option<ScheduleName>,
    /// Random translation (pixels) of training images.
    pub shift: Option<usize>,
    /// Stop after this many optimizer steps.
    pub max_steps: Option<usize>,
    /// With `base`: which parameters fine-tuning updates (`all` or `head`).
    pub fine_tune: Option<FineTune>,
}

/// `[collect]`: every field optional; unset fields keep the family's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectSection {
    /// Number of checkpoints K.
    pub checkpoints: Option<usize>,
    /// Optimizer steps between checkpoints.
    pub interval: Option<usize>,
    /// Steps before the first checkpoint.
    pub warmup: Option<usize>,
    /// SGD learning rate of the collection run.
    pub lr: Option<f64>,
    /// Samples per step.
    pub batch_size: Option<usize>,
    /// Cosine cycles between checkpoints, down to this fraction of `lr`; unset: constant.
    pub cycle_floor: Option<f64>,
    /// Globs over dotted parameter names; empty: the last two normalization layers.
    pub params: Option<Vec<String>>,
}

/// Sampler names in recipes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SamplerName {
    /// Ancestral DDPM, 1,000 steps.
    Ddpm,
    /// DDIM with `ddim_steps` steps.
    Ddim,
}

/// `[generate]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerateSection {
    /// Members generated per architecture N [100].
    pub count: Option<usize>,
    /// Sampler [ddim] (50 steps; `ddpm` is the paper's 1,000-step sampler).
    pub sampler: Option<SamplerName>,
    /// DDIM steps [50].
    pub ddim_steps: Option<usize>,
    /// DDIM stochasticity η in [0, 1] [0: deterministic].
    pub ddim_eta: Option<f64>,
    /// The validation gate [false]: keep only drawn members (generated and every baseline)
    /// whose validation accuracy reaches the trained set's lowest, drawing again until
    /// `count` pass.
    pub gate: Option<bool>,
    /// Keep only members at or above this validation accuracy (percent).
    pub min_val_accuracy: Option<f64>,
    /// Export only members whose max IoU of **validation** errors to any trained checkpoint is
    /// at most this (selection never reads the test split).
    pub max_iou_to_trained: Option<f64>,
    /// p-diff fits to choose among [1]: fit seeds `seed`, `seed + 1`, …; each is sampled and
    /// the one with the highest validation margin (among those meeting the accuracy floors
    /// on validation) is kept.
    pub candidates: Option<usize>,
}

/// `[export]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSection {
    /// ONNX opset (13–21; LayerNormalization needs 17).
    #[serde(default = "default_opset")]
    pub opset: i64,
    /// Generated members exported per architecture, best validation accuracy first.
    #[serde(default = "default_generated")]
    pub generated: usize,
    /// Trained checkpoints exported per architecture, best validation accuracy first.
    #[serde(default = "default_trained")]
    pub trained: usize,
}

fn default_opset() -> i64 {
    17
}
fn default_generated() -> usize {
    10
}
fn default_trained() -> usize {
    3
}

impl Default for ExportSection {
    fn default() -> Self {
        Self { opset: default_opset(), generated: default_generated(), trained: default_trained() }
    }
}

/// Member choice of an ensemble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EnsembleStrategy {
    /// The `size` best exported generated members by validation accuracy.
    TopK,
    /// Greedy: start from the best, add the member whose errors overlap least with the
    /// chosen ones, among members at or above `min_val_accuracy`.
    Diverse,
}

/// `[ensembles]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnsembleSection {
    /// Members per ensemble (0 disables ensembles).
    #[serde(default = "default_ensemble_size")]
    pub size: usize,
    /// One ensemble per strategy and architecture.
    #[serde(default = "default_strategies")]
    pub strategies: Vec<EnsembleStrategy>,
    /// Accuracy floor (validation, percent) for the diverse strategy; default: the median
    /// validation accuracy of the exported generated members.
    #[serde(default)]
    pub min_val_accuracy: Option<f64>,
}

fn default_ensemble_size() -> usize {
    5
}
fn default_strategies() -> Vec<EnsembleStrategy> {
    vec![EnsembleStrategy::TopK, EnsembleStrategy::Diverse]
}

impl Default for EnsembleSection {
    fn default() -> Self {
        Self {
            size: default_ensemble_size(),
            strategies: default_strategies(),
            min_val_accuracy: None,
        }
    }
}

/// One `[[arch]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArchEntry {
    /// Registry name (`pdiff-zoo list`).
    pub name: String,
    /// Pretrained weights to fine-tune instead of training from scratch: a torchvision- or
    /// timm-named state dict (`.safetensors`, `.pth`, `.pt`), relative to the recipe file.
    pub base: Option<PathBuf>,
    /// Overrides of `[train]`.
    #[serde(default)]
    pub train: TrainSection,
    /// Overrides of `[collect]`.
    #[serde(default)]
    pub collect: CollectSection,
    /// Overrides of `[pdiff]` (merged key by key).
    #[serde(default)]
    pub pdiff: toml::Table,
    /// Overrides of `[generate]`.
    #[serde(default)]
    pub generate: GenerateSection,
}

/// Everything one architecture's stages need, resolved from the recipe and the defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ArchPlan {
    /// Registry name.
    pub name: String,
    /// Pretrained weights the train stage fine-tunes (resolved against the recipe's folder by
    /// [`load`]).
    pub base: Option<PathBuf>,
    /// Family.
    pub family: Family,
    /// Base training.
    pub train: TrainConfig,
    /// Checkpoint collection.
    pub collect: CollectConfig,
    /// p-diff.
    pub pdiff: PdiffConfig,
    /// Members to generate.
    pub count: usize,
    /// Sampler.
    pub sampler: Sampler,
    /// The validation gate on every drawn group.
    pub gate: bool,
    /// Validation-accuracy floor of kept members.
    pub min_val_accuracy: Option<f64>,
    /// Similarity ceiling of kept members.
    pub max_iou_to_trained: Option<f64>,
    /// p-diff fits to choose among by validation margin (fit seeds `seed + c`).
    pub candidates: usize,
}

/// A recipe with its source text and hash.
#[derive(Debug, Clone)]
pub struct LoadedRecipe {
    /// The parsed recipe.
    pub recipe: Recipe,
    /// The TOML as read.
    pub text: String,
    /// sha256 of the text (hex), recorded in every export.
    pub hash: String,
    /// One resolved plan per architecture, in recipe order.
    pub plans: Vec<ArchPlan>,
}

/// Reads, parses and validates a recipe file.
pub fn load(path: &Path) -> Result<LoadedRecipe> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read recipe {}: {e}", path.display()))?;
    let mut loaded =
        parse(&text).map_err(|e| anyhow::anyhow!("recipe {}: {e:#}", path.display()))?;
    let folder = path.parent().unwrap_or(Path::new(""));
    for (i, plan) in loaded.plans.iter_mut().enumerate() {
        if let Some(base) = &mut plan.base {
            let written = base.clone();
            *base = folder.join(&written);
            if !base.is_file() {
                bail!(
                    "recipe {}: {}",
                    path.display(),
                    key_error(
                        &text,
                        &format!("arch[{i}].base"),
                        format!(
                            "no such file `{}` (paths are relative to the recipe's folder)",
                            written.display()
                        )
                    )
                );
            }
        }
    }
    Ok(loaded)
}

/// Parses and validates recipe text.
pub fn parse(text: &str) -> Result<LoadedRecipe> {
    let recipe: Recipe =
        toml::from_str(text).map_err(|e| anyhow::anyhow!("{}", e.to_string().trim_end()))?;
    let plans = validate(&recipe, text)?;
    let hash = hex(&Sha256::digest(text.as_bytes()));
    Ok(LoadedRecipe { recipe, text: text.to_string(), hash, plans })
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An error about `key`, with the line where the key is written when it can be found.
fn key_error(text: &str, key: &str, why: impl std::fmt::Display) -> anyhow::Error {
    // An inline table (`collect = { lr = -1 }`) has no line of its own per key: fall back to
    // the line of the enclosing key.
    let mut line = None;
    let mut path = key;
    while line.is_none() && !path.is_empty() {
        line = line_of(text, path);
        path = path.rsplit_once('.').map_or("", |(head, _)| head);
    }
    match line {
        Some(line) => anyhow::anyhow!("`{key}` (line {line}): {why}"),
        None => anyhow::anyhow!("`{key}`: {why}"),
    }
}

/// 1-based line of the last path segment of `key` (`arch[1].collect.lr` → the `lr = ` line
/// after the second `[[arch]]` header), best effort.
fn line_of(text: &str, key: &str) -> Option<usize> {
    let segments: Vec<&str> = key.split('.').collect();
    let leaf = segments.last()?.split('[').next()?;
    let (arch_index, section) = match segments.first()?.strip_prefix("arch[") {
        Some(rest) => (rest.trim_end_matches(']').parse::<usize>().ok(), segments.get(1).copied()),
        None => (None, (segments.len() > 1).then(|| segments[0])),
    };
    let mut arch_seen = 0usize;
    let mut in_arch = None;
    let mut table = String::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with("[[arch]]") {
            in_arch = Some(arch_seen);
            arch_seen += 1;
            table.clear();
            continue;
        }
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.split(']').next()) {
            table = header.trim().trim_start_matches("arch.").to_string();
            if !header.trim().starts_with("arch.") {
                in_arch = None;
            }
            continue;
        }
        let Some((k, _)) = line.split_once('=') else { continue };
        let here_arch = in_arch == arch_index;
        let table_ok = match section {
            Some(s) if segments.len() > 2 || arch_index.is_none() => table.starts_with(s),
            _ => table.is_empty(),
        };
        if here_arch && table_ok && k.trim() == leaf {
            return Some(i + 1);
        }
    }
    None
}

/// An invalid resolved setting: named `arch[i].section.field` when the architecture overrides
/// the field, else `section.field`.
fn section_error(
    text: &str,
    index: usize,
    section: &str,
    overrides: &impl Serialize,
    error: zoo_train::TrainError,
) -> anyhow::Error {
    let zoo_train::TrainError::BadConfig { field, reason } = &error else {
        return key_error(text, section, error);
    };
    let overridden = serde_json::to_value(overrides).is_ok_and(|v| !v[*field].is_null());
    let key = if overridden {
        format!("arch[{index}].{section}.{field}")
    } else {
        format!("{section}.{field}")
    };
    key_error(text, &key, reason)
}

fn validate(recipe: &Recipe, text: &str) -> Result<Vec<ArchPlan>> {
    if recipe.name.is_empty()
        || !recipe.name.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        bail!(key_error(text, "name", "must be non-empty: letters, digits, `-`, `_`, `.`"));
    }
    if recipe.arch.is_empty() {
        bail!("no architectures: add at least one `[[arch]]` entry with a `name`");
    }
    let d = &recipe.dataset;
    if let Some(f) = d.val_fraction
        && !(f > 0.0 && f < 1.0)
    {
        bail!(key_error(text, "dataset.val_fraction", format!("must be in (0, 1), got {f}")));
    }
    if d.limit == Some(0) {
        bail!(key_error(text, "dataset.limit", "must be at least 1"));
    }
    if let Some([h, w]) = d.image_size
        && (h == 0 || w == 0)
    {
        bail!(key_error(text, "dataset.image_size", "needs two positive sizes"));
    }
    let e = &recipe.export;
    if !(13..=21).contains(&e.opset) {
        bail!(key_error(text, "export.opset", format!("must be in 13..=21, got {}", e.opset)));
    }
    if e.generated == 0 {
        bail!(key_error(text, "export.generated", "must be at least 1"));
    }
    let en = &recipe.ensembles;
    if en.size == 1 {
        bail!(key_error(
            text,
            "ensembles.size",
            "an ensemble needs at least 2 members (0 disables)"
        ));
    }
    if en.size > e.generated {
        bail!(key_error(
            text,
            "ensembles.size",
            format!(
                "is larger than export.generated ({}): ensembles use exported members",
                e.generated
            )
        ));
    }
    let mut seen = std::collections::HashSet::new();
    let mut plans = Vec::new();
    for (i, entry) in recipe.arch.iter().enumerate() {
        let at = |key: &str| format!("arch[{i}].{key}");
        let variant = zoo_models::find(&entry.name).map_err(|e| key_error(text, &at("name"), e))?;
        if !seen.insert(entry.name.clone()) {
            bail!(key_error(text, &at("name"), format!("`{}` is listed twice", entry.name)));
        }
        let family = variant.family();
        let train = resolve_train(family, &recipe.train, &entry.train);
        train.validate().map_err(|e| section_error(text, i, "train", &entry.train, e))?;
        if entry.base.is_none() && !train.fine_tune.is_all() {
            let key = if entry.train.fine_tune.is_some() {
                at("train.fine_tune")
            } else {
                "train.fine_tune".into()
            };
            bail!(key_error(
                text,
                &key,
                format!("fine-tuning needs pretrained weights: set arch[{i}].base")
            ));
        }
        let collect = resolve_collect(family, &recipe.collect, &entry.collect);
        collect.validate().map_err(|e| section_error(text, i, "collect", &entry.collect, e))?;
        let pdiff = resolve_pdiff(&recipe.pdiff, &entry.pdiff).map_err(|e| {
            let key = e.key.map(|k| format!("pdiff.{k}")).unwrap_or_else(|| "pdiff".into());
            key_error(text, &key, e.message)
        })?;
        pdiff.validate().map_err(|e| key_error(text, "pdiff", e))?;
        let g = merge_generate(&recipe.generate, &entry.generate);
        let count = g.count.unwrap_or(100);
        if count == 0 {
            bail!(key_error(text, "generate.count", "must be at least 1"));
        }
        if count < e.generated {
            bail!(key_error(
                text,
                "export.generated",
                format!("asks for {} members but `{}` generates {count}", e.generated, entry.name)
            ));
        }
        let sampler = match g.sampler.unwrap_or(SamplerName::Ddim) {
            SamplerName::Ddpm => Sampler::Ddpm,
            SamplerName::Ddim => match g.ddim_steps.unwrap_or(Sampler::DEFAULT_DDIM_STEPS) {
                0 => bail!(key_error(text, "generate.ddim_steps", "must be at least 1")),
                s => match g.ddim_eta.unwrap_or(0.0) {
                    eta if Sampler::eta_is_valid(eta) => Sampler::Ddim { steps: s, eta },
                    _ => bail!(key_error(text, "generate.ddim_eta", "must be in [0, 1]")),
                },
            },
        };
        if let Some(v) = g.min_val_accuracy
            && !(0.0..=100.0).contains(&v)
        {
            bail!(key_error(text, "generate.min_val_accuracy", "must be a percentage"));
        }
        if let Some(v) = g.max_iou_to_trained
            && !(0.0..=1.0).contains(&v)
        {
            bail!(key_error(text, "generate.max_iou_to_trained", "must be in [0, 1]"));
        }
        let candidates = g.candidates.unwrap_or(1);
        if candidates == 0 {
            bail!(key_error(text, "generate.candidates", "must be at least 1"));
        }
        plans.push(ArchPlan {
            name: entry.name.clone(),
            base: entry.base.clone(),
            family,
            train,
            collect,
            pdiff,
            count,
            sampler,
            gate: g.gate.unwrap_or(false),
            min_val_accuracy: g.min_val_accuracy,
            max_iou_to_trained: g.max_iou_to_trained,
            candidates,
        });
    }
    Ok(plans)
}

/// The training settings of a family with `over` applied over `base`, key by key.
pub fn resolve_train(family: Family, base: &TrainSection, over: &TrainSection) -> TrainConfig {
    let s = merge_train(base, over);
    let mut config = TrainConfig::for_family(family);
    if let Some(v) = s.epochs {
        config.epochs = v;
    }
    if let Some(v) = s.batch_size {
        config.batch_size = v;
    }
    if let Some(kind) = s.optimizer {
        config.optimizer = match kind {
            OptimizerName::Sgd => {
                OptimizerConfig::Sgd { lr: 0.05, momentum: 0.9, weight_decay: 5e-4, nesterov: true }
            }
            OptimizerName::Adamw => OptimizerConfig::Adamw { lr: 2e-3, weight_decay: 0.05 },
        };
    }
    match &mut config.optimizer {
        OptimizerConfig::Sgd { lr, weight_decay, .. }
        | OptimizerConfig::Adamw { lr, weight_decay } => {
            *lr = s.lr.unwrap_or(*lr);
            *weight_decay = s.weight_decay.unwrap_or(*weight_decay);
        }
    }
    if let Some(schedule) = s.schedule {
        config.schedule = match schedule {
            ScheduleName::Cosine => LrSchedule::Cosine { warmup_epochs: 0.5 },
            ScheduleName::Constant => LrSchedule::Constant,
            ScheduleName::Step => {
                LrSchedule::Step { every_epochs: config.epochs.div_ceil(3).max(1), gamma: 0.1 }
            }
        };
    }
    if let Some(v) = s.shift {
        config.shift = v;
    }
    config.max_steps = s.max_steps;
    config.fine_tune = s.fine_tune.unwrap_or_default();
    config
}

fn merge_train(base: &TrainSection, over: &TrainSection) -> TrainSection {
    TrainSection {
        epochs: over.epochs.or(base.epochs),
        batch_size: over.batch_size.or(base.batch_size),
        optimizer: over.optimizer.or(base.optimizer),
        lr: over.lr.or(base.lr),
        weight_decay: over.weight_decay.or(base.weight_decay),
        schedule: over.schedule.or(base.schedule),
        shift: over.shift.or(base.shift),
        max_steps: over.max_steps.or(base.max_steps),
        fine_tune: over.fine_tune.or(base.fine_tune),
    }
}

fn resolve_collect(family: Family, base: &CollectSection, over: &CollectSection) -> CollectConfig {
    let mut config = CollectConfig::for_family(family);
    let pick = |f: fn(&CollectSection) -> Option<usize>| f(over).or(f(base));
    if let Some(v) = pick(|s| s.checkpoints) {
        config.checkpoints = v;
    }
    if let Some(v) = pick(|s| s.interval) {
        config.interval = v;
    }
    if let Some(v) = pick(|s| s.warmup) {
        config.warmup = v;
    }
    if let Some(v) = pick(|s| s.batch_size) {
        config.batch_size = v;
    }
    if let Some(lr) = over.lr.or(base.lr)
        && let OptimizerConfig::Sgd { lr: l, .. } | OptimizerConfig::Adamw { lr: l, .. } =
            &mut config.optimizer
    {
        *l = lr;
    }
    if let Some(floor) = over.cycle_floor.or(base.cycle_floor) {
        config.cycle = CollectCycle::Cosine { floor };
    }
    if let Some(patterns) = over.params.clone().or_else(|| base.params.clone())
        && !patterns.is_empty()
    {
        config.selection = Selection::Patterns(patterns);
    }
    config
}

fn merge_generate(base: &GenerateSection, over: &GenerateSection) -> GenerateSection {
    GenerateSection {
        count: over.count.or(base.count),
        sampler: over.sampler.or(base.sampler),
        ddim_steps: over.ddim_steps.or(base.ddim_steps),
        ddim_eta: over.ddim_eta.or(base.ddim_eta),
        gate: over.gate.or(base.gate),
        min_val_accuracy: over.min_val_accuracy.or(base.min_val_accuracy),
        max_iou_to_trained: over.max_iou_to_trained.or(base.max_iou_to_trained),
        candidates: over.candidates.or(base.candidates),
    }
}

/// A `[pdiff]` problem, with the dotted key when serde names one.
struct PdiffError {
    key: Option<String>,
    message: String,
}

/// Deep-merges the architecture's `pdiff` table over the recipe's, expands the shortcuts
/// `ae_steps` / `ddpm_steps`, and reads the result as a [`PdiffConfig`] (defaults fill the
/// rest; unknown keys are errors).
fn resolve_pdiff(base: &toml::Table, over: &toml::Table) -> Result<PdiffConfig, PdiffError> {
    let mut table = base.clone();
    deep_merge(&mut table, over);
    for (shortcut, section) in [("ae_steps", "ae_train"), ("ddpm_steps", "ddpm_train")] {
        if let Some(value) = table.remove(shortcut) {
            let entry = table
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            match entry {
                toml::Value::Table(t) => {
                    t.insert("steps".into(), value);
                }
                _ => {
                    return Err(PdiffError {
                        key: Some(section.into()),
                        message: "must be a table".into(),
                    });
                }
            }
        }
    }
    let overrides = serde_json::to_value(&table)
        .map_err(|e| PdiffError { key: None, message: e.to_string() })?;
    pdiff_over_defaults(&overrides)
}

/// Reads `overrides` (a partial p-diff configuration) deep-merged over
/// [`PdiffConfig::default`]: a nested table sets only the keys it names, the rest keep their
/// defaults (plain serde defaults would reset a half-given `ae` to `AeConfig::default()`).
fn pdiff_over_defaults(overrides: &serde_json::Value) -> Result<PdiffConfig, PdiffError> {
    let mut merged = serde_json::to_value(PdiffConfig::default()).expect("config serializes");
    json_merge(&mut merged, overrides);
    serde_json::from_value(merged).map_err(|e| {
        let message = e.to_string();
        let key = message
            .split('`')
            .nth(1)
            .map(str::to_string)
            .filter(|_| message.starts_with("unknown field"));
        PdiffError { key, message }
    })
}

/// [`pdiff_over_defaults`] for `pdiff-zoo fit --config`: `arg` is a JSON file, or the JSON
/// itself when it starts with `{`; the error names the file (or `--config`) and the key,
/// where serde names one.
pub fn pdiff_config_arg(arg: &Path) -> Result<PdiffConfig> {
    let inline = arg.to_str().map(str::trim_start).filter(|text| text.starts_with('{'));
    let (source, overrides): (String, serde_json::Value) = match inline {
        Some(text) => {
            let value = serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("--config: not valid JSON: {e}"))?;
            ("--config".into(), value)
        }
        None => (arg.display().to_string(), zoo_io::read_json(arg)?),
    };
    pdiff_over_defaults(&overrides).map_err(|e| match e.key {
        Some(key) => anyhow::anyhow!("{source}: key `{key}`: {}", e.message),
        None => anyhow::anyhow!("{source}: {}", e.message),
    })
}

fn deep_merge(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => deep_merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

fn json_merge(base: &mut serde_json::Value, over: &serde_json::Value) {
    match (base, over) {
        (serde_json::Value::Object(b), serde_json::Value::Object(o)) => {
            for (key, value) in o {
                match b.get_mut(key) {
                    Some(slot) if slot.is_object() && value.is_object() => json_merge(slot, value),
                    _ => {
                        b.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (slot, value) => *slot = value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_file_sets_only_the_keys_it_names() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.json");
        std::fs::write(&path, r#"{"ae": {"latent_noise": 0.02}, "ddpm_train": {"steps": 7}}"#)
            .unwrap();
        let config = pdiff_config_arg(&path).unwrap();
        let defaults = PdiffConfig::default();
        assert_eq!(config.ae.latent_noise, 0.02);
        // The rest of `ae` keeps the default (small) autoencoder, not `AeConfig::default()`.
        assert_eq!(config.ae.dec_channels, defaults.ae.dec_channels);
        assert_eq!(config.ae.enc_channels, defaults.ae.enc_channels);
        assert_eq!(config.ddpm_train.steps, 7);
        assert_eq!(config.ddpm_train.lr, defaults.ddpm_train.lr);
        assert_eq!(config.ae_train.steps, defaults.ae_train.steps);

        std::fs::write(&path, r#"{"ae": {"latent_nois": 0.02}}"#).unwrap();
        let err = pdiff_config_arg(&path).unwrap_err().to_string();
        assert!(err.contains("p.json") && err.contains("latent_nois"), "{err}");
    }

    #[test]
    fn a_config_argument_may_be_the_json_itself() {
        let config = pdiff_config_arg(Path::new(r#" {"ae_train": {"steps": 12}}"#)).unwrap();
        assert_eq!(config.ae_train.steps, 12);
        assert_eq!(config.ae, PdiffConfig::default().ae);

        let err = pdiff_config_arg(Path::new(r#"{"ae": {"latent_nois": 1}}"#)).unwrap_err();
        let err = err.to_string();
        assert!(err.starts_with("--config: key `latent_nois`"), "{err}");
        let err = pdiff_config_arg(Path::new(r#"{"ae": "#)).unwrap_err().to_string();
        assert!(err.starts_with("--config: not valid JSON"), "{err}");
    }
}
