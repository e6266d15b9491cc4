//! p-diff at the zoo's scale (K = 200 checkpoints, P = 256 and 2,048 values, default
//! `PdiffConfig`: "small" autoencoder and the default denoiser, batches of 64):
//!
//! - `pdiff_train/ae_step/P`, `pdiff_train/ddpm_step/P`: one optimizer step of the
//!   library's own loops (`train_autoencoder`, `train_denoiser`; each measured sample is one
//!   call of `steps = iterations`, so model init is amortized over the sample's steps);
//! - `pdiff_sample/*`: reverse diffusion of N = 100 latents at once, with the denoiser at
//!   full length (`_full_length`) and downsampling (`_downsampled`): the whole DDIM sampler
//!   with 50 steps (`sample_latents`), one DDPM reverse step as `sample_latents` runs it on
//!   the CPU (`HostDenoiser::forward` + `update_values` on host values; DDPM sampling runs
//!   1,000 of them, plus the noise draws) and the same step through burn's layers (`_burn`: `Denoiser::forward`, what
//!   other backends run), and decoding 100 latents into parameter vectors
//!   (`FittedPdiff::decode`); at P = 2,048 also the whole DDPM-1,000 sampler
//!   (`ddpm1000_n100_*`; ≈ 2 minutes at full length).
//!
//! Weights are random: the cost of a step does not depend on their values.
//! Run: `cargo bench -p pdiff-zoo-benches --bench pdiff`.

use std::time::{Duration, Instant};

