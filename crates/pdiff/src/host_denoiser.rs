//! The denoiser's forward pass on host memory, for sampling on the CPU.
//!
//! Reverse diffusion calls the denoiser hundreds of times on a small batch. Through burn's
//! CPU backend each call is ≈ 130 tensor operations whose fixed costs (dispatch, allocation,
//! thread-pool wake-ups) exceed their arithmetic at these sizes (`docs/PERFORMANCE.md`).
//! [`HostDenoiser`] copies a [`Denoiser`]'s weights once and runs the same layers directly:
//! each convolution is one im2col matrix product over the whole batch (channel-major
//! activations, `[channels, batch · length]`; kernel-3 stride-1 convolutions, every one of a
//! full-length denoiser, by Winograd F(4, 3) in half the multiplications), normalization and
//! activations are plain loops,
//! and the batch is split across threads. It matches [`Denoiser::forward`] to float rounding
//! (the tests pin ≤ 2e-4) and its result does not depend on how the batch is split.

use burn::nn::InstanceNorm;
use burn::nn::PaddingConfig1d;
use burn::nn::conv::Conv1d;
use burn::prelude::*;
use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, Axis};
use rayon::prelude::*;

use crate::denoiser::{Denoiser, DenoiserBlock};
use crate::host_values;

/// Host copy of one `Conv1d`.
struct HostConv {
    weights: ConvWeights,
    bias: Vec<f32>,
    kernel: usize,
    stride: usize,
    pad_left: usize,
    pad_right: usize,
}

/// How a convolution's weights are kept for its algorithm.
enum ConvWeights {
    /// `[out, in · kernel]`, for one im2col matrix product (any kernel, stride, padding).
    Im2col(Array2<f32>),
    /// The six Winograd F(4, 3) filter transforms, each `[out, in]`: kernel 3, stride 1,
    /// padding 1 on both sides — every convolution of a full-length denoiser.
    Winograd(Box<[Array2<f32>; 6]>),
}

/// Host copy of one denoiser block (normalizations are parameter-free: their ε only).
struct HostBlock {
    norm_a: Option<f32>,
    conv_a: HostConv,
    norm_b: f32,
    conv_b: HostConv,
}

/// How timesteps become vectors: a `[T, dim]` table, or `[T, F]` features times `[F, dim]`.
enum HostTime {
    Table(Array2<f32>),
    Projected { features: Array2<f32>, weight: Array2<f32>, bias: Vec<f32> },
}

/// Activations of one chunk of samples, channel-major: row c holds every sample's `len`
/// positions one after the other.
struct Act {
    data: Array2<f32>,
    len: usize,
}

/// A [`Denoiser`] frozen into host arrays; see the module documentation.
pub struct HostDenoiser {
    time: HostTime,
    enc: Vec<HostBlock>,
    dec: Vec<HostBlock>,
    dim: usize,
    /// `dim` rounded up to a multiple of 2^halvings ([`Denoiser`]'s padded length).
    padded_dim: usize,
    halvings: usize,
    slope: f32,
}

fn host_matrix(t: Tensor<2>) -> Array2<f32> {
    let [rows, cols] = t.dims();
    Array2::from_shape_vec((rows, cols), host_values(t)).expect("shape matches the data")
}

impl HostConv {
    fn new(conv: &Conv1d) -> Self {
        let [out, inp, kernel] = conv.weight.dims();
        assert_eq!((conv.groups, conv.dilation), (1, 1), "denoiser convolutions are plain");
        let PaddingConfig1d::Explicit(pad_left, pad_right) = conv.padding else {
            unreachable!("denoiser convolutions pad explicitly")
        };
        let weight = host_matrix(conv.weight.val().reshape([out, inp * kernel]));
        let weights = if (kernel, conv.stride, pad_left, pad_right) == (3, 1, 1, 1) {
            ConvWeights::Winograd(Box::new(winograd_filters(&weight)))
        } else {
            ConvWeights::Im2col(weight)
        };
        Self {
            weights,
            bias: conv.bias.as_ref().map_or(vec![0.0; out], |b| host_values(b.val())),
            kernel,
            stride: conv.stride,
            pad_left,
            pad_right,
        }
    }

