//! Shared test helpers: randomized networks with non-trivial normalization state, the
//! project venv's Python (ONNX checker + onnxruntime), tract as a second runtime.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use burn::module::Module;
use burn::prelude::*;
use rand::{Rng, SeedableRng, rngs::StdRng};
use zoo_export::{ExportOptions, Metadata, Source, Verified};
use zoo_models::{ArchSpec, Model, NamedTensor, named_tensors, write_tensors};

/// Sets every BatchNorm's momentum to 1 so one training-mode forward writes the batch's
/// statistics into the running mean and variance.
fn bn_momentum_one(model: &mut Model) {
    if let Model::Resnet(net) = model {
        net.bn1.momentum = 1.0;
        for block in net
            .layer1
            .iter_mut()
            .chain(net.layer2.iter_mut())
            .chain(net.layer3.iter_mut())
            .chain(net.layer4.iter_mut())
        {
            block.bn1.momentum = 1.0;
            block.bn2.momentum = 1.0;
            if let Some(bn3) = block.bn3.as_mut() {
                bn3.momentum = 1.0;
            }
            if let Some((_, bn)) = block.downsample.as_mut() {
                bn.momentum = 1.0;
            }
        }
    }
}

/// Images of the training-mode forward that sets the BatchNorm running statistics (enough
/// that deep 1×1 feature maps get well-estimated variances).
pub const STAT_BATCH: usize = 32;

/// `spec` initialized from `seed` with every normalization weight/bias, ConvNeXt layer scale
/// and ViT class token set to random values, and (ResNet) BatchNorm running statistics taken
/// from a training-mode forward pass over random images: none of them at its init value.
/// Returned in inference form on the plain flex device.
pub fn randomized(spec: &ArchSpec, seed: u64) -> Model {
    let autodiff = Device::flex().autodiff();
    autodiff.seed(seed);
    let model = spec.init(&autodiff);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut changed = Vec::new();
    let norms = model.norm_layers();
    let tensors = named_tensors(&model);
    let names: Vec<String> = tensors.iter().map(|t| t.name.clone()).collect();
    for t in tensors {
        let name = t.name.as_str();
        let is_norm =
            norms.iter().any(|n| name.strip_prefix(n.as_str()).is_some_and(|r| r.starts_with('.')));
        let data: Vec<f32> = if name.ends_with("running_mean") || name.ends_with("running_var") {
            continue;
        } else if name.ends_with(".gamma") {
            t.data.iter().map(|_| rng.random_range(0.2f32..1.0)).collect()
        } else if name == "cls_token" {
            t.data.iter().map(|_| rng.random_range(-0.5f32..0.5)).collect()
        } else if is_norm && t.shape.len() == 1 && name.ends_with(".weight") {
            // The last norm of a residual branch starts small (as with timm's
            // `zero_init_last`), so the residual stream does not blow up with depth.
            let last = name.ends_with(".bn3.weight")
                || (name.ends_with(".bn2.weight")
                    && !names.contains(&name.replace(".bn2.", ".bn3.")));
            let range = if last { 0.1f32..0.3 } else { 0.5f32..1.5 };
            t.data.iter().map(|_| rng.random_range(range.clone())).collect()
        } else if is_norm && t.shape.len() == 1 && name.ends_with(".bias") {
            t.data.iter().map(|_| rng.random_range(-0.3f32..0.3)).collect()
        } else {
            continue;
        };
        changed.push(NamedTensor { data, ..t });
    }
    let (mut model, report) = write_tensors(model, &changed);
    assert!(report.mismatched.is_empty() && report.unused.is_empty(), "{}", report.summary());
    if matches!(model, Model::Resnet(_)) {
        bn_momentum_one(&mut model);
        let [c, h, w] = spec.input;
        let images = random_images(seed ^ 0x5eed, [STAT_BATCH, c, h, w]);
        let x = Tensor::<4>::from_data(
            burn::tensor::TensorData::new(images, [STAT_BATCH, c, h, w]),
            &autodiff,
        );
        let _ = model.forward(x);
    }
    let mut model = model.valid();
    if matches!(model, Model::Resnet(_)) {
        // Near-constant channels (tiny batch variance) make a random deep ResNet so
        // ill-conditioned that ORT, tract and burn disagree among themselves by ~1e-4 at
        // logits below 1; floor each variance at a tenth of its layer's mean, as trained
        // networks on real data have.
        let floored: Vec<NamedTensor> = named_tensors(&model)
            .into_iter()
            .filter(|t| t.name.ends_with("running_var"))
            .map(|t| {
                let floor = 0.1 * t.data.iter().sum::<f32>() / t.data.len() as f32;
                NamedTensor { data: t.data.iter().map(|v| v.max(floor)).collect(), ..t }
            })
            .collect();
        let (m, report) = write_tensors(model, &floored);
        assert!(report.mismatched.is_empty() && report.unused.is_empty(), "{}", report.summary());
        model = m;
        let var = named_tensors(&model).into_iter().find(|t| t.name == "bn1.running_var").unwrap();
        assert!(var.data.iter().any(|v| (v - 1.0).abs() > 1e-3), "running stats were not updated");
    }
    model
}

