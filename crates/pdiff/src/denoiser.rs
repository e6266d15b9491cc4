//! The latent denoiser ε_θ(x_t, t) (METHOD.md §3) and its exponential moving average.
//!
//! A 1-D convolutional encoder–decoder over the flattened latent (one input channel, length
//! = latent dim), as the reference p-diff `AE_CNN_bottleneck`: encoder blocks widen the
//! channels (reference 64-128-256-512), decoder blocks narrow them back to 1, kernel 3, stride
//! 1 (no downsampling) by default, additive skips from each encoder block to the decoder block
//! of the same width, `LeakyReLU → InstanceNorm → Conv → LeakyReLU → InstanceNorm → Conv` per
//! block, and a timestep vector added to the input of every block: by default fixed sinusoidal
//! features of t through a learned linear map ([`TimeEmbedding::Sinusoidal`]); the reference's
//! learned T × latent_dim table is [`TimeEmbedding::Table`].
//!
//! Differences from the reference:
//! - Each sample uses its own timestep (the reference broadcasts the first sample's t to the
//!   whole batch).
//! - The raw input is not instance-normalized by default (`norm_input`): over a 12–16-value
//!   latent that would remove each sample's mean and scale, two of its ~16 degrees of freedom,
//!   which ε-prediction needs.
//! - The default widths are 16-32-64-128, not 64-128-256-512: 1/16 of the compute (the cost
//!   is quadratic in width), which is what makes thousands of steps and 1,000-step sampling
//!   affordable on a 2-core CPU. On the three families' MNIST collections it also gave
//!   members that overlap less with the trained checkpoints at trained-level accuracy than
//!   32-64-128-256, which memorized in one run (`docs/METHOD-NOTES.md` §5). Set `channels` to
//!   the reference on a GPU.
//! - `downsample` (off by default) turns it into a 1-D U-Net: stride-2 convolutions halve the
//!   length at the encoder levels after the first, nearest-neighbour repeats double it back in
//!   the decoder, and the timestep vector is averaged down to each level's length.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{
    Embedding, EmbeddingConfig, InstanceNorm, InstanceNormConfig, Linear, LinearConfig,
    PaddingConfig1d,
};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use serde::{Deserialize, Serialize};

use crate::PdiffError;

/// How the timestep becomes the vector added at every block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimeEmbedding {
    /// A learned T × dim table, N(0, 1) at init (the reference). Each row learns only from
    /// the steps that drew its t: ~batch · steps / T updates, about 100 in a 1,500-step run,
    /// so short runs keep nearly random, unrelated vectors for neighbouring timesteps.
    Table,
    /// Fixed sinusoidal features of t (Transformer / DDPM style, `features` of them), then a
    /// learned linear map to dim: every step trains the whole map, and neighbouring
    /// timesteps start out similar.
    Sinusoidal {
        /// Number of sinusoidal features (even).
        features: usize,
    },
}

/// Architecture of the denoiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DenoiserConfig {
    /// Encoder widths (the decoder mirrors them).
    pub channels: Vec<usize>,
    /// Kernel size (odd keeps the length).
    pub kernel: usize,
    /// Instance-normalize the raw input (the reference does).
    pub norm_input: bool,
    /// LeakyReLU negative slope.
    pub negative_slope: f64,
    /// Timestep embedding.
    pub time_embedding: TimeEmbedding,
    /// Halve the length at encoder levels after the first (stride-2 convolution) and double
    /// it back in the decoder (nearest-neighbour repeat), a 1-D U-Net, while the halved
    /// length stays at least [`MIN_LEVEL_LEN`]: at a 52-value latent and 16-32-64-128, 1/6
    /// of the compute of full-length levels. The latent is zero-padded to a multiple of
    /// 2^halvings and cropped back. Absent in files written before it existed, where it
    /// means `false`.
    #[serde(default)]
    pub downsample: bool,
}

impl Default for DenoiserConfig {
    fn default() -> Self {
        Self {
            channels: vec![16, 32, 64, 128],
            kernel: 3,
            norm_input: false,
            negative_slope: 0.01,
            time_embedding: TimeEmbedding::Sinusoidal { features: 64 },
            downsample: false,
        }
    }
}

