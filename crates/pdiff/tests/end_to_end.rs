//! A tiny fit on synthetic data from a known low-dimensional Gaussian: generated vectors must
//! follow the data's statistics, be new (not training rows), and survive a save / load.

use burn::prelude::*;
use indicatif::ProgressBar;
use pdiff::{
    AeConfig, DdpmTrainConfig, DenoiserConfig, FittedPdiff, Layout, PdiffConfig, Sampler,
    TrainConfig, fit,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

const K: usize = 64;
const P: usize = 96;
const RANK: usize = 3;

/// Rows x = μ + A·u with u ~ N(0, I₃): per-coordinate means around 1 (different per tensor),
/// a spread of ~0.1 along 3 directions.
fn synthetic(seed: u64) -> (Vec<f32>, Layout) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mu: Vec<f32> =
        (0..P).map(|i| if i < 48 { 1.0 } else { 0.0 } + rng.random_range(-0.2..0.2)).collect();
    let a: Vec<f32> = (0..P * RANK).map(|_| 0.1 * rng.sample::<f32, _>(StandardNormal)).collect();
    let mut m = Vec::with_capacity(K * P);
    for _ in 0..K {
        let u: Vec<f32> = (0..RANK).map(|_| rng.sample(StandardNormal)).collect();
        for i in 0..P {
            m.push(mu[i] + (0..RANK).map(|r| a[i * RANK + r] * u[r]).sum::<f32>());
        }
    }
    let layout = Layout::from_shapes([("norm.weight", vec![48]), ("norm.bias", vec![48])]);
    (m, layout)
}

fn config() -> PdiffConfig {
    PdiffConfig {
        ae: AeConfig { dec_channels: vec![2, 32, 32, 8], ..AeConfig::small() },
        ae_train: TrainConfig { steps: 400, ..Default::default() },
        denoiser: DenoiserConfig { channels: vec![16, 32], ..Default::default() },
        ddpm_train: DdpmTrainConfig { steps: 600, batch_size: 64, ..Default::default() },
        ..Default::default()
    }
}

fn column_stats(rows: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let n = rows.len() / P;
    let mut mean = vec![0.0; P];
    let mut var = vec![0.0; P];
    for r in rows.chunks_exact(P) {
        for i in 0..P {
            mean[i] += r[i] as f64 / n as f64;
        }
    }
    for r in rows.chunks_exact(P) {
        for i in 0..P {
            var[i] += (r[i] as f64 - mean[i]).powi(2) / n as f64;
        }
    }
    (mean, var.into_iter().map(f64::sqrt).collect())
}

