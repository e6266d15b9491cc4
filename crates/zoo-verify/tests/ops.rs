//! Per-operator tests: each emitter of zoo-onnx builds a one-operator graph (a few build two
//! variants), ONNX Runtime runs it on seeded random inputs, and a plain Rust reference
//! implementation of the operator gives the expected values (|Δ| ≤ OP_TOLERANCE). Every case
//! runs at every opset 13..=21, and all of them pass `onnx.checker` with `full_check`.

mod common;

use common::reference as r;
use common::{Nd, assert_close, batch_dims, fixed_dims, onnx_check, rand_nd, rand_range};
use zoo_onnx::{
    BatchNorm, ConvAttrs, Dim, ElemType, GemmAttrs, GraphBuilder, LayerNorm, MAX_OPSET, MIN_OPSET,
    Model, PoolAttrs, TensorData, Value,
};
use zoo_verify::{OP_TOLERANCE, OrtModel};

/// What an output must equal.
enum Want {
    /// f32 values; `true`: the first dimension is the dynamic batch.
    F32(Nd, bool),
    /// i64 values and shape.
    I64(Vec<usize>, Vec<i64>),
}

impl Want {
    fn graph_dims(&self) -> Vec<Dim> {
        match self {
            Want::F32(nd, true) => batch_dims(&nd.dims),
            Want::F32(nd, false) => fixed_dims(&nd.dims),
            Want::I64(dims, _) => fixed_dims(dims),
        }
    }
}

struct Case {
    model: Model,
    inputs: Vec<TensorData>,
    wants: Vec<Want>,
}

type Outputs = Vec<(Value, Want)>;

fn build(
    opset: u32,
    name: &str,
    inputs: Vec<TensorData>,
    f: impl FnOnce(&mut GraphBuilder, &[Value]) -> Outputs,
) -> Case {
    let mut g = GraphBuilder::with_opset(name, opset).unwrap();
    let vals: Vec<Value> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| {
            g.input_typed(&format!("x{i}"), t.elem_type(), &batch_dims(t.dims())).unwrap()
        })
        .collect();
    let outs = f(&mut g, &vals);
    let mut wants = Vec::new();
    for (i, (v, want)) in outs.into_iter().enumerate() {
        g.output(&v, &format!("y{i}"), &want.graph_dims()).unwrap();
        wants.push(want);
    }
    Case { model: g.build().unwrap(), inputs, wants }
}

fn f32_in(xs: &[&Nd]) -> Vec<TensorData> {
    xs.iter().map(|x| x.tensor()).collect()
}

fn init(g: &mut GraphBuilder, name: &str, x: &Nd) -> Value {
    g.initializer(name, x.tensor()).unwrap()
}

fn run_case(name: &str, case: CaseFn) {
    for opset in MIN_OPSET..=MAX_OPSET {
        let c = case(opset);
        let label = format!("{name}@{opset}");
        let mut model = OrtModel::from_model(&c.model, &label).unwrap_or_else(|e| panic!("{e}"));
        let inputs: Vec<&TensorData> = c.inputs.iter().collect();
        let outs = model.run_tensors(&inputs).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(outs.len(), c.wants.len(), "{label}");
        for (i, (out, want)) in outs.iter().zip(&c.wants).enumerate() {
            let what = format!("{label} y{i}");
            assert_eq!(out.name, format!("y{i}"));
            match want {
                Want::F32(nd, _) => {
                    assert_close(&what, &out.data, nd, OP_TOLERANCE);
                }
                Want::I64(dims, vals) => {
                    assert_eq!(out.data.dims(), dims.as_slice(), "{what}");
                    assert_eq!(out.data.as_i64(), Some(vals.as_slice()), "{what}");
                }
            }
        }
    }
}

// ---- cases ---------------------------------------------------------------------------------

