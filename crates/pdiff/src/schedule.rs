//! The DDPM noise schedule: betas, cumulative products, forward noising, posterior and the
//! DDPM / DDIM reverse steps. Computed in f64 (an f32 cumulative product over 1,000 steps
//! loses digits that the posterior variance near t = 0 needs); tensors are touched only to
//! apply the resulting per-step scalars.
//!
//! Timesteps are 0-based throughout: index `t` ∈ [0, T) is the paper's t + 1. "ᾱ at index
//! −1" is 1 (no noise).
//!
//! References: Ho, Jain, Abbeel, "Denoising Diffusion Probabilistic Models" (DDPM, arXiv
//! 2006.11239), equation numbers below are that paper's; Song, Meng, Ermon, "Denoising Diffusion
//! Implicit Models" (DDIM, arXiv 2010.02502); Nichol & Dhariwal, "Improved DDPM" (arXiv
//! 2102.09672) for the cosine schedule and the "fixed large" variance at the first step.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::PdiffError;

/// How the betas are laid out over the T steps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum BetaSchedule {
    /// β evenly spaced from `start` to `end` inclusive (DDPM: 1e-4 .. 2e-2).
    Linear {
        /// β at index 0.
        start: f64,
        /// β at index T − 1.
        end: f64,
    },
    /// ᾱ(t) = cos²(((t/T) + s)/(1 + s) · π/2) / ᾱ(0), β clipped at `max_beta` (Improved DDPM).
    Cosine {
        /// Offset s (0.008 in the paper).
        s: f64,
        /// Upper bound on β (0.999 in the paper).
        max_beta: f64,
    },
}

/// The variance σ_t² of the reverse step (DDPM §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VarianceType {
    /// σ_t² = β_t; at index 0 the posterior variance of index 1 (β̃ is 0 there). p-diff's choice.
    FixedLarge,
    /// σ_t² = β̃_t = (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · β_t, the true posterior variance.
    FixedSmall,
}

/// Serializable settings of a [`NoiseSchedule`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleConfig {
    /// Number of diffusion steps T.
    pub num_timesteps: usize,
    /// Beta layout.
    pub betas: BetaSchedule,
    /// Reverse-step variance.
    pub variance: VarianceType,
    /// Clamp the predicted x̂₀ to the data range at every reverse step.
    pub clip_x0: bool,
    /// Clamp every x_{t−1} to the data range as well (p-diff's sampler does).
    pub clip_xt: bool,
}

impl Default for ScheduleConfig {
    /// DDPM / p-diff: linear 1e-4 .. 2e-2, T = 1000, fixed-large variance, both clamps on.
    fn default() -> Self {
        Self {
            num_timesteps: 1000,
            betas: BetaSchedule::Linear { start: 1e-4, end: 2e-2 },
            variance: VarianceType::FixedLarge,
            clip_x0: true,
            clip_xt: true,
        }
    }
}

/// Precomputed schedule tables (f64) and the three verbs: add noise, choose steps, step.
#[derive(Debug, Clone)]
pub struct NoiseSchedule {
    config: ScheduleConfig,
    betas: Vec<f64>,
    alphas: Vec<f64>,
    alpha_bars: Vec<f64>,
    posterior_variance: Vec<f64>,
    posterior_mean_coef1: Vec<f64>,
    posterior_mean_coef2: Vec<f64>,
    clip_range: (f64, f64),
}

