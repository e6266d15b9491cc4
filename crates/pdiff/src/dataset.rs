//! The training data of p-diff: K parameter vectors of length P, the [`Layout`] that says
//! which tensor each value belongs to, and the normalization that is applied before the
//! autoencoder sees them and undone after decoding (METHOD.md §6–7).

use serde::{Deserialize, Serialize};

use crate::PdiffError;

/// One tensor of a parameter vector: its name, shape, and where its values sit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayoutEntry {
    /// Dotted parameter name (`layer4.1.bn2.weight`).
    pub name: String,
    /// Tensor shape.
    pub shape: Vec<usize>,
    /// First index in the flat vector.
    pub offset: usize,
    /// Number of values (product of `shape`).
    pub len: usize,
}

/// Ordered tensors making up one flat parameter vector.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    /// Entries in vector order, contiguous from 0.
    pub entries: Vec<LayoutEntry>,
}

impl Layout {
    /// Lays tensors out back to back in the given order.
    pub fn from_shapes<S: Into<String>>(
        tensors: impl IntoIterator<Item = (S, Vec<usize>)>,
    ) -> Self {
        let mut offset = 0;
        let entries = tensors
            .into_iter()
            .map(|(name, shape)| {
                let len = shape.iter().product();
                let entry = LayoutEntry { name: name.into(), shape, offset, len };
                offset += len;
                entry
            })
            .collect();
        Self { entries }
    }

    /// A layout of one tensor `values` of length `p` (tests, unstructured data).
    pub fn flat(p: usize) -> Self {
        Self::from_shapes([("values", vec![p])])
    }

    /// Total number of values P.
    pub fn len(&self) -> usize {
        self.entries.last().map_or(0, |e| e.offset + e.len)
    }

    /// Whether the layout has no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks that entries are non-empty, contiguous, consistent with their shapes and cover
    /// exactly `p` values.
    pub fn validate(&self, p: usize) -> Result<(), PdiffError> {
        let mut offset = 0;
        for e in &self.entries {
            if e.len == 0 || e.len != e.shape.iter().product::<usize>() || e.offset != offset {
                return Err(PdiffError::shape(format!(
                    "layout entry `{}` (shape {:?}, offset {}, len {}) is not contiguous with \
                     offset {offset} or does not match its shape",
                    e.name, e.shape, e.offset, e.len
                )));
            }
            offset += e.len;
        }
        if offset != p {
            return Err(PdiffError::shape(format!(
                "layout covers {offset} values, vectors have {p}"
            )));
        }
        Ok(())
    }
}

/// How parameter vectors are normalized before the autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NormMode {
    /// Per tensor: one mean and one std over all K × len values of each tensor. Keeps the
    /// structure inside a tensor (channel-to-channel differences), so the spread *between*
    /// checkpoints can be tiny next to it — the "decodes to the mean checkpoint" failure of
    /// METHOD.md §7 when the collection barely spreads.
    #[default]
    PerTensor,
    /// Per coordinate: each of the P values gets its own mean and std over the K checkpoints.
    /// Blows the between-checkpoint spread up to unit scale — the AE reconstructs well, and
    /// with few checkpoints it tends to memorize them (METHOD.md §7).
    PerCoordinate,
    /// Per-coordinate mean (the mean checkpoint) removed, then one std per tensor over the
    /// residuals: models only the spread between checkpoints, keeping the relative scale of
    /// coordinates within a tensor. A middle ground between the two above.
    Centered,
    /// No normalization (the reference p-diff).
    None,
}

/// Per-coordinate mean and scale (length P each), expanded from whatever the mode computed,
/// so that encoding and decoding are one affine map per coordinate.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalizer {
    /// Mode the statistics were computed with.
    pub mode: NormMode,
    /// Subtracted before dividing, length P.
    pub mean: Vec<f32>,
    /// Divisor (already guarded by epsilon), length P.
    pub std: Vec<f32>,
}

