//! p-diff ("Neural Network Diffusion", Wang et al. 2024, arXiv 2402.13144) over flat parameter
//! vectors, independent of model families: this crate never sees a network.
//!
//! Input: a K × P matrix of parameter vectors (K checkpoints of a P-value subset) and the
//! [`Layout`] of tensors inside a vector. [`fit`] normalizes the vectors, trains a 1-D conv
//! autoencoder with noise augmentation, encodes the vectors into small latents and trains a
//! DDPM on them; [`FittedPdiff::sample`] draws new latents, decodes and de-normalizes them into
//! N × P vectors. [`FittedPdiff::save`] / [`FittedPdiff::load`] keep everything in a directory
//! so fitting and sampling can be separate runs.
//!
//! | file | what |
//! |---|---|
//! | `dataset.rs` | [`Layout`], [`NormMode`], [`Normalizer`], [`ParamDataset`] |
//! | `schedule.rs` | [`NoiseSchedule`]: betas, forward noising, DDPM / DDIM steps (f64) |
//! | `autoencoder.rs` | [`Autoencoder`], [`AeConfig`] (reference "medium" by default) |
//! | `denoiser.rs` | [`Denoiser`] ε_θ(x_t, t), [`Ema`] |
//! | `sampler.rs` | [`Sampler`], [`sample_latents`] |
//! | `train.rs` | [`PdiffConfig`], training loops, [`fit`], [`FittedPdiff`] |
//! | `store.rs` | module weights ↔ safetensors, the artefact directory |
//!
//! Everything runs on a caller-given burn [`Device`](burn::prelude::Device) (training on its
//! autodiff variant). All randomness — weight init, noise, timesteps, batches — comes from
//! seeded host RNGs, so a seed fixes the result on a given backend regardless of what else
//! uses burn's global RNG.

pub mod autoencoder;
pub mod dataset;
pub mod denoiser;
pub mod sampler;
pub mod schedule;
pub mod store;
pub mod train;

pub use autoencoder::{AeConfig, AeGeometry, Autoencoder};
pub use dataset::{Layout, LayoutEntry, NormMode, Normalizer, ParamDataset};
pub use denoiser::{Denoiser, DenoiserConfig, Ema};
pub use sampler::{Sampler, sample_latents};
pub use schedule::{BetaSchedule, NoiseSchedule, ScheduleConfig, VarianceType};
pub use train::{
    DdpmTrainConfig, FitReport, FittedPdiff, LatentScaling, LossPoint, PdiffConfig,
    Reconstruction, TrainConfig, fit,
};

use burn::module::{Module, ModuleMapper, Param};
use burn::prelude::*;
use rand::Rng;
use rand_distr::StandardNormal;

/// Errors of this crate; each names the field, file or shape at fault.
#[derive(Debug, thiserror::Error)]
pub enum PdiffError {
    /// A setting is out of range.
    #[error("invalid config `{field}`: {reason}")]
    Config {
        /// Dotted config field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// Input data has the wrong size or content.
    #[error("bad input: {0}")]
    Shape(String),
    /// Reading or writing an artefact failed.
    #[error(transparent)]
    Io(#[from] zoo_io::IoError),
}

impl PdiffError {
    pub(crate) fn config(field: &str, reason: impl Into<String>) -> Self {
        PdiffError::Config { field: field.to_string(), reason: reason.into() }
    }

    pub(crate) fn shape(reason: impl Into<String>) -> Self {
        PdiffError::Shape(reason.into())
    }
}

/// Re-draws every float parameter of `module` from `rng`, PyTorch-style: a rank-3 tensor
/// (conv / transposed-conv weight, fan-in = dims[1] · dims[2]) and the rank-1 bias after it
/// from U(−1/√fan_in, 1/√fan_in); a rank-2 tensor (embedding table) from N(0, 1). These are
/// the distributions burn's own initializers use for these layers, drawn from a seeded host
/// RNG instead of burn's process-wide one (which parallel callers would race on).
pub fn init_params<M: Module>(module: M, rng: &mut impl Rng) -> M {
    struct Reinit<'a, R: Rng> {
        rng: &'a mut R,
        fan_in: usize,
    }
    impl<R: Rng> ModuleMapper for Reinit<'_, R> {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|old| {
                let dims = old.dims();
                let n: usize = dims.iter().product();
                let values: Vec<f32> = match D {
                    2 => (0..n).map(|_| self.rng.sample(StandardNormal)).collect(),
                    _ => {
                        if D == 3 {
                            self.fan_in = dims[1] * dims[2];
                        }
                        let bound = 1.0 / (self.fan_in.max(1) as f32).sqrt();
                        (0..n).map(|_| self.rng.random_range(-bound..bound)).collect()
                    }
                };
                let fresh = Tensor::<D>::from_data(TensorData::new(values, dims), &old.device());
                if old.is_require_grad() { fresh.require_grad() } else { fresh }
            })
        }
    }
    module.map(&mut Reinit { rng, fan_in: 1 })
}