impl NoiseSchedule {
    /// Builds the tables; the data range for clamping is [−1, 1] until
    /// [`with_clip_range`](Self::with_clip_range) says otherwise.
    pub fn new(config: &ScheduleConfig) -> Result<Self, PdiffError> {
        let t_count = config.num_timesteps;
        if t_count < 2 {
            return Err(PdiffError::config("schedule.num_timesteps", "must be at least 2"));
        }
        let betas: Vec<f64> = match config.betas {
            BetaSchedule::Linear { start, end } => {
                if !(0.0 < start && start <= end && end < 1.0) {
                    return Err(PdiffError::config(
                        "schedule.betas",
                        format!("linear betas need 0 < start <= end < 1, got {start} .. {end}"),
                    ));
                }
                // Index arithmetic in f64: (end − start) · i / (T − 1), never integer division.
                let span = (t_count - 1) as f64;
                (0..t_count).map(|i| start + (end - start) * (i as f64) / span).collect()
            }
            BetaSchedule::Cosine { s, max_beta } => {
                if !(s >= 0.0 && 0.0 < max_beta && max_beta < 1.0) {
                    return Err(PdiffError::config(
                        "schedule.betas",
                        format!(
                            "cosine betas need s >= 0 and 0 < max_beta < 1, got {s}, {max_beta}"
                        ),
                    ));
                }
                let f = |i: usize| {
                    let x = ((i as f64) / (t_count as f64) + s) / (1.0 + s);
                    (x * std::f64::consts::FRAC_PI_2).cos().powi(2)
                };
                (0..t_count).map(|i| (1.0 - f(i + 1) / f(i)).min(max_beta)).collect()
            }
        };
        let alphas: Vec<f64> = betas.iter().map(|b| 1.0 - b).collect();
        let mut alpha_bars = Vec::with_capacity(t_count);
        let mut product = 1.0;
        for a in &alphas {
            product *= a;
            alpha_bars.push(product);
        }
        let prev = |t: usize| if t == 0 { 1.0 } else { alpha_bars[t - 1] };
        // DDPM Eq. (7): β̃_t and the two coefficients of μ̃_t(x_t, x_0).
        let posterior_variance =
            (0..t_count).map(|t| betas[t] * (1.0 - prev(t)) / (1.0 - alpha_bars[t])).collect();
        let posterior_mean_coef1 =
            (0..t_count).map(|t| betas[t] * prev(t).sqrt() / (1.0 - alpha_bars[t])).collect();
        let posterior_mean_coef2 = (0..t_count)
            .map(|t| (1.0 - prev(t)) * alphas[t].sqrt() / (1.0 - alpha_bars[t]))
            .collect();
        Ok(Self {
            config: config.clone(),
            betas,
            alphas,
            alpha_bars,
            posterior_variance,
            posterior_mean_coef1,
            posterior_mean_coef2,
            clip_range: (-1.0, 1.0),
        })
    }

    /// Sets the data range the clamps use (default [−1, 1]).
    pub fn with_clip_range(mut self, lo: f64, hi: f64) -> Self {
        self.clip_range = (lo, hi);
        self
    }

    /// The settings this schedule was built from.
    pub fn config(&self) -> &ScheduleConfig {
        &self.config
    }

    /// Number of steps T.
    pub fn num_timesteps(&self) -> usize {
        self.betas.len()
    }

    /// β at index `t`.
    pub fn beta(&self, t: usize) -> f64 {
        self.betas[t]
    }

    /// α = 1 − β at index `t`.
    pub fn alpha(&self, t: usize) -> f64 {
        self.alphas[t]
    }

    /// ᾱ at index `t` (product of α over 0..=t).
    pub fn alpha_bar(&self, t: usize) -> f64 {
        self.alpha_bars[t]
    }

    /// ᾱ at index `t − 1`, 1 for `t = 0`.
    pub fn alpha_bar_prev(&self, t: usize) -> f64 {
        if t == 0 { 1.0 } else { self.alpha_bars[t - 1] }
    }

    /// The posterior variance β̃ at index `t` (0 at `t = 0`).
    pub fn posterior_variance(&self, t: usize) -> f64 {
        self.posterior_variance[t]
    }

    /// The coefficients (of x̂₀, of x_t) of the posterior mean μ̃ at index `t`, DDPM Eq. (7).
    pub fn posterior_mean_coefs(&self, t: usize) -> (f64, f64) {
        (self.posterior_mean_coef1[t], self.posterior_mean_coef2[t])
    }

