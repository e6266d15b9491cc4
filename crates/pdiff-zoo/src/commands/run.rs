//! `pdiff-zoo run`: one recipe → a verified ONNX zoo with manifest and report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;

use crate::pipeline::{RunOptions, Shard, default_output, run as run_pipeline};
use crate::recipe;

/// Arguments of `run`.
#[derive(clap::Args)]
pub struct Args {
    /// Recipe file (`zoo/mnist-quick.toml`; keys in docs/RECIPES.md).
    recipe: PathBuf,
    /// Zoo folder [default: exports/<recipe name>, or exports/<name>.shard-i-of-N].
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Continue an interrupted run in the output folder: finished stages are kept.
    #[arg(long)]
    resume: bool,
    /// Run only share i of N of the architectures (architecture k goes to shard k mod N);
    /// join the shard folders with `pdiff-zoo merge`.
    #[arg(long)]
    shard: Option<Shard>,
    /// Architectures run at the same time, and candidate fits of one architecture
    /// (`generate.candidates`) [default: the number of CPU cores]. The zoo is the same for any
    /// value; with more cores than one job keeps busy this is faster.
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// Validate the recipe, print the resolved settings and stop.
    #[arg(long)]
    check: bool,
}

/// Runs `run`.
pub fn run(args: Args) -> Result<ExitCode> {
    let loaded = recipe::load(&args.recipe)?;
    if args.check {
        println!("{}", serde_json::to_string_pretty(&loaded.plans)?);
        eprintln!(
            "recipe {} is valid ({} architectures)",
            args.recipe.display(),
            loaded.plans.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let output = args.output.clone().unwrap_or_else(|| default_output(&loaded, args.shard));
    let jobs = args.jobs.map(usize::from).unwrap_or_else(crate::parallel::default_jobs);
    let options = RunOptions { output, resume: args.resume, shard: args.shard, jobs };
    let report = run_pipeline(&loaded, &options)?;
    println!("{}", report.display());
    Ok(ExitCode::SUCCESS)
}
