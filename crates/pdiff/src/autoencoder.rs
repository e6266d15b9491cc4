//! The parameter autoencoder (METHOD.md §2): a 1-D convolutional encoder that folds a
//! zero-padded parameter vector by `fold` per block into a small tanh latent, and a mirrored
//! decoder of transposed convolutions that unfolds it and crops back to P.
//!
//! Mirrors the reference p-diff `ODEncoder2Decoder` ("medium": fold 5, kernel 5, encoder
//! channels [4, 4, 4, 4], decoder [4, 256, 256, 8] then 1). Each encoder block is
//! `LeakyReLU → InstanceNorm → Conv(k, stride 1) → LeakyReLU → InstanceNorm → Conv(k, stride s)`
//! (no leading LeakyReLU in the first block, tanh after the last); each decoder block is
//! `LeakyReLU → InstanceNorm → ConvTranspose(stride s) → LeakyReLU → InstanceNorm → Conv(k)`.
//! InstanceNorm has no affine parameters. Differences from the reference, all to make any P
//! from ~64 up work and to keep information the reference throws away:
//! - Padding is chosen so every convolution divides exactly (the reference uses unpadded
//!   convolutions whose lengths shrink by k − 1 and fails below P ≈ 940 for fold 5): the input
//!   is zero-padded to `fold⁴ · m`, `m = max(⌈P / fold⁴⌉, min_latent_len)`, and the latent is
//!   `enc_channels[3] × m` values (16 for P = 2,048; the reference has 12).
//! - By default the raw input is not instance-normalized (`norm_input`): the data is already
//!   normalized per tensor, and a per-sample norm would discard each vector's own mean and
//!   scale — part of what distinguishes checkpoints.
//! - By default the latent is not instance-normalized at the decoder's entry (`norm_latent`):
//!   over a latent of length 2–4 an instance norm leaves almost nothing (for length 2 only a
//!   sign per channel).
//!
//! Noise augmentation, training only: x ← (1 − f)·x + f·ε on the input (f = 0.001) and on the
//! latent (f = 0.1), the latent then clamped to [−1, 1]; loss is MSE to the clean input.

use burn::nn::conv::{Conv1d, Conv1dConfig, ConvTranspose1d, ConvTranspose1dConfig};
use burn::nn::{InstanceNorm, InstanceNormConfig, PaddingConfig1d};
use burn::prelude::*;
use burn::tensor::activation::leaky_relu;
use serde::{Deserialize, Serialize};

use crate::PdiffError;

/// Architecture and noise augmentation of the autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AeConfig {
    /// Length reduction per block (stride of the folding convolution).
    pub fold: usize,
    /// Kernel size of every convolution.
    pub kernel: usize,
    /// Output channels of the encoder blocks; the last is the latent's channel count.
    pub enc_channels: Vec<usize>,
    /// Channels of the decoder blocks (the first must equal the latent's); the output has 1.
    pub dec_channels: Vec<usize>,
    /// Input noise factor f (training only).
    pub input_noise: f64,
    /// Latent noise factor f (training only).
    pub latent_noise: f64,
    /// Smallest latent length m; more padding is added when P alone gives fewer.
    pub min_latent_len: usize,
    /// Instance-normalize the raw input (the reference does).
    pub norm_input: bool,
    /// Instance-normalize the latent at the decoder's entry (the reference does).
    pub norm_latent: bool,
    /// LeakyReLU negative slope (PyTorch's default 0.01).
    pub negative_slope: f64,
}

impl Default for AeConfig {
    /// The reference "medium" autoencoder.
    fn default() -> Self {
        Self::medium()
    }
}

impl AeConfig {
    /// Reference "medium": fold 5, kernel 5, encoder [4, 4, 4, 4], decoder [4, 256, 256, 8].
    pub fn medium() -> Self {
        Self {
            fold: 5,
            kernel: 5,
            enc_channels: vec![4, 4, 4, 4],
            dec_channels: vec![4, 256, 256, 8],
            input_noise: 0.001,
            latent_noise: 0.1,
            min_latent_len: 2,
            norm_input: false,
            norm_latent: false,
            negative_slope: 0.01,
        }
    }

    /// Reference "small": fold 3, kernel 3, encoder [2, 2, 2, 2], decoder [2, 64, 64, 8].
    pub fn small() -> Self {
        Self {
            fold: 3,
            kernel: 3,
            enc_channels: vec![2, 2, 2, 2],
            dec_channels: vec![2, 64, 64, 8],
            ..Self::medium()
        }
    }

