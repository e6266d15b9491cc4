//! Running exported models in ONNX Runtime and checking them.
//!
//! - [`runtime()`]: find `libonnxruntime` (`ORT_DYLIB_PATH`, the project `.venv`, system
//!   folders) and start it once, with a typed error and a `hint:` instead of a panic;
//! - [`OrtModel`]: a session with its signature and `metadata_props`; inputs are checked
//!   against the signature before running;
//! - [`compare_logits`], [`accuracy`] and the named tolerances [`LOGIT_TOLERANCE`],
//!   [`OP_TOLERANCE`];
//! - [`check_test_data_set`]: run a model on model-zoo `test_data_set_N` files.
//!
//! ```no_run
//! # fn main() -> zoo_verify::Result<()> {
//! let mut model = zoo_verify::OrtModel::load("exports/mnist/resnet18.m0.onnx")?;
//! println!("{:?} {}", model.metadata().get("arch"), model.inputs()[0].shape_text());
//! let batch = vec![0.0f32; 2 * 28 * 28];
//! let logits = model.run(&batch, [2, 1, 28, 28])?;
//! # let burn_logits = logits.clone();
//! let agreement = zoo_verify::compare_logits(&logits, &burn_logits, 10)?;
//! assert!(agreement.within(zoo_verify::LOGIT_TOLERANCE));
//! # Ok(())
//! # }
//! ```

mod compare;
mod conformance;
mod error;
mod model;
pub mod runtime;

pub use compare::{
    Agreement, LOGIT_TOLERANCE, OP_TOLERANCE, accuracy, argmax, compare_logits, max_abs_diff,
    predictions,
};
pub use conformance::{OutputCheck, check_test_data_set};
pub use error::{Result, RuntimeError, SETUP_HINT, VerifyError};
pub use model::{OrtModel, SigDim, TensorSignature};
pub use runtime::{ORT_DYLIB_ENV, Runtime, locate_library, runtime};
