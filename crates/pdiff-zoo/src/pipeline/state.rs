//! Completion records: a stage is finished when its record exists. Records are written
//! atomically after the stage's outputs, so an interrupted stage has none and is redone.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

/// The per-architecture stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Base training.
    Train,
    /// Checkpoint collection.
    Collect,
    /// Autoencoder + latent DDPM.
    Fit,
    /// Generation, splicing, evaluation and comparison.
    Sample,
    /// ONNX export and ONNX Runtime verification of the chosen members.
    Export,
    /// Ensembles of exported members.
    Ensemble,
}

impl Stage {
    /// All stages in run order.
    pub const ALL: [Stage; 6] =
        [Stage::Train, Stage::Collect, Stage::Fit, Stage::Sample, Stage::Export, Stage::Ensemble];

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Train => "train",
            Stage::Collect => "collect",
            Stage::Fit => "fit",
            Stage::Sample => "sample",
            Stage::Export => "export",
            Stage::Ensemble => "ensemble",
        }
    }
}

/// What a finished stage left behind: its wall time and a stage-specific summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The stage.
    pub stage: Stage,
    /// Architecture.
    pub arch: String,
    /// Wall-clock seconds.
    pub seconds: f64,
    /// Stage-specific summary (accuracies, spread, losses ...).
    pub summary: serde_json::Value,
}

/// The `state/` folder of a zoo.
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// The state folder inside `zoo`.
    pub fn new(zoo: &Path) -> Self {
        Self { dir: zoo.join("state") }
    }

    fn path(&self, arch: &str, stage: Stage) -> PathBuf {
        self.dir.join(format!("{arch}.{}.json", stage.as_str()))
    }

    /// The record of a finished stage, if any.
    pub fn get(&self, arch: &str, stage: Stage) -> Result<Option<Record>> {
        let path = self.path(arch, stage);
        if !path.exists() {
            return Ok(None);
        }
        let record = zoo_io::read_json(&path)
            .with_context(|| format!("reading the completion record {}", path.display()))?;
        Ok(Some(record))
    }

    /// Marks a stage finished.
    pub fn put(&self, record: &Record) -> Result<()> {
        Ok(zoo_io::write_json(&self.path(&record.arch, record.stage), record)?)
    }

    /// Whether any stage has finished.
    pub fn any(&self) -> bool {
        std::fs::read_dir(&self.dir).is_ok_and(|mut entries| entries.next().is_some())
    }
}
