//! `pdiff-zoo train`: train a base model and save it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use zoo_data::{DataSource, LoadOptions};
use zoo_train::{LrSchedule, OptimizerConfig, TrainConfig};

use crate::backend::{RunArgs, device};
use crate::progress;
use crate::stages::train_base;

/// Optimizer choice on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Optimizer {
    /// SGD with Nesterov momentum 0.9.
    Sgd,
    /// AdamW.
    Adamw,
}

/// Learning-rate schedule choice on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Schedule {
    /// Linear warm-up then cosine decay.
    Cosine,
    /// Constant.
    Constant,
    /// ×0.1 every third of the run.
    Step,
}

/// Arguments of `train`.
#[derive(clap::Args)]
pub struct Args {
    /// Architecture name (see `pdiff-zoo list`).
    #[arg(long)]
    arch: String,
    /// `mnist` (the embedded 10k digits) or a path: MNIST/Fashion-MNIST IDX files, CIFAR-10/100
    /// binary batches, or an image folder with one sub-folder per class.
    #[arg(long, default_value = "mnist")]
    dataset: String,
    /// Passes over the training split [default: per family].
    #[arg(long)]
    epochs: Option<usize>,
    /// Samples per step [default: per family].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Optimizer [default: SGD for ResNet, AdamW for ViT and ConvNeXt].
    #[arg(long, value_enum)]
    optimizer: Option<Optimizer>,
    /// Peak learning rate [default: per family].
    #[arg(long)]
    lr: Option<f64>,
    /// Weight decay [default: per family].
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Learning-rate schedule [default: cosine with warm-up].
    #[arg(long, value_enum)]
    schedule: Option<Schedule>,
    /// Random translation of training images by up to this many pixels, 0 to disable
    /// [default: 1].
    #[arg(long)]
    shift: Option<usize>,
    /// Stop after this many optimizer steps (smoke tests).
    #[arg(long)]
    max_steps: Option<usize>,
    #[command(flatten)]
    run: RunArgs,
    /// Image size `HxW` for image folders (other formats have a fixed size).
    #[arg(long, value_parser = parse_size)]
    image_size: Option<(usize, usize)>,
    /// Output weights file [default: exports/models/ARCH.DATASET_sSEED.safetensors]; the card
    /// is written beside it as .json.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn parse_size(text: &str) -> Result<(usize, usize), String> {
    let (h, w) = text.split_once('x').ok_or("expected HxW, e.g. 32x32")?;
    let parse = |v: &str| v.trim().parse::<usize>().map_err(|e| format!("`{v}`: {e}"));
    Ok((parse(h)?, parse(w)?))
}

impl Args {
    fn config(&self, family: zoo_models::Family) -> TrainConfig {
        let mut config = TrainConfig::for_family(family);
        if let Some(epochs) = self.epochs {
            config.epochs = epochs;
        }
        if let Some(batch) = self.batch_size {
            config.batch_size = batch;
        }
        let (mut lr, mut wd) = match config.optimizer {
            OptimizerConfig::Sgd { lr, weight_decay, .. } => (lr, weight_decay),
            OptimizerConfig::Adamw { lr, weight_decay } => (lr, weight_decay),
        };
        if let Some(kind) = self.optimizer {
            (lr, wd) = match kind {
                Optimizer::Sgd => (0.05, 5e-4),
                Optimizer::Adamw => (2e-3, 0.05),
            };
            config.optimizer = match kind {
                Optimizer::Sgd => {
                    OptimizerConfig::Sgd { lr, momentum: 0.9, weight_decay: wd, nesterov: true }
                }
                Optimizer::Adamw => OptimizerConfig::Adamw { lr, weight_decay: wd },
            };
        }
        lr = self.lr.unwrap_or(lr);
        wd = self.weight_decay.unwrap_or(wd);
        match &mut config.optimizer {
            OptimizerConfig::Sgd { lr: l, weight_decay: w, .. }
            | OptimizerConfig::Adamw { lr: l, weight_decay: w } => {
                *l = lr;
                *w = wd;
            }
        }
        if let Some(schedule) = self.schedule {
            config.schedule = match schedule {
                Schedule::Cosine => LrSchedule::Cosine { warmup_epochs: 0.5 },
                Schedule::Constant => LrSchedule::Constant,
                Schedule::Step => {
                    LrSchedule::Step { every_epochs: config.epochs.div_ceil(3).max(1), gamma: 0.1 }
                }
            };
        }
        if let Some(shift) = self.shift {
            config.shift = shift;
        }
        config.max_steps = self.max_steps;
        config
    }
}

/// Runs `train`.
pub fn run(args: Args) -> Result<ExitCode> {
    let variant = zoo_models::find(&args.arch)?;
    let config = args.config(variant.family());
    config.validate()?;
    let device = device(args.run.backend)?;
    let source = DataSource::parse(&args.dataset)?;
    let options =
        LoadOptions { seed: args.run.seed, image_size: args.image_size, ..Default::default() };
    let data = zoo_data::load(&source, &options)
        .with_context(|| format!("loading dataset `{}`", args.dataset))?;
    let info = &data.info;
    let spec = variant.spec.with_io([info.channels, info.height, info.width], info.num_classes());
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!(
            "exports/models/{}.{}_s{}.safetensors",
            spec.name, info.name, args.run.seed
        ))
    });
    eprintln!(
        "training {} on {} ({} train / {} val / {} test, {}x{}x{}), {} epochs, seed {}",
        spec.name,
        info.name,
        data.train.len(),
        data.val.len(),
        data.test.len(),
        info.channels,
        info.height,
        info.width,
        config.epochs,
        args.run.seed
    );
    let bar = progress::bar(0, &spec.name);
    let card = train_base(&spec, &data, &config, args.run.seed, &device, &output, &bar)?;
    bar.finish_and_clear();
    eprintln!(
        "{}: val {:.2}%, test {:.2}% in {:.1} s → {}",
        spec.name,
        card.val_accuracy,
        card.test_accuracy,
        card.seconds,
        output.display()
    );
    println!(
        "{}",
        serde_json::json!({
            "arch": spec.name, "dataset": info.name, "val_accuracy": card.val_accuracy,
            "test_accuracy": card.test_accuracy, "seconds": card.seconds,
            "weights": output, "card": zoo_train::store::card_path(&output),
        })
    );
    Ok(ExitCode::SUCCESS)
}
