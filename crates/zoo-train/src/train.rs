//! Supervised training of a base model.

use std::time::Instant;

use burn::module::Module;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use zoo_data::Dataset;
use zoo_models::{ArchSpec, Family, Model, set_trainable};

use crate::TrainError;
use crate::batches::Tensors;
use crate::eval::{Evaluation, evaluate};

/// Optimizer and its hyper-parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum OptimizerConfig {
    /// SGD with (Nesterov) momentum and L2 weight decay.
    Sgd {
        /// Peak learning rate.
        lr: f64,
        /// Momentum.
        momentum: f64,
        /// L2 penalty.
        weight_decay: f64,
        /// Nesterov momentum.
        #[serde(default)]
        nesterov: bool,
    },
    /// AdamW with decoupled weight decay.
    Adamw {
        /// Peak learning rate.
        lr: f64,
        /// Decoupled weight decay.
        weight_decay: f64,
    },
}

impl OptimizerConfig {
    /// Peak learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd { lr, .. } | OptimizerConfig::Adamw { lr, .. } => *lr,
        }
    }

    /// Checks the learning rate (positive) and the weight decay (non-negative).
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad =
            |field, reason: &str| Err(TrainError::BadConfig { field, reason: reason.to_string() });
        let (lr, wd) = match *self {
            OptimizerConfig::Sgd { lr, weight_decay, .. }
            | OptimizerConfig::Adamw { lr, weight_decay } => (lr, weight_decay),
        };
        if !(lr.is_finite() && lr > 0.0) {
            return bad("lr", "must be a positive number");
        }
        if !(wd.is_finite() && wd >= 0.0) {
            return bad("weight_decay", "must be zero or positive");
        }
        Ok(())
    }

    /// The burn optimizer.
    pub fn init(&self) -> ModuleOptimizer {
        match *self {
            OptimizerConfig::Sgd { momentum, weight_decay, nesterov, .. } => SgdConfig::new()
                .with_momentum(Some(MomentumConfig { momentum, dampening: 0.0, nesterov }))
                .with_weight_decay(
                    (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32)),
                )
                .init(),
            OptimizerConfig::Adamw { weight_decay, .. } => {
                AdamWConfig::new().with_weight_decay(weight_decay as f32).init()
            }
        }
    }
}

/// Learning-rate schedule over the whole run, evaluated per step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum LrSchedule {
    /// The peak rate throughout.
    Constant,
    /// Linear warm-up, then cosine decay to zero.
    Cosine {
        /// Warm-up length in epochs (may be fractional).
        warmup_epochs: f64,
    },
    /// Multiply by `gamma` every `every_epochs` epochs.
    Step {
        /// Interval in epochs.
        every_epochs: usize,
        /// Factor.
        gamma: f64,
    },
}

impl LrSchedule {
    /// The rate at `step` of `total` (`steps_per_epoch` steps make an epoch).
    pub fn at(&self, peak: f64, step: usize, total: usize, steps_per_epoch: usize) -> f64 {
        match *self {
            LrSchedule::Constant => peak,
            LrSchedule::Cosine { warmup_epochs } => {
                let warmup = (warmup_epochs * steps_per_epoch as f64).round() as usize;
                if step < warmup {
                    peak * (step + 1) as f64 / warmup as f64
                } else {
                    let span = (total - warmup).max(1) as f64;
                    let progress = (step - warmup) as f64 / span;
                    0.5 * peak * (1.0 + (std::f64::consts::PI * progress).cos())
                }
            }
            LrSchedule::Step { every_epochs, gamma } => {
                let epoch = step / steps_per_epoch.max(1);
                peak * gamma.powi((epoch / every_epochs.max(1)) as i32)
            }
        }
    }
}

/// Settings of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the training split.
    pub epochs: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Optimizer.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule.
    pub schedule: LrSchedule,
    /// Random translation of training images by up to this many pixels (0 disables).
    #[serde(default)]
    pub shift: usize,
    /// Stop after this many steps (smoke tests); `None` runs all epochs.
    #[serde(default)]
    pub max_steps: Option<usize>,
    /// Which parameters a fine-tuning run ([`fine_tune`]) updates.
    #[serde(default, skip_serializing_if = "FineTune::is_all")]
    pub fine_tune: FineTune,
}

/// The parameters fine-tuning updates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FineTune {
    /// Every parameter (and BatchNorm statistics).
    #[default]
    All,
    /// Only the classifier head; the body stays frozen in inference behaviour.
    Head,
}