fn min_distance_to(rows: &[f32], reference: &[f32]) -> f64 {
    rows.chunks_exact(P)
        .flat_map(|g| {
            reference.chunks_exact(P).map(move |t| {
                g.iter().zip(t).map(|(a, b)| ((a - b) as f64).powi(2)).sum::<f64>().sqrt()
            })
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn generated_vectors_follow_the_data_and_survive_a_reload() {
    let device = Device::flex();
    let (data, layout) = synthetic(11);
    let fitted = fit(&data, &layout, &config(), &device, 5, &ProgressBar::hidden()).unwrap();
    let report = fitted.report();
    assert_eq!(report.k, K);
    assert_eq!(report.ae_loss.last().unwrap().step, 400);
    assert!(report.ae_loss.last().unwrap().loss < report.ae_loss[0].loss);
    assert!(report.ddpm_loss.last().unwrap().loss < report.ddpm_loss[0].loss);
    assert!(
        report.reconstruction.ratio < 0.5,
        "AE no better than the mean: {:?}",
        report.reconstruction
    );

    let n = 64;
    let generated = fitted.sample(n, Sampler::Ddpm, 9).unwrap();
    assert_eq!(generated.len(), n * P);
    let (dm, ds) = column_stats(&data);
    let (gm, gs) = column_stats(&generated);
    let mean_ds = ds.iter().sum::<f64>() / P as f64;
    // Means agree to within a fraction of the spread; the spread itself is of the same size.
    let mean_err = dm.iter().zip(&gm).map(|(a, b)| (a - b).abs()).sum::<f64>() / P as f64;
    assert!(mean_err < 0.5 * mean_ds, "mean error {mean_err} vs data std {mean_ds}");
    let spread_ratio = gs.iter().sum::<f64>() / ds.iter().sum::<f64>();
    assert!((0.4..1.6).contains(&spread_ratio), "generated / data std = {spread_ratio}");
    // New vectors, not copies of training rows.
    let nearest = min_distance_to(&generated, &data);
    assert!(nearest > 0.0, "a generated vector copies a training row");
    println!(
        "mean err {mean_err:.4} / data std {mean_ds:.4}, std ratio {spread_ratio:.3}, nearest {nearest:.4}, {:?}",
        report.reconstruction
    );

    let ddim = fitted.sample(n, Sampler::ddim(20), 9).unwrap();
    let (gm, _) = column_stats(&ddim);
    let ddim_err = dm.iter().zip(&gm).map(|(a, b)| (a - b).abs()).sum::<f64>() / P as f64;
    assert!(ddim_err < 0.5 * mean_ds, "DDIM mean error {ddim_err} vs data std {mean_ds}");

    // Save, reload, and the same seed gives the same vectors.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fit");
    fitted.save(&path).unwrap();
    let loaded = FittedPdiff::load(&path, &device).unwrap();
    assert_eq!(
        loaded.sample(8, Sampler::ddim(10), 3).unwrap(),
        fitted.sample(8, Sampler::ddim(10), 3).unwrap()
    );
    // (JSON keeps the f32-born losses exactly; f64 diagnostics to the last bit or so.)
    assert_eq!(loaded.report().ae_loss, fitted.report().ae_loss);
    assert_eq!(loaded.report().latent_scale, fitted.report().latent_scale);
    assert_eq!(loaded.normalizer(), fitted.normalizer());
    assert_eq!(loaded.encode(&data[..P * 4]).unwrap(), fitted.encode(&data[..P * 4]).unwrap());
    // Saving again over the same directory replaces it.
    loaded.save(&path).unwrap();
}

#[test]
fn fit_is_deterministic_for_a_seed() {
    let device = Device::flex();
    let (data, layout) = synthetic(2);
    let mut cfg = config();
    cfg.ae_train.steps = 20;
    cfg.ddpm_train.steps = 20;
    let a = fit(&data, &layout, &cfg, &device, 1, &ProgressBar::hidden()).unwrap();
    let b = fit(&data, &layout, &cfg, &device, 1, &ProgressBar::hidden()).unwrap();
    assert_eq!(a.report().ae_loss, b.report().ae_loss);
    assert_eq!(
        a.sample(4, Sampler::ddim(5), 0).unwrap(),
        b.sample(4, Sampler::ddim(5), 0).unwrap()
    );
    let c = fit(&data, &layout, &cfg, &device, 2, &ProgressBar::hidden()).unwrap();
    assert_ne!(a.report().ae_loss, c.report().ae_loss);
}

#[test]
fn bad_inputs_fail_fast_with_the_reason() {
    let device = Device::flex();
    let (data, layout) = synthetic(3);
    let hidden = ProgressBar::hidden();
    let err = fit(&data[..P * 2 + 5], &layout, &config(), &device, 0, &hidden).unwrap_err();
    assert!(err.to_string().contains("whole number of vectors"), "{err}");
    let mut cfg = config();
    cfg.ddpm_train.ema_decay = 1.5;
    let err = fit(&data, &layout, &cfg, &device, 0, &hidden).unwrap_err();
    assert!(err.to_string().contains("ddpm_train.ema_decay"), "{err}");
    let json = serde_json::to_string(&config()).unwrap();
    let back: PdiffConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(back, config());
    assert!(serde_json::from_str::<PdiffConfig>(r#"{"ae_trian": {}}"#).is_err());
    let partial: PdiffConfig = serde_json::from_str(r#"{"ae_train": {"steps": 7}}"#).unwrap();
    assert_eq!(partial.ae_train.steps, 7);
    assert_eq!(partial.ae_train.lr, 1e-3);
}
