//! DDPM alone on synthetic 8-dim latents (temporary experiment).
use burn::prelude::*;
use indicatif::ProgressBar;
use pdiff::train::train_denoiser;
use pdiff::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;

fn main() {
    let arg =
        |i: usize, d: usize| std::env::args().nth(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let steps = arg(1, 1500);
    let (k, d, r) = (200, 8, 4);
    let mut rng = StdRng::seed_from_u64(0);
    let b: Vec<f32> = (0..d * r).map(|_| rng.sample::<f32, _>(StandardNormal) * 0.5).collect();
    let mut z = Vec::new();
    for _ in 0..k {
        let u: Vec<f32> = (0..r).map(|_| rng.sample(StandardNormal)).collect();
        for i in 0..d {
            z.push((0..r).map(|j| b[i * r + j] * u[j]).sum::<f32>().clamp(-1.0, 1.0));
        }
    }
    let device = Device::flex();
    let lat = Tensor::<2>::from_data(TensorData::new(z.clone(), [k, d]), &device);
    let stats = |x: &[f32]| {
        let n = (x.len() / d) as f64;
        let m: Vec<f64> =
            (0..d).map(|i| x.chunks(d).map(|r| r[i] as f64).sum::<f64>() / n).collect();
        let s: Vec<f64> = (0..d)
            .map(|i| (x.chunks(d).map(|r| (r[i] as f64 - m[i]).powi(2)).sum::<f64>() / n).sqrt())
            .collect();
        (m, s)
    };
    let nn = |a: &[f32], bb: &[f32], skip: bool| {
        let v: Vec<f64> = a
            .chunks(d)
            .enumerate()
            .map(|(i, x)| {
                bb.chunks(d)
                    .enumerate()
                    .filter(|(j, _)| !(skip && *j == i))
                    .map(|(_, y)| {
                        x.iter().zip(y).map(|(p, q)| ((p - q) as f64).powi(2)).sum::<f64>().sqrt()
                    })
                    .fold(f64::INFINITY, f64::min)
            })
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    let (dm, ds) = stats(&z);
    println!(
        "data std {:?}\ntrain->train nn {:.3}",
        ds.iter().map(|v| (v * 100.0).round() / 100.0).collect::<Vec<_>>(),
        nn(&z, &z, true)
    );
    for (name, te, clip_xt) in [
        ("table", TimeEmbedding::Table, true),
        ("sinusoidal", TimeEmbedding::Sinusoidal { features: 64 }, true),
        ("sinusoidal, no xt clip", TimeEmbedding::Sinusoidal { features: 64 }, false),
    ] {
        let sc = ScheduleConfig { clip_xt, ..Default::default() };
        let schedule = NoiseSchedule::new(&sc).unwrap();
        let cfg = DenoiserConfig { time_embedding: te, ..Default::default() };
        let train = DdpmTrainConfig { steps, ..Default::default() };
        let mut rng = StdRng::seed_from_u64(1);
        let (den, loss) = train_denoiser(
            &lat,
            &schedule,
            &cfg,
            &train,
            &device,
            &mut rng,
            &ProgressBar::hidden(),
        )
        .unwrap();
        println!("{name}: final loss {:.3}", loss.last().unwrap().loss);
        for sampler in [Sampler::Ddpm, Sampler::ddim(50)] {
            let g = sample_latents(&den, &schedule, 200, sampler, &mut rng, &device)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap();
            let (gm, gs) = stats(&g);
            let me = dm.iter().zip(&gm).map(|(a, b)| (a - b).abs()).sum::<f64>() / d as f64;
            let sr = gs.iter().sum::<f64>() / ds.iter().sum::<f64>();
            println!(
                "  {sampler:?}: mean err {me:.3}, std ratio {sr:.3}, gen->train nn {:.3}, gen->gen nn {:.3}",
                nn(&g, &z, false),
                nn(&g, &g, true)
            );
        }
    }
}
