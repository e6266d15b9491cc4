//! `manifest.json`: what a zoo folder holds (issue #6, item 3).
//!
//! Units: every accuracy and agreement is in **percent** (0–100); IoU figures are fractions
//! in [0, 1]; timings are seconds. Paths are relative to the manifest's folder, with `/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::stats::GroupStats;

/// The manifest's schema version; [`Manifest::read`] and [`Manifest::merge`] refuse others.
pub const SCHEMA_VERSION: u32 = 1;

/// The manifest's file name inside a zoo folder.
pub const MANIFEST_FILE: &str = "manifest.json";

/// Key of [`Manifest::timings`] for stages that belong to no single architecture.
pub const ZOO_WIDE: &str = "*";

/// Stage name → seconds spent in it (`train`, `collect`, `fit`, `sample`, `export`, ...).
pub type StageTimes = BTreeMap<String, f64>;

/// The whole `manifest.json` document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`SCHEMA_VERSION`] when written by this crate.
    pub schema_version: u32,
    /// The zoo's name (by default the recipe's name; also the folder's name).
    pub zoo: String,
    /// The recipe the zoo was made from.
    pub recipe: RecipeRef,
    /// Version of the `pdiff-zoo` that made it.
    pub pdiff_zoo_version: String,
    /// How it was made.
    pub created_by: CreatedBy,
    /// Every exported network, in pipeline order.
    pub members: Vec<Member>,
    /// Every exported ensemble.
    pub ensembles: Vec<Ensemble>,
    /// Test-accuracy summaries and diversity figures, keyed by architecture name.
    pub summary: BTreeMap<String, ArchSummary>,
    /// Seconds per stage, keyed by architecture name (or [`ZOO_WIDE`]).
    #[serde(default)]
    pub timings: BTreeMap<String, StageTimes>,
}

/// The recipe a zoo was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipeRef {
    /// The recipe's name (`mnist-quick`).
    pub name: String,
    /// SHA-256 (lowercase hex) of the recipe file's bytes, as copied into the zoo folder.
    pub sha256: String,
}

/// How a zoo was made. Holds nothing machine-specific (no host names, no absolute paths).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedBy {
    /// The tool (`pdiff-zoo`).
    pub tool: String,
    /// The command line's subcommand and arguments as given (`run zoo/mnist-quick.toml`).
    pub command: String,
    /// When the zoo was finished, RFC 3339 UTC (`2026-11-25T07:48:22Z`), if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

/// Where a member's parameters come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// One of the K collected checkpoints.
    Trained,
    /// Decoded from a latent sampled by the diffusion model.
    Generated,
}

impl Source {
    /// The name used in the manifest (`trained`, `generated`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Trained => "trained",
            Source::Generated => "generated",
        }
    }
}

/// One exported network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Member {
    /// `arch.tag`, unique in the zoo (`resnet8.pdiff_g017`).
    pub id: String,
    /// Architecture name from the registry (`resnet8`).
    pub arch: String,
    /// Family (`resnet`, `vit`, `convnext`).
    pub family: String,
    /// Trained checkpoint or generated member.
    pub source: Source,
    /// The ONNX file, relative to the manifest (`resnet8/resnet8.pdiff_g017.onnx`).
    pub onnx: String,
    /// SHA-256 (lowercase hex) of the ONNX file.
    pub sha256: String,
    /// Parameter count of the whole network.
    pub params: u64,
    /// Accuracy measured in the pipeline (burn), percent.
    pub accuracy: Accuracy,
    /// The same network run in ONNX Runtime.
    pub ort: OrtCheck,
}

/// Validation and test accuracy, percent.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// On the validation split (used for selection).
    pub val: f64,
    /// On the test split (only reported).
    pub test: f64,
}

/// Verification of an exported member in ONNX Runtime.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OrtCheck {
    /// Test accuracy in ONNX Runtime, percent.
    pub test: f64,
    /// Largest absolute logit difference to the pipeline on the verification batch.
    pub max_abs_diff: f64,
    /// Share of test inputs with the same arg-max class as the pipeline, percent.
    pub argmax_agreement: f64,
}

