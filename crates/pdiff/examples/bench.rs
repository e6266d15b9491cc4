//! Speed of the pieces at the reference scale: `cargo run --release -p pdiff --example bench`.
//! Prints AE and DDPM steps/s (K = 200, P = 2,048) and sampling time for N = 100.

use std::time::Instant;

use burn::prelude::*;
use indicatif::ProgressBar;
use pdiff::train::{train_autoencoder, train_denoiser};
use pdiff::{
    AeConfig, DdpmTrainConfig, DenoiserConfig, Layout, NoiseSchedule, NormMode, ParamDataset,
    Sampler, ScheduleConfig, TrainConfig, sample_latents,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

fn main() {
    let device = Device::flex();
    let (k, p) = (200, 2048);
    let arg =
        |i: usize, d: usize| std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (ae_steps, ddpm_steps) = (arg(1, 10), arg(2, 50));
    let matrix: Vec<f32> = (0..k * p).map(|i| ((i * 7919 % 1000) as f32 / 1000.0).sin()).collect();
    let ds = ParamDataset::new(&matrix, k, Layout::flat(p), NormMode::PerTensor, 1e-8).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let hidden = ProgressBar::hidden();
    let light = AeConfig { dec_channels: vec![4, 64, 64, 8], ..AeConfig::medium() };
    for (name, ae) in
        [("medium", AeConfig::medium()), ("small", AeConfig::small()), ("dec64", light)]
    {
        let train = TrainConfig { steps: ae_steps, ..Default::default() };
        let t = Instant::now();
        train_autoencoder(&ds, &ae, &train, &device, &mut rng, &hidden).unwrap();
        let s = t.elapsed().as_secs_f64();
        println!("AE {name}: {:.2} steps/s (K={k}, P={p}, batch=K)", ae_steps as f64 / s);
    }
    let schedule = NoiseSchedule::new(&ScheduleConfig::default()).unwrap();
    let dim = AeConfig::medium().geometry(p).unwrap().latent_dim();
    let latents = Tensor::<2>::random([k, dim], burn::tensor::Distribution::Default, &device);
    for (name, cfg) in
        [("default", DenoiserConfig::default()), ("reference", DenoiserConfig::reference())]
    {
        let train = DdpmTrainConfig { steps: ddpm_steps, ..Default::default() };
        let t = Instant::now();
        let (den, _) =
            train_denoiser(&latents, &schedule, &cfg, &train, &device, &mut rng, &hidden).unwrap();
        let s = t.elapsed().as_secs_f64();
        println!(
            "DDPM {name} {:?}: {:.2} steps/s (batch 64, dim {dim})",
            cfg.channels,
            ddpm_steps as f64 / s
        );
        for sampler in [Sampler::ddim(50), Sampler::Ddpm] {
            let t = Instant::now();
            let z = sample_latents(&den, &schedule, 100, sampler, &mut rng, &device);
            let _ = z.into_data();
            println!("  sample N=100 {sampler:?}: {:.2} s", t.elapsed().as_secs_f64());
        }
    }
}