    /// Cross-correlation of every sample of `x` (as burn's `conv1d`).
    fn forward(&self, x: &Act, batch: usize) -> Act {
        match &self.weights {
            ConvWeights::Im2col(weight) => self.forward_im2col(weight, x, batch),
            ConvWeights::Winograd(filters) => winograd_forward(filters, &self.bias, x, batch),
        }
    }

    /// The convolution as one matrix product with the im2col matrix of `x`.
    fn forward_im2col(&self, weight: &Array2<f32>, x: &Act, batch: usize) -> Act {
        let (k, s, len) = (self.kernel, self.stride, x.len);
        let out_len = (len + self.pad_left + self.pad_right - k) / s + 1;
        let inp = x.data.nrows();
        // Row i·k + j of the im2col matrix holds tap j of input channel i for every output
        // position.
        let mut cols = Array2::<f32>::zeros((inp * k, batch * out_len));
        for i in 0..inp {
            let row = x.data.row(i);
            let row = row.as_slice().expect("activations are contiguous");
            for j in 0..k {
                let mut col = cols.row_mut(i * k + j);
                let col = col.as_slice_mut().expect("contiguous");
                // Output positions whose tap j lands inside the sample: o·s + j − pad_left
                // in [first, end); the rest stay zero (padding).
                let first = self.pad_left.saturating_sub(j).div_ceil(s).min(out_len);
                let end = (len + self.pad_left - j).div_ceil(s).clamp(first, out_len);
                let start = first * s + j - self.pad_left;
                for b in 0..batch {
                    let src = &row[b * len..(b + 1) * len];
                    let dst = &mut col[b * out_len + first..b * out_len + end];
                    if s == 1 {
                        dst.copy_from_slice(&src[start..start + dst.len()]);
                    } else {
                        dst.iter_mut()
                            .zip(src[start..].iter().step_by(s))
                            .for_each(|(d, v)| *d = *v);
                    }
                }
            }
        }
        let mut data = Array2::<f32>::zeros((weight.nrows(), batch * out_len));
        for (mut row, b) in data.rows_mut().into_iter().zip(&self.bias) {
            row.fill(*b);
        }
        general_mat_mul(1.0, weight, &cols, 1.0, &mut data);
        Act { data, len: out_len }
    }
}

/// Filter transforms of Winograd's minimal filtering F(4, 3) (Lavin & Gray 2016; points
/// 0, ±1, ±2, ∞) from `[out, in · 3]` taps g: U = G g with G's rows (¼, 0, 0),
/// −⅙ (1, 1, 1), −⅙ (1, −1, 1), (1/24, 1/12, ⅙), (1/24, −1/12, ⅙), (0, 0, 1).
fn winograd_filters(weight: &Array2<f32>) -> [Array2<f32>; 6] {
    const G: [[f32; 3]; 6] = [
        [1.0 / 4.0, 0.0, 0.0],
        [-1.0 / 6.0, -1.0 / 6.0, -1.0 / 6.0],
        [-1.0 / 6.0, 1.0 / 6.0, -1.0 / 6.0],
        [1.0 / 24.0, 1.0 / 12.0, 1.0 / 6.0],
        [1.0 / 24.0, -1.0 / 12.0, 1.0 / 6.0],
        [0.0, 0.0, 1.0],
    ];
    let (out, inp) = (weight.nrows(), weight.ncols() / 3);
    G.map(|g| {
        Array2::from_shape_fn((out, inp), |(o, i)| {
            (0..3).map(|j| g[j] * weight[[o, 3 * i + j]]).sum()
        })
    })
}

