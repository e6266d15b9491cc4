//! Per-layer tests (issue #5): every layer kind the exporters emit, as a burn module or op with
//! seeded random weights (normalization state included) on a seeded random input, against a
//! one-layer ONNX graph built by the exporters' own emitters (`zoo_export::layers::Ctx`, the
//! ViT attention emitter, `zoo_onnx::GraphBuilder` for the plain ops the exporters call on
//! `ctx.g`) and run in ONNX Runtime: |Δ| ≤ 1e-4 ([`LOGIT_TOLERANCE`]) at opsets 13, 17 and 21
//! (GELU also at 20, where it becomes the `Gelu` op). The graph must use every tensor of the
//! burn layer (`Ctx::finish`), and the output must not be near zero.
//!
//! Run with `--nocapture` to see the max |Δ| of every case.

use burn::module::Module;
use burn::nn::conv::Conv2dConfig;
use burn::nn::pool::MaxPool2dConfig;
use burn::nn::{BatchNormConfig, LayerNormConfig, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::{gelu, relu, softmax};
use rand::{Rng, SeedableRng, rngs::StdRng};
use zoo_export::layers::Ctx;
use zoo_models::layers::{LayerNorm2d, global_avg_pool};
use zoo_models::vit::Attention;
use zoo_models::{NamedTensor, named_tensors, write_tensors};
use zoo_onnx::{Dim, GraphBuilder, TensorData, Value};
use zoo_verify::{LOGIT_TOLERANCE, OrtModel, max_abs_diff};

/// The opsets every case runs at.
const OPSETS: &[u32] = &[13, 17, 21];

fn uniform(rng: &mut StdRng, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// A seeded random input `shape` (uniform in ±`scale`) as a burn tensor and as raw values.
fn input<const D: usize>(seed: u64, shape: [usize; D], scale: f32) -> (Tensor<D>, Vec<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = uniform(&mut rng, shape.iter().product(), -scale, scale);
    let t =
        Tensor::<D>::from_data(burn::tensor::TensorData::new(data.clone(), shape), &Device::flex());
    (t, data)
}

/// `module` with every tensor set to seeded random values: weights and biases uniform in
/// ±0.5, normalization scales in [0.5, 1.5), running means in ±0.5, running variances in
/// [0.3, 2): nothing at its init value.
fn randomized<M: Module>(module: M, seed: u64) -> M {
    let mut rng = StdRng::seed_from_u64(seed);
    let tensors: Vec<NamedTensor> = named_tensors(&module)
        .into_iter()
        .map(|t| {
            let n = t.data.len();
            let data = if t.name.ends_with("running_var") {
                uniform(&mut rng, n, 0.3, 2.0)
            } else if t.shape.len() == 1 && t.name.ends_with("weight") {
                uniform(&mut rng, n, 0.5, 1.5)
            } else {
                uniform(&mut rng, n, -0.5, 0.5)
            };
            NamedTensor { data, ..t }
        })
        .collect();
    let (module, report) = write_tensors(module, &tensors);
    assert!(report.mismatched.is_empty() && report.unused.is_empty(), "{}", report.summary());
    module
}

/// The tensors of `module` named as the emitters look them up: `{name}.{tensor}`.
fn tensors_of<M: Module>(name: &str, module: &M) -> Vec<NamedTensor> {
    named_tensors(module)
        .into_iter()
        .map(|t| NamedTensor { name: format!("{name}.{}", t.name), ..t })
        .collect()
}

fn values<const D: usize>(t: Tensor<D>) -> (Vec<usize>, Vec<f32>) {
    let dims = t.dims().to_vec();
    let data = t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 values");
    (dims, data)
}

fn fixed(dims: &[usize]) -> Vec<Dim> {
    dims.iter().map(|&d| Dim::Fixed(d)).collect()
}

/// Builds the one-layer graph (input `x` of `x_shape`, the layer's `tensors` as initializers,
/// `emit`) at every opset of `opsets`, runs it in ONNX Runtime on `x` and compares with burn's
/// `expected`. Returns the max |Δ| over the opsets.
fn check<const D: usize>(
    label: &str,
    opsets: &[u32],
    (x_shape, x): (&[usize], &[f32]),
    tensors: Vec<NamedTensor>,
    expected: Tensor<D>,
    emit: impl Fn(&mut Ctx, &Value) -> zoo_export::Result<Value>,
) -> f32 {
    let (want_dims, want) = values(expected);
    assert!(want.iter().all(|v| v.is_finite()), "{label}: non-finite burn output");
    let peak = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    assert!(peak > 1e-2, "{label}: burn output is near zero (max |y| = {peak})");
    let mut worst = 0.0f32;
    for &opset in opsets {
        let name = format!("{label}@{opset}");
        let g = GraphBuilder::with_opset(label, opset).unwrap();
        let mut ctx = Ctx::from_tensors(g, label, tensors.clone());
        let xv = ctx.g.input("x", &fixed(x_shape)).unwrap();
        let y = emit(&mut ctx, &xv).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut g = ctx.finish().unwrap_or_else(|e| panic!("{name}: {e}"));
        g.output(&y, "y", &fixed(&want_dims)).unwrap();
        let model = g.build().unwrap();
        let mut ort = OrtModel::from_model(&model, &name).unwrap_or_else(|e| panic!("{e}"));
        let input = TensorData::f32(x_shape.to_vec(), x.to_vec()).unwrap();
        let outs = ort.run_tensors(&[&input]).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outs.len(), 1, "{name}");
        assert_eq!(outs[0].data.dims(), want_dims.as_slice(), "{name}: output shape");
        let got = outs[0].data.as_f32().expect("f32 output");
        let diff = max_abs_diff(got, &want).unwrap();
        assert!(diff <= LOGIT_TOLERANCE, "{name}: max |Δ| = {diff:e} > {LOGIT_TOLERANCE:e}");
        worst = worst.max(diff);
    }
    println!("{label:<40} opsets {opsets:?}: max |Δ| = {worst:.2e} (max |y| = {peak:.2})");
    worst
}

// --- Conv2d ------------------------------------------------------------------------------

#[test]
fn conv2d() {
    let dev = Device::flex();
    // (label, [in, out], kernel, stride, padding, groups, bias, input [C, H, W])
    type ConvCase = (&'static str, [usize; 2], usize, usize, usize, usize, bool, [usize; 3]);
    let cases: [ConvCase; 8] = [
        ("conv 3→8 k3 bias", [3, 8], 3, 1, 0, 1, true, [3, 9, 9]),
        ("conv 3→8 k3 no bias", [3, 8], 3, 1, 0, 1, false, [3, 9, 9]),
        ("conv 4→6 k3 s2 p1 no bias", [4, 6], 3, 2, 1, 1, false, [4, 10, 10]),
        ("conv 4→6 k1 s2 bias (shortcut)", [4, 6], 1, 2, 0, 1, true, [4, 9, 9]),
        ("conv 3→8 k4 s4 bias (patchify)", [3, 8], 4, 4, 0, 1, true, [3, 16, 16]),
        ("conv dw 8 k7 p3 bias", [8, 8], 7, 1, 3, 8, true, [8, 9, 9]),
        ("conv dw 8 k3 s2 p1 no bias", [8, 8], 3, 2, 1, 8, false, [8, 9, 9]),
        ("conv groups 2 8→4 k3 p1 bias", [8, 4], 3, 1, 1, 2, true, [8, 7, 7]),
    ];
    for (i, (label, channels, k, s, p, groups, bias, [c, h, w])) in cases.into_iter().enumerate() {
        let conv = Conv2dConfig::new(channels, [k, k])
            .with_stride([s, s])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_groups(groups)
            .with_bias(bias)
            .init(&dev);
        let conv = randomized(conv, 10 + i as u64);
        let shape = [2, c, h, w];
        let (x, xs) = input(100 + i as u64, shape, 1.5);
        let expected = conv.forward(x);
        check(label, OPSETS, (&shape, &xs), tensors_of("conv", &conv), expected, |ctx, x| {
            ctx.conv(x, "conv", &conv)
        });
    }
}

// --- Normalization ------------------------------------------------------------------------

#[test]
fn batch_norm_eval() {
    let dev = Device::flex();
    for (i, eps) in [1e-5, 1e-3].into_iter().enumerate() {
        let bn = BatchNormConfig::new(6).with_epsilon(eps).init(&dev);
        let bn = randomized(bn, 20 + i as u64);
        let stats = named_tensors(&bn);
        let var = stats.iter().find(|t| t.name.ends_with("running_var")).unwrap();
        assert!(var.data.iter().all(|v| (v - 1.0).abs() > 1e-4), "running stats at init");
        let shape = [3, 6, 5, 5];
        let (x, xs) = input(200 + i as u64, shape, 1.5);
        let expected = bn.forward(x);
        let label = format!("batch norm eps {eps:e}");
        check(&label, OPSETS, (&shape, &xs), tensors_of("bn", &bn), expected, |ctx, x| {
            ctx.batch_norm(x, "bn", &bn)
        });
    }
}

#[test]
fn layer_norm_last_axis() {
    let dev = Device::flex();
    for (i, eps) in [1e-6, 1e-5].into_iter().enumerate() {
        let ln = LayerNormConfig::new(16).with_epsilon(eps).init(&dev);
        let ln = randomized(ln, 30 + i as u64);
        assert_eq!(zoo_export::layer_norm_epsilon(&ln), Some(eps));
        // Unit-scale tokens, and tokens so flat (variance ~ 1e-5) that the epsilon matters.
        for (j, scale) in [1.5f32, 5e-3].into_iter().enumerate() {
            let seed = 300 + 10 * i as u64 + j as u64;
            let shape = [2, 5, 16];
            let (x, xs) = input(seed, shape, scale);
            let expected = ln.forward(x);
            let label = format!("layer norm eps {eps:e} [2,5,16] ±{scale}");
            check(&label, OPSETS, (&shape, &xs), tensors_of("ln", &ln), expected, |ctx, x| {
                ctx.layer_norm(x, "ln", &ln)
            });
        }
        // Rank 2 (ConvNeXt head) and rank 4 (ConvNeXt block, channels last).
        let shape = [3, 16];
        let (x, xs) = input(350 + i as u64, shape, 1.5);
        let label = format!("layer norm eps {eps:e} [3,16]");
        check(&label, OPSETS, (&shape, &xs), tensors_of("ln", &ln), ln.forward(x), |ctx, x| {
            ctx.layer_norm(x, "ln", &ln)
        });
        let shape = [2, 3, 3, 16];
        let (x, xs) = input(360 + i as u64, shape, 1.5);
        let label = format!("layer norm eps {eps:e} [2,3,3,16]");
        check(&label, OPSETS, (&shape, &xs), tensors_of("ln", &ln), ln.forward(x), |ctx, x| {
            ctx.layer_norm(x, "ln", &ln)
        });
    }
}

#[test]
fn layer_norm_2d() {
    let dev = Device::flex();
    for (i, eps) in [1e-6, 1e-5].into_iter().enumerate() {
        let ln = randomized(LayerNorm2d::new(8, eps, &dev), 40 + i as u64);
        for (j, scale) in [1.5f32, 5e-3].into_iter().enumerate() {
            let shape = [2, 8, 4, 5];
            let (x, xs) = input(400 + 10 * i as u64 + j as u64, shape, scale);
            let expected = ln.forward(x);
            let label = format!("layer norm 2d eps {eps:e} ±{scale}");
            let tensors = tensors_of("ln", &ln.inner);
            check(&label, OPSETS, (&shape, &xs), tensors, expected, |ctx, x| {
                ctx.layer_norm_2d(x, "ln", &ln.inner)
            });
        }
    }
}

// --- Linear -------------------------------------------------------------------------------

/// A Linear as the networks hold it: a field of a module. (`named_tensors` turns a Linear
/// weight to PyTorch's `[out, in]` by its parent container, which a bare root Linear lacks.)
#[derive(Module, Debug)]
struct Head {
    fc: burn::nn::Linear,
}

#[test]
fn linear() {
    let dev = Device::flex();
    for (i, bias) in [true, false].into_iter().enumerate() {
        let fc = LinearConfig::new(16, 10).with_bias(bias).init(&dev);
        let Head { fc } = randomized(Head { fc }, 50 + i as u64);
        let fc_tensors = || named_tensors(&Head { fc: fc.clone() });
        let seed = 500 + 10 * i as u64;
        let shape = [4, 16];
        let (x, xs) = input(seed, shape, 1.5);
        let label = format!("linear rank 2 (Gemm) bias {bias}");
        check(&label, OPSETS, (&shape, &xs), fc_tensors(), fc.forward(x), |ctx, x| {
            ctx.linear(x, "fc", &fc, 2)
        });
        let shape = [2, 5, 16];
        let (x, xs) = input(seed + 1, shape, 1.5);
        let label = format!("linear rank 3 (MatMul+Add) bias {bias}");
        check(&label, OPSETS, (&shape, &xs), fc_tensors(), fc.forward(x), |ctx, x| {
            ctx.linear(x, "fc", &fc, 3)
        });
        let shape = [2, 3, 3, 16];
        let (x, xs) = input(seed + 2, shape, 1.5);
        let label = format!("linear rank 4 (MatMul+Add) bias {bias}");
        check(&label, OPSETS, (&shape, &xs), fc_tensors(), fc.forward(x), |ctx, x| {
            ctx.linear(x, "fc", &fc, 4)
        });
    }
}

// --- Activations --------------------------------------------------------------------------

#[test]
fn relu_op() {
    let shape = [2, 4, 5, 5];
    let (x, xs) = input(600, shape, 1.5);
    check("relu", OPSETS, (&shape, &xs), Vec::new(), relu(x), |ctx, x| {
        Ok(ctx.g.relu(x, "relu")?)
    });
}

#[test]
fn gelu_op() {
    // Erf form below opset 20, the `Gelu` op (approximate = none) from 20.
    let opsets = [13, 17, 20, 21];
    for (label, shape, scale) in
        [("gelu [2,5,16]", vec![2, 5, 16], 3.0f32), ("gelu [2,3,3,16]", vec![2, 3, 3, 16], 3.0)]
    {
        let seed = 700 + shape.len() as u64;
        let mut rng = StdRng::seed_from_u64(seed);
        let xs = uniform(&mut rng, shape.iter().product(), -scale, scale);
        let data = burn::tensor::TensorData::new(xs.clone(), shape.clone());
        if shape.len() == 3 {
            let x = Tensor::<3>::from_data(data, &Device::flex());
            check(label, &opsets, (&shape, &xs), Vec::new(), gelu(x), |ctx, x| {
                Ok(ctx.g.gelu(x, "act")?)
            });
        } else {
            let x = Tensor::<4>::from_data(data, &Device::flex());
            check(label, &opsets, (&shape, &xs), Vec::new(), gelu(x), |ctx, x| {
                Ok(ctx.g.gelu(x, "act")?)
            });
        }
    }
}

#[test]
fn softmax_last_axis() {
    // Attention scores [N, heads, T, T] and logits [N, classes].
    let shape = [2, 3, 5, 5];
    let (x, xs) = input(800, shape, 4.0);
    check(
        "softmax [2,3,5,5] axis -1",
        OPSETS,
        (&shape, &xs),
        Vec::new(),
        softmax(x, 3),
        |ctx, x| Ok(ctx.g.softmax(x, "softmax", -1)?),
    );
    let shape = [4, 10];
    let (x, xs) = input(801, shape, 4.0);
    check("softmax [4,10] axis -1", OPSETS, (&shape, &xs), Vec::new(), softmax(x, 1), |ctx, x| {
        Ok(ctx.g.softmax(x, "softmax", -1)?)
    });
}

// --- Pooling ------------------------------------------------------------------------------

#[test]
fn max_pool() {
    // (label, kernel, stride, padding, ceil_mode, input side)
    let cases = [
        ("max pool k3 s2 p1 (ResNet stem)", 3, 2, 1, false, 9),
        ("max pool k3 s2 p1 side 8", 3, 2, 1, false, 8),
        ("max pool k2 s2", 2, 2, 0, false, 8),
        ("max pool k3 s2 ceil", 3, 2, 0, true, 8),
    ];
    for (i, (label, k, s, p, ceil, side)) in cases.into_iter().enumerate() {
        let pool = MaxPool2dConfig::new([k, k])
            .with_strides([s, s])
            .with_padding(PaddingConfig2d::Explicit(p, p, p, p))
            .with_ceil_mode(ceil)
            .init();
        let shape = [2, 3, side, side];
        // All negative in one case: padding positions must never win.
        let (x, xs) = input(900 + i as u64, shape, 1.5);
        let (x, xs) = if i == 0 {
            (x.abs().neg().sub_scalar(0.1), xs.iter().map(|v| -v.abs() - 0.1).collect())
        } else {
            (x, xs)
        };
        check(label, OPSETS, (&shape, &xs), Vec::new(), pool.forward(x), |ctx, x| {
            ctx.max_pool(x, "pool", &pool)
        });
    }
}

#[test]
fn mean_pools() {
    let shape = [2, 6, 4, 5];
    let (x, xs) = input(1000, shape, 1.5);
    let expected = global_avg_pool(x.clone());
    // ResNet: GlobalAveragePool → Flatten.
    check(
        "global average pool + flatten",
        OPSETS,
        (&shape, &xs),
        Vec::new(),
        expected.clone(),
        |ctx, x| {
            let pooled = ctx.g.global_average_pool(x, "avgpool")?;
            Ok(ctx.g.flatten(&pooled, "flatten", 1)?)
        },
    );
    // ConvNeXt: ReduceMean over H, W.
    check("reduce mean [2,3]", OPSETS, (&shape, &xs), Vec::new(), expected, |ctx, x| {
        Ok(ctx.g.reduce_mean(x, "pool", &[2, 3], false)?)
    });
    // Mean over tokens.
    let shape = [2, 7, 16];
    let (x, xs) = input(1001, shape, 1.5);
    let expected: Tensor<2> = x.mean_dim(1).reshape([2, 16]);
    check("mean over tokens", OPSETS, (&shape, &xs), Vec::new(), expected, |ctx, x| {
        Ok(ctx.g.reduce_mean(x, "pool", &[1], false)?)
    });
}

// --- Elementwise: residual, layer scale, position embedding -------------------------------

/// A free parameter tensor (ConvNeXt `gamma`, ViT `pos_embed`) as the exporters read it.
fn param(name: &str, shape: Vec<usize>, seed: u64, lo: f32, hi: f32) -> NamedTensor {
    let mut rng = StdRng::seed_from_u64(seed);
    let data = uniform(&mut rng, shape.iter().product(), lo, hi);
    NamedTensor { name: name.into(), shape, data, kind: zoo_models::TensorKind::Param }
}

fn burn_tensor<const D: usize>(t: &NamedTensor) -> Tensor<D> {
    Tensor::<D>::from_data(
        burn::tensor::TensorData::new(t.data.clone(), t.shape.clone()),
        &Device::flex(),
    )
}

#[test]
fn add_mul() {
    let dev = Device::flex();
    // Residual: x + conv(x) (ResNet / ConvNeXt block).
    let conv = Conv2dConfig::new([4, 4], [3, 3])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(&dev);
    let conv = randomized(conv, 60);
    let shape = [2, 4, 5, 5];
    let (x, xs) = input(1100, shape, 1.5);
    let expected = x.clone().add(conv.forward(x));
    check(
        "add (residual x + conv(x))",
        OPSETS,
        (&shape, &xs),
        tensors_of("conv", &conv),
        expected,
        |ctx, x| {
            let y = ctx.conv(x, "conv", &conv)?;
            Ok(ctx.g.add(x, &y, "add")?)
        },
    );

    // Layer scale: channels-last y · gamma[C].
    let gamma = param("block.gamma", vec![8], 61, 0.2, 1.0);
    let shape = [2, 3, 3, 8];
    let (x, xs) = input(1101, shape, 1.5);
    let expected = x.mul(burn_tensor::<1>(&gamma).reshape([1, 1, 1, 8]));
    check("mul (layer scale gamma)", OPSETS, (&shape, &xs), vec![gamma], expected, |ctx, x| {
        let gamma = ctx.param("block.gamma")?;
        Ok(ctx.g.mul(x, &gamma, "block.layer_scale")?)
    });

    // Position embedding: tokens + pos_embed[1, T, D].
    let pos = param("pos_embed", vec![1, 5, 16], 62, -0.5, 0.5);
    let shape = [2, 5, 16];
    let (x, xs) = input(1102, shape, 1.5);
    let expected = x.add(burn_tensor::<3>(&pos));
    check("add (position embedding)", OPSETS, (&shape, &xs), vec![pos], expected, |ctx, x| {
        let pos = ctx.param("pos_embed")?;
        Ok(ctx.g.add(x, &pos, "pos_embed/add")?)
    });
}

// --- ViT attention ------------------------------------------------------------------------

#[test]
fn vit_attention() {
    let dev = Device::flex();
    for (i, heads) in [1usize, 2, 4].into_iter().enumerate() {
        let dim = 16;
        let attn = Attention {
            qkv: LinearConfig::new(dim, 3 * dim).init(&dev),
            proj: LinearConfig::new(dim, dim).init(&dev),
            heads,
        };
        let attn = randomized(attn, 70 + i as u64);
        let shape = [2, 5, dim];
        let (x, xs) = input(1200 + i as u64, shape, 1.5);
        let expected = attn.forward(x);
        let label = format!("vit attention {heads} head(s)");
        check(&label, OPSETS, (&shape, &xs), tensors_of("attn", &attn), expected, |ctx, x| {
            zoo_export::vit_attention(ctx, x, "attn", &attn, dim as i64)
        });
    }
}
