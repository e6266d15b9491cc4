//! Training loops (AdamW), the top-level [`fit`], and [`FittedPdiff`]: sampling, encode /
//! decode diagnostics, and the artefact directory.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use zoo_io::{F32Tensor, IoError};

use crate::autoencoder::{AeConfig, AeGeometry, Autoencoder};
use crate::dataset::{Layout, NormMode, Normalizer, ParamDataset, variance_around_mean};
use crate::denoiser::{Denoiser, DenoiserConfig, Ema};
use crate::sampler::{Sampler, normal, sample_latents};
use crate::schedule::{NoiseSchedule, ScheduleConfig};
use crate::store::{apply_tensors, module_tensors, write_dir_atomically};
use crate::{PdiffError, host_values, init_params};

/// Optimizer loop settings of the autoencoder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainConfig {
    /// Optimizer steps (reference: 30,000).
    pub steps: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Vectors per step; `None` uses all K every step (the reference).
    pub batch_size: Option<usize>,
    /// Read the loss back (and record its window mean) every this many steps.
    pub log_every: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self { steps: 3000, lr: 1e-3, weight_decay: 2e-6, batch_size: None, log_every: 50 }
    }
}

/// Optimizer loop and EMA settings of the denoiser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DdpmTrainConfig {
    /// Optimizer steps (reference: 30,000).
    pub steps: usize,
    /// AdamW learning rate.
    pub lr: f64,
    /// AdamW decoupled weight decay.
    pub weight_decay: f64,
    /// Latents per step (each with its own timestep and noise); capped at K.
    pub batch_size: usize,
    /// Read the loss back every this many steps.
    pub log_every: usize,
    /// EMA decay of the sampling copy (reference 0.9999).
    pub ema_decay: f64,
    /// Use decay_n = min(ema_decay, (1 + n) / (10 + n)) at step n (see [`Ema`]).
    pub ema_warmup: bool,
}

impl Default for DdpmTrainConfig {
    fn default() -> Self {
        Self {
            steps: 3000,
            lr: 1e-3,
            weight_decay: 2e-6,
            batch_size: 64,
            log_every: 50,
            ema_decay: 0.9999,
            ema_warmup: true,
        }
    }
}

/// How AE latents are scaled before the DDPM sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LatentScaling {
    /// The tanh latents as they are (the reference).
    None,
    /// One mean and one std over all K × D latent values: z' = (z − m) / s, so the DDPM's
    /// data has unit scale as its noise schedule assumes. The clamps then use the image of
    /// [−1, 1], so they bound the same latents as in the reference.
    #[default]
    Global,
}

/// Everything [`fit`] needs besides the data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdiffConfig {
    /// Normalization of the parameter vectors.
    pub norm: NormMode,
    /// Smallest std used by the normalization.
    pub norm_eps: f64,
    /// Autoencoder architecture and noise augmentation.
    pub ae: AeConfig,
    /// Autoencoder optimization.
    pub ae_train: TrainConfig,
    /// Denoiser architecture.
    pub denoiser: DenoiserConfig,
    /// Noise schedule and reverse-step settings.
    pub schedule: ScheduleConfig,
    /// Denoiser optimization and EMA.
    pub ddpm_train: DdpmTrainConfig,
    /// Latent scaling between AE and DDPM.
    pub latent_scaling: LatentScaling,
}

impl Default for PdiffConfig {
    /// Sized for a 2-core CPU (about a minute per fit at P = 256–512, K = 200): the reference
    /// "small" autoencoder trained 1,000 steps on batches of 64, the default denoiser trained
    /// 1,000 steps. `docs/METHOD-NOTES.md` has the evidence; [`PdiffConfig::reference`] is the
    /// paper's setting.
    fn default() -> Self {
        Self {
            norm: NormMode::default(),
            norm_eps: 1e-8,
            ae: AeConfig::small(),
            ae_train: TrainConfig { steps: 1000, batch_size: Some(64), ..TrainConfig::default() },
            denoiser: DenoiserConfig::default(),
            schedule: ScheduleConfig::default(),
            ddpm_train: DdpmTrainConfig { steps: 1000, ..DdpmTrainConfig::default() },
            latent_scaling: LatentScaling::default(),
        }
    }
}

