//! [`ReportInput`]: everything `report.html` shows, as plain serde data.
//!
//! The pipeline builds it after the evaluation stages and may save it as JSON beside the
//! manifest; `pdiff-zoo report` re-renders the page from that file.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::manifest::{ArchSummary, Diversity, Manifest, ManifestError};
use crate::stats::GroupStats;

/// File name of a saved [`ReportInput`] inside a zoo folder.
pub const REPORT_INPUT_FILE: &str = "report.json";

/// The manifest plus per-architecture detail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    /// The zoo's manifest (tables, summary, floors, timings come from here).
    pub manifest: Manifest,
    /// Detail per architecture, in the order the report shows them. An architecture of the
    /// manifest's summary without detail still gets its overview row, but no plots.
    #[serde(default)]
    pub archs: Vec<ArchDetail>,
}

/// The evaluated groups of one architecture, for the plots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchDetail {
    /// Architecture name (a key of the manifest's summary).
    pub arch: String,
    /// The K trained checkpoints. `max_iou_to_trained` is to the nearest *other* checkpoint.
    pub trained: Vec<Point>,
    /// The N generated members.
    pub generated: Vec<Point>,
    /// The noise-added baseline.
    pub noise_added: Vec<Point>,
    /// IoU of error sets for a subset of members (all groups may appear), if computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub similarity: Option<SimilarityMatrix>,
}

/// One evaluated parameter vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Member id or index within its group (`resnet8.pdiff_g017`, `17`).
    pub id: String,
    /// Validation accuracy, percent.
    pub val: f64,
    /// Test accuracy, percent.
    pub test: f64,
    /// Max IoU of its test error set to any trained checkpoint's (trained: any other one).
    pub max_iou_to_trained: f64,
}

/// Which group a vector belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// Trained checkpoint.
    Trained,
    /// Generated member.
    Generated,
    /// Noise-added baseline.
    NoiseAdded,
}

impl Group {
    /// All groups, in report order.
    pub const ALL: [Group; 3] = [Group::Trained, Group::Generated, Group::NoiseAdded];

    /// Human label (`trained`, `generated`, `noise-added`).
    pub fn label(self) -> &'static str {
        match self {
            Group::Trained => "trained",
            Group::Generated => "generated",
            Group::NoiseAdded => "noise-added",
        }
    }
}

/// A square matrix of pairwise IoU of error sets, with a label and group per row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SimilarityMatrix {
    /// Row (and column) labels.
    pub labels: Vec<String>,
    /// Row (and column) groups.
    pub groups: Vec<Group>,
    /// `values[i][j]` = IoU of rows i and j, in [0, 1].
    pub values: Vec<Vec<f64>>,
}

impl SimilarityMatrix {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Whether labels, groups and values agree in size and the matrix is square.
    pub fn is_consistent(&self) -> bool {
        let n = self.labels.len();
        self.groups.len() == n && self.values.len() == n && self.values.iter().all(|r| r.len() == n)
    }
}

impl ArchDetail {
    /// The points of one group.
    pub fn group(&self, group: Group) -> &[Point] {
        match group {
            Group::Trained => &self.trained,
            Group::Generated => &self.generated,
            Group::NoiseAdded => &self.noise_added,
        }
    }

    /// Test-accuracy statistics of one group.
    pub fn stats(&self, group: Group) -> GroupStats {
        GroupStats::from_values(self.group(group).iter().map(|p| p.test))
    }

    /// The manifest summary of this architecture: group statistics from the points, with the
    /// diversity figures (computed from error sets by the caller).
    pub fn summary(&self, diversity: Diversity) -> ArchSummary {
        ArchSummary {
            trained: self.stats(Group::Trained),
            generated: self.stats(Group::Generated),
            noise_added: self.stats(Group::NoiseAdded),
            diversity,
            gate_min_val: None,
        }
    }
}

impl ReportInput {
    /// The detail of `arch`, if given.
    pub fn detail(&self, arch: &str) -> Option<&ArchDetail> {
        self.archs.iter().find(|a| a.arch == arch)
    }

    /// Joins the report inputs of shards: manifests by [`Manifest::merge`], details
    /// concatenated (an architecture with detail in two shards is an error).
    pub fn merge(shards: &[ReportInput]) -> Result<ReportInput, ManifestError> {
        let manifests: Vec<Manifest> = shards.iter().map(|s| s.manifest.clone()).collect();
        let manifest = Manifest::merge(&manifests)?;
        let mut archs: Vec<ArchDetail> = Vec::new();
        for detail in shards.iter().flat_map(|s| &s.archs) {
            if archs.iter().any(|a| a.arch == detail.arch) {
                return Err(ManifestError::Duplicate { kind: "detail", id: detail.arch.clone() });
            }
            archs.push(detail.clone());
        }
        Ok(ReportInput { manifest, archs })
    }

    /// [`Manifest::order_archs`], and the details in the same order.
    pub fn order_archs(&mut self, order: &[&str]) {
        self.manifest.order_archs(order);
        let rank = |arch: &str| order.iter().position(|a| *a == arch).unwrap_or(order.len());
        self.archs.sort_by_key(|d| rank(&d.arch));
    }

    /// Reads a saved input (JSON), checking the manifest inside as [`Manifest::read`] does.
    pub fn read(path: &Path) -> Result<Self, ManifestError> {
        let input: ReportInput = zoo_io::read_json(path)?;
        if input.manifest.schema_version != crate::SCHEMA_VERSION {
            return Err(ManifestError::SchemaVersion {
                what: path.display().to_string(),
                found: input.manifest.schema_version,
                expected: crate::SCHEMA_VERSION,
            });
        }
        input.manifest.validate()?;
        Ok(input)
    }

    /// Writes it as pretty JSON, atomically (conventionally `dir/`[`REPORT_INPUT_FILE`]).
    pub fn write(&self, path: &Path) -> Result<(), ManifestError> {
        zoo_io::write_json(path, self)?;
        Ok(())
    }
}
