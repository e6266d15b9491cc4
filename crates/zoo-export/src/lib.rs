//! Every network of the zoo as a full ONNX graph, ensembles of them, and the checks that
//! prove ONNX Runtime computes what burn computed.
//!
//! - [`export_model`]: a burn [`Model`](zoo_models::Model) (ResNet, ViT, ConvNeXt; any
//!   registered variant, spliced or not) → [`zoo_onnx::Model`]: input `input`
//!   `[batch, C, H, W]`, output `logits`, initializers named by dotted parameter names,
//!   `metadata_props` from [`Metadata`]. One exporter per family (`resnet.rs`, `vit.rs`,
//!   `convnext.rs`) mirrors the burn forward pass op for op.
//! - [`export_verified`] → [`Verified`]: export, run burn and ONNX Runtime on a batch, fail
//!   unless max |Δlogit| ≤ [`LOGIT_TOLERANCE`](zoo_verify::LOGIT_TOLERANCE) and every argmax
//!   agrees; [`Verified::write`] writes the file with `test_data_set_0/` beside it.
//! - [`ensemble`]: K exported members → one graph whose `probabilities` are the mean of the
//!   members' softmax outputs (plus `member_logits` on request); members chosen with
//!   [`top_k`] or [`diverse`].
//! - [`ort_predictions`], [`accuracy_percent`]: accuracy of a file in ONNX Runtime on a split;
//!   [`verify_file`]: re-run a file's `test_data_set_0`.
//!
//! ```no_run
//! # fn main() -> zoo_export::Result<()> {
//! use burn::prelude::Device;
//! let device = Device::flex();
//! let spec = zoo_models::find("resnet8").unwrap().spec;
//! let model = spec.init(&device);
//! let images = vec![0.0f32; 2 * 28 * 28];
//! let opts = zoo_export::ExportOptions::default();
//! let verified = zoo_export::export_verified(&model, &spec, &opts, &images, [2, 1, 28, 28], &device)?;
//! assert!(verified.agreement.max_abs_diff <= 1e-4);
//! verified.write(std::path::Path::new("exports/resnet8/model.onnx"))?;
//! # Ok(())
//! # }
//! ```

mod convnext;
mod ensemble;
mod error;
mod export;
/// The per-layer emitters ([`layers::Ctx`]); public only for the per-layer tests
/// (`tests/layers_vs_burn.rs`), not a stable API.
#[doc(hidden)]
pub mod layers;
mod metadata;
mod resnet;
mod select;
mod verify;
mod vit;

pub use ensemble::{EnsembleOptions, ensemble, mean_softmax, member_prefix};
pub use error::{ExportError, Result};
pub use export::{ExportOptions, check_opset, export_model};
pub use layers::layer_norm_epsilon;
pub use metadata::{Metadata, PDIFF_ZOO_VERSION, Source, parse_floats};
pub use select::{diverse, top_k};
pub use verify::{
    FileCheck, Verified, accuracy_percent, burn_logits, check_batch, export_verified,
    ort_predictions, test_data_dir, verify_file, write_with_test_data,
};
/// The ViT attention emitter; public only for the per-layer tests, not a stable API.
#[doc(hidden)]
pub use vit::attention as vit_attention;

/// Name of the graph input of every exported file.
pub const INPUT_NAME: &str = "input";
/// Name of a network's output.
pub const LOGITS_NAME: &str = "logits";
/// Name of an ensemble's mean-probability output.
pub const PROBABILITIES_NAME: &str = "probabilities";
/// Name of an ensemble's stacked member logits output.
pub const MEMBER_LOGITS_NAME: &str = "member_logits";