use burn::prelude::*;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use indicatif::ProgressBar;
use pdiff::train::{train_autoencoder, train_denoiser};
use pdiff::{
    DdpmTrainConfig, DenoiserConfig, HostDenoiser, Layout, NoiseSchedule, ParamDataset,
    PdiffConfig, Sampler, TrainConfig, fit, init_params, sample_latents, update_values,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

const K: usize = 200;
const N: usize = 100;
const SIZES: [usize; 2] = [256, 2048];

/// A deterministic K × P matrix with some spread between rows.
/// A tensor's values, row-major.
fn host_values(x: &Tensor<2>) -> Vec<f32> {
    x.clone().into_data().try_into_vec::<f32>().unwrap()
}

fn matrix(p: usize) -> Vec<f32> {
    (0..K * p).map(|i| ((i * 7919 % 1000) as f32 / 1000.0).sin()).collect()
}

fn training(c: &mut Criterion) {
    let device = Device::flex();
    let config = PdiffConfig::default();
    let hidden = ProgressBar::hidden();
    let schedule = NoiseSchedule::new(&config.schedule).unwrap();
    let mut group = c.benchmark_group("pdiff_train");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    for p in SIZES {
        let ds = ParamDataset::new(&matrix(p), K, Layout::flat(p), config.norm, config.norm_eps)
            .unwrap();
        group.bench_function(BenchmarkId::new("ae_step", p), |b| {
            b.iter_custom(|iters| {
                let train = TrainConfig { steps: iters as usize, ..config.ae_train.clone() };
                let mut rng = StdRng::seed_from_u64(0);
                let t = Instant::now();
                let out = train_autoencoder(&ds, &config.ae, &train, &device, &mut rng, &hidden);
                std::hint::black_box(out.unwrap());
                t.elapsed()
            })
        });
        let dim = config.ae.geometry(p).unwrap().latent_dim();
        let latents = Tensor::<2>::random([K, dim], burn::tensor::Distribution::Default, &device);
        group.bench_function(BenchmarkId::new("ddpm_step", p), |b| {
            b.iter_custom(|iters| {
                let train = DdpmTrainConfig { steps: iters as usize, ..config.ddpm_train.clone() };
                let mut rng = StdRng::seed_from_u64(0);
                let t = Instant::now();
                let out = train_denoiser(
                    &latents,
                    &schedule,
                    &config.denoiser,
                    &train,
                    &device,
                    &mut rng,
                    &hidden,
                );
                std::hint::black_box(out.unwrap());
                t.elapsed()
            })
        });
    }
    group.finish();
}

fn sampling(c: &mut Criterion) {
    let device = Device::flex();
    let config = PdiffConfig::default();
    let schedule = NoiseSchedule::new(&config.schedule).unwrap();
    let mut rng = StdRng::seed_from_u64(0);
    let mut group = c.benchmark_group("pdiff_sample");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(N as u64));
    for p in SIZES {
        let dim = config.ae.geometry(p).unwrap().latent_dim();
        let x = Tensor::<2>::random([N, dim], burn::tensor::Distribution::Default, &device);
        let noise = Tensor::<2>::random([N, dim], burn::tensor::Distribution::Default, &device);
        let t = 500;
        // The denoiser at full length and as a 1-D U-Net (`downsample`), whichever is the
        // default, so one run gives their ratio.
        for downsample in [false, true] {
            let suffix = if downsample { "downsampled" } else { "full_length" };
            let cfg = DenoiserConfig { downsample, ..config.denoiser.clone() };
            let denoiser =
                init_params(cfg.init(dim, schedule.num_timesteps(), &device).unwrap(), &mut rng);
            // The whole DDIM sampler, and one reverse step (denoiser + update, the same work
            // at every t) below: DDPM sampling ≈ 1,000 × it, for P = 256 too.
            group.bench_function(BenchmarkId::new(format!("ddim50_n100_{suffix}"), p), |b| {
                b.iter(|| {
                    let sampler = Sampler::ddim(50);
                    sample_latents(&denoiser, &schedule, N, sampler, &mut rng, &device).into_data()
                })
            });
            // The target itself (DDPM-1,000) at the target's size; at full length one call
            // is ≈ 10 s, so this one id takes ≈ 2 minutes.
            if p == 2048 {
                group.bench_function(BenchmarkId::new(format!("ddpm1000_n100_{suffix}"), p), |b| {
                    b.iter(|| {
                        sample_latents(&denoiser, &schedule, N, Sampler::Ddpm, &mut rng, &device)
                            .into_data()
                    })
                });
            }
            let host = HostDenoiser::new(&denoiser);
            let (x_host, noise_host) = (host_values(&x), host_values(&noise));
            group.bench_function(BenchmarkId::new(format!("ddpm_step_n100_{suffix}"), p), |b| {
                b.iter(|| {
                    let eps = host.forward(&x_host, &[t; N]);
                    let mut next = x_host.clone();
                    update_values(&mut next, &eps, Some(&noise_host), &schedule.ddpm_update(t));
                    next
                })
            });
            let id = BenchmarkId::new(format!("ddpm_step_n100_{suffix}_burn"), p);
            group.bench_function(id, |b| {
                b.iter(|| {
                    let timestep = Tensor::<1, Int>::full([N], t as i64, &device);
                    let eps = denoiser.forward(x.clone(), timestep);
                    schedule.step(eps, t, x.clone(), noise.clone()).into_data()
                })
            });
        }
        // A fitted p-diff (two steps each: the weights do not matter) for decoding.
        let tiny = PdiffConfig {
            ae_train: TrainConfig { steps: 2, ..config.ae_train.clone() },
            ddpm_train: DdpmTrainConfig { steps: 2, ..config.ddpm_train.clone() },
            ..config.clone()
        };
        let fitted =
            fit(&matrix(p), &Layout::flat(p), &tiny, &device, 0, &ProgressBar::hidden()).unwrap();
        let latents = fitted.sample_latents(N, Sampler::ddim(5), 0).unwrap();
        group.bench_function(BenchmarkId::new("decode_n100", p), |b| {
            b.iter(|| fitted.decode(&latents).unwrap())
        });
    }
    group.finish();
}

criterion_group!(benches, training, sampling);
criterion_main!(benches);
