//! `pdiff-zoo run`: a recipe → a verified ONNX zoo. Per architecture: train → collect → fit →
//! sample → export → ensemble; then the manifest and the report for the whole zoo.
//!
//! Every stage reads its inputs from files and writes its outputs atomically, then a
//! completion record (`state/`). `--resume` skips recorded stages, so an interrupted run
//! finishes with the same files as an uninterrupted one.

mod arch;
mod ensemble;
mod export;
mod layout;
mod log;
mod shard;
pub mod state;
mod summary;

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::prelude::Device;

use anyhow::{Result, bail};

pub use layout::ZooLayout;
pub use shard::Shard;
pub use summary::write_outputs;

use crate::recipe::{ArchPlan, LoadedRecipe};
use arch::ArchRun;
use log::RunLog;
use state::{Stage, StateDir};

/// How to run a recipe.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The zoo folder.
    pub output: PathBuf,
    /// Continue an interrupted run in `output`.
    pub resume: bool,
    /// Run only this share of the architectures.
    pub shard: Option<Shard>,
    /// Architectures run at the same time, each on its own thread, and likewise the candidate
    /// fits of one architecture (≥ 1).
    pub jobs: usize,
}

/// Runs every stage of every (sharded) architecture, then writes manifest and report.
pub fn run(recipe: &LoadedRecipe, options: &RunOptions) -> Result<PathBuf> {
    let zoo = ZooLayout::new(&options.output);
    prepare(recipe, &zoo, options.resume)?;
    let log = RunLog::open(&zoo.run_log())?;
    let state = StateDir::new(zoo.root());
    let plans: Vec<_> = recipe
        .plans
        .iter()
        .enumerate()
        .filter(|(i, _)| options.shard.is_none_or(|s| s.owns(*i)))
        .map(|(_, p)| p)
        .collect();
    if plans.is_empty() {
        bail!(
            "shard {} owns none of the recipe's {} architectures",
            options.shard.unwrap(),
            recipe.plans.len()
        );
    }
    log.line(&format!(
        "run `{}` ({} architectures{}) → {}",
        recipe.recipe.name,
        plans.len(),
        options.shard.map(|s| format!(", shard {s}")).unwrap_or_default(),
        zoo.root().display()
    ));
    let device = crate::backend::device(recipe.recipe.backend)?;
    let started = Instant::now();
    let context = RunContext {
        recipe,
        zoo: &zoo,
        device: &device,
        log: &log,
        state: &state,
        jobs: options.jobs,
    };
    crate::parallel::map_parallel(&plans, options.jobs, |_, plan| context.run_arch(plan))?;
    let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
    write_outputs(recipe, &zoo, &names)?;
    log.line(&format!(
        "zoo `{}` ready in {:.1} s: {} and {}",
        recipe.recipe.name,
        started.elapsed().as_secs_f64(),
        zoo.manifest().display(),
        zoo.report().display()
    ));
    Ok(zoo.report())
}

/// What every architecture of a run shares.
struct RunContext<'a> {
    recipe: &'a LoadedRecipe,
    zoo: &'a ZooLayout,
    device: &'a Device,
    log: &'a RunLog,
    state: &'a StateDir,
    /// Threads for independent work inside an architecture (candidate fits).
    jobs: usize,
}

impl RunContext<'_> {
    /// Runs the unfinished stages of one architecture, recording each as it finishes.
    fn run_arch(&self, plan: &ArchPlan) -> Result<()> {
        let mut arch = ArchRun::new(self.recipe, plan, self.zoo, self.device, self.log, self.jobs);
        for stage in Stage::ALL {
            if let Some(record) = self.state.get(&plan.name, stage)? {
                self.log.line(&format!(
                    "{} {}: done ({:.1} s), skipped",
                    plan.name,
                    stage.as_str(),
                    record.seconds
                ));
                continue;
            }
            let t = Instant::now();
            let summary = arch.run(stage)?;
            let seconds = t.elapsed().as_secs_f64();
            self.state.put(&state::Record { stage, arch: plan.name.clone(), seconds, summary })?;
            self.log.line(&format!("{} {}: finished in {seconds:.1} s", plan.name, stage.as_str()));
        }
        Ok(())
    }
}

/// Checks the folder against the recipe: a fresh run needs an empty or new folder; a resumed
/// one needs the same recipe text.
fn prepare(recipe: &LoadedRecipe, zoo: &ZooLayout, resume: bool) -> Result<()> {
    let saved = zoo.recipe();
    let state = StateDir::new(zoo.root());
    if saved.exists() || state.any() {
        if !resume {
            bail!(
                "{} already holds a run\nhint: pass --resume to continue it, or choose another -o",
                zoo.root().display()
            );
        }
        let text = std::fs::read_to_string(&saved).unwrap_or_default();
        if text != recipe.text {
            bail!(
                "the recipe differs from the one this zoo was started with ({})\nhint: resume \
                 with the same recipe, or start a new zoo with another -o",
                saved.display()
            );
        }
        return Ok(());
    }
    if zoo.root().exists() && std::fs::read_dir(zoo.root())?.next().is_some() {
        bail!("{} exists and is not empty; choose another -o", zoo.root().display());
    }
    zoo_io::atomic_write(&saved, recipe.text.as_bytes())?;
    Ok(())
}

/// The default zoo folder of a recipe (and shard).
pub fn default_output(recipe: &LoadedRecipe, shard: Option<Shard>) -> PathBuf {
    let name = &recipe.recipe.name;
    match shard {
        Some(s) => Path::new("exports").join(format!("{name}.shard-{}-of-{}", s.index, s.count)),
        None => Path::new("exports").join(name),
    }
}