impl PdiffConfig {
    /// The reference p-diff setting: "medium" autoencoder on full batches, the reference
    /// denoiser widths, 30,000 + 30,000 steps (hours on a CPU; meant for a GPU).
    pub fn reference() -> Self {
        Self {
            ae: AeConfig::medium(),
            ae_train: TrainConfig { steps: 30_000, batch_size: None, ..TrainConfig::default() },
            denoiser: DenoiserConfig::reference(),
            ddpm_train: DdpmTrainConfig { steps: 30_000, ..DdpmTrainConfig::default() },
            ..Self::default()
        }
    }

    /// Checks every setting that does not depend on the data.
    pub fn validate(&self) -> Result<(), PdiffError> {
        self.ae.validate()?;
        self.denoiser.validate()?;
        NoiseSchedule::new(&self.schedule)?;
        if self.norm_eps.is_nan() || self.norm_eps <= 0.0 {
            return Err(PdiffError::config("norm_eps", "must be > 0"));
        }
        let t = &self.ae_train;
        check_optim("ae_train", t.lr, t.weight_decay, t.log_every)?;
        if t.batch_size == Some(0) {
            return Err(PdiffError::config("ae_train.batch_size", "must be at least 1"));
        }
        let d = &self.ddpm_train;
        check_optim("ddpm_train", d.lr, d.weight_decay, d.log_every)?;
        if d.batch_size == 0 {
            return Err(PdiffError::config("ddpm_train.batch_size", "must be at least 1"));
        }
        if !(0.0..1.0).contains(&d.ema_decay) {
            return Err(PdiffError::config("ddpm_train.ema_decay", "must be in [0, 1)"));
        }
        Ok(())
    }
}

fn check_optim(name: &str, lr: f64, wd: f64, log_every: usize) -> Result<(), PdiffError> {
    if !(lr > 0.0 && lr.is_finite()) {
        return Err(PdiffError::config(&format!("{name}.lr"), "must be a positive number"));
    }
    if wd.is_nan() || wd < 0.0 {
        return Err(PdiffError::config(&format!("{name}.weight_decay"), "must be >= 0"));
    }
    if log_every == 0 {
        return Err(PdiffError::config(&format!("{name}.log_every"), "must be at least 1"));
    }
    Ok(())
}

/// Mean training loss over the `window` steps ending at `step` (1-based).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LossPoint {
    /// Steps done.
    pub step: usize,
    /// Mean loss over the window.
    pub loss: f64,
    /// Steps averaged.
    pub window: usize,
}

/// How well the AE reproduces its training vectors (clean encode → decode, normalized space).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reconstruction {
    /// Mean squared error per value.
    pub mse: f64,
    /// The data's own variance around its mean vector: the MSE of always decoding the mean.
    pub spread: f64,
    /// `mse / spread`: ≥ 1 means the AE does no better than the mean checkpoint.
    pub ratio: f64,
}

/// What a fit did: loss histories, timings, diagnostics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Number of training vectors K.
    pub k: usize,
    /// Seed of the fit.
    pub seed: u64,
    /// AE loss history.
    pub ae_loss: Vec<LossPoint>,
    /// DDPM loss history.
    pub ddpm_loss: Vec<LossPoint>,
    /// AE training wall time.
    pub ae_seconds: f64,
    /// DDPM training wall time.
    pub ddpm_seconds: f64,
    /// AE reconstruction of the training vectors.
    pub reconstruction: Reconstruction,
    /// Latent shift m of the scaling (0 without scaling).
    pub latent_shift: f32,
    /// Latent scale s of the scaling (1 without scaling).
    pub latent_scale: f32,
}

/// AdamW as p-diff uses it (PyTorch's epsilon 1e-8; burn defaults to 1e-5).
fn adamw(weight_decay: f64) -> ModuleOptimizer {
    AdamWConfig::new().with_weight_decay(weight_decay as f32).with_epsilon(1e-8).init()
}

/// Accumulates losses on the device and reads the window mean back every `every` steps.
struct LossLog {
    every: usize,
    sum: Option<Tensor<1>>,
    count: usize,
    points: Vec<LossPoint>,
}

impl LossLog {
    fn new(every: usize) -> Self {
        Self { every, sum: None, count: 0, points: Vec::new() }
    }

