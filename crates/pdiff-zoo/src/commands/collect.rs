//! `pdiff-zoo collect`: K checkpoints of the selected parameters of a trained model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use zoo_models::Selection;
use zoo_train::collect::{CollectConfig, CollectCycle};
use zoo_train::train::OptimizerConfig;

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};
use crate::progress;
use crate::stages::collect_checkpoints;

/// Arguments of `collect`.
#[derive(clap::Args)]
pub struct Args {
    /// Trained model (`.safetensors` with its `.json` card beside it).
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Glob over dotted parameter names to train and save (repeatable), e.g.
    /// 'layer4.1.bn*.weight' [default: weight and bias of the last two normalization layers].
    #[arg(long = "params")]
    params: Vec<String>,
    /// Number of checkpoints K.
    #[arg(short = 'k', long, default_value_t = 200)]
    checkpoints: usize,
    /// Optimizer steps between checkpoints.
    #[arg(long, default_value_t = 10)]
    interval: usize,
    /// Steps before the first checkpoint.
    #[arg(long, default_value_t = 50)]
    warmup: usize,
    /// Learning rate of the (SGD, momentum 0.9) collection run; it sets how far the
    /// checkpoints spread [default: 0.05 ResNet, 8.0 ViT, 0.5 ConvNeXt].
    #[arg(long)]
    lr: Option<f64>,
    /// Samples per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Cosine cycles between checkpoints: the rate falls from `--lr` to this fraction of it
    /// within each interval, and each checkpoint is taken at the low end [default: constant].
    #[arg(long, value_name = "FRACTION")]
    cycle_floor: Option<f64>,
    #[command(flatten)]
    run: RunArgs,
    /// Output file [default: beside the model, `NAME.collection.safetensors`].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

impl Args {
    fn config(&self, family: zoo_models::Family) -> CollectConfig {
        let defaults = CollectConfig::for_family(family);
        CollectConfig {
            checkpoints: self.checkpoints,
            interval: self.interval,
            warmup: self.warmup,
            batch_size: self.batch_size,
            optimizer: OptimizerConfig::Sgd {
                lr: self.lr.unwrap_or(defaults.optimizer.lr()),
                momentum: 0.9,
                weight_decay: 5e-4,
                nesterov: false,
            },
            cycle: self
                .cycle_floor
                .map_or(CollectCycle::Constant, |floor| CollectCycle::Cosine { floor }),
            selection: if self.params.is_empty() {
                Selection::LastNorms
            } else {
                Selection::Patterns(self.params.clone())
            },
        }
    }
}

/// Runs `collect`.
pub fn run(args: Args) -> Result<ExitCode> {
    let device = device(args.run.backend)?;
    let (model, card) = zoo_train::load_model(&args.model, &device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let config = args.config(card.arch.family());
    config.validate()?;
    let data = load_for_card(&args.data, &card)?;
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = args.model.file_stem().map(|s| s.to_string_lossy().into_owned());
        args.model.with_file_name(format!("{}.collection.safetensors", stem.unwrap_or_default()))
    });
    let bar = progress::bar(0, "collect");
    let (collection, report) = collect_checkpoints(
        &args.model,
        &model,
        &card,
        &data,
        &config,
        args.run.seed,
        &device,
        &output,
        &bar,
    )?;
    bar.finish_and_clear();
    eprintln!(
        "{} checkpoints of {} values ({}) → {}",
        collection.len(),
        collection.layout.len(),
        collection.layout.names().join(", "),
        output.display()
    );
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
