//! Straightforward reference implementations of the ONNX operators (row-major, f64
//! accumulation), written from the operator specs.

use zoo_onnx::{ConvAttrs, GemmAttrs, PoolAttrs, TensorData};

/// A dense f32 tensor.
#[derive(Clone, Debug, PartialEq)]
pub struct Nd {
    pub dims: Vec<usize>,
    pub data: Vec<f32>,
}

pub fn strides(dims: &[usize]) -> Vec<usize> {
    let mut s = vec![1; dims.len()];
    for i in (0..dims.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * dims[i + 1];
    }
    s
}

pub fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        idx[a] = i % dims[a];
        i /= dims[a];
    }
    idx
}

fn axis(a: i64, rank: usize) -> usize {
    if a < 0 { (a + rank as i64) as usize } else { a as usize }
}

impl Nd {
    pub fn new(dims: &[usize], data: Vec<f32>) -> Self {
        assert_eq!(dims.iter().product::<usize>(), data.len());
        Nd { dims: dims.to_vec(), data }
    }

    pub fn from_fn(dims: &[usize], f: impl Fn(&[usize]) -> f32) -> Self {
        let n = dims.iter().product();
        Nd::new(dims, (0..n).map(|i| f(&unravel(i, dims))).collect())
    }

    pub fn at(&self, idx: &[usize]) -> f32 {
        let s = strides(&self.dims);
        self.data[idx.iter().zip(&s).map(|(i, s)| i * s).sum::<usize>()]
    }

    pub fn tensor(&self) -> TensorData {
        TensorData::f32(self.dims.clone(), self.data.clone()).unwrap()
    }

    pub fn reshape(&self, dims: &[usize]) -> Nd {
        Nd::new(dims, self.data.clone())
    }

    pub fn map(&self, f: impl Fn(f32) -> f32) -> Nd {
        Nd::new(&self.dims, self.data.iter().map(|&x| f(x)).collect())
    }
}

/// numpy broadcast of two shapes.
pub fn broadcast_dims(a: &[usize], b: &[usize]) -> Vec<usize> {
    let r = a.len().max(b.len());
    (0..r)
        .map(|i| {
            let da = if i + a.len() >= r { a[i + a.len() - r] } else { 1 };
            let db = if i + b.len() >= r { b[i + b.len() - r] } else { 1 };
            assert!(da == db || da == 1 || db == 1, "cannot broadcast {a:?} and {b:?}");
            da.max(db)
        })
        .collect()
}

/// Reads `x` at an index of the broadcast shape `out`.
fn at_broadcast(x: &Nd, idx: &[usize]) -> f32 {
    let off = idx.len() - x.dims.len();
    let own: Vec<usize> =
        x.dims.iter().enumerate().map(|(i, &d)| if d == 1 { 0 } else { idx[off + i] }).collect();
    x.at(&own)
}

pub fn binary(a: &Nd, b: &Nd, f: impl Fn(f32, f32) -> f32) -> Nd {
    let dims = broadcast_dims(&a.dims, &b.dims);
    Nd::from_fn(&dims, |i| f(at_broadcast(a, i), at_broadcast(b, i)))
}

pub fn expand(x: &Nd, shape: &[usize]) -> Nd {
    let dims = broadcast_dims(&x.dims, shape);
    Nd::from_fn(&dims, |i| at_broadcast(x, i))
}

pub fn mean_of(xs: &[&Nd]) -> Nd {
    let mut acc = xs[0].clone();
    for x in &xs[1..] {
        acc = binary(&acc, x, |a, b| a + b);
    }
    acc.map(|v| v / xs.len() as f32)
}

pub fn relu(x: &Nd) -> Nd {
    x.map(|v| v.max(0.0))
}

pub fn gelu(x: &Nd) -> Nd {
    x.map(|v| {
        let v = v as f64;
        (0.5 * v * (1.0 + libm::erf(v / std::f64::consts::SQRT_2))) as f32
    })
}