    /// Adds a step's loss; returns the window mean when one was read back.
    fn push(&mut self, step: usize, loss: Tensor<1>, last: bool) -> Option<f64> {
        let loss = loss.inner();
        self.sum = Some(match self.sum.take() {
            Some(s) => s + loss,
            None => loss,
        });
        self.count += 1;
        if !step.is_multiple_of(self.every) && !last {
            return None;
        }
        let sum = self.sum.take()?.into_scalar::<f64>();
        let point = LossPoint { step, loss: sum / self.count as f64, window: self.count };
        self.count = 0;
        self.points.push(point);
        Some(point.loss)
    }
}

/// Row indices of each batch: a fresh shuffle of all rows per epoch; all rows when `batch`
/// covers them (no shuffling needed).
struct Batches {
    k: usize,
    batch: usize,
    order: Vec<usize>,
    pos: usize,
}

impl Batches {
    fn new(k: usize, batch: usize) -> Self {
        Self { k, batch: batch.min(k), order: (0..k).collect(), pos: k }
    }

    fn all(&self) -> bool {
        self.batch == self.k
    }

    fn next(&mut self, rng: &mut impl Rng) -> Vec<usize> {
        if self.pos + self.batch > self.k {
            self.order.shuffle(rng);
            self.pos = 0;
        }
        let out = self.order[self.pos..self.pos + self.batch].to_vec();
        self.pos += self.batch;
        out
    }
}

fn index_tensor(rows: &[usize], device: &Device) -> Tensor<1, Int> {
    let values: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    Tensor::from_data(TensorData::new(values, [rows.len()]), device)
}