    /// σ_t² of the reverse step at index `t`, per the configured [`VarianceType`].
    pub fn variance(&self, t: usize) -> f64 {
        match self.config.variance {
            VarianceType::FixedSmall => self.posterior_variance[t],
            VarianceType::FixedLarge if t == 0 => self.posterior_variance[1],
            VarianceType::FixedLarge => self.betas[t],
        }
    }

    /// Forward process, DDPM Eq. (4): x_t = √ᾱ_t · x₀ + √(1 − ᾱ_t) · ε, each row with its own
    /// timestep.
    ///
    /// # Shapes
    /// - `x0`, `eps`: `[batch, dim]`; `t`: `batch` indices in [0, T)
    pub fn add_noise(&self, x0: Tensor<2>, eps: Tensor<2>, t: &[usize]) -> Tensor<2> {
        let [batch, _] = x0.dims();
        assert_eq!(t.len(), batch, "one timestep per row");
        let device = x0.device();
        let signal: Vec<f32> = t.iter().map(|&t| self.alpha_bars[t].sqrt() as f32).collect();
        let noise: Vec<f32> = t.iter().map(|&t| (1.0 - self.alpha_bars[t]).sqrt() as f32).collect();
        let signal = Tensor::<2>::from_data(TensorData::new(signal, [batch, 1]), &device);
        let noise = Tensor::<2>::from_data(TensorData::new(noise, [batch, 1]), &device);
        x0 * signal + eps * noise
    }

    /// x̂₀ from a noise prediction, DDPM Eq. (15) solved for x₀:
    /// x̂₀ = (x_t − √(1 − ᾱ_t) · ε_θ) / √ᾱ_t. All rows share `t`.
    pub fn predict_x0<V: StepValue>(&self, x_t: V, eps: V, t: usize) -> V {
        let ab = self.alpha_bars[t];
        x0_from(x_t, eps, (1.0 - ab).sqrt(), ab.sqrt())
    }

    /// What every reverse step from ᾱ_t = `ab` with noise scale `sigma` shares.
    fn step_ends(&self, ab: f64, sigma: Option<f64>) -> StepEnds {
        let clamp_if = |on: bool| on.then_some(self.clip_range);
        StepEnds {
            eps_coef: (1.0 - ab).sqrt(),
            signal: ab.sqrt(),
            clip_x0: clamp_if(self.config.clip_x0),
            sigma,
            clip_xt: clamp_if(self.config.clip_xt),
        }
    }

    /// The scalars of one ancestral DDPM step x_t → x_{t−1} at index `t` (DDPM Algorithm 2),
    /// to apply to a whole tensor or value by value.
    pub fn ddpm_update(&self, t: usize) -> DdpmUpdate {
        // 1. Schedule values at t: ᾱ_t, ᾱ_{t−1}, β_t (tables, f64).
        let ab = self.alpha_bars[t];
        let (x0_coef, xt_coef) = self.posterior_mean_coefs(t);
        // 5. Variance, §3.2: σ_t² = β_t ("fixed large") or β̃_t ("fixed small"); no noise at
        //    the last step (Algorithm 2: "z = 0 if t = 1").
        let sigma = (t > 0).then(|| self.variance(t).sqrt());
        DdpmUpdate { ends: self.step_ends(ab, sigma), x0_coef, xt_coef }
    }

    /// One ancestral DDPM step x_t → x_{t−1} (DDPM Algorithm 2), all rows at index `t`.
    /// `noise` is z ~ N(0, I) of x_t's shape; it is ignored at `t = 0`, where no noise is added
    /// (Algorithm 2: "z = 0 if t = 1").
    pub fn step<V: StepValue>(&self, eps: V, t: usize, x_t: V, noise: V) -> V {
        self.ddpm_update(t).apply(eps, x_t, Some(noise))
    }