pub fn erf(x: &Nd) -> Nd {
    x.map(|v| libm::erf(v as f64) as f32)
}

pub fn conv2d(x: &Nd, w: &Nd, b: Option<&Nd>, a: &ConvAttrs) -> Nd {
    let (n, c, h, wd) = (x.dims[0], x.dims[1], x.dims[2], x.dims[3]);
    let (m, cg, kh, kw) = (w.dims[0], w.dims[1], w.dims[2], w.dims[3]);
    assert_eq!(cg * a.groups, c);
    let [sh, sw] = a.strides;
    let [dh, dw] = a.dilations;
    let [pt, pl, pb, pr] = a.pads;
    let oh = (h + pt + pb - dh * (kh - 1) - 1) / sh + 1;
    let ow = (wd + pl + pr - dw * (kw - 1) - 1) / sw + 1;
    let mg = m / a.groups;
    Nd::from_fn(&[n, m, oh, ow], |i| {
        let (bi, oc, y, xo) = (i[0], i[1], i[2], i[3]);
        let g = oc / mg;
        let mut acc = b.map_or(0.0, |b| b.data[oc] as f64);
        for ic in 0..cg {
            for ky in 0..kh {
                for kx in 0..kw {
                    let iy = (y * sh + ky * dh) as isize - pt as isize;
                    let ix = (xo * sw + kx * dw) as isize - pl as isize;
                    if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                        continue;
                    }
                    acc += x.at(&[bi, g * cg + ic, iy as usize, ix as usize]) as f64
                        * w.at(&[oc, ic, ky, kx]) as f64;
                }
            }
        }
        acc as f32
    })
}

pub fn batch_norm(x: &Nd, scale: &Nd, bias: &Nd, mean: &Nd, var: &Nd, eps: f32) -> Nd {
    Nd::from_fn(&x.dims, |i| {
        let c = i[1];
        let v = (x.at(i) as f64 - mean.data[c] as f64) / (var.data[c] as f64 + eps as f64).sqrt();
        (v * scale.data[c] as f64 + bias.data[c] as f64) as f32
    })
}

pub fn layer_norm(x: &Nd, scale: &Nd, bias: Option<&Nd>, eps: f32) -> Nd {
    let d = *x.dims.last().unwrap();
    let mut out = Vec::with_capacity(x.data.len());
    for row in x.data.chunks(d) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / d as f64;
        let var = row.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / d as f64;
        let inv = 1.0 / (var + eps as f64).sqrt();
        for (j, &v) in row.iter().enumerate() {
            let y = (v as f64 - mean) * inv * scale.data[j] as f64
                + bias.map_or(0.0, |b| b.data[j] as f64);
            out.push(y as f32);
        }
    }
    Nd::new(&x.dims, out)
}

pub fn transpose(x: &Nd, perm: &[usize]) -> Nd {
    let dims: Vec<usize> = perm.iter().map(|&p| x.dims[p]).collect();
    Nd::from_fn(&dims, |i| {
        let mut src = vec![0; i.len()];
        for (o, &p) in perm.iter().enumerate() {
            src[p] = i[o];
        }
        x.at(&src)
    })
}

pub fn gemm(a: &Nd, b: &Nd, c: Option<&Nd>, at: GemmAttrs) -> Nd {
    let a = if at.trans_a { transpose(a, &[1, 0]) } else { a.clone() };
    let b = if at.trans_b { transpose(b, &[1, 0]) } else { b.clone() };
    let (m, k, n) = (a.dims[0], a.dims[1], b.dims[1]);
    let ab = Nd::from_fn(&[m, n], |i| {
        (0..k).map(|t| a.at(&[i[0], t]) as f64 * b.at(&[t, i[1]]) as f64).sum::<f64>() as f32
            * at.alpha
    });
    match c {
        Some(c) => binary(&ab, &c.map(|v| v * at.beta), |x, y| x + y),
        None => ab,
    }
}