/// Trains the autoencoder on the normalized vectors of `ds` (MSE to the clean input under
/// input and latent noise). Returns the trained model (without autodiff) and its loss history.
pub fn train_autoencoder(
    ds: &ParamDataset,
    cfg: &AeConfig,
    train: &TrainConfig,
    device: &Device,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<(Autoencoder, Vec<LossPoint>), PdiffError> {
    let ad = device.clone().autodiff();
    let mut model = init_params(cfg.init(ds.p, &ad)?, rng);
    let dim = model.geometry().latent_dim();
    let mut optim = adamw(train.weight_decay);
    let data = Tensor::<2>::from_data(TensorData::new(ds.normalized.clone(), [ds.k, ds.p]), &ad);
    let mut batches = Batches::new(ds.k, train.batch_size.unwrap_or(ds.k));
    let mut log = LossLog::new(train.log_every);
    for step in 1..=train.steps {
        let x = if batches.all() {
            data.clone()
        } else {
            data.clone().select(0, index_tensor(&batches.next(rng), &ad))
        };
        let [b, p] = x.dims();
        let eps_in = normal(rng, b, p, &ad);
        let eps_lat = normal(rng, b, dim, &ad);
        let recon =
            model.forward_noisy(x.clone(), eps_in, eps_lat, cfg.input_noise, cfg.latent_noise);
        let loss = (recon - x).square().mean();
        if let Some(mean) = log.push(step, loss.clone().detach(), step == train.steps) {
            progress.set_message(format!("autoencoder loss {mean:.3e}"));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(train.lr, model, grads);
        progress.inc(1);
    }
    Ok((model.valid(), log.points))
}

/// Trains the denoiser to predict the noise added to `latents` (`[K, dim]`) at uniformly drawn
/// timesteps, keeping an EMA copy. Returns the EMA model and the loss history.
pub fn train_denoiser(
    latents: &Tensor<2>,
    schedule: &NoiseSchedule,
    cfg: &DenoiserConfig,
    train: &DdpmTrainConfig,
    device: &Device,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<(Denoiser, Vec<LossPoint>), PdiffError> {
    let ad = device.clone().autodiff();
    let [k, dim] = latents.dims();
    let t_count = schedule.num_timesteps();
    let mut model = init_params(cfg.init(dim, t_count, &ad)?, rng);
    let mut ema = Ema::new(&model, train.ema_decay, train.ema_warmup);
    let mut optim = adamw(train.weight_decay);
    let data = Tensor::<2>::from_data(latents.to_data(), &ad);
    let mut batches = Batches::new(k, train.batch_size);
    let mut log = LossLog::new(train.log_every);
    for step in 1..=train.steps {
        let x0 = if batches.all() {
            data.clone()
        } else {
            data.clone().select(0, index_tensor(&batches.next(rng), &ad))
        };
        let b = x0.dims()[0];
        let t: Vec<usize> = (0..b).map(|_| rng.random_range(0..t_count)).collect();
        let eps = normal(rng, b, dim, &ad);
        let x_t = schedule.add_noise(x0, eps.clone(), &t);
        let pred = model.forward(x_t, index_tensor(&t, &ad));
        let loss = (pred - eps).square().mean();
        if let Some(mean) = log.push(step, loss.clone().detach(), step == train.steps) {
            progress.set_message(format!("ddpm loss {mean:.3e}"));
        }
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(train.lr, model, grads);
        ema.update(&model);
        progress.inc(1);
    }
    Ok((ema.into_model(), log.points))
}

/// Fits p-diff to the K × P row-major `matrix` of parameter vectors laid out by `layout`:
/// normalize, train the AE, encode, scale, train the DDPM. Deterministic for a `seed` on a
/// given backend. `progress` shows both phases (its length is set here); pass
/// `ProgressBar::hidden()` for none.
pub fn fit(
    matrix: &[f32],
    layout: &Layout,
    config: &PdiffConfig,
    device: &Device,
    seed: u64,
    progress: &ProgressBar,
) -> Result<FittedPdiff, PdiffError> {
    config.validate()?;
    let p = layout.len();
    if p == 0 || !matrix.len().is_multiple_of(p) || matrix.is_empty() {
        return Err(PdiffError::shape(format!(
            "matrix of {} values is not a whole number of vectors of P = {p}",
            matrix.len()
        )));
    }
    let k = matrix.len() / p;
    if k < 2 {
        return Err(PdiffError::shape(format!("need at least 2 vectors to learn from, got {k}")));
    }
    let ds = ParamDataset::new(matrix, k, layout.clone(), config.norm, config.norm_eps)?;
    let schedule = NoiseSchedule::new(&config.schedule)?;
    let mut rng = StdRng::seed_from_u64(seed);
    progress.set_length((config.ae_train.steps + config.ddpm_train.steps) as u64);
    progress.set_position(0);

    let started = Instant::now();
    let (ae, ae_loss) =
        train_autoencoder(&ds, &config.ae, &config.ae_train, device, &mut rng, progress)?;
    let ae_seconds = started.elapsed().as_secs_f64();

    let x = Tensor::<2>::from_data(TensorData::new(ds.normalized.clone(), [k, p]), device);
    let latents = ae.encode_flat(x.clone());
    let recon = host_values(ae.decode_flat(latents.clone()));
    let mse = recon.iter().zip(&ds.normalized).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>()
        / (k * p) as f64;
    let spread = ds.spread();
    let reconstruction = Reconstruction { mse, spread, ratio: mse / spread.max(f64::MIN_POSITIVE) };

    let (latent_shift, latent_scale) = match config.latent_scaling {
        LatentScaling::None => (0.0f32, 1.0f32),
        LatentScaling::Global => {
            let values = host_values(latents.clone());
            let n = values.len() as f64;
            let m = values.iter().map(|v| *v as f64).sum::<f64>() / n;
            let var = values.iter().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / n;
            (m as f32, var.sqrt().max(1e-6) as f32)
        }
    };
    let scaled = latents.sub_scalar(latent_shift).div_scalar(latent_scale);

    let started = Instant::now();
    let (denoiser, ddpm_loss) = train_denoiser(
        &scaled,
        &schedule,
        &config.denoiser,
        &config.ddpm_train,
        device,
        &mut rng,
        progress,
    )?;
    let ddpm_seconds = started.elapsed().as_secs_f64();

    Ok(FittedPdiff {
        config: config.clone(),
        geometry: ae.geometry(),
        layout: layout.clone(),
        normalizer: ds.normalizer,
        ae,
        denoiser,
        device: device.clone(),
        report: FitReport {
            k,
            seed,
            ae_loss,
            ddpm_loss,
            ae_seconds,
            ddpm_seconds,
            reconstruction,
            latent_shift,
            latent_scale,
        },
    })
}

/// A fitted p-diff: normalizer, autoencoder and EMA denoiser, ready to sample.
#[derive(Debug, Clone)]
pub struct FittedPdiff {
    config: PdiffConfig,
    geometry: AeGeometry,
    layout: Layout,
    normalizer: Normalizer,
    ae: Autoencoder,
    denoiser: Denoiser,
    device: Device,
    report: FitReport,
}

/// Rows decoded per batch when sampling (bounds the decoder's activations).
const DECODE_CHUNK: usize = 256;

/// Format tag and version of the artefact directory.
const FORMAT: &str = "pdiff";
const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    schema_version: u32,
    config: PdiffConfig,
    layout: Layout,
    norm_mode: NormMode,
    geometry: AeGeometry,
    report: FitReport,
}

impl FittedPdiff {
    /// The settings it was fitted with.
    pub fn config(&self) -> &PdiffConfig {
        &self.config
    }

    /// Layout of the parameter vectors.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Normalization statistics.
    pub fn normalizer(&self) -> &Normalizer {
        &self.normalizer
    }

    /// Autoencoder lengths; `geometry().latent_dim()` is the DDPM's dimension.
    pub fn geometry(&self) -> AeGeometry {
        self.geometry
    }

    /// Loss histories, timings and diagnostics of the fit.
    pub fn report(&self) -> &FitReport {
        &self.report
    }

    /// The trained autoencoder (no autodiff).
    pub fn autoencoder(&self) -> &Autoencoder {
        &self.ae
    }

    /// The EMA denoiser used for sampling.
    pub fn denoiser(&self) -> &Denoiser {
        &self.denoiser
    }

    /// Device everything lives on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    fn schedule(&self) -> Result<NoiseSchedule, PdiffError> {
        // The clamps bound the AE's latent range [−1, 1], seen through the scaling.
        let (m, s) = (self.report.latent_shift as f64, self.report.latent_scale as f64);
        Ok(NoiseSchedule::new(&self.config.schedule)?
            .with_clip_range((-1.0 - m) / s, (1.0 - m) / s))
    }

    fn check_rows(&self, values: &[f32], width: usize, what: &str) -> Result<usize, PdiffError> {
        if width == 0 || !values.len().is_multiple_of(width) {
            return Err(PdiffError::shape(format!(
                "{what}: {} values are not a whole number of rows of {width}",
                values.len()
            )));
        }
        Ok(values.len() / width)
    }

    /// Draws `n` latents (AE latent space, unscaled; `n × latent_dim` row-major).
    pub fn sample_latents(
        &self,
        n: usize,
        sampler: Sampler,
        seed: u64,
    ) -> Result<Vec<f32>, PdiffError> {
        let schedule = self.schedule()?;
        let mut rng = StdRng::seed_from_u64(seed);
        let z = sample_latents(&self.denoiser, &schedule, n, sampler, &mut rng, &self.device);
        let z = z.mul_scalar(self.report.latent_scale).add_scalar(self.report.latent_shift);
        Ok(host_values(z))
    }

    /// Generates `n` parameter vectors (`n × P` row-major, original units): sample latents,
    /// decode, de-normalize.
    pub fn sample(&self, n: usize, sampler: Sampler, seed: u64) -> Result<Vec<f32>, PdiffError> {
        let latents = self.sample_latents(n, sampler, seed)?;
        self.decode(&latents)
    }

    /// Encodes parameter vectors (`k × P`, original units) to latents (`k × latent_dim`).
    pub fn encode(&self, matrix: &[f32]) -> Result<Vec<f32>, PdiffError> {
        let p = self.geometry.p;
        let k = self.check_rows(matrix, p, "encode")?;
        let mut out = Vec::with_capacity(k * self.geometry.latent_dim());
        for chunk in self.normalizer.normalize(matrix).chunks(DECODE_CHUNK * p) {
            let rows = chunk.len() / p;
            let x =
                Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, p]), &self.device);
            out.extend(host_values(self.ae.encode_flat(x)));
        }
        Ok(out)
    }

    /// Decodes latents (`n × latent_dim`) to parameter vectors (`n × P`, original units).
    pub fn decode(&self, latents: &[f32]) -> Result<Vec<f32>, PdiffError> {
        let dim = self.geometry.latent_dim();
        let n = self.check_rows(latents, dim, "decode")?;
        let mut out = Vec::with_capacity(n * self.geometry.p);
        for chunk in latents.chunks(DECODE_CHUNK * dim) {
            let rows = chunk.len() / dim;
            let z =
                Tensor::<2>::from_data(TensorData::new(chunk.to_vec(), [rows, dim]), &self.device);
            out.extend(host_values(self.ae.decode_flat(z)));
        }
        Ok(self.normalizer.denormalize(&out))
    }

    /// Clean encode → decode of `matrix` (`k × P`, original units), error measured in the
    /// normalized space against the rows' own spread.
    pub fn reconstruction(&self, matrix: &[f32]) -> Result<Reconstruction, PdiffError> {
        let p = self.geometry.p;
        let k = self.check_rows(matrix, p, "reconstruction")?;
        let recon = self.normalizer.normalize(&self.decode(&self.encode(matrix)?)?);
        let x = self.normalizer.normalize(matrix);
        let mse = recon.iter().zip(&x).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>()
            / (k * p) as f64;
        let spread = variance_around_mean(&x, k, p);
        Ok(Reconstruction { mse, spread, ratio: mse / spread.max(f64::MIN_POSITIVE) })
    }

    /// Saves everything needed to sample into `dir` (replaced atomically): `pdiff.json`
    /// (format, configs, layout, geometry, report), `normalizer.safetensors`,
    /// `autoencoder.safetensors`, `denoiser_ema.safetensors`.
    pub fn save(&self, dir: &Path) -> Result<(), PdiffError> {
        let manifest = Manifest {
            format: FORMAT.to_string(),
            schema_version: SCHEMA_VERSION,
            config: self.config.clone(),
            layout: self.layout.clone(),
            norm_mode: self.normalizer.mode,
            geometry: self.geometry,
            report: self.report.clone(),
        };
        let p = self.geometry.p;
        let stats = [
            F32Tensor { name: "mean".into(), shape: vec![p], data: self.normalizer.mean.clone() },
            F32Tensor { name: "std".into(), shape: vec![p], data: self.normalizer.std.clone() },
        ];
        write_dir_atomically(dir, |tmp| {
            zoo_io::write_json(&tmp.join("pdiff.json"), &manifest)?;
            zoo_io::write_safetensors(&tmp.join("normalizer.safetensors"), &stats, None)?;
            let ae = module_tensors(&self.ae);
            zoo_io::write_safetensors(&tmp.join("autoencoder.safetensors"), &ae, None)?;
            let den = module_tensors(&self.denoiser);
            zoo_io::write_safetensors(&tmp.join("denoiser_ema.safetensors"), &den, None)?;
            Ok(())
        })
    }

    /// Loads a directory written by [`save`](Self::save) onto `device`.
    pub fn load(dir: &Path, device: &Device) -> Result<Self, PdiffError> {
        let path = dir.join("pdiff.json");
        let manifest: Manifest = zoo_io::read_json(&path)?;
        if manifest.format != FORMAT || manifest.schema_version != SCHEMA_VERSION {
            return Err(IoError::format(
                &path,
                format!(
                    "format `{}` v{}; expected `{FORMAT}` v{SCHEMA_VERSION}",
                    manifest.format, manifest.schema_version
                ),
            )
            .into());
        }
        let config = manifest.config;
        let p = manifest.layout.len();
        if manifest.geometry != config.ae.geometry(p)? {
            return Err(IoError::format(&path, "geometry does not match the AE config").into());
        }
        let path = dir.join("normalizer.safetensors");
        let (stats, _) = zoo_io::read_safetensors(&path)?;
        let stat = |name: &str| -> Result<Vec<f32>, PdiffError> {
            stats
                .iter()
                .find(|t| t.name == name && t.data.len() == p)
                .map(|t| t.data.clone())
                .ok_or_else(|| IoError::format(&path, format!("no `{name}` of length {p}")).into())
        };
        let normalizer =
            Normalizer { mode: manifest.norm_mode, mean: stat("mean")?, std: stat("std")? };

        let path = dir.join("autoencoder.safetensors");
        let (weights, _) = zoo_io::read_safetensors(&path)?;
        let ae = apply_tensors(config.ae.init(p, device)?, &weights, &path)?;
        let path = dir.join("denoiser_ema.safetensors");
        let (weights, _) = zoo_io::read_safetensors(&path)?;
        let t = config.schedule.num_timesteps;
        let denoiser = config.denoiser.init(manifest.geometry.latent_dim(), t, device)?;
        let denoiser = apply_tensors(denoiser, &weights, &path)?;
        Ok(Self {
            config,
            geometry: manifest.geometry,
            layout: manifest.layout,
            normalizer,
            ae,
            denoiser,
            device: device.clone(),
            report: manifest.report,
        })
    }
}
