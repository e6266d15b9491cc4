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
pub mod host_denoiser;
pub mod sampler;
pub mod schedule;
pub mod store;
pub mod train;

pub use autoencoder::{AeConfig, AeGeometry, Autoencoder};
pub use dataset::{Layout, LayoutEntry, NormMode, Normalizer, ParamDataset};
pub use denoiser::{Denoiser, DenoiserConfig, Ema, TimeEmbedding};
pub use host_denoiser::HostDenoiser;
pub use sampler::{Sampler, sample_latents};
pub use schedule::{
    BetaSchedule, DdimUpdate, DdpmUpdate, NoiseSchedule, ReverseUpdate, ScheduleConfig, StepValue,
    VarianceType, update_values,
};
pub use train::{
    DdpmTrainConfig, FitReport, FittedPdiff, LatentScaling, LossPoint, PdiffConfig, Reconstruction,
    TrainConfig, fit,
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

/// Re-draws every float parameter of `module` from `rng`, PyTorch-style: a conv or
/// transposed-conv weight (rank 3, fan-in = dims[1] · dims[2]), a `Linear` weight (rank 2,
/// `[in, out]`, fan-in = dims[0]) and the rank-1 bias after either from
/// U(−1/√fan_in, 1/√fan_in); an `Embedding` table from N(0, 1). These are the distributions
/// burn's own initializers use for these layers, drawn from a seeded host RNG instead of
/// burn's process-wide one (which parallel callers would race on).
pub fn init_params<M: Module>(module: M, rng: &mut impl Rng) -> M {
    struct Reinit<'a, R: Rng> {
        rng: &'a mut R,
        fan_in: usize,
        containers: Vec<String>,
    }
    impl<R: Rng> ModuleMapper for Reinit<'_, R> {
        fn enter_module(&mut self, _name: &str, container_type: &str) {
            self.containers.push(container_type.to_string());
        }

        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.containers.pop();
        }

        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let in_embedding = self.containers.iter().any(|c| c == "Struct:Embedding");
            // Built from the lazy shape and device: burn's own (process-wide, shared) RNG
            // is never drawn.
            let dims = param.lazy_shape().dims::<D>();
            let n: usize = dims.iter().product();
            let values: Vec<f32> = match D {
                2 if in_embedding => (0..n).map(|_| self.rng.sample(StandardNormal)).collect(),
                _ => {
                    if D == 3 {
                        self.fan_in = dims[1] * dims[2];
                    } else if D == 2 {
                        self.fan_in = dims[0];
                    }
                    let bound = 1.0 / (self.fan_in.max(1) as f32).sqrt();
                    (0..n).map(|_| self.rng.random_range(-bound..bound)).collect()
                }
            };
            let fresh = Tensor::<D>::from_data(TensorData::new(values, dims), &param.lazy_device());
            let id = param.id;
            param.transform_for_load(fresh, id)
        }
    }
    module.map(&mut Reinit { rng, fan_in: 1, containers: Vec::new() })
}

/// A tensor's values on the host, as f32.
pub(crate) fn host_values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 tensor data")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn init_params_follows_the_layer_rules_and_the_seed() {
        let device = Device::flex();
        let cfg = DenoiserConfig { channels: vec![8, 16], ..Default::default() };
        let draw = |seed| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            store::module_tensors(&init_params(cfg.init(8, 100, &device).unwrap(), &mut rng))
        };
        let a = draw(1);
        assert_eq!(a, draw(1));
        assert_ne!(a, draw(2));
        let proj = a.iter().find(|t| t.name == "time_proj.weight").unwrap();
        assert_eq!(proj.shape, vec![64, 8]);
        assert!(proj.data.iter().all(|v| v.abs() <= 1.0 / 8.0)); // 1/√64
        let conv = a.iter().find(|t| t.name == "enc.1.conv_a.weight").unwrap();
        let bound = 1.0 / ((8 * 3) as f32).sqrt();
        assert!(conv.data.iter().all(|v| v.abs() <= bound));
        let table = DenoiserConfig { time_embedding: TimeEmbedding::Table, ..cfg.clone() };
        let mut rng = rand::rngs::StdRng::seed_from_u64(0);
        let t = store::module_tensors(&init_params(table.init(8, 100, &device).unwrap(), &mut rng));
        let emb = t.iter().find(|t| t.name == "time_table.weight").unwrap();
        let var = emb.data.iter().map(|v| (v * v) as f64).sum::<f64>() / emb.data.len() as f64;
        assert!((var - 1.0).abs() < 0.15, "N(0, 1) table, variance {var}");
    }
}