    /// `steps` DDIM timesteps, descending from T − 1 to 0, evenly spaced (rounded) so that the
    /// first step starts from (nearly) pure noise and the last lands on index 0.
    pub fn ddim_timesteps(&self, steps: usize) -> Vec<usize> {
        let last = self.num_timesteps() - 1;
        let steps = steps.clamp(1, self.num_timesteps());
        if steps == 1 {
            return vec![last];
        }
        let mut out: Vec<usize> = (0..steps)
            .map(|i| ((i as f64) * (last as f64) / ((steps - 1) as f64)).round() as usize)
            .collect();
        out.dedup();
        out.reverse();
        out
    }

    /// The scalars of one DDIM step from index `t` to `t_prev` (`None`: to the clean sample,
    /// ᾱ = 1), DDIM Eq. (12) with σ_t(η) from Eq. (16).
    pub fn ddim_update(&self, t: usize, t_prev: Option<usize>, eta: f64) -> DdimUpdate {
        let ab = self.alpha_bars[t];
        let ab_prev = t_prev.map_or(1.0, |p| self.alpha_bars[p]);
        // 3. σ_t(η) = η √((1 − ᾱ_{t−1}) / (1 − ᾱ_t)) √(1 − ᾱ_t / ᾱ_{t−1}), Eq. (16).
        let sigma2 = if eta > 0.0 {
            eta * eta * (1.0 - ab_prev) / (1.0 - ab) * (1.0 - ab / ab_prev)
        } else {
            0.0
        };
        DdimUpdate {
            ends: self.step_ends(ab, (sigma2 > 0.0).then(|| sigma2.sqrt())),
            signal_prev: ab_prev.sqrt(),
            dir: (1.0 - ab_prev - sigma2).max(0.0).sqrt(),
        }
    }

    /// One DDIM step from index `t` to `t_prev` (`None`: to the clean sample, ᾱ = 1), DDIM
    /// Eq. (12) with σ_t(η) from Eq. (16); `eta = 0` is deterministic and ignores `noise`.
    pub fn ddim_step<V: StepValue>(
        &self,
        eps: V,
        t: usize,
        t_prev: Option<usize>,
        x_t: V,
        eta: f64,
        noise: V,
    ) -> V {
        self.ddim_update(t, t_prev, eta).apply(eps, x_t, Some(noise))
    }
}

/// The arithmetic the reverse steps are written in, so that one formula serves a burn tensor
/// (each operation over the whole batch) and a single `f32` (fused loops over host values,
/// the same operations in the same order and precision).
pub trait StepValue: Clone {
    /// `self · c`.
    fn times(self, c: f64) -> Self;
    /// `self / c`.
    fn over(self, c: f64) -> Self;
    /// `self + other`.
    fn plus(self, other: Self) -> Self;
    /// `self − other`.
    fn minus(self, other: Self) -> Self;
    /// `self` clamped to `[lo, hi]`.
    fn clamped(self, lo: f64, hi: f64) -> Self;
}

impl StepValue for Tensor<2> {
    fn times(self, c: f64) -> Self {
        self.mul_scalar(c)
    }
    fn over(self, c: f64) -> Self {
        self.div_scalar(c)
    }
    fn plus(self, other: Self) -> Self {
        self + other
    }
    fn minus(self, other: Self) -> Self {
        self - other
    }
    fn clamped(self, lo: f64, hi: f64) -> Self {
        self.clamp(lo, hi)
    }
}

impl StepValue for f32 {
    #[inline(always)]
    fn times(self, c: f64) -> Self {
        self * c as f32
    }
    #[inline(always)]
    fn over(self, c: f64) -> Self {
        self / c as f32
    }
    #[inline(always)]
    fn plus(self, other: Self) -> Self {
        self + other
    }
    #[inline(always)]
    fn minus(self, other: Self) -> Self {
        self - other
    }
    #[inline(always)]
    fn clamped(self, lo: f64, hi: f64) -> Self {
        self.max(lo as f32).min(hi as f32)
    }
}

