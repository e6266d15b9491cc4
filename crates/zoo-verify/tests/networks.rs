//! Whole small networks built with zoo-onnx: a CNN (conv → bn → relu → maxpool → depthwise
//! conv → bn → residual → relu → gap → flatten → gemm) and a mini ViT (patch conv, class token
//! broadcast to the batch, position embedding, a pre-norm transformer block with two-head
//! MatMul attention, Softmax and GELU MLP, class-token head). Each passes
//! `onnx.checker.check_model(full_check=True)` and matches a Rust reference forward in ONNX
//! Runtime at every opset 13..=21, for several batch sizes.

mod common;

use common::reference as r;
use common::{Nd, assert_close, onnx_check, rand_nd, rand_range};
use zoo_onnx::{
    BatchNorm, ConvAttrs, GemmAttrs, GraphBuilder, LayerNorm, MAX_OPSET, MIN_OPSET, Model,
    PoolAttrs, TensorData, Value, dims,
};
use zoo_verify::{OP_TOLERANCE, OrtModel, compare_logits};

/// Named parameters, generated from a seed and kept for the reference forward.
struct Params {
    seed: u64,
    list: Vec<(String, Nd)>,
}

impl Params {
    fn new(seed: u64) -> Self {
        Params { seed, list: Vec::new() }
    }

    fn add(&mut self, name: &str, nd: Nd) -> Nd {
        self.list.push((name.to_string(), nd.clone()));
        nd
    }

    fn rand(&mut self, name: &str, dims: &[usize], scale: f32) -> Nd {
        self.seed += 1;
        let nd = rand_nd(self.seed, dims).map(|v| v * scale);
        self.add(name, nd)
    }

    fn positive(&mut self, name: &str, dims: &[usize]) -> Nd {
        self.seed += 1;
        let nd = rand_range(self.seed, dims, 0.5, 1.5);
        self.add(name, nd)
    }

    fn get(&self, name: &str) -> &Nd {
        &self
            .list
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no parameter {name}"))
            .1
    }
}

fn values(g: &mut GraphBuilder, p: &Params) -> impl Fn(&str) -> Value + use<> {
    let vals: Vec<(String, Value)> =
        p.list.iter().map(|(n, nd)| (n.clone(), g.initializer(n, nd.tensor()).unwrap())).collect();
    move |name: &str| vals.iter().find(|(n, _)| n == name).unwrap().1.clone()
}

// ---- CNN -------------------------------------------------------------------------------------

fn cnn_params() -> Params {
    let mut p = Params::new(1000);
    p.rand("conv1.weight", &[8, 3, 3, 3], 0.5);
    for bn in ["bn1", "layer1.bn"] {
        p.positive(&format!("{bn}.weight"), &[8]);
        p.rand(&format!("{bn}.bias"), &[8], 0.1);
        p.rand(&format!("{bn}.running_mean"), &[8], 0.1);
        p.positive(&format!("{bn}.running_var"), &[8]);
    }
    p.rand("layer1.dwconv.weight", &[8, 1, 3, 3], 0.5);
    p.rand("fc.weight", &[10, 8], 0.5);
    p.rand("fc.bias", &[10], 0.1);
    p
}

const MAXPOOL: fn() -> PoolAttrs = || PoolAttrs::new(3).stride(2).pad(1);

fn cnn_model(opset: u32, p: &Params) -> Model {
    let mut g = GraphBuilder::with_opset("cnn", opset).unwrap();
    let v = values(&mut g, p);
    let bn = |g: &mut GraphBuilder, x: &Value, name: &str| {
        let (s, b, m, var) = (
            v(&format!("{name}.weight")),
            v(&format!("{name}.bias")),
            v(&format!("{name}.running_mean")),
            v(&format!("{name}.running_var")),
        );
        g.batch_norm(x, name, BatchNorm { scale: &s, bias: &b, mean: &m, var: &var, epsilon: 1e-5 })
            .unwrap()
    };
    let x = g.input("input", &dims![batch, 3, 16, 16]).unwrap();
    let y = g.conv(&x, "conv1", &v("conv1.weight"), None, &ConvAttrs::default().pad(1)).unwrap();
    let y = bn(&mut g, &y, "bn1");
    let y = g.relu(&y, "relu").unwrap();
    let skip = g.max_pool(&y, "maxpool", &MAXPOOL()).unwrap();
    let dw = ConvAttrs::default().pad(1).groups(8);
    let y = g.conv(&skip, "layer1.dwconv", &v("layer1.dwconv.weight"), None, &dw).unwrap();
    let y = bn(&mut g, &y, "layer1.bn");
    let y = g.add(&y, &skip, "layer1.add").unwrap();
    let y = g.relu(&y, "layer1.relu").unwrap();
    let y = g.global_average_pool(&y, "avgpool").unwrap();
    let y = g.flatten(&y, "flatten", 1).unwrap();
    let y = g.gemm(&y, "fc", &v("fc.weight"), Some(&v("fc.bias")), GemmAttrs::linear()).unwrap();
    g.output(&y, "logits", &dims![batch, 10]).unwrap();
    g.set_metadata("arch", "test-cnn");
    g.build().unwrap()
}