impl Normalizer {
    /// Computes statistics of a K × P row-major `matrix` (in f64) for `mode`. A std below
    /// `eps` is replaced by `eps`'s bound: `max(std, eps)`; a constant tensor or coordinate
    /// therefore normalizes to 0 and decodes back to its constant.
    pub fn fit(
        matrix: &[f32],
        k: usize,
        layout: &Layout,
        mode: NormMode,
        eps: f64,
    ) -> Result<Self, PdiffError> {
        let p = layout.len();
        layout.validate(p)?;
        if k == 0 || matrix.len() != k * p {
            return Err(PdiffError::shape(format!(
                "matrix has {} values, expected K × P = {k} × {p}",
                matrix.len()
            )));
        }
        if let Some(i) = matrix.iter().position(|v| !v.is_finite()) {
            return Err(PdiffError::shape(format!(
                "matrix value {i} (row {}, column {}) is not finite",
                i / p,
                i % p
            )));
        }
        let guard = |s: f64| s.max(eps) as f32;
        let column_means = || -> Vec<f64> {
            let mut m = vec![0.0f64; p];
            for row in matrix.chunks_exact(p) {
                for (acc, v) in m.iter_mut().zip(row) {
                    *acc += *v as f64;
                }
            }
            m.iter_mut().for_each(|v| *v /= k as f64);
            m
        };
        let (mean, std) = match mode {
            NormMode::None => (vec![0.0; p], vec![1.0; p]),
            NormMode::PerTensor => {
                let mut mean = vec![0.0f32; p];
                let mut std = vec![1.0f32; p];
                for e in &layout.entries {
                    let values =
                        || matrix.chunks_exact(p).flat_map(|row| &row[e.offset..e.offset + e.len]);
                    let n = (k * e.len) as f64;
                    let m = values().map(|v| *v as f64).sum::<f64>() / n;
                    let var = values().map(|v| (*v as f64 - m).powi(2)).sum::<f64>() / n;
                    mean[e.offset..e.offset + e.len].fill(m as f32);
                    std[e.offset..e.offset + e.len].fill(guard(var.sqrt()));
                }
                (mean, std)
            }
            NormMode::PerCoordinate => {
                let m = column_means();
                let mut var = vec![0.0f64; p];
                for row in matrix.chunks_exact(p) {
                    for ((acc, v), m) in var.iter_mut().zip(row).zip(&m) {
                        *acc += (*v as f64 - m).powi(2);
                    }
                }
                let std = var.iter().map(|v| guard((v / k as f64).sqrt())).collect();
                (m.iter().map(|v| *v as f32).collect(), std)
            }
            NormMode::Centered => {
                let m = column_means();
                let mut std = vec![1.0f32; p];
                for e in &layout.entries {
                    let mut ss = 0.0f64;
                    for row in matrix.chunks_exact(p) {
                        for j in e.offset..e.offset + e.len {
                            ss += (row[j] as f64 - m[j]).powi(2);
                        }
                    }
                    let s = (ss / (k * e.len) as f64).sqrt();
                    std[e.offset..e.offset + e.len].fill(guard(s));
                }
                (m.iter().map(|v| *v as f32).collect(), std)
            }
        };
        Ok(Self { mode, mean, std })
    }

    /// Number of values per vector.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// Whether the normalizer covers no values.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// Normalizes rows of length P in place-free fashion: (x − mean) / std.
    pub fn normalize(&self, rows: &[f32]) -> Vec<f32> {
        let p = self.len();
        rows.chunks_exact(p)
            .flat_map(|row| {
                row.iter().zip(&self.mean).zip(&self.std).map(|((x, m), s)| (x - m) / s)
            })
            .collect()
    }

    /// Undoes [`normalize`](Self::normalize): x · std + mean.
    pub fn denormalize(&self, rows: &[f32]) -> Vec<f32> {
        let p = self.len();
        rows.chunks_exact(p)
            .flat_map(|row| row.iter().zip(&self.mean).zip(&self.std).map(|((x, m), s)| x * s + m))
            .collect()
    }
}

/// K normalized parameter vectors with their layout and normalizer.
#[derive(Debug, Clone)]
pub struct ParamDataset {
    /// Number of vectors K.
    pub k: usize,
    /// Values per vector P.
    pub p: usize,
    /// Which tensor each value belongs to.
    pub layout: Layout,
    /// Statistics used, to undo at decode.
    pub normalizer: Normalizer,
    /// Normalized values, K × P row-major.
    pub normalized: Vec<f32>,
}

impl ParamDataset {
    /// Validates the K × P `matrix` against `layout` and normalizes it.
    pub fn new(
        matrix: &[f32],
        k: usize,
        layout: Layout,
        mode: NormMode,
        eps: f64,
    ) -> Result<Self, PdiffError> {
        let normalizer = Normalizer::fit(matrix, k, &layout, mode, eps)?;
        let normalized = normalizer.normalize(matrix);
        Ok(Self { k, p: layout.len(), layout, normalizer, normalized })
    }

    /// Variance of the normalized data around its mean vector (the mean over coordinates of
    /// each coordinate's variance over K): the scale an AE reconstruction error is judged
    /// against.
    pub fn spread(&self) -> f64 {
        variance_around_mean(&self.normalized, self.k, self.p)
    }
}