/// A kernel-3, stride-1, padding-1 convolution by Winograd F(4, 3): every four outputs
/// y₄ₜ..y₄ₜ₊₃ come from the six inputs d₀..d₅ = x₄ₜ₋₁..x₄ₜ₊₄ (zero outside the sample) as
/// six products mₖ = Uₖ · Vₖ of the input transform V = Bᵀ d, then y = Aᵀ m: six matrix
/// products of `[out, in]` by `[in, tiles]` where im2col needs `[out, 3 · in]` by
/// `[3 · in, 4 · tiles]`, half the multiplications.
fn winograd_forward(filters: &[Array2<f32>; 6], bias: &[f32], x: &Act, batch: usize) -> Act {
    let (len, inp) = (x.len, x.data.nrows());
    let tiles = len.div_ceil(4);
    let cols = batch * tiles;
    let mut v: [Array2<f32>; 6] = std::array::from_fn(|_| Array2::zeros((inp, cols)));
    // One sample's channel with a zero in front and zeros after: p[j] = x[j − 1].
    let mut padded = vec![0f32; 4 * tiles + 2];
    for i in 0..inp {
        let row = x.data.row(i);
        let row = row.as_slice().expect("activations are contiguous");
        let [r0, r1, r2, r3, r4, r5] =
            v.each_mut().map(|m| m.row_mut(i).into_slice().expect("contiguous"));
        for b in 0..batch {
            padded[1..=len].copy_from_slice(&row[b * len..(b + 1) * len]);
            let range = b * tiles..(b + 1) * tiles;
            let sextets = padded.windows(6).step_by(4);
            for (c, d) in range.zip(sextets) {
                r0[c] = 4.0 * d[0] - 5.0 * d[2] + d[4];
                r1[c] = d[3] + d[4] - 4.0 * (d[1] + d[2]);
                r2[c] = d[4] - d[3] + 4.0 * (d[1] - d[2]);
                r3[c] = d[4] - d[2] + 2.0 * (d[3] - d[1]);
                r4[c] = d[4] - d[2] + 2.0 * (d[1] - d[3]);
                r5[c] = 4.0 * d[1] - 5.0 * d[3] + d[5];
            }
        }
    }
    let out = filters[0].nrows();
    let m: Vec<Array2<f32>> = filters
        .iter()
        .zip(&v)
        .map(|(u, v)| {
            let mut m = Array2::<f32>::zeros((out, cols));
            general_mat_mul(1.0, u, v, 0.0, &mut m);
            m
        })
        .collect();
    let mut data = Array2::<f32>::zeros((out, batch * len));
    for (o, bias) in bias.iter().enumerate() {
        let rows: [&[f32]; 6] =
            std::array::from_fn(|k| m[k].row(o).to_slice().expect("contiguous"));
        let tile = |c: usize| {
            let [m0, m1, m2, m3, m4, m5] = rows.map(|r| r[c]);
            let (s12, d12, s34, d34) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4);
            [
                m0 + s12 + s34 + bias,
                d12 + 2.0 * d34 + bias,
                s12 + 4.0 * s34 + bias,
                d12 + 8.0 * d34 + m5 + bias,
            ]
        };
        let mut y = data.row_mut(o);
        let y = y.as_slice_mut().expect("contiguous");
        for (b, ys) in y.chunks_exact_mut(len).enumerate() {
            let mut quads = ys.chunks_exact_mut(4);
            for (quad, c) in (&mut quads).zip(b * tiles..) {
                quad.copy_from_slice(&tile(c));
            }
            let rest = quads.into_remainder();
            if !rest.is_empty() {
                let n = rest.len();
                rest.copy_from_slice(&tile((b + 1) * tiles - 1)[..n]);
            }
        }
    }
    Act { data, len }
}

impl HostBlock {
    fn new(block: &DenoiserBlock) -> Self {
        let eps = |n: &InstanceNorm| {
            assert!(!n.affine, "denoiser instance norms have no affine parameters");
            n.epsilon as f32
        };
        Self {
            norm_a: block.norm_a.as_ref().map(eps),
            conv_a: HostConv::new(&block.conv_a),
            norm_b: eps(&block.norm_b),
            conv_b: HostConv::new(&block.conv_b),
        }
    }
}

/// LeakyReLU.
fn leaky(v: f32, slope: f32) -> f32 {
    if v >= 0.0 { v } else { v * slope }
}