fn cnn_reference(x: &Nd, p: &Params) -> Nd {
    let bn = |x: &Nd, n: &str| {
        let q = |leaf: &str| p.get(&format!("{n}.{leaf}"));
        r::batch_norm(x, q("weight"), q("bias"), q("running_mean"), q("running_var"), 1e-5)
    };
    let y = r::conv2d(x, p.get("conv1.weight"), None, &ConvAttrs::default().pad(1));
    let y = r::relu(&bn(&y, "bn1"));
    let skip = r::max_pool(&y, &MAXPOOL());
    let y = r::conv2d(
        &skip,
        p.get("layer1.dwconv.weight"),
        None,
        &ConvAttrs::default().pad(1).groups(8),
    );
    let y = r::relu(&r::binary(&bn(&y, "layer1.bn"), &skip, |a, b| a + b));
    let y = r::reduce_mean(&y, &[2, 3], false);
    r::gemm(&y, p.get("fc.weight"), Some(p.get("fc.bias")), GemmAttrs::linear())
}

// ---- mini ViT --------------------------------------------------------------------------------

const D: usize = 16;
const HEADS: usize = 2;
const TOKENS: usize = 5; // 4 patches + class token

fn vit_params() -> Params {
    let mut p = Params::new(2000);
    p.rand("patch_embed.proj.weight", &[D, 3, 4, 4], 0.3);
    p.rand("patch_embed.proj.bias", &[D], 0.1);
    p.rand("cls_token", &[1, 1, D], 1.0);
    p.rand("pos_embed", &[1, TOKENS, D], 0.5);
    for n in ["blocks.0.norm1", "blocks.0.norm2", "norm"] {
        p.positive(&format!("{n}.weight"), &[D]);
        p.rand(&format!("{n}.bias"), &[D], 0.1);
    }
    for n in ["q", "k", "v", "proj"] {
        p.rand(&format!("blocks.0.attn.{n}.weight"), &[D, D], 0.4);
        p.rand(&format!("blocks.0.attn.{n}.bias"), &[D], 0.1);
    }
    p.rand("blocks.0.mlp.fc1.weight", &[2 * D, D], 0.4);
    p.rand("blocks.0.mlp.fc1.bias", &[2 * D], 0.1);
    p.rand("blocks.0.mlp.fc2.weight", &[D, 2 * D], 0.3);
    p.rand("blocks.0.mlp.fc2.bias", &[D], 0.1);
    p.rand("head.weight", &[10, D], 0.5);
    p.rand("head.bias", &[10], 0.1);
    p
}