/// numpy matmul for rank ≥ 2 operands, broadcasting the batch dimensions.
pub fn matmul(a: &Nd, b: &Nd) -> Nd {
    let (ra, rb) = (a.dims.len(), b.dims.len());
    let (m, k, n) = (a.dims[ra - 2], a.dims[ra - 1], b.dims[rb - 1]);
    assert_eq!(k, b.dims[rb - 2]);
    let batch = broadcast_dims(&a.dims[..ra - 2], &b.dims[..rb - 2]);
    let mut dims = batch.clone();
    dims.extend([m, n]);
    let pick = |x: &Nd, bi: &[usize], r: usize, c: usize| {
        let xb = &x.dims[..x.dims.len() - 2];
        let off = bi.len() - xb.len();
        let mut idx: Vec<usize> =
            xb.iter().enumerate().map(|(j, &d)| if d == 1 { 0 } else { bi[off + j] }).collect();
        idx.extend([r, c]);
        x.at(&idx)
    };
    Nd::from_fn(&dims, |i| {
        let (bi, r, c) = (&i[..i.len() - 2], i[i.len() - 2], i[i.len() - 1]);
        (0..k).map(|t| pick(a, bi, r, t) as f64 * pick(b, bi, t, c) as f64).sum::<f64>() as f32
    })
}

pub fn softmax(x: &Nd, ax: i64) -> Nd {
    let ax = axis(ax, x.dims.len());
    Nd::from_fn(&x.dims, |i| {
        let mut j = i.to_vec();
        let vals: Vec<f64> = (0..x.dims[ax])
            .map(|t| {
                j[ax] = t;
                x.at(&j) as f64
            })
            .collect();
        let max = vals.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = vals.iter().map(|v| (v - max).exp()).sum();
        ((x.at(i) as f64 - max).exp() / sum) as f32
    })
}

pub fn concat(xs: &[&Nd], ax: i64) -> Nd {
    let ax = axis(ax, xs[0].dims.len());
    let mut dims = xs[0].dims.clone();
    dims[ax] = xs.iter().map(|x| x.dims[ax]).sum();
    Nd::from_fn(&dims, |i| {
        let mut j = i.to_vec();
        for x in xs {
            if j[ax] < x.dims[ax] {
                return x.at(&j);
            }
            j[ax] -= x.dims[ax];
        }
        unreachable!()
    })
}

/// Gather with integer indices of shape `idims` (empty: scalar).
pub fn gather(x: &Nd, indices: &[i64], idims: &[usize], ax: i64) -> Nd {
    let ax = axis(ax, x.dims.len());
    let mut dims = x.dims[..ax].to_vec();
    dims.extend(idims);
    dims.extend(&x.dims[ax + 1..]);
    Nd::from_fn(&dims, |i| {
        let ii = &i[ax..ax + idims.len()];
        let flat = ii.iter().zip(strides(idims)).map(|(a, s)| a * s).sum::<usize>();
        let mut k = indices[flat];
        if k < 0 {
            k += x.dims[ax] as i64;
        }
        let mut src = i[..ax].to_vec();
        src.push(k as usize);
        src.extend(&i[ax + idims.len()..]);
        x.at(&src)
    })
}