/// One exported ensemble (averaged logits of several members).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    /// Unique id (`resnet8.ens_gen5`).
    pub id: String,
    /// The ONNX file, relative to the manifest.
    pub onnx: String,
    /// SHA-256 (lowercase hex) of the ONNX file, if recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// Ids of its members.
    pub members: Vec<String>,
    /// Its accuracy, percent.
    pub accuracy: EnsembleAccuracy,
}

/// An ensemble's test accuracy, with its members' for comparison (percent).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EnsembleAccuracy {
    /// The ensemble's test accuracy.
    pub test: f64,
    /// Best test accuracy among its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub best_member: Option<f64>,
    /// Median test accuracy of its members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub median_member: Option<f64>,
}

/// Per-architecture summary: test accuracy (percent) of each group, and diversity.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ArchSummary {
    /// The K trained checkpoints.
    pub trained: GroupStats,
    /// The N generated members.
    pub generated: GroupStats,
    /// The noise-added baseline (trained + Gaussian noise).
    pub noise_added: GroupStats,
    /// IoU of error sets (test split), within and across groups.
    pub diversity: Diversity,
    /// The validation accuracy (percent) every group was gated at, when the recipe set
    /// `generate.gate` (the trained set's lowest; absent: ungated draws).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_min_val: Option<f64>,
}

/// Diversity figures of the p-diff paper: IoU of the sets of misclassified test inputs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Diversity {
    /// Mean pairwise IoU among trained checkpoints.
    pub trained_iou_mean: f64,
    /// Mean pairwise IoU among generated members.
    pub generated_iou_mean: f64,
    /// Mean IoU between a generated member and a trained checkpoint.
    pub cross_iou_mean: f64,
    /// Mean over generated members of the max IoU to any trained checkpoint.
    pub max_iou_to_trained_mean: f64,
    /// Mean over noise-added members of the max IoU to any trained checkpoint.
    pub noise_max_iou_to_trained_mean: f64,
    /// Mean over trained checkpoints of the max IoU to any *other* trained checkpoint.
    pub trained_nn_iou_mean: f64,
    /// Mean max-IoU to the trained set of noise-added members placed at the generated
    /// members' L2 distance from the trained set (the stricter comparison at equal distance;
    /// `noise_added` is matched in accuracy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_equal_l2_max_iou_to_trained_mean: Option<f64>,
    /// `max_iou_to_trained_mean` over only the generated members whose validation accuracy
    /// reaches the trained set's lowest (none there: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_max_iou_at_trained_accuracy: Option<f64>,
    /// The same for the noise-added members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise_max_iou_at_trained_accuracy: Option<f64>,
    /// `max_iou_to_trained_mean` of interpolations between two trained checkpoints (what a
    /// generator that only blends its training data makes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpolated_max_iou_to_trained_mean: Option<f64>,
    /// `max_iou_to_trained_mean` of draws from a normal distribution with the trained
    /// checkpoints' mean and covariance (what a generator that learns only the first two
    /// moments makes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gaussian_max_iou_to_trained_mean: Option<f64>,
    /// 95 % bootstrap interval (over test samples and members) of
    /// `noise_max_iou_to_trained_mean − max_iou_to_trained_mean`: positive throughout means
    /// generated members are more different than noise beyond chance, straddling zero a tie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub margin_interval: Option<[f64; 2]>,
    /// The same margin on the **validation** split's error sets: the figure to compare fit
    /// seeds or settings by without reading the test split (absent when the collection holds
    /// no validation predictions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_margin: Option<Margin>,
}