    /// Checks the settings on their own.
    pub fn validate(&self) -> Result<(), PdiffError> {
        let err = |field: &str, why: &str| Err(PdiffError::config(&format!("ae.{field}"), why));
        if self.fold < 2 {
            return err("fold", "must be at least 2");
        }
        if self.kernel == 0 {
            return err("kernel", "must be at least 1");
        }
        if self.enc_channels.is_empty() || self.enc_channels.contains(&0) {
            return err("enc_channels", "needs at least one block, no zero widths");
        }
        if self.dec_channels.len() != self.enc_channels.len() || self.dec_channels.contains(&0) {
            return err("dec_channels", "needs one non-zero width per encoder block");
        }
        if self.dec_channels[0] != *self.enc_channels.last().unwrap() {
            return err("dec_channels", "the first must equal the last of enc_channels");
        }
        for (name, f) in [("input_noise", self.input_noise), ("latent_noise", self.latent_noise)] {
            if !(0.0..=1.0).contains(&f) {
                return err(name, "must be in [0, 1]");
            }
        }
        if self.min_latent_len == 0 {
            return err("min_latent_len", "must be at least 1");
        }
        Ok(())
    }

    /// Padded length and latent shape for vectors of length `p`.
    pub fn geometry(&self, p: usize) -> Result<AeGeometry, PdiffError> {
        self.validate()?;
        if p == 0 {
            return Err(PdiffError::shape("parameter vectors are empty"));
        }
        let blocks = self.enc_channels.len() as u32;
        let unit = self
            .fold
            .checked_pow(blocks)
            .ok_or_else(|| PdiffError::config("ae.fold", "fold^blocks overflows"))?;
        let latent_len = p.div_ceil(unit).max(self.min_latent_len);
        Ok(AeGeometry {
            p,
            padded_len: unit * latent_len,
            latent_channels: *self.enc_channels.last().unwrap(),
            latent_len,
        })
    }

    /// Builds the autoencoder for vectors of length `p` on `device` (burn's default init;
    /// [`crate::init_params`] re-draws it from a seed).
    pub fn init(&self, p: usize, device: &Device) -> Result<Autoencoder, PdiffError> {
        let geometry = self.geometry(p)?;
        let (k, s) = (self.kernel, self.fold);
        let same = PaddingConfig1d::Explicit((k - 1) / 2, k / 2);
        // Folding conv: output exactly L / s when s divides L.
        let fold_pad = k.saturating_sub(s).div_ceil(2);
        // Unfolding transposed conv: (L − 1)·s − 2p + k + out_pad = L·s.
        let (up_pad, up_out) = if k >= s {
            let pad = (k - s).div_ceil(2);
            (pad, 2 * pad - (k - s))
        } else {
            (0, s - k)
        };
        let norm = |c: usize| InstanceNormConfig::new(c).with_affine(false).init(device);
        let mut enc = Vec::new();
        let mut prev = 1;
        for (i, &out) in self.enc_channels.iter().enumerate() {
            let mid = if i == 0 { self.enc_channels[0] } else { prev };
            enc.push(EncoderBlock {
                norm_a: (i > 0 || self.norm_input).then(|| norm(prev)),
                conv_a: Conv1dConfig::new(prev, mid, k).with_padding(same.clone()).init(device),
                norm_b: norm(mid),
                conv_b: Conv1dConfig::new(mid, out, k)
                    .with_stride(s)
                    .with_padding(PaddingConfig1d::Explicit(fold_pad, fold_pad))
                    .init(device),
            });
            prev = out;
        }
        let mut dec = Vec::new();
        for (i, &c) in self.dec_channels.iter().enumerate() {
            let out = self.dec_channels.get(i + 1).copied().unwrap_or(1);
            dec.push(DecoderBlock {
                norm_a: (i > 0 || self.norm_latent).then(|| norm(c)),
                up: ConvTranspose1dConfig::new([c, c], k)
                    .with_stride(s)
                    .with_padding(up_pad)
                    .with_padding_out(up_out)
                    .init(device),
                norm_b: norm(c),
                conv: Conv1dConfig::new(c, out, k).with_padding(same.clone()).init(device),
            });
        }
        Ok(Autoencoder {
            enc,
            dec,
            p: geometry.p,
            padded_len: geometry.padded_len,
            latent_channels: geometry.latent_channels,
            latent_len: geometry.latent_len,
            negative_slope: self.negative_slope,
        })
    }
}

/// Lengths of the autoencoder for one P.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AeGeometry {
    /// Vector length P.
    pub p: usize,
    /// Zero-padded input length, `fold^blocks · latent_len`.
    pub padded_len: usize,
    /// Latent channels.
    pub latent_channels: usize,
    /// Latent length.
    pub latent_len: usize,
}

impl AeGeometry {
    /// Values per latent, `latent_channels · latent_len`: the DDPM's dimension.
    pub fn latent_dim(&self) -> usize {
        self.latent_channels * self.latent_len
    }
}

