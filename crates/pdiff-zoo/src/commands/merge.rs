//! `pdiff-zoo merge`: join the folders of `run --shard i/N` into one zoo.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use zoo_report::ReportInput;

use crate::pipeline::ZooLayout;

/// Arguments of `merge`.
#[derive(clap::Args)]
pub struct Args {
    /// Shard folders written by `pdiff-zoo run --shard i/N` (same recipe).
    #[arg(required = true, num_args = 2..)]
    shards: Vec<PathBuf>,
    /// The merged zoo folder (must not exist).
    #[arg(short, long)]
    output: PathBuf,
}

/// Runs `merge`.
pub fn run(args: Args) -> Result<ExitCode> {
    if args.output.exists() {
        bail!("{} exists; merge writes a new folder", args.output.display());
    }
    let inputs = args
        .shards
        .iter()
        .map(|dir| {
            ReportInput::read(&ZooLayout::new(dir).report_data())
                .with_context(|| format!("{} is not a finished zoo folder", dir.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let recipe_text = std::fs::read_to_string(ZooLayout::new(&args.shards[0]).recipe())
        .with_context(|| format!("{} has no recipe.toml", args.shards[0].display()))?;
    let order: Vec<String> =
        crate::recipe::parse(&recipe_text)?.plans.into_iter().map(|p| p.name).collect();
    let mut input = ReportInput::merge(&inputs)?;
    input.order_archs(&order.iter().map(String::as_str).collect::<Vec<_>>());
    let manifest = input.manifest.clone();
    let staging = args.output.with_extension("merging");
    if staging.exists() {
        std::fs::remove_dir_all(&staging)?;
    }
    let result = (|| -> Result<()> {
        for dir in &args.shards {
            for sub in ["members", "ensembles", "work", "state"] {
                copy_tree(&dir.join(sub), &staging.join(sub))?;
            }
        }
        zoo_io::atomic_write(&staging.join("recipe.toml"), recipe_text.as_bytes())?;
        let mut log = String::new();
        for dir in &args.shards {
            log += &std::fs::read_to_string(dir.join("run.log")).unwrap_or_default();
        }
        zoo_io::atomic_write(&staging.join("run.log"), log.as_bytes())?;
        let zoo = ZooLayout::new(&staging);
        manifest.write(&zoo.manifest())?;
        input.write(&zoo.report_data())?;
        zoo_report::write_report(&staging, &input)?;
        Ok(())
    })();
    if let Err(error) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(error);
    }
    std::fs::rename(&staging, &args.output)
        .with_context(|| format!("moving the merged zoo to {}", args.output.display()))?;
    eprintln!(
        "merged {} shards ({} members, {} ensembles) → {}",
        args.shards.len(),
        manifest.members.len(),
        manifest.ensembles.len(),
        args.output.display()
    );
    println!("{}", ZooLayout::new(&args.output).report().display());
    Ok(ExitCode::SUCCESS)
}

/// Copies a folder tree; a missing source is nothing to copy. Refuses to overwrite a file.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    if !from.exists() {
        return Ok(());
    }
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            if target.exists() {
                bail!("two shards both hold {}", target.display());
            }
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}