/// A margin (noise minus generated mean max-IoU to the trained set) with its 95 % bootstrap
/// interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Margin {
    /// The point estimate.
    pub margin: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// A manifest that cannot be read, written or merged.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    /// Reading or writing the file failed, or it is not valid JSON for this schema.
    #[error(transparent)]
    Io(#[from] zoo_io::IoError),
    /// The schema version is not [`SCHEMA_VERSION`].
    #[error("{what}: schema_version {found}, this pdiff-zoo reads {expected}")]
    SchemaVersion {
        /// Which manifest (a path, or `shard N`).
        what: String,
        /// Its version.
        found: u32,
        /// [`SCHEMA_VERSION`].
        expected: u32,
    },
    /// Shards disagree on something that must be equal (zoo, recipe, version).
    #[error("shard {shard}: {field} is {found:?}, shard 0 has {expected:?}")]
    ShardMismatch {
        /// Index of the offending shard.
        shard: usize,
        /// The field.
        field: &'static str,
        /// Shard 0's value.
        expected: String,
        /// This shard's value.
        found: String,
    },
    /// The same id appears twice (members, ensembles, summary or timing architectures).
    #[error("duplicate {kind} id {id:?}")]
    Duplicate {
        /// `member`, `ensemble`, `summary`, `timings` or `detail`.
        kind: &'static str,
        /// The id.
        id: String,
    },
    /// A member's id is not `arch.tag` for its own `arch`.
    #[error("member id {id:?} does not start with its arch {arch:?} followed by '.'")]
    BadMemberId {
        /// The id.
        id: String,
        /// The member's arch.
        arch: String,
    },
    /// An ensemble names a member the manifest does not hold.
    #[error("ensemble {ensemble:?} names unknown member {member:?}")]
    UnknownEnsembleMember {
        /// The ensemble.
        ensemble: String,
        /// The missing member.
        member: String,
    },
    /// [`Manifest::merge`] was given no shard.
    #[error("no shard manifest to merge")]
    NoShards,
}

impl Manifest {
    /// An empty manifest of the current schema; `pdiff_zoo_version` is the workspace version
    /// this crate was built with (the same as the `pdiff-zoo` binary's).
    pub fn new(zoo: impl Into<String>, recipe: RecipeRef, created_by: CreatedBy) -> Self {
        Manifest {
            schema_version: SCHEMA_VERSION,
            zoo: zoo.into(),
            recipe,
            pdiff_zoo_version: env!("CARGO_PKG_VERSION").to_string(),
            created_by,
            members: Vec::new(),
            ensembles: Vec::new(),
            summary: BTreeMap::new(),
            timings: BTreeMap::new(),
        }
    }