/// Uniform values in [-1.5, 1.5), like normalized pixels.
pub fn random_images(seed: u64, shape: [usize; 4]) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..shape.iter().product()).map(|_| rng.random_range(-1.5f32..1.5)).collect()
}

/// Metadata of a random test network.
pub fn test_metadata(spec: &ArchSpec, member: &str) -> ExportOptions {
    let [c, _, _] = spec.input;
    ExportOptions::with_metadata(Metadata {
        dataset: "random".into(),
        labels: (0..spec.num_classes).map(|i| format!("class{i}")).collect(),
        input_mean: vec![0.5; c],
        input_std: vec![0.25; c],
        source: Source::Random,
        member: member.into(),
        accuracy: Some(12.5),
        recipe_hash: "0123abcd".into(),
        extra: Vec::new(),
    })
}

/// Exports and verifies `spec` (randomized from `seed`) on a batch of `rows`.
pub fn export_random(
    spec: &ArchSpec,
    seed: u64,
    rows: usize,
    opts: &ExportOptions,
) -> (Model, Verified) {
    let model = randomized(spec, seed);
    let [c, h, w] = spec.input;
    let shape = [rows, c, h, w];
    let images = random_images(seed + 1, shape);
    let verified = zoo_export::export_verified(&model, spec, opts, &images, shape, &Device::flex())
        .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    (model, verified)
}

/// `.venv/bin/python` of the repository; fails the test with the reason if absent.
pub fn venv_python() -> PathBuf {
    zoo_verify::runtime::project_python().unwrap_or_else(|e| panic!("{e}"))
}

/// For each model file: `onnx.checker.check_model(full_check=True)`, then Python onnxruntime
/// on every input of its `test_data_set_0` against every stored output. Returns the max |Δ|
/// per file; fails the test on any error.
pub fn python_check(paths: &[PathBuf]) -> Vec<f32> {
    let script = r#"
import sys, os, glob
import numpy as np, onnx, onnxruntime as ort
from onnx import numpy_helper
for p in sys.argv[1:]:
    m = onnx.load(p)
    onnx.checker.check_model(m, full_check=True)
    d = os.path.join(os.path.dirname(p), "test_data_set_0")
    ins = [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(os.path.join(d, "input_*.pb")))]
    outs = [numpy_helper.to_array(onnx.load_tensor(f)) for f in sorted(glob.glob(os.path.join(d, "output_*.pb")))]
    s = ort.InferenceSession(p, providers=["CPUExecutionProvider"])
    got = s.run(None, {i.name: x for i, x in zip(s.get_inputs(), ins)})
    assert len(outs) >= 1, p
    diff = max(float(np.max(np.abs(g - o))) for g, o in zip(got, outs))
    print("DIFF", diff)
"#;
    let out = Command::new(venv_python())
        .arg("-c")
        .arg(script)
        .args(paths)
        .output()
        .expect("start python");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "python check failed:\n{text}");
    let diffs: Vec<f32> = text
        .lines()
        .filter_map(|l| l.strip_prefix("DIFF "))
        .map(|v| v.trim().parse().unwrap())
        .collect();
    assert_eq!(diffs.len(), paths.len(), "{text}");
    diffs
}

/// Runs `path` in tract (pure-Rust ONNX runtime) on one f32 input; returns every output.
pub fn tract_run(path: &Path, input: &[f32], shape: [usize; 4]) -> Vec<Vec<f32>> {
    use tract_onnx::prelude::*;
    let model = tract_onnx::onnx()
        .model_for_path(path)
        .and_then(|m| m.with_input_fact(0, f32::fact(shape).into()))
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .unwrap_or_else(|e| panic!("tract cannot load {}: {e:?}", path.display()));
    let tensor = tract_ndarray::Array4::from_shape_vec(shape, input.to_vec()).unwrap();
    let outputs = model
        .run(tvec!(Tensor::from(tensor).into()))
        .unwrap_or_else(|e| panic!("tract cannot run {}: {e:?}", path.display()));
    outputs
        .iter()
        .map(|o| o.to_plain_array_view::<f32>().unwrap().iter().copied().collect())
        .collect()
}

/// A stopwatch that prints a line per step.
pub struct Timer(Instant);

impl Timer {
    pub fn start() -> Self {
        Timer(Instant::now())
    }

    pub fn secs(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}