impl DenoiserConfig {
    /// The reference: widths 64-128-256-512 at full length.
    pub fn reference() -> Self {
        Self { channels: vec![64, 128, 256, 512], downsample: false, ..Self::default() }
    }

    /// Checks the settings on their own.
    pub fn validate(&self) -> Result<(), PdiffError> {
        if self.channels.is_empty() || self.channels.contains(&0) {
            return Err(PdiffError::config(
                "denoiser.channels",
                "needs at least one non-zero width",
            ));
        }
        if self.kernel == 0 {
            return Err(PdiffError::config("denoiser.kernel", "must be at least 1"));
        }
        if let TimeEmbedding::Sinusoidal { features } = self.time_embedding
            && (features == 0 || !features.is_multiple_of(2))
        {
            return Err(PdiffError::config(
                "denoiser.time_embedding.features",
                "must be even and non-zero",
            ));
        }
        Ok(())
    }

    /// Builds a denoiser for latents of `dim` values and `num_timesteps` timesteps.
    pub fn init(
        &self,
        dim: usize,
        num_timesteps: usize,
        device: &Device,
    ) -> Result<Denoiser, PdiffError> {
        self.validate()?;
        if dim == 0 {
            return Err(PdiffError::shape("latent dimension is 0"));
        }
        let k = self.kernel;
        let conv_strided = |i: usize, o: usize, stride: usize| {
            Conv1dConfig::new(i, o, k)
                .with_stride(stride)
                .with_padding(PaddingConfig1d::Explicit((k - 1) / 2, k / 2))
                .init(device)
        };
        let conv = |i: usize, o: usize| conv_strided(i, o, 1);
        let norm = |c: usize| InstanceNormConfig::new(c).with_affine(false).init(device);
        let c = &self.channels;
        let n = c.len();
        let halvings = if self.downsample { halvings_for(dim, n) } else { 0 };
        let mut enc = Vec::new();
        for i in 0..n {
            let inp = if i == 0 { 1 } else { c[i - 1] };
            let stride = if i > 0 && i <= halvings { 2 } else { 1 };
            enc.push(DenoiserBlock {
                norm_a: (i > 0 || self.norm_input).then(|| norm(inp)),
                conv_a: conv_strided(inp, c[i], stride),
                norm_b: norm(c[i]),
                conv_b: conv(c[i], c[i]),
            });
        }
        let mut dec = Vec::new();
        for j in 0..n {
            let inp = c[n - 1 - j];
            let (mid, out) = if j + 1 < n { (c[n - 2 - j], c[n - 2 - j]) } else { (c[0], 1) };
            dec.push(DenoiserBlock {
                norm_a: Some(norm(inp)),
                conv_a: conv(inp, mid),
                norm_b: norm(mid),
                conv_b: conv(mid, out),
            });
        }
        let (time_table, time_features, time_proj) = match self.time_embedding {
            TimeEmbedding::Table => {
                (Some(EmbeddingConfig::new(num_timesteps, dim).init(device)), None, None)
            }
            TimeEmbedding::Sinusoidal { features } => {
                let table = sinusoidal(num_timesteps, features);
                let table = Tensor::<2>::from_data(
                    TensorData::new(table, [num_timesteps, features]),
                    device,
                );
                (None, Some(table), Some(LinearConfig::new(features, dim).init(device)))
            }
        };
        Ok(Denoiser {
            time_table,
            time_features,
            time_proj,
            enc,
            dec,
            dim,
            halvings,
            negative_slope: self.negative_slope,
        })
    }
}

/// Downsampling stops before a level would be shorter than this: instance norm over fewer
/// positions keeps little more than signs.
pub const MIN_LEVEL_LEN: usize = 4;

/// How many times a `dim`-value latent is halved by `levels` downsampling levels.
fn halvings_for(dim: usize, levels: usize) -> usize {
    let mut h = 0;
    while h + 1 < levels && dim >= MIN_LEVEL_LEN << (h + 1) {
        h += 1;
    }
    h
}

/// One block: `[LeakyReLU →] [InstanceNorm →] Conv → LeakyReLU → InstanceNorm → Conv`.
#[derive(Module, Debug)]
pub struct DenoiserBlock {
    pub(crate) norm_a: Option<InstanceNorm>,
    pub(crate) conv_a: Conv1d,
    pub(crate) norm_b: InstanceNorm,
    pub(crate) conv_b: Conv1d,
}