/// A reverse step reduced to its scalars: x_{t−1} from ε_θ, x_t and (when the step adds any)
/// the noise z.
pub trait ReverseUpdate {
    /// Whether the step reads `noise` (a sampler need not draw it otherwise).
    fn needs_noise(&self) -> bool;
    /// x_{t−1}; `noise` is ignored when the step adds none.
    fn apply<V: StepValue>(&self, eps: V, x_t: V, noise: Option<V>) -> V;
}

/// Applies `step` to host values in place, one fused loop: `x[i]` becomes x_{t−1} from
/// `eps[i]`, `x[i]` and `noise[i]` (pass noise exactly when [`ReverseUpdate::needs_noise`]).
///
/// # Panics
/// If the slices differ in length, or the step needs noise and none is given.
pub fn update_values(x: &mut [f32], eps: &[f32], noise: Option<&[f32]>, step: &impl ReverseUpdate) {
    assert_eq!(x.len(), eps.len(), "one ε per value");
    match noise {
        Some(z) => {
            assert_eq!(x.len(), z.len(), "one noise draw per value");
            for ((x, e), z) in x.iter_mut().zip(eps).zip(z) {
                *x = step.apply(*e, *x, Some(*z));
            }
        }
        None => x.iter_mut().zip(eps).for_each(|(x, e)| *x = step.apply(*e, *x, None)),
    }
}

/// x̂₀ = (x_t − eps_coef · ε) / signal, with eps_coef = √(1 − ᾱ_t) and signal = √ᾱ_t.
#[inline(always)]
fn x0_from<V: StepValue>(x_t: V, eps: V, eps_coef: f64, signal: f64) -> V {
    x_t.minus(eps.times(eps_coef)).over(signal)
}

/// What both reverse steps share: x̂₀ from ε_θ, the clamps and the noise scale.
#[derive(Debug, Clone, Copy)]
struct StepEnds {
    /// √(1 − ᾱ_t).
    eps_coef: f64,
    /// √ᾱ_t.
    signal: f64,
    clip_x0: Option<(f64, f64)>,
    /// σ_t, `None` when the step adds no noise.
    sigma: Option<f64>,
    clip_xt: Option<(f64, f64)>,
}

impl StepEnds {
    /// x̂₀ = (x_t − √(1 − ᾱ_t) ε_θ) / √ᾱ_t (DDPM Eq. 15 solved for x₀), clamped to the data
    /// range when configured (the latents are tanh outputs in [−1, 1]).
    #[inline(always)]
    fn x0<V: StepValue>(&self, x_t: V, eps: V) -> V {
        clamp_to(x0_from(x_t, eps, self.eps_coef, self.signal), self.clip_x0)
    }

    /// x_{t−1} = mean + σ_t z (z ignored when the step adds no noise), then clamped to the
    /// data range when configured (p-diff clamps every intermediate sample).
    #[inline(always)]
    fn finish<V: StepValue>(&self, mean: V, noise: Option<V>) -> V {
        let prev = match (self.sigma, noise) {
            (Some(sigma), Some(z)) => mean.plus(z.times(sigma)),
            (Some(_), None) => panic!("this reverse step adds noise: pass it"),
            (None, _) => mean,
        };
        clamp_to(prev, self.clip_xt)
    }
}

/// Applies a clamp when there is one.
#[inline(always)]
fn clamp_to<V: StepValue>(x: V, range: Option<(f64, f64)>) -> V {
    match range {
        Some((lo, hi)) => x.clamped(lo, hi),
        None => x,
    }
}

/// One ancestral DDPM step's scalars ([`NoiseSchedule::ddpm_update`]).
#[derive(Debug, Clone, Copy)]
pub struct DdpmUpdate {
    ends: StepEnds,
    /// Posterior-mean coefficients of x̂₀ and x_t, DDPM Eq. (7).
    x0_coef: f64,
    xt_coef: f64,
}

