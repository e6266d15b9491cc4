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
//!
//! ```
//! use zoo_report::*;
//!
//! let mut manifest = Manifest::new(
//!     "mnist-quick",
//!     RecipeRef { name: "mnist-quick".into(), sha256: "ab12".into() },
//!     CreatedBy { tool: "pdiff-zoo".into(), command: "run zoo/mnist-quick.toml".into(), created_at: None },
//! );
//! let point = |id: &str, test: f64, iou: f64| Point { id: id.into(), val: test, test, max_iou_to_trained: iou };
//! let detail = ArchDetail {
//!     arch: "resnet8".into(),
//!     trained: vec![point("t0", 97.9, 0.81), point("t1", 98.1, 0.81)],
//!     generated: vec![point("g0", 98.0, 0.62), point("g1", 97.7, 0.58)],
//!     noise_added: vec![point("n0", 96.2, 0.9)],
//!     similarity: None,
//! };
//! let diversity = Diversity {
//!     trained_iou_mean: 0.81, generated_iou_mean: 0.55, cross_iou_mean: 0.6,
//!     max_iou_to_trained_mean: 0.6, noise_max_iou_to_trained_mean: 0.9, trained_nn_iou_mean: 0.81,
//!     noise_equal_l2_max_iou_to_trained_mean: None,
//!     generated_max_iou_at_trained_accuracy: None, noise_max_iou_at_trained_accuracy: None,
//!     interpolated_max_iou_to_trained_mean: None, gaussian_max_iou_to_trained_mean: None,
//!     margin_interval: None, validation_margin: None,
//! };
//! manifest.summary.insert("resnet8".into(), detail.summary(diversity));
//! assert!(Floors::check(&manifest.summary["resnet8"]).all());
//!
//! let input = ReportInput { manifest, archs: vec![detail] };
//! let dir = tempfile::tempdir().unwrap();
//! input.manifest.write(&dir.path().join(MANIFEST_FILE)).unwrap();
//! input.write(&dir.path().join(REPORT_INPUT_FILE)).unwrap(); // for `pdiff-zoo report`
//! let html = write_report(dir.path(), &input).unwrap(); // dir/report.html
//! assert!(std::fs::read_to_string(html).unwrap().contains("data:image/png;base64,"));
//! ```

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
    Manifest, ManifestError, Margin, Member, OrtCheck, RecipeRef, SCHEMA_VERSION, Source,
    StageTimes, ZOO_WIDE,
};
pub use stats::{GroupStats, iou_or_dash};