/// Instance normalization in place: every (channel, sample) segment to zero mean and unit
/// (biased) variance.
fn instance_norm(x: &mut Act, eps: f32) {
    let n = x.len as f32;
    let data = x.data.as_slice_mut().expect("activations are contiguous");
    for seg in data.chunks_exact_mut(x.len) {
        let mean = lane_sum(seg, |v| v) / n;
        let var = lane_sum(seg, |v| (v - mean) * (v - mean)) / n;
        let scale = 1.0 / (var + eps).sqrt();
        seg.iter_mut().for_each(|v| *v = (*v - mean) * scale);
    }
}

/// Σ f(v) over `values` in eight interleaved partial sums, which the compiler can vectorize
/// (a single running f32 sum cannot be reordered).
fn lane_sum(values: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut lanes = [0f32; 8];
    let mut chunks = values.chunks_exact(8);
    for chunk in &mut chunks {
        for (lane, v) in lanes.iter_mut().zip(chunk) {
            *lane += f(*v);
        }
    }
    let tail: f32 = chunks.remainder().iter().map(|v| f(*v)).sum();
    lanes.iter().sum::<f32>() + tail
}

impl HostDenoiser {
    /// Copies `denoiser`'s weights to the host.
    pub fn new(denoiser: &Denoiser) -> Self {
        let time = match (&denoiser.time_table, &denoiser.time_features, &denoiser.time_proj) {
            (Some(table), _, _) => HostTime::Table(host_matrix(table.weight.val())),
            (None, Some(features), Some(proj)) => HostTime::Projected {
                features: host_matrix(features.clone()),
                weight: host_matrix(proj.weight.val()),
                bias: proj.bias.as_ref().map_or(vec![0.0; denoiser.dim], |b| host_values(b.val())),
            },
            _ => unreachable!("a denoiser has a table or features with a projection"),
        };
        Self {
            time,
            enc: denoiser.enc.iter().map(HostBlock::new).collect(),
            dec: denoiser.dec.iter().map(HostBlock::new).collect(),
            dim: denoiser.dim,
            padded_dim: denoiser.padded_dim(),
            halvings: denoiser.halvings,
            slope: denoiser.negative_slope as f32,
        }
    }

    /// Latent dimension.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Predicts the noise in `x` (`[batch, dim]` row-major) at each row's timestep, as
    /// [`Denoiser::forward`] does; the batch is split over the rayon pool.
    ///
    /// # Panics
    /// If `x.len() != t.len() · dim`.
    pub fn forward(&self, x: &[f32], t: &[usize]) -> Vec<f32> {
        assert_eq!(x.len(), t.len() * self.dim, "{} timesteps of dim {}", t.len(), self.dim);
        if t.is_empty() {
            return Vec::new();
        }
        let chunk = t.len().div_ceil(rayon::current_num_threads());
        let parts: Vec<Vec<f32>> = x
            .par_chunks(chunk * self.dim)
            .zip(t.par_chunks(chunk))
            .map(|(x, t)| self.forward_chunk(x, t))
            .collect();
        parts.concat()
    }

    /// The timestep vectors, zero-padded: `[batch · padded_dim]`.
    fn embed_time(&self, t: &[usize]) -> Vec<f32> {
        let (dim, padded) = (self.dim, self.padded_dim);
        let rows: Array2<f32> = match &self.time {
            HostTime::Table(table) => table.select(Axis(0), t),
            HostTime::Projected { features, weight, bias } => {
                let picked = features.select(Axis(0), t);
                let mut out = Array2::<f32>::zeros((t.len(), dim));
                for mut row in out.rows_mut() {
                    row.as_slice_mut().expect("contiguous").copy_from_slice(bias);
                }
                general_mat_mul(1.0, &picked, weight, 1.0, &mut out);
                out
            }
        };
        let mut emb = vec![0f32; t.len() * padded];
        for (dst, src) in emb.chunks_exact_mut(padded).zip(rows.rows()) {
            dst[..dim].iter_mut().zip(src).for_each(|(d, s)| *d = *s);
        }
        emb
    }