/// `features` sinusoids of each of `t_count` timesteps, row-major `[t_count, features]`:
/// sin(t·ω_i) then cos(t·ω_i), ω_i = 10000^(−i / (features / 2)).
fn sinusoidal(t_count: usize, features: usize) -> Vec<f32> {
    let half = features / 2;
    let mut out = Vec::with_capacity(t_count * features);
    for t in 0..t_count {
        let freqs = (0..half).map(|i| (-(10000f64.ln()) * i as f64 / half as f64).exp());
        let angles: Vec<f64> = freqs.map(|w| t as f64 * w).collect();
        out.extend(angles.iter().map(|a| a.sin() as f32));
        out.extend(angles.iter().map(|a| a.cos() as f32));
    }
    out
}

/// ε_θ(x_t, t) over flat latents. Build with [`DenoiserConfig::init`].
#[derive(Module, Debug)]
pub struct Denoiser {
    pub(crate) time_table: Option<Embedding>,
    pub(crate) time_features: Option<Tensor<2>>,
    pub(crate) time_proj: Option<Linear>,
    pub(crate) enc: Vec<DenoiserBlock>,
    pub(crate) dec: Vec<DenoiserBlock>,
    pub(crate) dim: usize,
    /// Levels 1..=halvings each halve the length; deeper levels keep it.
    pub(crate) halvings: usize,
    pub(crate) negative_slope: f64,
}

impl Denoiser {
    /// Latent dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `dim` rounded up to a multiple of 2^halvings, the length the levels work on.
    pub(crate) fn padded_dim(&self) -> usize {
        self.dim.next_multiple_of(1 << self.halvings)
    }

    /// The per-sample timestep vector, `[batch]` → `[batch, 1, dim]`.
    fn embed_time(&self, t: Tensor<1, Int>) -> Tensor<3> {
        let [batch] = t.dims();
        match (&self.time_table, &self.time_features, &self.time_proj) {
            (Some(table), _, _) => table.forward(t.reshape([batch, 1])),
            (None, Some(features), Some(proj)) => {
                proj.forward(features.clone().select(0, t)).reshape([batch, 1, self.dim])
            }
            _ => unreachable!("a denoiser has a table or features with a projection"),
        }
    }

    fn block(&self, block: &DenoiserBlock, x: Tensor<3>, first: bool) -> Tensor<3> {
        let mut h = if first { x } else { leaky_relu(x, self.negative_slope) };
        if let Some(norm) = &block.norm_a {
            h = norm.forward(h);
        }
        h = leaky_relu(block.conv_a.forward(h), self.negative_slope);
        block.conv_b.forward(block.norm_b.forward(h))
    }

    /// Predicts the noise in `x` at each row's own timestep.
    ///
    /// # Shapes
    /// - `x`: `[batch, dim]`; `t`: `[batch]` indices in [0, T) → `[batch, dim]`
    pub fn forward(&self, x: Tensor<2>, t: Tensor<1, Int>) -> Tensor<2> {
        let [batch, dim] = x.dims();
        assert_eq!(dim, self.dim, "denoiser built for latent dim {}", self.dim);
        let padded_dim = self.padded_dim();
        let pad = |v: Tensor<3>| {
            if padded_dim == dim {
                return v;
            }
            let zeros = Tensor::zeros([batch, 1, padded_dim - dim], &v.device());
            Tensor::cat(vec![v, zeros], 2)
        };
        // The timestep vector at each level's length ([batch, 1, length]).
        let mut embs = vec![pad(self.embed_time(t))];
        for _ in 0..self.halvings {
            let last = embs.last().expect("level 0 is there");
            embs.push(halve(last.clone()));
        }
        let emb = |level: usize| embs[level.min(self.halvings)].clone();
        let mut h = pad(x.reshape([batch, 1, dim]));
        let mut skips = Vec::with_capacity(self.enc.len());
        for (i, block) in self.enc.iter().enumerate() {
            // Block i's input is the previous level's output, at that level's length.
            h = self.block(block, h + emb(i.saturating_sub(1)), i == 0);
            skips.push(h.clone());
        }
        skips.pop(); // the deepest output is `h` itself
        let n = self.dec.len();
        for (j, block) in self.dec.iter().enumerate() {
            let level = n - 1 - j;
            h = self.block(block, h + emb(level), false);
            if level >= 1 && level <= self.halvings {
                h = double(h);
            }
            if let Some(skip) = skips.pop() {
                h = h + skip;
            }
        }
        h.narrow(2, 0, dim).reshape([batch, dim])
    }
}