fn vit_model(opset: u32, p: &Params) -> Model {
    let mut g = GraphBuilder::with_opset("vit", opset).unwrap();
    let v = values(&mut g, p);
    let ln = |g: &mut GraphBuilder, x: &Value, n: &str| {
        let (s, b) = (v(&format!("{n}.weight")), v(&format!("{n}.bias")));
        g.layer_norm(x, n, LayerNorm { scale: &s, bias: Some(&b), epsilon: 1e-6 }).unwrap()
    };
    let lin = |g: &mut GraphBuilder, x: &Value, n: &str| {
        g.linear(x, n, &v(&format!("{n}.weight")), Some(&v(&format!("{n}.bias")))).unwrap()
    };
    let x = g.input("input", &dims![batch, 3, 8, 8]).unwrap();
    let pe = ConvAttrs::default().stride(4);
    let y = g
        .conv(
            &x,
            "patch_embed.proj",
            &v("patch_embed.proj.weight"),
            Some(&v("patch_embed.proj.bias")),
            &pe,
        )
        .unwrap();
    let y = g.reshape(&y, "patch_embed.flatten", &[0, D as i64, -1]).unwrap(); // [B, D, 4]
    let tokens = g.transpose(&y, "patch_embed.transpose", &[0, 2, 1]).unwrap(); // [B, 4, D]
    let cls = g.expand_to_batch(&v("cls_token"), "cls_token.expand", &tokens, 3).unwrap(); // [B, 1, D]
    let y = g.concat(&[&cls, &tokens], "tokens", 1).unwrap(); // [B, 5, D]
    let x0 = g.add(&y, &v("pos_embed"), "pos_embed.add").unwrap();

    // attention
    let h = ln(&mut g, &x0, "blocks.0.norm1");
    let split = |g: &mut GraphBuilder, t: &Value, n: &str| {
        let t =
            g.reshape(t, &format!("{n}.heads"), &[0, 0, HEADS as i64, (D / HEADS) as i64]).unwrap();
        g.transpose(&t, &format!("{n}.perm"), &[0, 2, 1, 3]).unwrap() // [B, H, T, D/H]
    };
    let q = lin(&mut g, &h, "blocks.0.attn.q");
    let q = split(&mut g, &q, "blocks.0.attn.q");
    let k = lin(&mut g, &h, "blocks.0.attn.k");
    let k = split(&mut g, &k, "blocks.0.attn.k");
    let val = lin(&mut g, &h, "blocks.0.attn.v");
    let val = split(&mut g, &val, "blocks.0.attn.v");
    let kt = g.transpose(&k, "blocks.0.attn.kt", &[0, 1, 3, 2]).unwrap();
    let scores = g.matmul(&q, &kt, "blocks.0.attn.scores").unwrap(); // [B, H, T, T]
    let scale = g
        .constant(
            "blocks.0.attn",
            "scale",
            TensorData::scalar_f32(1.0 / ((D / HEADS) as f32).sqrt()),
        )
        .unwrap();
    let scores = g.mul(&scores, &scale, "blocks.0.attn.scale").unwrap();
    let probs = g.softmax(&scores, "blocks.0.attn.softmax", -1).unwrap();
    let ctx = g.matmul(&probs, &val, "blocks.0.attn.context").unwrap();
    let ctx = g.transpose(&ctx, "blocks.0.attn.merge", &[0, 2, 1, 3]).unwrap();
    let ctx = g.reshape(&ctx, "blocks.0.attn.merge", &[0, 0, D as i64]).unwrap();
    let attn = lin(&mut g, &ctx, "blocks.0.attn.proj");
    let x1 = g.add(&x0, &attn, "blocks.0.residual1").unwrap();

    // MLP
    let h = ln(&mut g, &x1, "blocks.0.norm2");
    let h = lin(&mut g, &h, "blocks.0.mlp.fc1");
    let h = g.gelu(&h, "blocks.0.mlp.act").unwrap();
    let h = lin(&mut g, &h, "blocks.0.mlp.fc2");
    let x2 = g.add(&x1, &h, "blocks.0.residual2").unwrap();

    let y = ln(&mut g, &x2, "norm");
    let cls_out = g.select(&y, "cls_select", 1, 0).unwrap(); // [B, D]
    let logits = g
        .gemm(&cls_out, "head", &v("head.weight"), Some(&v("head.bias")), GemmAttrs::linear())
        .unwrap();
    let probs = g.softmax(&logits, "probs", -1).unwrap();
    g.output(&logits, "logits", &dims![batch, 10]).unwrap();
    g.output(&probs, "probs", &dims![batch, 10]).unwrap();
    g.build().unwrap()
}

fn vit_reference(x: &Nd, p: &Params) -> Nd {
    let b = x.dims[0];
    let ln = |x: &Nd, n: &str| {
        r::layer_norm(x, p.get(&format!("{n}.weight")), Some(p.get(&format!("{n}.bias"))), 1e-6)
    };
    let lin = |x: &Nd, n: &str| {
        let xw = r::matmul(x, &r::transpose(p.get(&format!("{n}.weight")), &[1, 0]));
        r::binary(&xw, p.get(&format!("{n}.bias")), |a, c| a + c)
    };
    let y = r::conv2d(
        x,
        p.get("patch_embed.proj.weight"),
        Some(p.get("patch_embed.proj.bias")),
        &ConvAttrs::default().stride(4),
    );
    let tokens = r::transpose(&y.reshape(&[b, D, 4]), &[0, 2, 1]);
    let cls = r::expand(p.get("cls_token"), &[b, 1, D]);
    let x0 = r::binary(&r::concat(&[&cls, &tokens], 1), p.get("pos_embed"), |a, c| a + c);
    let h = ln(&x0, "blocks.0.norm1");
    let split = |t: &Nd| r::transpose(&t.reshape(&[b, TOKENS, HEADS, D / HEADS]), &[0, 2, 1, 3]);
    let (q, k, v) = (
        split(&lin(&h, "blocks.0.attn.q")),
        split(&lin(&h, "blocks.0.attn.k")),
        split(&lin(&h, "blocks.0.attn.v")),
    );
    let scale = 1.0 / ((D / HEADS) as f32).sqrt();
    let scores = r::matmul(&q, &r::transpose(&k, &[0, 1, 3, 2])).map(|s| s * scale);
    let ctx = r::matmul(&r::softmax(&scores, -1), &v);
    let ctx = r::transpose(&ctx, &[0, 2, 1, 3]).reshape(&[b, TOKENS, D]);
    let x1 = r::binary(&x0, &lin(&ctx, "blocks.0.attn.proj"), |a, c| a + c);
    let h = lin(&r::gelu(&lin(&ln(&x1, "blocks.0.norm2"), "blocks.0.mlp.fc1")), "blocks.0.mlp.fc2");
    let x2 = r::binary(&x1, &h, |a, c| a + c);
    let cls_out = r::gather(&ln(&x2, "norm"), &[0], &[], 1);
    r::gemm(&cls_out, p.get("head.weight"), Some(p.get("head.bias")), GemmAttrs::linear())
}

