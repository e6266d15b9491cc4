//! `pdiff-zoo train`: train a base model and save it.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use zoo_data::{DataSource, LoadOptions};
use zoo_train::TrainConfig;

use crate::backend::{RunArgs, device};
use crate::progress;
use crate::recipe::{OptimizerName, ScheduleName, TrainSection, resolve_train};
use crate::stages::train_base;

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
    optimizer: Option<OptimizerName>,
    /// Peak learning rate [default: per family].
    #[arg(long)]
    lr: Option<f64>,
    /// Weight decay [default: per family].
    #[arg(long)]
    weight_decay: Option<f64>,
    /// Learning-rate schedule [default: cosine with warm-up].
    #[arg(long, value_enum)]
    schedule: Option<ScheduleName>,
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
        let section = TrainSection {
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: self.optimizer,
            lr: self.lr,
            weight_decay: self.weight_decay,
            schedule: self.schedule,
            shift: self.shift,
            max_steps: self.max_steps,
            fine_tune: None,
        };
        resolve_train(family, &TrainSection::default(), &section)
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
    let card = train_base(&spec, None, &data, &config, args.run.seed, &device, &output, &bar)?;
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