impl ReverseUpdate for DdpmUpdate {
    fn needs_noise(&self) -> bool {
        self.ends.sigma.is_some()
    }

    #[inline(always)]
    fn apply<V: StepValue>(&self, eps: V, x_t: V, noise: Option<V>) -> V {
        // 2–3. Predicted clean sample, Eq. (15), clamped.
        let x0 = self.ends.x0(x_t.clone(), eps);
        // 4. Posterior mean, Eq. (7):
        //    μ̃_t = √ᾱ_{t−1} β_t / (1 − ᾱ_t) · x̂₀ + √α_t (1 − ᾱ_{t−1}) / (1 − ᾱ_t) · x_t.
        let mean = x0.times(self.x0_coef).plus(x_t.times(self.xt_coef));
        // 6–7. Algorithm 2 line 4: x_{t−1} = μ̃_t + σ_t z, clamped.
        self.ends.finish(mean, noise)
    }
}

/// One DDIM step's scalars ([`NoiseSchedule::ddim_update`]).
#[derive(Debug, Clone, Copy)]
pub struct DdimUpdate {
    ends: StepEnds,
    /// √ᾱ_{t−1}.
    signal_prev: f64,
    /// √(1 − ᾱ_{t−1} − σ_t²).
    dir: f64,
}

impl ReverseUpdate for DdimUpdate {
    fn needs_noise(&self) -> bool {
        self.ends.sigma.is_some()
    }