// ---- tests -----------------------------------------------------------------------------------

fn check_network(
    name: &str,
    input_dims: [usize; 3],
    build: fn(u32, &Params) -> Model,
    params: Params,
    reference: fn(&Nd, &Params) -> Nd,
) {
    let mut worst = 0f32;
    for opset in MIN_OPSET..=MAX_OPSET {
        let mut model = OrtModel::from_model(&build(opset, &params), &format!("{name}@{opset}"))
            .unwrap_or_else(|e| panic!("{e}"));
        for batch in [1, 3] {
            let [c, h, w] = input_dims;
            let x = rand_nd(opset as u64 * 10 + batch as u64, &[batch, c, h, w]);
            let logits = model.run(&x.data, [batch, c, h, w]).unwrap();
            let want = reference(&x, &params);
            let got = TensorData::f32([batch, 10], logits.clone()).unwrap();
            worst = worst.max(assert_close(
                &format!("{name}@{opset} batch {batch}"),
                &got,
                &want,
                OP_TOLERANCE,
            ));
            let agree = compare_logits(&logits, &want.data, 10).unwrap();
            assert_eq!(agree.argmax_agreement, 1.0, "{name}@{opset}: {agree:?}");
        }
    }
    eprintln!("{name}: worst max |Δ| over opsets {MIN_OPSET}..={MAX_OPSET}: {worst:e}");
}

#[test]
fn cnn_matches_reference_at_every_opset() {
    check_network("cnn", [3, 16, 16], cnn_model, cnn_params(), cnn_reference);
}

#[test]
fn mini_vit_matches_reference_at_every_opset() {
    check_network("vit", [3, 8, 8], vit_model, vit_params(), vit_reference);
}

#[test]
fn mini_vit_emits_probabilities_as_a_second_output() {
    let p = vit_params();
    let mut model = OrtModel::from_model(&vit_model(17, &p), "vit").unwrap();
    let x = rand_nd(5, &[2, 3, 8, 8]);
    let logits = model.run_output(&x.data, [2, 3, 8, 8], "logits").unwrap();
    let probs = model.run_output(&x.data, [2, 3, 8, 8], "probs").unwrap();
    let want = r::softmax(&Nd::new(&[2, 10], logits), -1);
    assert!(zoo_verify::max_abs_diff(&probs, &want.data).unwrap() < 1e-6);
}

#[test]
fn networks_pass_the_onnx_checker_at_every_opset() {
    let dir = tempfile::tempdir().unwrap();
    let (cp, vp) = (cnn_params(), vit_params());
    let mut paths = Vec::new();
    for opset in MIN_OPSET..=MAX_OPSET {
        for (name, model) in [("cnn", cnn_model(opset, &cp)), ("vit", vit_model(opset, &vp))] {
            let path = dir.path().join(format!("{name}_{opset}.onnx"));
            model.write(&path).unwrap();
            paths.push(path);
        }
    }
    onnx_check(&paths);
}

#[test]
fn the_checker_harness_rejects_a_broken_graph() {
    // Add of f32 and i64 is a type error full_check must catch: proves onnx_check is not vacuous.
    let mut g = GraphBuilder::new("broken");
    let x = g.input("x", &dims![batch, 3]).unwrap();
    let i = g.initializer("i", TensorData::i64([3], [1, 2, 3]).unwrap()).unwrap();
    let y = g.add(&x, &i, "bad").unwrap();
    g.output(&y, "y", &dims![batch, 3]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.onnx");
    g.build().unwrap().write(&path).unwrap();
    let result = std::panic::catch_unwind(|| onnx_check(std::slice::from_ref(&path)));
    assert!(result.is_err(), "the checker accepted a type error");
}
