//! `pdiff-zoo fit`: autoencoder then latent DDPM on a collection.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use pdiff::PdiffConfig;
use zoo_train::collect::Collection;

use crate::backend::{RunArgs, device};
use crate::progress;
use crate::recipe::pdiff_config_arg;
use crate::stages::fit_collection;

/// Arguments of `fit`.
#[derive(clap::Args)]
pub struct Args {
    /// Collection written by `pdiff-zoo collect`.
    #[arg(long)]
    collection: PathBuf,
    /// Autoencoder optimizer steps [default: 1000; the reference uses 30000].
    #[arg(long)]
    ae_steps: Option<usize>,
    /// Denoiser optimizer steps [default: 1000; the reference uses 30000].
    #[arg(long)]
    ddpm_steps: Option<usize>,
    /// p-diff configuration as JSON, a file or the text itself (`'{"ae_train": {"steps":
    /// 4000}}'`): the keys it names over the defaults, nested tables key by key, as a recipe's
    /// `[pdiff]` (see docs/RECIPES.md).
    #[arg(long, value_name = "FILE|JSON")]
    config: Option<PathBuf>,
    #[command(flatten)]
    run: RunArgs,
    /// Output directory [default: beside the collection, `NAME.pdiff/`].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Runs `fit`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut config = match &args.config {
        Some(path) => pdiff_config_arg(path)?,
        None => PdiffConfig::default(),
    };
    if let Some(steps) = args.ae_steps {
        config.ae_train.steps = steps;
    }
    if let Some(steps) = args.ddpm_steps {
        config.ddpm_train.steps = steps;
    }
    config.validate()?;
    let device = device(args.run.backend)?;
    let collection = Collection::load(&args.collection)
        .with_context(|| format!("loading collection {}", args.collection.display()))?;
    let output = args.output.clone().unwrap_or_else(|| {
        let stem = args.collection.file_stem().map(|s| s.to_string_lossy().into_owned());
        args.collection.with_file_name(format!("{}.pdiff", stem.unwrap_or_default()))
    });
    let bar = progress::bar(0, "fit");
    let fitted = fit_collection(&collection, &config, args.run.seed, &device, &output, &bar)?;
    bar.finish_and_clear();
    eprintln!("fitted p-diff on {} vectors → {}", collection.len(), output.display());
    println!("{}", serde_json::to_string_pretty(fitted.report())?);
    Ok(ExitCode::SUCCESS)
}
