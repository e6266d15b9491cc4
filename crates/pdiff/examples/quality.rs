//! Sample quality on synthetic low-rank Gaussian data for a few settings:
//! `cargo run --release -p pdiff --example quality [ae_steps] [ddpm_steps]`.
//! Prints, per setting and sampler: mean error and std ratio of generated vs data columns,
//! and the generated→train nearest distance next to the train→train one (memorization).

use burn::prelude::*;
use indicatif::ProgressBar;
use pdiff::{
    AeConfig, DdpmTrainConfig, DenoiserConfig, LatentScaling, Layout, PdiffConfig, Sampler,
    TimeEmbedding, TrainConfig, fit,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

const K: usize = 200;
const P: usize = 256;
const RANK: usize = 4;

fn synthetic() -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(1);
    let mu: Vec<f32> =
        (0..P).map(|i| if i < P / 2 { 1.0 } else { 0.0 } + rng.random_range(-0.3..0.3)).collect();
    let a: Vec<f32> = (0..P * RANK).map(|_| 0.05 * rng.sample::<f32, _>(StandardNormal)).collect();
    let mut m = Vec::new();
    for _ in 0..K {
        let u: Vec<f32> = (0..RANK).map(|_| rng.sample(StandardNormal)).collect();
        for i in 0..P {
            m.push(mu[i] + (0..RANK).map(|r| a[i * RANK + r] * u[r]).sum::<f32>());
        }
    }
    m
}

fn stats(rows: &[f32]) -> (Vec<f64>, Vec<f64>) {
    let n = (rows.len() / P) as f64;
    let mut mean = vec![0.0; P];
    let mut var = vec![0.0; P];
    rows.chunks_exact(P)
        .for_each(|r| r.iter().zip(&mut mean).for_each(|(v, m)| *m += *v as f64 / n));
    rows.chunks_exact(P).for_each(|r| {
        r.iter().zip(&mean).zip(&mut var).for_each(|((v, m), s)| *s += (*v as f64 - m).powi(2) / n)
    });
    (mean, var.into_iter().map(f64::sqrt).collect())
}

fn nearest(a: &[f32], b: &[f32], skip_self: bool) -> f64 {
    let d = |x: &[f32], y: &[f32]| {
        x.iter().zip(y).map(|(p, q)| ((p - q) as f64).powi(2)).sum::<f64>().sqrt()
    };
    let per: Vec<f64> = a
        .chunks_exact(P)
        .enumerate()
        .map(|(i, x)| {
            b.chunks_exact(P)
                .enumerate()
                .filter(|(j, _)| !(skip_self && *j == i))
                .map(|(_, y)| d(x, y))
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    per.iter().sum::<f64>() / per.len() as f64
}

fn main() {
    let arg =
        |i: usize, d: usize| std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (ae_steps, ddpm_steps) = (arg(1, 1000), arg(2, 2000));
    let device = Device::flex();
    let data = synthetic();
    let layout = Layout::from_shapes([("w", vec![P / 2]), ("b", vec![P / 2])]);
    let (dm, ds) = stats(&data);
    let data_std = ds.iter().sum::<f64>() / P as f64;
    println!(
        "data: mean column std {data_std:.4}, mean train→train nearest {:.4}",
        nearest(&data, &data, true)
    );
    let base = PdiffConfig {
        ae: AeConfig { dec_channels: vec![4, 64, 64, 8], ..AeConfig::medium() },
        ae_train: TrainConfig { steps: ae_steps, ..Default::default() },
        denoiser: DenoiserConfig::default(),
        ddpm_train: DdpmTrainConfig { steps: ddpm_steps, ..Default::default() },
        ..Default::default()
    };
    let mut no_clip = base.clone();
    no_clip.schedule.clip_xt = false;
    let mut table = base.clone();
    table.denoiser.time_embedding = TimeEmbedding::Table;
    let variants = [
        ("default (global scaling, sinusoidal t)", base.clone()),
        ("no latent scaling", PdiffConfig { latent_scaling: LatentScaling::None, ..base.clone() }),
        ("no x_t clamp", no_clip),
        ("learned t table", table),
    ];
    let which = std::env::args().nth(3).unwrap_or_else(|| "0123".into());
    let variants: Vec<_> = variants
        .into_iter()
        .enumerate()
        .filter(|(i, _)| which.contains(&i.to_string()))
        .map(|(_, v)| v)
        .collect();
    for (name, cfg) in variants {
        let f = fit(&data, &layout, &cfg, &device, 0, &ProgressBar::hidden()).unwrap();
        let r = f.report();
        println!(
            "{name}: AE {:.0}s ratio {:.3}, DDPM {:.0}s final loss {:.3}, latent m {:.3} s {:.3}",
            r.ae_seconds,
            r.reconstruction.ratio,
            r.ddpm_seconds,
            r.ddpm_loss.last().unwrap().loss,
            r.latent_shift,
            r.latent_scale
        );
        let recon = f.decode(&f.encode(&data).unwrap()).unwrap();
        println!("  AE recon→train nearest {:.4}", nearest(&recon, &data, false));
        for sampler in [Sampler::Ddpm, Sampler::ddim(50)] {
            let t = std::time::Instant::now();
            let g = f.sample(100, sampler, 1).unwrap();
            let secs = t.elapsed().as_secs_f64();
            let (gm, gs) = stats(&g);
            let err = dm.iter().zip(&gm).map(|(a, b)| (a - b).abs()).sum::<f64>() / P as f64;
            let ratio = gs.iter().sum::<f64>() / ds.iter().sum::<f64>();
            println!(
                "  {sampler:?}: {secs:.1}s, mean err/std {:.3}, std ratio {ratio:.3}, gen→train nearest {:.4}, gen→gen nearest {:.4}",
                err / data_std,
                nearest(&g, &data, false),
                nearest(&g, &g, true)
            );
        }
    }
}