    /// One block on `h + emb` (`emb` broadcast over the channels); `h` is left as it is,
    /// for the skip connection.
    fn block(&self, block: &HostBlock, h: &Act, emb: &[f32], batch: usize, first: bool) -> Act {
        let slope = self.slope;
        debug_assert_eq!(emb.len(), h.data.ncols(), "the timestep vector at the level's length");
        let mut input = Vec::with_capacity(h.data.len());
        for row in h.data.rows() {
            let row = row.to_slice().expect("activations are contiguous");
            if first {
                input.extend(row.iter().zip(emb).map(|(v, e)| v + e));
            } else {
                input.extend(row.iter().zip(emb).map(|(v, e)| leaky(v + e, slope)));
            }
        }
        let data = Array2::from_shape_vec(h.data.raw_dim(), input).expect("same shape");
        let mut a = Act { data, len: h.len };
        if let Some(eps) = block.norm_a {
            instance_norm(&mut a, eps);
        }
        let mut mid = block.conv_a.forward(&a, batch);
        mid.data.mapv_inplace(|v| leaky(v, slope));
        instance_norm(&mut mid, block.norm_b);
        block.conv_b.forward(&mid, batch)
    }

    fn forward_chunk(&self, x: &[f32], t: &[usize]) -> Vec<f32> {
        let (batch, dim, padded) = (t.len(), self.dim, self.padded_dim);
        // The timestep vector at each level's length: pairs averaged per halving.
        let mut embs = vec![self.embed_time(t)];
        for _ in 0..self.halvings {
            let last = embs.last().expect("level 0 is there");
            embs.push(last.chunks_exact(2).map(|p| (p[0] + p[1]) / 2.0).collect());
        }
        let emb = |level: usize| embs[level.min(self.halvings)].as_slice();
        let mut input = vec![0f32; batch * padded];
        for (dst, src) in input.chunks_exact_mut(padded).zip(x.chunks_exact(dim)) {
            dst[..dim].copy_from_slice(src);
        }
        let mut h = Act {
            data: Array2::from_shape_vec((1, batch * padded), input).expect("one row"),
            len: padded,
        };
        let mut skips = Vec::with_capacity(self.enc.len());
        for (i, block) in self.enc.iter().enumerate() {
            let out = self.block(block, &h, emb(i.saturating_sub(1)), batch, i == 0);
            skips.push(std::mem::replace(&mut h, out));
        }
        skips.remove(0); // the raw input is no skip; the deepest output is `h` itself
        let n = self.dec.len();
        for (j, block) in self.dec.iter().enumerate() {
            let level = n - 1 - j;
            h = self.block(block, &h, emb(level), batch, false);
            if level >= 1 && level <= self.halvings {
                let doubled: Vec<f32> = h.data.iter().flat_map(|v| [*v, *v]).collect();
                let rows = h.data.nrows();
                h = Act {
                    data: Array2::from_shape_vec((rows, doubled.len() / rows), doubled)
                        .expect("rows keep their count"),
                    len: 2 * h.len,
                };
            }
            if let Some(skip) = skips.pop() {
                h.data += &skip.data;
            }
        }
        let out = h.data.as_slice().expect("contiguous");
        out.chunks_exact(h.len).flat_map(|sample| sample[..dim].to_vec()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::denoiser::{DenoiserConfig, TimeEmbedding};
    use crate::init_params;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// A seeded denoiser, a batch for it, and each row's timestep.
    fn setup(
        cfg: &DenoiserConfig,
        dim: usize,
        batch: usize,
        seed: u64,
    ) -> (Denoiser, Vec<f32>, Vec<usize>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let den = init_params(cfg.init(dim, 1000, &Device::flex()).unwrap(), &mut rng);
        let x =
            (0..batch * dim).map(|_| rng.sample::<f32, _>(rand_distr::StandardNormal)).collect();
        let t = (0..batch).map(|_| rng.random_range(0..1000)).collect();
        (den, x, t)
    }

    fn burn_forward(den: &Denoiser, x: &[f32], t: &[usize]) -> Vec<f32> {
        let device = Device::flex();
        let ints: Vec<i64> = t.iter().map(|&v| v as i64).collect();
        let out = den.forward(
            Tensor::from_data(TensorData::new(x.to_vec(), [t.len(), den.dim()]), &device),
            Tensor::from_data(TensorData::new(ints, [t.len()]), &device),
        );
        host_values(out)
    }

    #[test]
    fn matches_the_burn_denoiser_in_every_configuration() {
        for (time_embedding, downsample, norm_input, dim) in [
            (TimeEmbedding::Sinusoidal { features: 16 }, false, false, 13),
            (TimeEmbedding::Sinusoidal { features: 16 }, true, false, 52),
            (TimeEmbedding::Table, true, true, 13),
            (TimeEmbedding::Table, false, true, 8),
        ] {
            let cfg = DenoiserConfig {
                channels: vec![4, 8, 16, 32],
                time_embedding,
                downsample,
                norm_input,
                ..Default::default()
            };
            for seed in 0..4 {
                let (den, x, t) = setup(&cfg, dim, 7, seed);
                let (host, reference) =
                    (HostDenoiser::new(&den).forward(&x, &t), burn_forward(&den, &x, &t));
                assert_eq!(host.len(), reference.len());
                let worst =
                    host.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
                // Seven parameter-free instance norms amplify rounding; a wrong layer is O(1).
                assert!(worst <= 2e-4, "{cfg:?} dim {dim} seed {seed}: off by {worst}");
                assert!(reference.iter().any(|v| v.abs() > 0.1), "a non-trivial output");
            }
        }
    }

    #[test]
    fn winograd_matches_direct_correlation() {
        // Lengths 5..=8 cover last tiles with one to four outputs.
        let mut rng = StdRng::seed_from_u64(11);
        let (inp, out, batch) = (3, 5, 4);
        let weight = Array2::from_shape_fn((out, inp * 3), |_| rng.random_range(-1.0..1.0));
        let bias: Vec<f32> = (0..out).map(|_| rng.random_range(-1.0..1.0)).collect();
        let filters = winograd_filters(&weight);
        for len in 5..=8 {
            let data = Array2::from_shape_fn((inp, batch * len), |_| rng.random_range(-1.0..1.0));
            let x = Act { data, len };
            let y = winograd_forward(&filters, &bias, &x, batch);
            for (o, b, p) in grid(out, batch, len) {
                let taps = (0..inp).flat_map(|i| (0..3).map(move |j| (i, j)));
                let direct = bias[o]
                    + taps
                        .filter_map(|(i, j)| {
                            let q = (p + j).checked_sub(1).filter(|&q| q < len)?;
                            Some(weight[[o, 3 * i + j]] * x.data[[i, b * len + q]])
                        })
                        .sum::<f32>();
                let got = y.data[[o, b * len + p]];
                assert!(
                    (got - direct).abs() <= 1e-5,
                    "len {len} ({o}, {b}, {p}): {got} vs {direct}"
                );
            }
        }
    }

    /// Every (output channel, sample, position) triple.
    fn grid(out: usize, batch: usize, len: usize) -> impl Iterator<Item = (usize, usize, usize)> {
        (0..out).flat_map(move |o| (0..batch).flat_map(move |b| (0..len).map(move |p| (o, b, p))))
    }

    #[test]
    fn result_does_not_depend_on_how_the_batch_is_split() {
        let cfg =
            DenoiserConfig { channels: vec![4, 8, 16], downsample: true, ..Default::default() };
        let (den, x, t) = setup(&cfg, 20, 9, 5);
        let host = HostDenoiser::new(&den);
        let one_by_one: Vec<f32> =
            (0..9).flat_map(|i| host.forward_chunk(&x[i * 20..(i + 1) * 20], &t[i..=i])).collect();
        assert_eq!(host.forward(&x, &t), one_by_one);
        assert!(host.forward(&[], &[]).is_empty());
    }
}
