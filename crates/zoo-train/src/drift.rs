//! Is a collection a cloud or a trajectory? Two shares of its variance that tell a checkpoint
//! run still converging (one direction, growing with the checkpoint index) from one
//! fluctuating around an optimum (many directions, no order).
//!
//! A collection that is mostly a straight drift gives the diffusion model a near-1-D
//! distribution, and its members then vary in fewer directions than random perturbations
//! do (`docs/METHOD-NOTES.md` §10).

use serde::{Deserialize, Serialize};

/// The two shares, each in [0, 1] (0 for a collection without variance).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    /// Share of the variance explained by a straight line in checkpoint order (least
    /// squares of every value on the checkpoint index): near 1, the checkpoints lie on one
    /// still-moving path; near 0, their order carries no direction.
    pub trend_fraction: f64,
    /// Share of the variance along the first principal component: near 1, the
    /// checkpoints differ in one direction only.
    pub top_component_fraction: f64,
}

/// Power-iteration rounds for the top eigenvalue of the K × K Gram matrix.
const POWER_ROUNDS: usize = 500;

impl Drift {
    /// Measures `rows`, K row-major vectors of `p` values each (K ≥ 2).
    ///
    /// # Panics
    /// If `rows.len()` is not a multiple of `p`, or fewer than two rows are given.
    pub fn of(rows: &[f32], p: usize) -> Self {
        assert!(p > 0 && rows.len().is_multiple_of(p), "rows of {p} values");
        let k = rows.len() / p;
        assert!(k >= 2, "needs two checkpoints, got {k}");
        let centred = centred(rows, p);
        let total: f64 = centred.iter().map(|v| v * v).sum();
        if total == 0.0 {
            return Self { trend_fraction: 0.0, top_component_fraction: 0.0 };
        }
        Self {
            trend_fraction: trend_variance(&centred, k, p) / total,
            top_component_fraction: top_eigenvalue(&gram(&centred, k, p), k) / total,
        }
    }
}

/// The mean vector of K row-major vectors of `p` values each, in f64.
pub fn column_mean(rows: &[f32], p: usize) -> Vec<f64> {
    let k = rows.len() / p;
    let mut mean = vec![0f64; p];
    for row in rows.chunks(p) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += *v as f64 / k as f64;
        }
    }
    mean
}

/// K row-major vectors of `p` values each, minus their mean vector, in f64.
pub fn centred(rows: &[f32], p: usize) -> Vec<f64> {
    let mean = column_mean(rows, p);
    rows.chunks(p).flat_map(|row| row.iter().zip(&mean).map(|(v, m)| *v as f64 - m)).collect()
}

/// Variance of the least-squares line through each column over the centred index.
fn trend_variance(centred: &[f64], k: usize, p: usize) -> f64 {
    let t: Vec<f64> = (0..k).map(|i| i as f64 - (k - 1) as f64 / 2.0).collect();
    let tt: f64 = t.iter().map(|v| v * v).sum();
    (0..p)
        .map(|j| {
            let tx: f64 = (0..k).map(|i| t[i] * centred[i * p + j]).sum();
            tx * tx / tt
        })
        .sum()
}

/// X Xᵀ of the centred rows (K × K, row-major).
fn gram(centred: &[f64], k: usize, p: usize) -> Vec<f64> {
    let mut g = vec![0f64; k * k];
    for a in 0..k {
        for b in a..k {
            let ra = &centred[a * p..(a + 1) * p];
            let rb = &centred[b * p..(b + 1) * p];
            let dot: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
            g[a * k + b] = dot;
            g[b * k + a] = dot;
        }
    }
    g
}

/// Largest eigenvalue of a symmetric positive semi-definite `k` × `k` matrix by power
/// iteration from a fixed start (deterministic). The start avoids the all-ones vector, which
/// the Gram matrix of centred rows maps to zero.
fn top_eigenvalue(g: &[f64], k: usize) -> f64 {
    let mut v: Vec<f64> = (0..k).map(|i| i as f64 + (1.7 * i as f64).sin()).collect();
    let mut lambda = 0.0;
    for _ in 0..POWER_ROUNDS {
        let w: Vec<f64> = (0..k)
            .map(|a| g[a * k..(a + 1) * k].iter().zip(&v).map(|(x, y)| x * y).sum())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if norm == 0.0 {
            return 0.0;
        }
        let vv: f64 = v.iter().map(|x| x * x).sum();
        lambda = v.iter().zip(&w).map(|(x, y)| x * y).sum::<f64>() / vv;
        v = w.into_iter().map(|x| x / norm).collect();
    }
    lambda
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;
    use rand_distr::{Distribution, Normal};

    use super::*;

    fn noise(k: usize, p: usize, seed: u64) -> Vec<f32> {
        let mut rng = StdRng::seed_from_u64(seed);
        let normal = Normal::new(0.0f32, 1.0).unwrap();
        (0..k * p).map(|_| normal.sample(&mut rng)).collect()
    }

    #[test]
    fn a_straight_path_is_all_trend_and_one_component() {
        let (k, p) = (50, 8);
        let dir: Vec<f32> = (0..p).map(|j| j as f32 - 3.0).collect();
        let rows: Vec<f32> =
            (0..k).flat_map(|i| dir.iter().map(move |d| 2.0 + 0.1 * i as f32 * d)).collect();
        let d = Drift::of(&rows, p);
        assert!((d.trend_fraction - 1.0).abs() < 1e-9, "{d:?}");
        assert!((d.top_component_fraction - 1.0).abs() < 1e-9, "{d:?}");
    }

    #[test]
    fn an_isotropic_cloud_has_neither() {
        let (k, p) = (200, 64);
        let d = Drift::of(&noise(k, p, 3), p);
        // Expected: trend ≈ 1/K; top component ≈ (1 + √(p/K))² / p for a Wishart matrix.
        assert!(d.trend_fraction < 0.03, "{d:?}");
        assert!(d.top_component_fraction < 0.06, "{d:?}");
    }

    #[test]
    fn a_drift_under_noise_shows_its_share() {
        // Half the variance on a line in checkpoint order, half isotropic noise.
        let (k, p) = (200, 64);
        let z = noise(k, p, 5);
        let t = |i: usize| (i as f64 - 99.5) / 57.7; // unit variance over 0..200
        let line_scale = (p as f64).sqrt(); // same total variance as the noise
        let rows: Vec<f32> = (0..k)
            .flat_map(|i| {
                let z = &z;
                (0..p).map(move |j| {
                    let along = if j == 0 { line_scale * t(i) } else { 0.0 };
                    z[i * p + j] + along as f32
                })
            })
            .collect();
        let d = Drift::of(&rows, p);
        assert!((d.trend_fraction - 0.5).abs() < 0.05, "{d:?}");
        assert!((d.top_component_fraction - 0.5).abs() < 0.05, "{d:?}");
    }

    #[test]
    fn identical_checkpoints_have_no_variance_to_share() {
        let d = Drift::of(&[1.0, 2.0, 1.0, 2.0, 1.0, 2.0], 2);
        assert_eq!(d, Drift { trend_fraction: 0.0, top_component_fraction: 0.0 });
    }
}