/// The noise augmentation of p-diff: (1 − f)·x + f·ε.
pub fn mix_noise(x: Tensor<2>, eps: Tensor<2>, f: f64) -> Tensor<2> {
    x.mul_scalar(1.0 - f) + eps.mul_scalar(f)
}

/// One encoder block.
#[derive(Module, Debug)]
pub struct EncoderBlock {
    norm_a: Option<InstanceNorm>,
    conv_a: Conv1d,
    norm_b: InstanceNorm,
    conv_b: Conv1d,
}

/// One decoder block.
#[derive(Module, Debug)]
pub struct DecoderBlock {
    norm_a: Option<InstanceNorm>,
    up: ConvTranspose1d,
    norm_b: InstanceNorm,
    conv: Conv1d,
}

/// The 1-D convolutional parameter autoencoder. Build with [`AeConfig::init`].
#[derive(Module, Debug)]
pub struct Autoencoder {
    enc: Vec<EncoderBlock>,
    dec: Vec<DecoderBlock>,
    p: usize,
    padded_len: usize,
    latent_channels: usize,
    latent_len: usize,
    negative_slope: f64,
}

impl Autoencoder {
    /// Lengths this autoencoder was built for.
    pub fn geometry(&self) -> AeGeometry {
        AeGeometry {
            p: self.p,
            padded_len: self.padded_len,
            latent_channels: self.latent_channels,
            latent_len: self.latent_len,
        }
    }

    fn act(&self, x: Tensor<3>) -> Tensor<3> {
        leaky_relu(x, self.negative_slope)
    }

    /// Encodes vectors into tanh latents.
    ///
    /// # Shapes
    /// - `x`: `[batch, P]` → `[batch, latent_channels, latent_len]`
    pub fn encode(&self, x: Tensor<2>) -> Tensor<3> {
        let [batch, p] = x.dims();
        assert_eq!(p, self.p, "autoencoder built for P = {}", self.p);
        let pad = Tensor::<2>::zeros([batch, self.padded_len - p], &x.device());
        let mut h = Tensor::cat(vec![x, pad], 1).reshape([batch, 1, self.padded_len]);
        for (i, block) in self.enc.iter().enumerate() {
            if i > 0 {
                h = self.act(h);
            }
            if let Some(norm) = &block.norm_a {
                h = norm.forward(h);
            }
            h = self.act(block.conv_a.forward(h));
            h = block.conv_b.forward(block.norm_b.forward(h));
        }
        h.tanh() // [batch, latent_channels, latent_len]
    }

    /// Decodes latents and crops to P.
    ///
    /// # Shapes
    /// - `z`: `[batch, latent_channels, latent_len]` → `[batch, P]`
    pub fn decode(&self, z: Tensor<3>) -> Tensor<2> {
        let [batch, _, _] = z.dims();
        let mut h = z;
        for (i, block) in self.dec.iter().enumerate() {
            if i > 0 {
                h = self.act(h);
            }
            if let Some(norm) = &block.norm_a {
                h = norm.forward(h);
            }
            h = self.act(block.up.forward(h));
            h = block.conv.forward(block.norm_b.forward(h));
        }
        // [batch, 1, padded_len] → [batch, P]
        h.reshape([batch, self.padded_len]).narrow(1, 0, self.p)
    }

    /// [`encode`](Self::encode) flattened to `[batch, latent_dim]`.
    pub fn encode_flat(&self, x: Tensor<2>) -> Tensor<2> {
        let [batch, _] = x.dims();
        self.encode(x).reshape([batch, self.latent_channels * self.latent_len])
    }

    /// [`decode`](Self::decode) from `[batch, latent_dim]`.
    pub fn decode_flat(&self, z: Tensor<2>) -> Tensor<2> {
        let [batch, _] = z.dims();
        self.decode(z.reshape([batch, self.latent_channels, self.latent_len]))
    }