/// Mean of neighbouring pairs along the length: `[b, c, 2l]` → `[b, c, l]`.
fn halve(x: Tensor<3>) -> Tensor<3> {
    let [b, c, l] = x.dims();
    x.reshape([b, c, l / 2, 2]).mean_dim(3).reshape([b, c, l / 2])
}

/// Each position repeated twice along the length: `[b, c, l]` → `[b, c, 2l]`.
fn double(x: Tensor<3>) -> Tensor<3> {
    let [b, c, l] = x.dims();
    x.reshape([b, c, l, 1]).repeat_dim(3, 2).reshape([b, c, 2 * l])
}

/// An exponential moving average of a module's float parameters, kept without autodiff.
///
/// With decay 0.9999 an EMA needs ~10⁴ steps to forget its start; runs of a few thousand
/// steps would sample from (nearly) the initial weights. With `warmup`, step n uses
/// `min(decay, (1 + n) / (10 + n))` — 0.1 at the first step, 0.9 by step 80, 0.99 by step
/// 890 — so the average follows the model early and settles to `decay` later.
#[derive(Debug, Clone)]
pub struct Ema<M: Module> {
    model: M,
    decay: f64,
    warmup: bool,
    updates: usize,
}

impl<M: Module> Ema<M> {
    /// Starts the average at `model`'s current weights (copied without autodiff).
    pub fn new(model: &M, decay: f64, warmup: bool) -> Self {
        Self { model: model.valid(), decay, warmup, updates: 0 }
    }

    /// The decay the next update uses.
    pub fn current_decay(&self) -> f64 {
        let n = self.updates as f64;
        if self.warmup { self.decay.min((1.0 + n) / (10.0 + n)) } else { self.decay }
    }

    /// avg ← d · avg + (1 − d) · current, parameter by parameter (same visiting order).
    pub fn update(&mut self, current: &M) {
        let d = self.current_decay();
        let mut collect = CollectFlat { out: Vec::new() };
        current.visit(&mut collect);
        let mut mix = MixInto { current: collect.out.into_iter(), decay: d };
        self.model = self.model.clone().map(&mut mix);
        self.updates += 1;
    }

    /// The averaged model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// Consumes the average, returning the model.
    pub fn into_model(self) -> M {
        self.model
    }
}

struct CollectFlat {
    out: Vec<Tensor<1>>,
}

impl ModuleVisitor for CollectFlat {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let t = param.val().inner();
        let n = t.shape().num_elements();
        self.out.push(t.reshape([n]));
    }
}

struct MixInto<I: Iterator<Item = Tensor<1>>> {
    current: I,
    decay: f64,
}