fn conv(opset: u32) -> Case {
    let x = rand_nd(1, &[2, 4, 9, 8]);
    let w = rand_nd(2, &[6, 4, 3, 3]);
    let b = rand_nd(3, &[6]);
    let dense = ConvAttrs::default().stride(2).pad(1);
    let dw = rand_nd(4, &[4, 1, 3, 3]);
    let depthwise = ConvAttrs { pads: [2, 1, 0, 3], dilations: [2, 1], groups: 4, strides: [1, 2] };
    let gw = rand_nd(5, &[6, 2, 1, 1]);
    let grouped = ConvAttrs::default().groups(2);
    let want = (
        r::conv2d(&x, &w, Some(&b), &dense),
        r::conv2d(&x, &dw, None, &depthwise),
        r::conv2d(&x, &gw, None, &grouped),
    );
    build(opset, "conv", f32_in(&[&x]), |g, v| {
        let (wv, bv, dwv, gwv) = (
            init(g, "c.weight", &w),
            init(g, "c.bias", &b),
            init(g, "dw.weight", &dw),
            init(g, "gw.weight", &gw),
        );
        vec![
            (g.conv(&v[0], "c", &wv, Some(&bv), &dense).unwrap(), Want::F32(want.0, true)),
            (g.conv(&v[0], "dw", &dwv, None, &depthwise).unwrap(), Want::F32(want.1, true)),
            (g.conv(&v[0], "gw", &gwv, None, &grouped).unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn batch_norm(opset: u32) -> Case {
    let x = rand_nd(10, &[3, 5, 4, 4]);
    let (s, b, m) = (rand_nd(11, &[5]), rand_nd(12, &[5]), rand_nd(13, &[5]));
    let var = rand_range(14, &[5], 0.1, 2.0);
    let want = r::batch_norm(&x, &s, &b, &m, &var, 1e-5);
    build(opset, "bn", f32_in(&[&x]), |g, v| {
        let (s, b, m, var) = (
            init(g, "bn.weight", &s),
            init(g, "bn.bias", &b),
            init(g, "bn.running_mean", &m),
            init(g, "bn.running_var", &var),
        );
        let p = BatchNorm { scale: &s, bias: &b, mean: &m, var: &var, epsilon: 1e-5 };
        vec![(g.batch_norm(&v[0], "bn", p).unwrap(), Want::F32(want, true))]
    })
}

fn layer_norm(opset: u32) -> Case {
    let x = rand_range(20, &[2, 5, 16], -3.0, 3.0);
    let (s, b) = (rand_nd(21, &[16]), rand_nd(22, &[16]));
    let want = (r::layer_norm(&x, &s, Some(&b), 1e-6), r::layer_norm(&x, &s, None, 1e-5));
    build(opset, "ln", f32_in(&[&x]), |g, v| {
        let (sv, bv) = (init(g, "norm.weight", &s), init(g, "norm.bias", &b));
        let with = g
            .layer_norm(&v[0], "norm", LayerNorm { scale: &sv, bias: Some(&bv), epsilon: 1e-6 })
            .unwrap();
        let without = g
            .layer_norm(&v[0], "norm_nb", LayerNorm { scale: &sv, bias: None, epsilon: 1e-5 })
            .unwrap();
        vec![(with, Want::F32(want.0, true)), (without, Want::F32(want.1, true))]
    })
}

fn gemm(opset: u32) -> Case {
    let x = rand_nd(30, &[3, 8]);
    let (w, b) = (rand_nd(31, &[5, 8]), rand_nd(32, &[5]));
    let wt = rand_nd(33, &[3, 4]);
    let odd = GemmAttrs { alpha: 0.5, beta: 2.0, trans_a: true, trans_b: false };
    let c = rand_nd(34, &[8, 1]);
    let want = (r::gemm(&x, &w, Some(&b), GemmAttrs::linear()), r::gemm(&x, &wt, Some(&c), odd));
    build(opset, "gemm", f32_in(&[&x]), |g, v| {
        let (wv, bv, wtv, cv) = (
            init(g, "fc.weight", &w),
            init(g, "fc.bias", &b),
            init(g, "m.b", &wt),
            init(g, "m.c", &c),
        );
        vec![
            (
                g.gemm(&v[0], "fc", &wv, Some(&bv), GemmAttrs::linear()).unwrap(),
                Want::F32(want.0, true),
            ),
            (g.gemm(&v[0], "m", &wtv, Some(&cv), odd).unwrap(), Want::F32(want.1, false)),
        ]
    })
}

fn matmul(opset: u32) -> Case {
    let (a, b) = (rand_nd(40, &[2, 5, 8]), rand_nd(41, &[2, 8, 3]));
    let w = rand_nd(42, &[8, 6]);
    let want = (r::matmul(&a, &b), r::matmul(&a, &w));
    build(opset, "matmul", f32_in(&[&a, &b]), |g, v| {
        let wv = init(g, "w", &w);
        vec![
            (g.matmul(&v[0], &v[1], "qk").unwrap(), Want::F32(want.0, true)),
            (g.matmul(&v[0], &wv, "proj").unwrap(), Want::F32(want.1, true)),
        ]
    })
}

fn linear(opset: u32) -> Case {
    let x = rand_nd(45, &[2, 5, 8]);
    let (w, b) = (rand_nd(46, &[6, 8]), rand_nd(47, &[6]));
    let wt = r::transpose(&w, &[1, 0]);
    let xw = r::matmul(&x, &wt);
    let want = (r::binary(&xw, &b, |p, q| p + q), xw);
    build(opset, "linear", f32_in(&[&x]), |g, v| {
        let (wv, bv) = (init(g, "fc1.weight", &w), init(g, "fc1.bias", &b));
        vec![
            (g.linear(&v[0], "fc1", &wv, Some(&bv)).unwrap(), Want::F32(want.0, true)),
            (g.linear(&v[0], "fc2", &wv, None).unwrap(), Want::F32(want.1, true)),
        ]
    })
}

fn arithmetic(opset: u32) -> Case {
    let x = rand_nd(50, &[2, 3, 4, 4]);
    let c = rand_range(51, &[3, 1, 1], 0.5, 1.5);
    let want = [
        r::binary(&x, &c, |a, b| a + b),
        r::binary(&x, &c, |a, b| a - b),
        r::binary(&x, &c, |a, b| a * b),
        r::binary(&x, &c, |a, b| a / b),
    ];
    build(opset, "arith", f32_in(&[&x]), |g, v| {
        let cv = init(g, "c", &c);
        let [add, sub, mul, div] = want;
        vec![
            (g.add(&v[0], &cv, "add").unwrap(), Want::F32(add, true)),
            (g.sub(&v[0], &cv, "sub").unwrap(), Want::F32(sub, true)),
            (g.mul(&v[0], &cv, "mul").unwrap(), Want::F32(mul, true)),
            (g.div(&v[0], &cv, "div").unwrap(), Want::F32(div, true)),
        ]
    })
}

fn pow_sqrt_erf(opset: u32) -> Case {
    let x = rand_range(55, &[3, 7], 0.1, 3.0);
    let e = Nd::new(&[7], vec![2.0, 0.5, 1.5, 3.0, -1.0, 1.0, 0.0]);
    let want = (
        r::binary(&x, &e, |a, b| (a as f64).powf(b as f64) as f32),
        x.map(|v| (v as f64).sqrt() as f32),
        r::erf(&x.map(|v| v - 1.5)),
    );
    let shifted = x.map(|v| v - 1.5);
    build(opset, "pow", f32_in(&[&x, &shifted]), |g, v| {
        let ev = init(g, "e", &e);
        vec![
            (g.pow(&v[0], &ev, "pow").unwrap(), Want::F32(want.0, true)),
            (g.sqrt(&v[0], "sqrt").unwrap(), Want::F32(want.1, true)),
            (g.erf(&v[1], "erf").unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn activations(opset: u32) -> Case {
    let x = rand_range(60, &[2, 6, 5], -4.0, 4.0);
    let want = (r::relu(&x), r::gelu(&x), x.clone());
    build(opset, "act", f32_in(&[&x]), |g, v| {
        vec![
            (g.relu(&v[0], "relu").unwrap(), Want::F32(want.0, true)),
            (g.gelu(&v[0], "gelu").unwrap(), Want::F32(want.1, true)),
            (g.identity(&v[0], "id").unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn softmax(opset: u32) -> Case {
    let x = rand_range(65, &[2, 4, 6], -5.0, 5.0);
    let want = (r::softmax(&x, -1), r::softmax(&x, 1));
    build(opset, "softmax", f32_in(&[&x]), |g, v| {
        vec![
            (g.softmax(&v[0], "sm_last", -1).unwrap(), Want::F32(want.0, true)),
            (g.softmax(&v[0], "sm_mid", 1).unwrap(), Want::F32(want.1, true)),
        ]
    })
}

fn reshape_flatten_unsqueeze(opset: u32) -> Case {
    let x = rand_nd(70, &[2, 3, 4, 5]);
    let want = (x.reshape(&[2, 12, 5]), x.reshape(&[2, 60]), x.reshape(&[2, 3, 1, 4, 5, 1]));
    build(opset, "reshape", f32_in(&[&x]), |g, v| {
        vec![
            (g.reshape(&v[0], "view", &[0, -1, 5]).unwrap(), Want::F32(want.0, true)),
            (g.flatten(&v[0], "flat", 1).unwrap(), Want::F32(want.1, true)),
            (g.unsqueeze(&v[0], "unsq", &[2, -1]).unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn transpose(opset: u32) -> Case {
    let x = rand_nd(75, &[2, 3, 4, 5]);
    let want = (r::transpose(&x, &[0, 2, 3, 1]), r::transpose(&x, &[3, 1, 0, 2]));
    build(opset, "transpose", f32_in(&[&x]), |g, v| {
        vec![
            (g.transpose(&v[0], "nhwc", &[0, 2, 3, 1]).unwrap(), Want::F32(want.0, true)),
            (g.transpose(&v[0], "mixed", &[3, 1, 0, 2]).unwrap(), Want::F32(want.1, false)),
        ]
    })
}

fn concat(opset: u32) -> Case {
    let (a, b) = (rand_nd(80, &[2, 3, 4]), rand_nd(81, &[2, 5, 4]));
    let p = rand_nd(82, &[2, 1, 4]);
    let want = r::concat(&[&a, &p, &b], 1);
    build(opset, "concat", f32_in(&[&a, &b, &p]), |g, v| {
        vec![(g.concat(&[&v[0], &v[2], &v[1]], "cat", 1).unwrap(), Want::F32(want, true))]
    })
}

fn gather(opset: u32) -> Case {
    let x = rand_nd(85, &[3, 5, 4]);
    let idx = [4i64, 0, -1, 2, 2, 1];
    let want = (
        r::gather(&x, &[0], &[], 1),
        r::gather(&x, &idx, &[2, 3], 1),
        r::gather(&x, &[-1], &[], -1),
    );
    build(opset, "gather", f32_in(&[&x]), |g, v| {
        let iv = g.initializer("idx", TensorData::i64([2, 3], idx).unwrap()).unwrap();
        vec![
            (g.select(&v[0], "cls", 1, 0).unwrap(), Want::F32(want.0, true)),
            (g.gather(&v[0], "pick", &iv, 1).unwrap(), Want::F32(want.1, true)),
            (g.select(&v[0], "last", -1, -1).unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn slice(opset: u32) -> Case {
    let x = rand_nd(90, &[2, 6, 7]);
    let want = (
        r::slice(&x, &[1, 0], &[i64::MAX, -2], &[1, 2], &[1, 1]),
        r::slice(&x, &[-1, 0], &[-100, 7], &[1, 2], &[-2, 3]),
    );
    build(opset, "slice", f32_in(&[&x]), |g, v| {
        vec![
            (
                g.slice(&v[0], "tail", &[1, 0], &[i64::MAX, -2], &[1, 2], None).unwrap(),
                Want::F32(want.0, true),
            ),
            (
                g.slice(&v[0], "strided", &[-1, 0], &[-100, 7], &[1, 2], Some(&[-2, 3])).unwrap(),
                Want::F32(want.1, true),
            ),
        ]
    })
}

fn pools(opset: u32) -> Case {
    let x = rand_nd(95, &[2, 3, 9, 8]);
    let mp = PoolAttrs::new(3).stride(2).pad(1);
    let mp_ceil = PoolAttrs { ceil_mode: true, ..PoolAttrs::new(2) };
    let ap = PoolAttrs { pads: [1, 0, 1, 2], ..PoolAttrs::new(3).stride(2) };
    let ap_inc = PoolAttrs { count_include_pad: true, ..ap.clone() };
    let want = [
        r::max_pool(&x, &mp),
        r::max_pool(&x, &mp_ceil),
        r::average_pool(&x, &ap),
        r::average_pool(&x, &ap_inc),
    ];
    build(opset, "pool", f32_in(&[&x]), |g, v| {
        let [a, b, c, d] = want;
        vec![
            (g.max_pool(&v[0], "maxpool", &mp).unwrap(), Want::F32(a, true)),
            (g.max_pool(&v[0], "maxpool_ceil", &mp_ceil).unwrap(), Want::F32(b, true)),
            (g.average_pool(&v[0], "avgpool", &ap).unwrap(), Want::F32(c, true)),
            (g.average_pool(&v[0], "avgpool_pad", &ap_inc).unwrap(), Want::F32(d, true)),
        ]
    })
}

fn means(opset: u32) -> Case {
    let x = rand_nd(100, &[2, 3, 4, 5]);
    let want = (
        r::reduce_mean(&x, &[2, 3], true),
        r::reduce_mean(&x, &[-1, 1], false),
        r::reduce_mean(&x, &[2, 3], true),
    );
    build(opset, "mean", f32_in(&[&x]), |g, v| {
        vec![
            (g.reduce_mean(&v[0], "rm_keep", &[2, 3], true).unwrap(), Want::F32(want.0, true)),
            (g.reduce_mean(&v[0], "rm_drop", &[-1, 1], false).unwrap(), Want::F32(want.1, true)),
            (g.global_average_pool(&v[0], "gap").unwrap(), Want::F32(want.2, true)),
        ]
    })
}

fn mean_of_inputs(opset: u32) -> Case {
    let (a, b, c) = (rand_nd(105, &[2, 4]), rand_nd(106, &[2, 4]), rand_nd(107, &[2, 4]));
    let want = r::mean_of(&[&a, &b, &c]);
    build(opset, "mean3", f32_in(&[&a, &b, &c]), |g, v| {
        vec![(g.mean(&[&v[0], &v[1], &v[2]], "ensemble").unwrap(), Want::F32(want, true))]
    })
}

fn expand_shape_cast(opset: u32) -> Case {
    let x = rand_nd(110, &[3, 5, 8]);
    let cls = rand_nd(111, &[1, 1, 8]);
    let row = rand_nd(112, &[4, 1]);
    let to_int = rand_range(113, &[3, 4], -9.0, 9.0);
    let want_cls = r::expand(&cls, &[3, 1, 8]);
    let want_row = r::expand(&row, &[2, 4, 6]);
    let ints: Vec<i64> = to_int.data.iter().map(|&v| v.trunc() as i64).collect();
    let back = Nd::new(&[3, 4], ints.iter().map(|&v| v as f32).collect());
    let int_input = TensorData::i64([3, 4], ints.clone()).unwrap();
    build(opset, "expand", vec![x.tensor(), to_int.tensor(), int_input], |g, v| {
        let cv = init(g, "cls_token", &cls);
        let rv = init(g, "row", &row);
        let target = g.initializer("target", TensorData::i64([3], [2, 1, 6]).unwrap()).unwrap();
        vec![
            (g.expand_to_batch(&cv, "cls", &v[0], 3).unwrap(), Want::F32(want_cls, true)),
            (g.expand(&rv, "rows", &target).unwrap(), Want::F32(want_row, false)),
            (g.shape(&v[0], "shape", None, None).unwrap(), Want::I64(vec![3], vec![3, 5, 8])),
            (g.shape(&v[0], "tail_dims", Some(1), None).unwrap(), Want::I64(vec![2], vec![5, 8])),
            (g.shape(&v[0], "mid_dim", Some(-2), Some(-1)).unwrap(), Want::I64(vec![1], vec![5])),
            (g.cast(&v[1], "to_i64", ElemType::I64).unwrap(), Want::I64(vec![3, 4], ints)),
            (g.cast(&v[2], "to_f32", ElemType::F32).unwrap(), Want::F32(back, true)),
        ]
    })
}

/// Builds a case at an opset.
type CaseFn = fn(u32) -> Case;

const CASES: &[(&str, CaseFn)] = &[
    ("conv", conv),
    ("batch_norm", batch_norm),
    ("layer_norm", layer_norm),
    ("gemm", gemm),
    ("matmul", matmul),
    ("linear", linear),
    ("arithmetic", arithmetic),
    ("pow_sqrt_erf", pow_sqrt_erf),
    ("activations", activations),
    ("softmax", softmax),
    ("reshape_flatten_unsqueeze", reshape_flatten_unsqueeze),
    ("transpose", transpose),
    ("concat", concat),
    ("gather", gather),
    ("slice", slice),
    ("pools", pools),
    ("means", means),
    ("mean_of_inputs", mean_of_inputs),
    ("expand_shape_cast", expand_shape_cast),
];

macro_rules! op_tests {
    ($($name:ident),* $(,)?) => { $(
        #[test]
        fn $name() {
            run_case(stringify!($name), super::$name);
        }
    )* };
}

mod ort_matches_reference {
    use super::run_case;
    op_tests!(
        conv,
        batch_norm,
        layer_norm,
        gemm,
        matmul,
        linear,
        arithmetic,
        pow_sqrt_erf,
        activations,
        softmax,
        reshape_flatten_unsqueeze,
        transpose,
        concat,
        gather,
        slice,
        pools,
        means,
        mean_of_inputs,
        expand_shape_cast,
    );
}

#[test]
fn every_case_passes_the_onnx_checker_at_every_opset() {
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for (name, case) in CASES {
        for opset in MIN_OPSET..=MAX_OPSET {
            let path = dir.path().join(format!("{name}_{opset}.onnx"));
            case(opset).model.write(&path).unwrap();
            paths.push(path);
        }
    }
    onnx_check(&paths);
}