impl FineTune {
    /// Whether this is [`FineTune::All`].
    pub fn is_all(&self) -> bool {
        *self == FineTune::All
    }
}

impl TrainConfig {
    /// Defaults that reach the documented accuracy of each family's small variant on MNIST.
    pub fn for_family(family: Family) -> Self {
        match family {
            Family::Resnet => Self {
                epochs: 8,
                batch_size: 64,
                optimizer: OptimizerConfig::Sgd {
                    lr: 0.1,
                    momentum: 0.9,
                    weight_decay: 5e-4,
                    nesterov: true,
                },
                schedule: LrSchedule::Cosine { warmup_epochs: 0.2 },
                shift: 1,
                max_steps: None,
                fine_tune: FineTune::All,
            },
            Family::Vit => Self {
                epochs: 20,
                batch_size: 64,
                optimizer: OptimizerConfig::Adamw { lr: 2e-3, weight_decay: 0.05 },
                schedule: LrSchedule::Cosine { warmup_epochs: 1.0 },
                shift: 1,
                max_steps: None,
                fine_tune: FineTune::All,
            },
            Family::Convnext => Self {
                epochs: 8,
                batch_size: 64,
                optimizer: OptimizerConfig::Adamw { lr: 4e-3, weight_decay: 0.05 },
                schedule: LrSchedule::Cosine { warmup_epochs: 0.5 },
                shift: 1,
                max_steps: None,
                fine_tune: FineTune::All,
            },
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad =
            |field, reason: &str| Err(TrainError::BadConfig { field, reason: reason.to_string() });
        if self.epochs == 0 {
            return bad("epochs", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        self.optimizer.validate()
    }
}

/// Statistics of one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// Epoch number, from 1.
    pub epoch: usize,
    /// Mean training loss.
    pub train_loss: f64,
    /// Training accuracy in percent (on the fly, model in training mode).
    pub train_accuracy: f64,
    /// Validation accuracy in percent.
    pub val_accuracy: f64,
    /// Wall time of the epoch in seconds.
    pub seconds: f64,
}

/// A trained model and how it got there.
#[derive(Debug)]
pub struct TrainOutcome {
    /// The trained model (validation copy on the plain device).
    pub model: Model,
    /// Per-epoch statistics.
    pub history: Vec<EpochStats>,
    /// Final validation evaluation.
    pub val: Evaluation,
    /// Final test evaluation.
    pub test: Evaluation,
    /// Training wall time in seconds (evaluation included).
    pub seconds: f64,
}

/// Mean cross-entropy of `logits` against `labels`.
pub fn cross_entropy(logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [batch, _] = logits.dims();
    let picked = log_softmax(logits, 1).gather(1, labels.reshape([batch, 1]));
    picked.mean().neg()
}

/// Trains `spec` from scratch on `data`. Deterministic for a seed on the CPU backend.
pub fn train(
    spec: &ArchSpec,
    data: &Dataset,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<TrainOutcome, TrainError> {
    run(spec, None, data, config, seed, device, bar)
}

/// Fine-tunes `model` (for example imported pretrained weights; built as `spec`) on `data`,
/// updating what `config.fine_tune` names. Deterministic for a seed on the CPU backend.
pub fn fine_tune(
    spec: &ArchSpec,
    model: Model,
    data: &Dataset,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<TrainOutcome, TrainError> {
    run(spec, Some(model), data, config, seed, device, bar)
}

fn run(
    spec: &ArchSpec,
    initial: Option<Model>,
    data: &Dataset,
    config: &TrainConfig,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<TrainOutcome, TrainError> {
    config.validate()?;
    check_fit(spec, data)?;
    let started = Instant::now();
    let train_set = Tensors::new(&data.train, &data.info);
    let val_set = Tensors::new(&data.val, &data.info);
    let test_set = Tensors::new(&data.test, &data.info);

    let autodiff = device.clone().autodiff();
    let mut model = match initial {
        None => spec.init_seeded(seed, &autodiff),
        Some(model) => match config.fine_tune {
            FineTune::All => model.fork(&autodiff).train(),
            FineTune::Head => {
                let head = spec.family().head().map(String::from);
                set_trainable(model.fork(&autodiff).train().freeze(), &head)
            }
        },
    };
    let mut optim = config.optimizer.init();
    let mut rng = StdRng::seed_from_u64(seed);

    let steps_per_epoch = train_set.len().div_ceil(config.batch_size);
    let total = config.max_steps.unwrap_or(usize::MAX).min(steps_per_epoch * config.epochs);
    bar.set_length(total as u64);
    let mut step = 0;
    let mut history = Vec::new();
    let mut order: Vec<usize> = (0..train_set.len()).collect();
    let background: Vec<f32> =
        data.info.mean.iter().zip(&data.info.std).map(|(m, s)| -m / s).collect();
    'epochs: for epoch in 1..=config.epochs {
        let epoch_start = Instant::now();
        order.shuffle(&mut rng);
        let (mut loss_sum, mut correct, mut seen) = (0.0, 0usize, 0usize);
        for batch in order.chunks(config.batch_size) {
            if step == total {
                break 'epochs;
            }
            let lr = config.schedule.at(config.optimizer.lr(), step, total, steps_per_epoch);
            let images = if config.shift == 0 {
                train_set.images_at(batch, &autodiff)
            } else {
                let s = config.shift as i64;
                let mut offset = || rng.random_range(-s..=s) as isize;
                let offsets: Vec<(isize, isize)> =
                    batch.iter().map(|_| (offset(), offset())).collect();
                train_set.shifted_images_at(batch, &offsets, &background, &autodiff)
            };
            let labels = train_set.labels_at(batch, &autodiff);
            let logits = model.forward(images);
            let predictions = crate::eval::argmax(logits.clone().detach());
            correct +=
                predictions.iter().zip(batch).filter(|(p, i)| **p == train_set.labels[**i]).count();
            let loss = cross_entropy(logits, labels);
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            loss_sum += loss.into_scalar::<f32>() as f64 * batch.len() as f64;
            seen += batch.len();
            model = optim.step(lr, model, grads);
            step += 1;
            bar.set_position(step as u64);
            bar.set_message(format!(
                "epoch {epoch}/{} loss {:.4} acc {:.2}%",
                config.epochs,
                loss_sum / seen as f64,
                100.0 * correct as f64 / seen as f64
            ));
        }
        let val = evaluate(&model.valid(), &val_set, device);
        let stats = EpochStats {
            epoch,
            train_loss: loss_sum / seen.max(1) as f64,
            train_accuracy: 100.0 * correct as f64 / seen.max(1) as f64,
            val_accuracy: val.accuracy,
            seconds: epoch_start.elapsed().as_secs_f64(),
        };
        log_line(
            bar,
            format!(
                "  epoch {epoch:>3}: loss {:.4}  train {:.2}%  val {:.2}%  ({:.1} s)",
                stats.train_loss, stats.train_accuracy, stats.val_accuracy, stats.seconds
            ),
        );
        history.push(stats);
    }
    let model = model.valid();
    let val = evaluate(&model, &val_set, device);
    let test = evaluate(&model, &test_set, device);
    Ok(TrainOutcome { model, history, val, test, seconds: started.elapsed().as_secs_f64() })
}

/// Prints a log line above the bar, or plainly to stderr when the bar is not drawn. A bar
/// whose prefix names several words (`resnet8 train`, as in parallel runs) labels the line.
pub fn log_line(bar: &ProgressBar, line: String) {
    let prefix = bar.prefix();
    let line = if prefix.contains(' ') { format!("{prefix}: {}", line.trim_start()) } else { line };
    if bar.is_hidden() {
        eprintln!("{line}");
    } else {
        bar.println(line);
    }
}

/// Fails when the dataset's images or classes do not match the architecture.
pub fn check_fit(spec: &ArchSpec, data: &Dataset) -> Result<(), TrainError> {
    let info = &data.info;
    let input = [info.channels, info.height, info.width];
    let mismatch = |reason: String| TrainError::Mismatch {
        dataset: info.name.clone(),
        arch: spec.name.clone(),
        reason,
    };
    if input != spec.input {
        return Err(mismatch(format!(
            "images are {input:?} but the model takes {:?}; build the model for the dataset's shape",
            spec.input
        )));
    }
    if info.num_classes() != spec.num_classes {
        return Err(mismatch(format!(
            "{} classes in the data, {} outputs in the model",
            info.num_classes(),
            spec.num_classes
        )));
    }
    if data.train.is_empty() || data.val.is_empty() || data.test.is_empty() {
        return Err(mismatch("a split is empty".into()));
    }
    Ok(())
}