/// ONNX Slice semantics (clamping, negative indices and steps).
pub fn slice(x: &Nd, starts: &[i64], ends: &[i64], axes: &[i64], steps: &[i64]) -> Nd {
    let r = x.dims.len();
    let mut picks: Vec<Vec<usize>> = x.dims.iter().map(|&d| (0..d).collect()).collect();
    for j in 0..axes.len() {
        let a = axis(axes[j], r);
        let d = x.dims[a] as i64;
        let step = steps[j];
        let fix = |v: i64| if v < 0 { v + d } else { v };
        let (mut s, mut e) = (fix(starts[j]), fix(ends[j]));
        if step > 0 {
            s = s.clamp(0, d);
            e = e.clamp(0, d);
        } else {
            s = s.clamp(0, d - 1);
            e = e.clamp(-1, d - 1);
        }
        let mut v = Vec::new();
        let mut k = s;
        while (step > 0 && k < e) || (step < 0 && k > e) {
            v.push(k as usize);
            k += step;
        }
        picks[a] = v;
    }
    let dims: Vec<usize> = picks.iter().map(Vec::len).collect();
    Nd::from_fn(&dims, |i| {
        let src: Vec<usize> = i.iter().enumerate().map(|(a, &k)| picks[a][k]).collect();
        x.at(&src)
    })
}

fn pool(x: &Nd, a: &PoolAttrs, init: f64, f: impl Fn(f64, f64) -> f64, average: bool) -> Nd {
    let (n, c, h, w) = (x.dims[0], x.dims[1], x.dims[2], x.dims[3]);
    let [kh, kw] = a.kernel;
    let [sh, sw] = a.strides;
    let [pt, pl, pb, pr] = a.pads;
    let out = |len: usize, k: usize, s: usize, p: usize| {
        let span = len + p - k;
        if a.ceil_mode { span.div_ceil(s) + 1 } else { span / s + 1 }
    };
    let (oh, ow) = (out(h, kh, sh, pt + pb), out(w, kw, sw, pl + pr));
    Nd::from_fn(&[n, c, oh, ow], |i| {
        let mut acc = init;
        let mut count = 0usize;
        let mut padded = 0usize;
        for ky in 0..kh {
            for kx in 0..kw {
                let iy = (i[2] * sh + ky) as isize - pt as isize;
                let ix = (i[3] * sw + kx) as isize - pl as isize;
                let in_pad = iy < h as isize + pb as isize && ix < w as isize + pr as isize;
                if iy < 0 || ix < 0 || iy >= h as isize || ix >= w as isize {
                    padded += usize::from(in_pad);
                    continue;
                }
                acc = f(acc, x.at(&[i[0], i[1], iy as usize, ix as usize]) as f64);
                count += 1;
            }
        }
        if average {
            let div = if a.count_include_pad { count + padded } else { count };
            (acc / div as f64) as f32
        } else {
            acc as f32
        }
    })
}

pub fn max_pool(x: &Nd, a: &PoolAttrs) -> Nd {
    pool(x, a, f64::NEG_INFINITY, f64::max, false)
}

pub fn average_pool(x: &Nd, a: &PoolAttrs) -> Nd {
    pool(x, a, 0.0, |s, v| s + v, true)
}

pub fn reduce_mean(x: &Nd, axes: &[i64], keepdims: bool) -> Nd {
    let r = x.dims.len();
    let axes: Vec<usize> = axes.iter().map(|&a| axis(a, r)).collect();
    let kept: Vec<usize> =
        x.dims.iter().enumerate().map(|(i, &d)| if axes.contains(&i) { 1 } else { d }).collect();
    let count: usize = axes.iter().map(|&a| x.dims[a]).product();
    let mut sums = vec![0f64; kept.iter().product()];
    let ks = strides(&kept);
    for (flat, &v) in x.data.iter().enumerate() {
        let idx = unravel(flat, &x.dims);
        let o: usize = idx
            .iter()
            .enumerate()
            .map(|(a, &k)| if axes.contains(&a) { 0 } else { k * ks[a] })
            .sum();
        sums[o] += v as f64;
    }
    let data = sums.iter().map(|s| (s / count as f64) as f32).collect();
    let dims: Vec<usize> = if keepdims {
        kept
    } else {
        x.dims.iter().enumerate().filter(|(i, _)| !axes.contains(i)).map(|(_, &d)| d).collect()
    };
    Nd::new(&dims, data)
}