/// Mean over coordinates of the per-coordinate variance over rows of a K × P matrix.
pub fn variance_around_mean(rows: &[f32], k: usize, p: usize) -> f64 {
    let mut mean = vec![0.0f64; p];
    for row in rows.chunks_exact(p) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += *v as f64 / k as f64;
        }
    }
    let mut ss = 0.0;
    for row in rows.chunks_exact(p) {
        for (m, v) in mean.iter().zip(row) {
            ss += (*v as f64 - m).powi(2);
        }
    }
    ss / (k * p) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> Layout {
        Layout::from_shapes([("a.weight", vec![3]), ("a.bias", vec![3]), ("b", vec![2, 2])])
    }

    fn matrix(k: usize) -> Vec<f32> {
        (0..k * 10)
            .map(|i| {
                let (r, c) = (i / 10, i % 10);
                (c as f32 * 0.7 + 1.0) + (r as f32 * 0.13).sin() * (c as f32 + 1.0) * 0.01
            })
            .collect()
    }

    #[test]
    fn layout_offsets_and_validation() {
        let l = layout();
        assert_eq!(l.len(), 10);
        assert_eq!(l.entries[2].offset, 6);
        assert!(l.validate(10).is_ok());
        assert!(l.validate(11).is_err());
        let mut broken = l.clone();
        broken.entries[1].offset = 4;
        assert!(broken.validate(10).is_err());
    }

    #[test]
    fn every_mode_round_trips() {
        let (k, m) = (7, matrix(7));
        for mode in
            [NormMode::PerTensor, NormMode::PerCoordinate, NormMode::Centered, NormMode::None]
        {
            let ds = ParamDataset::new(&m, k, layout(), mode, 1e-8).unwrap();
            let back = ds.normalizer.denormalize(&ds.normalized);
            for (a, b) in back.iter().zip(&m) {
                assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{mode:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn per_tensor_stats_are_zero_mean_unit_std_per_tensor() {
        let (k, m) = (7, matrix(7));
        let ds = ParamDataset::new(&m, k, layout(), NormMode::PerTensor, 1e-8).unwrap();
        for e in &layout().entries {
            let vals: Vec<f64> = ds
                .normalized
                .chunks_exact(10)
                .flat_map(|r| r[e.offset..e.offset + e.len].iter().map(|v| *v as f64))
                .collect();
            let n = vals.len() as f64;
            let mean = vals.iter().sum::<f64>() / n;
            let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            assert!(mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4, "{}: {mean} {var}", e.name);
        }
    }

    #[test]
    fn per_coordinate_stats_are_zero_mean_unit_std_per_column() {
        let (k, m) = (7, matrix(7));
        let ds = ParamDataset::new(&m, k, layout(), NormMode::PerCoordinate, 1e-8).unwrap();
        for c in 0..10 {
            let col: Vec<f64> = ds.normalized.chunks_exact(10).map(|r| r[c] as f64).collect();
            let mean = col.iter().sum::<f64>() / k as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / k as f64;
            assert!(mean.abs() < 1e-4 && (var - 1.0).abs() < 1e-3, "column {c}: {mean} {var}");
        }
    }

    #[test]
    fn constant_values_are_guarded_by_epsilon() {
        let k = 4;
        let m: Vec<f32> = (0..k * 10).map(|i| if i % 10 < 3 { 2.5 } else { i as f32 }).collect();
        for mode in [NormMode::PerTensor, NormMode::PerCoordinate, NormMode::Centered] {
            let ds = ParamDataset::new(&m, k, layout(), mode, 1e-6).unwrap();
            assert!(ds.normalized.iter().all(|v| v.is_finite()));
            assert!(ds.normalized.chunks_exact(10).all(|r| r[..3].iter().all(|v| *v == 0.0)));
            let back = ds.normalizer.denormalize(&ds.normalized);
            assert!(back.chunks_exact(10).all(|r| r[..3].iter().all(|v| *v == 2.5)));
        }
    }

    #[test]
    fn bad_input_is_rejected_with_a_reason() {
        let err = ParamDataset::new(&[1.0; 9], 1, layout(), NormMode::PerTensor, 1e-8).unwrap_err();
        assert!(err.to_string().contains("K × P"), "{err}");
        let mut m = matrix(2);
        m[13] = f32::NAN;
        let err = ParamDataset::new(&m, 2, layout(), NormMode::PerTensor, 1e-8).unwrap_err();
        assert!(err.to_string().contains("row 1, column 3"), "{err}");
    }

    #[test]
    fn layout_round_trips_through_json() {
        let l = layout();
        let back: Layout = serde_json::from_str(&serde_json::to_string(&l).unwrap()).unwrap();
        assert_eq!(back, l);
    }
}
