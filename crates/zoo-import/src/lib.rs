//! Pretrained weights for the zoo's networks: reads a torchvision- or timm-named PyTorch
//! state dict (`.pth` / `.pt` through burn-store's `pytorch-reader`, or `.safetensors`) and
//! writes it into a registered variant, reporting what was applied, missing, unused,
//! mismatched and ignored.
//!
//! Our parameter names already are the PyTorch `state_dict` keys (see `zoo_models::params`),
//! so importing is reading plus unwrapping: checkpoint wrappers (`state_dict`, `model`,
//! `state_dict_ema`, DDP's `module.`) are stripped in [`names`], and torchvision's ConvNeXt
//! names are mapped to timm's.

mod apply;
mod error;
pub mod names;
mod read;

pub use apply::{ImportOptions, ImportReport, import_into};
pub use error::ImportError;
pub use read::{StateDict, read_state_dict};