impl<I: Iterator<Item = Tensor<1>>> ModuleMapper for MixInto<I> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let current = self.current.next().expect("EMA and model have the same parameters");
        let decay = self.decay;
        param.map(|avg| {
            let dims = avg.dims();
            avg.mul_scalar(decay) + current.reshape(dims).mul_scalar(1.0 - decay)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ints(values: &[i64], device: &Device) -> Tensor<1, Int> {
        Tensor::from_data(TensorData::new(values.to_vec(), [values.len()]), device)
    }

    #[test]
    fn output_shape_matches_input() {
        let device = Device::flex();
        for dim in [4, 8, 16] {
            let den = DenoiserConfig { channels: vec![8, 16], ..Default::default() }
                .init(dim, 1000, &device)
                .unwrap();
            let x = Tensor::<2>::ones([3, dim], &device);
            assert_eq!(den.forward(x, ints(&[0, 5, 999], &device)).dims(), [3, dim]);
        }
    }

    #[test]
    fn downsampling_halves_while_levels_stay_long_enough() {
        // (dim, levels) → halvings: 52 values over 4 levels → 56 → 28 → 14 → 7.
        for (dim, levels, expected) in
            [(52, 4, 3), (8, 4, 1), (7, 4, 0), (16, 4, 2), (64, 4, 3), (64, 2, 1), (64, 1, 0)]
        {
            assert_eq!(halvings_for(dim, levels), expected, "dim {dim}, {levels} levels");
        }
        let device = Device::flex();
        // (dim, halvings, padded length) for a 4-level denoiser.
        for (dim, halvings, padded) in [(5, 0, 5), (8, 1, 8), (13, 1, 14), (52, 3, 56)] {
            let den = DenoiserConfig {
                channels: vec![4, 8, 16, 32],
                downsample: true,
                ..Default::default()
            }
            .init(dim, 1000, &device)
            .unwrap();
            assert_eq!((den.halvings, den.padded_dim()), (halvings, padded), "dim {dim}");
            let x = Tensor::<2>::random(
                [3, dim],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                &device,
            );
            assert_eq!(den.forward(x, ints(&[0, 5, 999], &device)).dims(), [3, dim]);
        }
    }

    #[test]
    fn files_without_downsample_mean_full_length() {
        let cfg: DenoiserConfig = serde_json::from_str(r#"{"channels": [8, 16]}"#).unwrap();
        assert!(!cfg.downsample);
        assert_eq!(cfg.channels, [8, 16]);
    }

    #[test]
    fn each_sample_uses_its_own_timestep() {
        for time_embedding in [TimeEmbedding::Table, TimeEmbedding::Sinusoidal { features: 16 }] {
            for downsample in [false, true] {
                per_sample_timestep(time_embedding, downsample);
            }
        }
    }

    fn per_sample_timestep(time_embedding: TimeEmbedding, downsample: bool) {
        let device = Device::flex();
        let den = DenoiserConfig {
            channels: vec![8, 16, 32],
            time_embedding,
            downsample,
            ..Default::default()
        }
        .init(8, 100, &device)
        .unwrap();
        let row: Vec<f32> = (0..8).map(|i| (i as f32 * 0.37).sin()).collect();
        let x =
            Tensor::<2>::from_data(TensorData::new([row.clone(), row].concat(), [2, 8]), &device);
        let out = |t: &[i64]| den.forward(x.clone(), ints(t, &device)).into_data();
        let same = out(&[3, 3]).try_into_vec::<f32>().unwrap();
        let mixed = out(&[3, 70]).try_into_vec::<f32>().unwrap();
        let single = den
            .forward(x.clone().narrow(0, 1, 1), ints(&[70], &device))
            .into_data()
            .try_into_vec::<f32>()
            .unwrap();
        // Row 0 is unchanged; row 1 follows its own t = 70, exactly as when run alone.
        assert_eq!(&mixed[..8], &same[..8]);
        assert!(mixed[8..].iter().zip(&same[8..]).any(|(a, b)| (a - b).abs() > 1e-4));
        for (a, b) in mixed[8..].iter().zip(&single) {
            assert!((a - b).abs() < 1e-5);
        }
    }

    #[test]
    fn ema_warmup_follows_the_model_and_settles_to_decay() {
        let device = Device::flex();
        let cfg = DenoiserConfig {
            channels: vec![4],
            time_embedding: TimeEmbedding::Table,
            ..Default::default()
        };
        let a = cfg.init(4, 10, &device).unwrap();
        let b = cfg.init(4, 10, &device).unwrap();
        let mut ema = Ema::new(&a, 0.9999, true);
        assert!((ema.current_decay() - 0.1).abs() < 1e-12);
        ema.update(&b);
        // After one update with d = 0.1 the average is 0.1·a + 0.9·b.
        let w = |m: &Denoiser| {
            m.time_table.as_ref().unwrap().weight.val().into_data().try_into_vec::<f32>().unwrap()
        };
        for ((e, a), b) in w(ema.model()).iter().zip(w(&a)).zip(w(&b)) {
            assert!((e - (0.1 * a + 0.9 * b)).abs() < 1e-5);
        }
        let mut late = Ema::new(&a, 0.9999, true);
        late.updates = 1_000_000;
        assert_eq!(late.current_decay(), 0.9999);
        assert_eq!(Ema::new(&a, 0.99, false).current_decay(), 0.99);
    }
}
