//! The architectures of the zoo — ResNet, ViT and ConvNeXt, each in several sizes — as burn
//! modules with PyTorch-style dotted parameter names, a registry to build any of them by
//! name, and the parameter plumbing p-diff needs: which tensors it learns (selection), and
//! reading/writing them by name (flatten, splice).

pub mod convnext;
pub mod layers;
pub mod model;
pub mod params;
pub mod registry;
pub mod resnet;
pub mod segments;
pub mod selection;
pub mod vit;

pub use layers::Activation;
pub use model::{ArchConfig, ArchSpec, Family, Model};
pub use params::{
    LoadReport, NamedTensor, TensorInfo, TensorKind, count_params, named_tensors, set_trainable,
    tensor_infos, write_tensors,
};
pub use registry::{Variant, family_default, find, matching, variants};
pub use segments::Segment;
pub use selection::{ParamLayout, Selection};

/// Errors of model construction, selection and parameter surgery.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The registry has no such variant.
    #[error("unknown architecture `{name}`; known: {}", known.join(", "))]
    UnknownArch {
        /// The name asked for.
        name: String,
        /// Registered names.
        known: Vec<String>,
    },
    /// A glob pattern did not parse.
    #[error("bad pattern `{pattern}`: {reason}")]
    BadPattern {
        /// The pattern.
        pattern: String,
        /// Why it is invalid.
        reason: String,
    },
    /// A parameter selection matched nothing.
    #[error(
        "parameter pattern(s) {patterns:?} match no parameter of `{arch}`; hint: `pdiff-zoo list {arch} --params` shows the names"
    )]
    EmptySelection {
        /// The architecture.
        arch: String,
        /// The patterns.
        patterns: Vec<String>,
    },
    /// The input shape does not suit the architecture.
    #[error("architecture `{arch}` cannot take input {input:?}: {reason}")]
    BadInput {
        /// The architecture.
        arch: String,
        /// The input `[channels, height, width]`.
        input: [usize; 3],
        /// Why.
        reason: String,
    },
    /// Writing tensors into a model was not clean.
    #[error("splice into `{arch}` is not clean: {summary}")]
    UncleanSplice {
        /// The architecture.
        arch: String,
        /// The report summary.
        summary: String,
    },
    /// A flat vector has the wrong length for the layout.
    #[error("parameter vector has {got} values but the layout needs {expected}")]
    VectorLength {
        /// Values the layout needs.
        expected: usize,
        /// Values given.
        got: usize,
    },
}
