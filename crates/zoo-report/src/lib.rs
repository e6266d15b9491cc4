//! The zoo folder's two documents: `manifest.json` (what the zoo holds, machine-readable;
//! [`Manifest`]) and `report.html` (what it means, for people; [`render`], [`write_report`]).
//!
//! The pipeline (`pdiff-zoo run`) fills a [`Manifest`] as members are exported and verified,
//! and a [`ReportInput`] (the manifest plus per-architecture detail: every member's accuracy
//! and similarity to the trained checkpoints, an IoU matrix). Both are plain serde data, so
//! `pdiff-zoo report` can re-render the page from a saved `report_input.json`, and
//! `pdiff-zoo merge` joins the manifests of shards with [`Manifest::merge`].
//!
//! The report is one self-contained HTML file: inline CSS, PNG plots as base64 data URIs,
//! drawn here (anti-aliased by `tiny-skia`, text from an embedded DejaVu Sans), so it renders
//! the same on any machine and fetches nothing.

mod floors;
mod html;
mod input;
mod manifest;
mod plots;
mod stats;

pub use floors::{BEST_FLOOR_PP, Floors, MEDIAN_FLOOR_PP};
pub use html::{REPORT_FILE, render, write_report};
pub use input::{ArchDetail, Group, Point, REPORT_INPUT_FILE, ReportInput, SimilarityMatrix};
pub use manifest::{
    Accuracy, ArchSummary, CreatedBy, Diversity, Ensemble, EnsembleAccuracy, MANIFEST_FILE,
    Manifest, ManifestError, Member, OrtCheck, RecipeRef, SCHEMA_VERSION, Source, StageTimes,
    ZOO_WIDE,
};
pub use stats::GroupStats;