    #[inline(always)]
    fn apply<V: StepValue>(&self, eps: V, x_t: V, noise: Option<V>) -> V {
        let ends = &self.ends;
        // 1–2. x̂₀ (DDIM Eq. 12 "predicted x₀"), clamped; then the ε that matches the clamped
        //      x̂₀.
        let x0 = ends.x0(x_t.clone(), eps.clone());
        let eps = match ends.clip_x0 {
            Some(_) => x_t.minus(x0.clone().times(ends.signal)).over(ends.eps_coef),
            None => eps,
        };
        // 4. x_{t−1} = √ᾱ_{t−1} x̂₀ + √(1 − ᾱ_{t−1} − σ_t²) ε_θ + σ_t ε, Eq. (12).
        ends.finish(x0.times(self.signal_prev).plus(eps.times(self.dir)), noise)
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    // Reference numbers from a float-only Python snippet (no numpy):
    //   b = [1e-4 + (0.02 - 1e-4) * i / 999 for i in range(1000)]; ab = cumulative ∏(1 - b)
    //   pv(t) = b[t] * (1 - ab[t-1]) / (1 - ab[t])  (ab[-1] = 1)
    fn linear() -> NoiseSchedule {
        NoiseSchedule::new(&ScheduleConfig::default()).unwrap()
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn linear_betas_and_alpha_bars_match_reference() {
        let s = linear();
        assert_eq!(s.num_timesteps(), 1000);
        assert_eq!(s.beta(0), 1e-4);
        assert!(close(s.beta(487), 0.009801001001001, 1e-12));
        assert!(close(s.beta(999), 0.02, 1e-12));
        for (t, want) in [
            (0, 0.9999),
            (10, 0.997806572507846),
            (100, 0.8951415908975365),
            (487, 0.08858573232059307),
            (500, 0.07779665836502386),
            (999, 4.0358297653756754e-05),
        ] {
            assert!(close(s.alpha_bar(t), want, 1e-10), "alpha_bar({t}) = {}", s.alpha_bar(t));
        }
    }

    #[test]
    fn fixed_small_variance_matches_reference() {
        let s = linear();
        assert_eq!(s.posterior_variance(0), 0.0);
        assert!(close(s.posterior_variance(1), 5.4531876613021935e-05, 1e-10));
        assert!(close(s.posterior_variance(487), 0.00979157198569004, 1e-10));
        assert!(close(s.posterior_variance(999), 0.01999998352656061, 1e-10));
        let (c1, c2) = s.posterior_mean_coefs(487);
        assert!(close(c1, 0.0032164385528130487, 1e-10));
        assert!(close(c2, 0.9941301128045488, 1e-10));
    }

    #[test]
    fn fixed_large_variance_uses_posterior_at_first_step() {
        let s = linear();
        assert_eq!(s.variance(0), s.posterior_variance(1));
        assert_eq!(s.variance(487), s.beta(487));
        let small = NoiseSchedule::new(&ScheduleConfig {
            variance: VarianceType::FixedSmall,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(small.variance(487), small.posterior_variance(487));
    }

    #[test]
    fn cosine_schedule_matches_reference() {
        let s = NoiseSchedule::new(&ScheduleConfig {
            betas: BetaSchedule::Cosine { s: 0.008, max_beta: 0.999 },
            ..Default::default()
        })
        .unwrap();
        assert!(close(s.beta(0), 4.128422482196914e-05, 1e-9));
        assert!(close(s.alpha_bar(1), 0.9999125759273678, 1e-12));
        assert!(close(s.beta(500), 0.003155691441585007, 1e-9));
        assert!(close(s.alpha_bar(500), 0.49228517244880304, 1e-9));
        assert_eq!(s.beta(999), 0.999);
        assert!(close(s.alpha_bar(999), 2.4287669070348567e-09, 1e-6));
    }

    fn scalar(x: f32, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(vec![x], [1, 1]), device)
    }

    fn value(x: Tensor<2>) -> f64 {
        x.into_data().convert::<f32>().try_into_vec::<f32>().unwrap()[0] as f64
    }

    #[test]
    fn ddpm_and_ddim_steps_match_reference() {
        // x_t = 0.5, ε_θ = 0.1, t = 487, z = 0.3: x̂₀ = 1.359.. is clamped to 1.
        let d = Device::flex();
        let s = linear();
        let step = |cfg: ScheduleConfig| {
            let s = NoiseSchedule::new(&cfg).unwrap();
            value(s.step(scalar(0.1, &d), 487, scalar(0.5, &d), scalar(0.3, &d)))
        };
        let large = step(ScheduleConfig::default());
        assert!((large - 0.5299814964717556).abs() < 1e-6, "{large}");
        let small =
            step(ScheduleConfig { variance: VarianceType::FixedSmall, ..Default::default() });
        assert!((small - 0.5299672066479558).abs() < 1e-6, "{small}");
        let x0 = value(s.predict_x0(scalar(0.5, &d), scalar(0.1, &d), 487));
        assert!((x0 - 1.3591612093660377).abs() < 1e-5);
        // t = 0 adds no noise.
        let a = value(s.step(scalar(0.1, &d), 0, scalar(0.5, &d), scalar(0.0, &d)));
        let b = value(s.step(scalar(0.1, &d), 0, scalar(0.5, &d), scalar(5.0, &d)));
        assert_eq!(a, b);
        let ddim = value(s.ddim_step(
            scalar(0.1, &d),
            487,
            Some(467),
            scalar(0.5, &d),
            0.0,
            scalar(0.0, &d),
        ));
        assert!((ddim - 0.5280736549453121).abs() < 1e-6, "{ddim}");
    }

    /// The largest difference between `step` applied to tensors and to host values.
    fn host_minus_tensor(step: &impl ReverseUpdate) -> f32 {
        let d = Device::flex();
        let x: Vec<f32> = (0..64).map(|i| (i as f32 * 0.37).sin() * 1.6).collect();
        let eps: Vec<f32> = (0..64).map(|i| (i as f32 * 0.91).cos() * 1.2).collect();
        let z: Vec<f32> = (0..64).map(|i| (i as f32 * 1.3).sin()).collect();
        let tensor = |v: &[f32]| Tensor::<2>::from_data(TensorData::new(v.to_vec(), [8, 8]), &d);
        let noise = step.needs_noise().then_some(z.as_slice());
        let expected = step.apply(tensor(&eps), tensor(&x), noise.map(tensor));
        let expected = expected.into_data().try_into_vec::<f32>().unwrap();
        let mut got = x.clone();
        update_values(&mut got, &eps, noise, step);
        got.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn host_updates_match_tensor_updates_value_for_value() {
        // The fused host loop and the tensor operations run the same formula in the same
        // order and precision; they must agree bit for bit for every variant: both variances,
        // clamps on and off (values beyond the data range exercise them), DDPM at t = 0 and
        // DDIM with and without η.
        for variance in [VarianceType::FixedLarge, VarianceType::FixedSmall] {
            for clip in [false, true] {
                let cfg =
                    ScheduleConfig { variance, clip_x0: clip, clip_xt: clip, ..Default::default() };
                let s = NoiseSchedule::new(&cfg).unwrap();
                for t in [0, 1, 487, 999] {
                    let u = s.ddpm_update(t);
                    assert_eq!(u.needs_noise(), t > 0);
                    assert_eq!(host_minus_tensor(&u), 0.0, "{cfg:?} DDPM t {t}");
                }
                for (t, prev, eta) in
                    [(999, Some(979), 0.0), (487, Some(467), 1.0), (19, None, 0.5)]
                {
                    let u = s.ddim_update(t, prev, eta);
                    assert_eq!(u.needs_noise(), eta > 0.0 && prev.is_some());
                    assert_eq!(host_minus_tensor(&u), 0.0, "{cfg:?} DDIM {t} -> {prev:?}");
                }
            }
        }
    }

    #[test]
    fn add_noise_uses_each_rows_timestep() {
        let d = Device::flex();
        let s = linear();
        let x0 = Tensor::<2>::from_data(TensorData::new(vec![1.0f32, 1.0], [2, 1]), &d);
        let eps = Tensor::<2>::from_data(TensorData::new(vec![0.0f32, 0.0], [2, 1]), &d);
        let out = s.add_noise(x0, eps, &[0, 999]).into_data().try_into_vec::<f32>().unwrap();
        assert!((out[0] as f64 - 0.9999f64.sqrt()).abs() < 1e-6);
        assert!((out[1] as f64 - 4.0358297653756754e-05f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn ddim_timesteps_span_the_schedule() {
        let s = linear();
        let ts = s.ddim_timesteps(50);
        assert_eq!(ts.len(), 50);
        assert_eq!((ts[0], ts[49]), (999, 0));
        assert!(ts.windows(2).all(|w| w[0] > w[1]));
        assert_eq!(s.ddim_timesteps(1), vec![999]);
        assert_eq!(s.ddim_timesteps(5000).len(), 1000);
    }

    #[test]
    fn config_round_trips_through_json() {
        for cfg in [
            ScheduleConfig::default(),
            ScheduleConfig {
                betas: BetaSchedule::Cosine { s: 0.008, max_beta: 0.999 },
                variance: VarianceType::FixedSmall,
                clip_xt: false,
                ..Default::default()
            },
        ] {
            let text = serde_json::to_string(&cfg).unwrap();
            let back: ScheduleConfig = serde_json::from_str(&text).unwrap();
            assert_eq!(back, cfg);
        }
        let bad = r#"{"num_timesteps":1000,"betas":{"kind":"linear","start":0.1},"variance":"fixed_large","clip_x0":true,"clip_xt":true}"#;
        assert!(serde_json::from_str::<ScheduleConfig>(bad).is_err());
    }

    #[test]
    fn invalid_configs_are_rejected() {
        let bad = ScheduleConfig { num_timesteps: 1, ..Default::default() };
        assert!(NoiseSchedule::new(&bad).is_err());
        let bad = ScheduleConfig {
            betas: BetaSchedule::Linear { start: 0.1, end: 0.01 },
            ..Default::default()
        };
        assert!(NoiseSchedule::new(&bad).unwrap_err().to_string().contains("schedule.betas"));
    }
}