    /// The training forward pass with noise augmentation: input x ← (1 − f_in)·x + f_in·ε_in,
    /// latent z ← clamp((1 − f_lat)·z + f_lat·ε_lat, −1, 1), then decode.
    ///
    /// # Shapes
    /// - `x`, `eps_in`: `[batch, P]`; `eps_latent`: `[batch, latent_dim]` → `[batch, P]`
    pub fn forward_noisy(
        &self,
        x: Tensor<2>,
        eps_in: Tensor<2>,
        eps_latent: Tensor<2>,
        input_noise: f64,
        latent_noise: f64,
    ) -> Tensor<2> {
        let z = self.encode_flat(mix_noise(x, eps_in, input_noise));
        self.decode_flat(mix_noise(z, eps_latent, latent_noise).clamp(-1.0, 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn geometry_pads_to_a_multiple_of_fold_power() {
        let cfg = AeConfig::medium();
        let g = cfg.geometry(2048).unwrap();
        assert_eq!((g.padded_len, g.latent_len, g.latent_dim()), (2500, 4, 16));
        let g = cfg.geometry(64).unwrap();
        assert_eq!((g.padded_len, g.latent_len, g.latent_dim()), (1250, 2, 8));
        let g = AeConfig::small().geometry(100).unwrap();
        assert_eq!((g.padded_len, g.latent_len, g.latent_dim()), (162, 2, 4));
    }

    #[test]
    fn shapes_and_crop_for_several_p() {
        let device = Device::flex();
        for (cfg, p) in [
            (AeConfig::medium(), 64),
            (AeConfig::medium(), 96),
            (AeConfig::medium(), 1251),
            (AeConfig::small(), 97),
            (AeConfig { kernel: 4, fold: 2, ..AeConfig::small() }, 100),
            (AeConfig { kernel: 2, fold: 3, ..AeConfig::small() }, 70),
            (AeConfig { kernel: 5, fold: 3, ..AeConfig::small() }, 70),
        ] {
            let ae = cfg.init(p, &device).unwrap();
            let g = ae.geometry();
            let x = Tensor::<2>::ones([3, p], &device);
            let z = ae.encode(x.clone());
            assert_eq!(z.dims(), [3, g.latent_channels, g.latent_len], "{cfg:?} P={p}");
            let y = ae.decode(z);
            assert_eq!(y.dims(), [3, p]);
            let noisy = ae.forward_noisy(
                x.clone(),
                x.clone(),
                Tensor::zeros([3, g.latent_dim()], &device),
                0.001,
                0.1,
            );
            assert_eq!(noisy.dims(), [3, p]);
            let flat = ae.encode_flat(x);
            assert_eq!(flat.dims(), [3, g.latent_dim()]);
            let bounded = flat.abs().max().into_scalar::<f32>();
            assert!(bounded <= 1.0);
        }
    }

    #[test]
    fn noise_augmentation_has_the_configured_statistics() {
        let device = Device::flex();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let (rows, cols) = (200, 500);
        for f in [0.001, 0.1, 0.5] {
            let x = Tensor::<2>::full([rows, cols], 2.0, &device);
            let eps = crate::sampler::normal(&mut rng, rows, cols, &device);
            let y = mix_noise(x, eps, f).into_data().try_into_vec::<f32>().unwrap();
            let n = y.len() as f64;
            let mean = y.iter().map(|v| *v as f64).sum::<f64>() / n;
            let std = (y.iter().map(|v| (*v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
            // mean (1 − f)·2, std f (± a few standard errors over 10⁵ draws)
            assert!((mean - 2.0 * (1.0 - f)).abs() < 5.0 * f / n.sqrt() + 1e-6, "{f}: {mean}");
            assert!((std / f - 1.0).abs() < 0.02, "{f}: {std}");
        }
        // Zero noise factors give the clean encode → decode; the latent is clamped to [−1, 1].
        let ae = AeConfig::small().init(50, &device).unwrap();
        let x = crate::sampler::normal(&mut rng, 4, 50, &device);
        let huge = crate::sampler::normal(&mut rng, 4, 4, &device).mul_scalar(100.0);
        let clean = ae.decode_flat(ae.encode_flat(x.clone()));
        let noisy = ae.forward_noisy(x.clone(), x.clone(), huge.clone(), 0.0, 0.0);
        assert_eq!(clean.to_data(), noisy.to_data());
        let clamped = ae.decode_flat(huge.clone().clamp(-1.0, 1.0));
        let augmented = ae.forward_noisy(x.clone(), x, huge, 0.0, 1.0);
        assert_eq!(clamped.to_data(), augmented.to_data());
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = AeConfig { dec_channels: vec![8, 256, 256, 8], ..AeConfig::medium() };
        assert!(bad.validate().unwrap_err().to_string().contains("ae.dec_channels"));
        let bad = AeConfig { fold: 1, ..AeConfig::medium() };
        assert!(bad.validate().is_err());
        assert!(AeConfig::medium().geometry(0).is_err());
    }

    #[test]
    fn config_round_trips_and_fills_defaults() {
        let cfg = AeConfig { latent_noise: 0.5, ..AeConfig::small() };
        let back: AeConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
        assert_eq!(back, cfg);
        let partial: AeConfig = serde_json::from_str(r#"{"latent_noise": 0.5}"#).unwrap();
        assert_eq!(partial, AeConfig { latent_noise: 0.5, ..AeConfig::medium() });
        assert!(serde_json::from_str::<AeConfig>(r#"{"latent_nosie": 0.5}"#).is_err());
    }
}