    /// Reads `path`, refusing another schema version or an inconsistent manifest.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let manifest: Manifest = zoo_io::read_json(path)?;
        check_schema(&path.display().to_string(), manifest.schema_version)?;
        manifest.validate()?;
        Ok(manifest)
    }

    /// Validates, then writes `path` atomically (pretty JSON).
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        self.validate()?;
        zoo_io::write_json(path, self)?;
        Ok(())
    }

    /// Checks ids: members are `arch.tag` and unique, ensembles unique and made of members.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let mut members = BTreeSet::new();
        for m in &self.members {
            let tag = m.id.strip_prefix(m.arch.as_str()).and_then(|t| t.strip_prefix('.'));
            if tag.is_none_or(str::is_empty) {
                return Err(ManifestError::BadMemberId { id: m.id.clone(), arch: m.arch.clone() });
            }
            if !members.insert(m.id.as_str()) {
                return Err(ManifestError::Duplicate { kind: "member", id: m.id.clone() });
            }
        }
        let mut ensembles = BTreeSet::new();
        for e in &self.ensembles {
            if !ensembles.insert(e.id.as_str()) {
                return Err(ManifestError::Duplicate { kind: "ensemble", id: e.id.clone() });
            }
            if let Some(missing) = e.members.iter().find(|id| !members.contains(id.as_str())) {
                return Err(ManifestError::UnknownEnsembleMember {
                    ensemble: e.id.clone(),
                    member: missing.clone(),
                });
            }
        }
        Ok(())
    }

    /// The member with this id.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    /// Architecture names in the order their first member appears, then any summary-only ones.
    pub fn archs(&self) -> Vec<String> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        let from_members = self.members.iter().map(|m| m.arch.as_str());
        for arch in from_members.chain(self.summary.keys().map(String::as_str)) {
            if seen.insert(arch) {
                out.push(arch.to_string());
            }
        }
        out
    }

    /// Reorders members and ensembles (stably) by the position of their architecture in
    /// `order` (the recipe's order); architectures not named go last. An ensemble's
    /// architecture is its first member's. Merged shards then list members as one unsharded
    /// run does.
    pub fn order_archs(&mut self, order: &[&str]) {
        let rank = |arch: &str| order.iter().position(|a| *a == arch).unwrap_or(order.len());
        self.members.sort_by_key(|m| rank(&m.arch));
        let arch_of: BTreeMap<&str, usize> =
            self.members.iter().map(|m| (m.id.as_str(), rank(&m.arch))).collect();
        let mut ensembles = std::mem::take(&mut self.ensembles);
        ensembles.sort_by_key(|e| {
            e.members
                .first()
                .and_then(|id| arch_of.get(id.as_str()).copied())
                .unwrap_or(order.len())
        });
        self.ensembles = ensembles;
    }

    /// Joins the manifests of shards (`pdiff-zoo run --shard i/N`) into one zoo's manifest.
    ///
    /// Shards must share schema version, zoo, recipe hash and pdiff-zoo version, and hold
    /// disjoint architectures: a member, ensemble, summary or per-architecture timing id seen
    /// twice is an error. Members and ensembles are concatenated in shard order; zoo-wide
    /// timings ([`ZOO_WIDE`]) are added up; `created_by` is shard 0's.
    pub fn merge(shards: &[Manifest]) -> Result<Manifest, ManifestError> {
        let (first, rest) = shards.split_first().ok_or(ManifestError::NoShards)?;
        for (i, shard) in shards.iter().enumerate() {
            check_schema(&format!("shard {i}"), shard.schema_version)?;
        }
        for (i, shard) in rest.iter().enumerate() {
            let shard_index = i + 1;
            let same = |field: &'static str, expected: &str, found: &str| {
                if expected == found {
                    Ok(())
                } else {
                    Err(ManifestError::ShardMismatch {
                        shard: shard_index,
                        field,
                        expected: expected.to_string(),
                        found: found.to_string(),
                    })
                }
            };
            same("zoo", &first.zoo, &shard.zoo)?;
            same("recipe.name", &first.recipe.name, &shard.recipe.name)?;
            same("recipe.sha256", &first.recipe.sha256, &shard.recipe.sha256)?;
            same("pdiff_zoo_version", &first.pdiff_zoo_version, &shard.pdiff_zoo_version)?;
        }
        let mut merged = Manifest {
            members: Vec::new(),
            ensembles: Vec::new(),
            summary: BTreeMap::new(),
            timings: BTreeMap::new(),
            ..first.clone()
        };
        for shard in shards {
            merged.members.extend(shard.members.iter().cloned());
            merged.ensembles.extend(shard.ensembles.iter().cloned());
            for (arch, summary) in &shard.summary {
                if merged.summary.insert(arch.clone(), *summary).is_some() {
                    return Err(ManifestError::Duplicate { kind: "summary", id: arch.clone() });
                }
            }
            for (key, stages) in &shard.timings {
                let entry = merged.timings.entry(key.clone()).or_default();
                if key != ZOO_WIDE && !entry.is_empty() {
                    return Err(ManifestError::Duplicate { kind: "timings", id: key.clone() });
                }
                for (stage, seconds) in stages {
                    *entry.entry(stage.clone()).or_insert(0.0) += seconds;
                }
            }
        }
        merged.validate()?;
        Ok(merged)
    }
}

fn check_schema(what: &str, found: u32) -> Result<(), ManifestError> {
    if found == SCHEMA_VERSION {
        Ok(())
    } else {
        Err(ManifestError::SchemaVersion {
            what: what.to_string(),
            found,
            expected: SCHEMA_VERSION,
        })
    }
}
