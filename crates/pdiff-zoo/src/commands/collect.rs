//! `pdiff-zoo collect`: K checkpoints of the selected parameters of a trained model.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use zoo_models::Selection;
use zoo_train::collect::{CollectConfig, Collection, collect};
use zoo_train::metrics::{ErrorSet, Summary, mean, nearest_neighbour_iou};
use zoo_train::train::OptimizerConfig;

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};
use crate::progress;

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
    /// checkpoints spread [default: 0.05 ResNet, 2.0 ViT, 0.5 ConvNeXt].
    #[arg(long)]
    lr: Option<f64>,
    /// Samples per step.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
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
            selection: if self.params.is_empty() {
                Selection::LastNorms
            } else {
                Selection::Patterns(self.params.clone())
            },
        }
    }
}

/// How far a collection spreads: L2 to the mean vector and nearest-neighbour IoU of errors.
pub fn spread_report(collection: &Collection, labels: &[u16]) -> serde_json::Value {
    let p = collection.layout.len();
    let k = collection.len();
    let mut centre = vec![0f64; p];
    for row in collection.params.chunks(p) {
        for (c, v) in centre.iter_mut().zip(row) {
            *c += *v as f64 / k as f64;
        }
    }
    let to_centre: Vec<f64> = collection
        .params
        .chunks(p)
        .map(|row| {
            row.iter().zip(&centre).map(|(v, c)| (*v as f64 - c).powi(2)).sum::<f64>().sqrt()
        })
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
    })
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
    if output == args.model {
        bail!("output {} would overwrite the model", output.display());
    }
    let bar = progress::bar(0, "collect");
    let mut collection =
        collect(&card.arch.name, &model, &data, &config, args.run.seed, &device, &bar)?;
    bar.finish_and_clear();
    collection.info["base_model"] = serde_json::json!(args.model);
    let report = spread_report(&collection, &data.test.labels);
    collection.save(&output)?;
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
