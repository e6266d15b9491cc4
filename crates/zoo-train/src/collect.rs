//! Checkpoint collection: keep training only the selected parameters of a trained model and
//! save K snapshots of them (p-diff §1). BatchNorm statistics stay frozen (every layer runs in
//! inference behaviour), and only the tail after the first selected layer is computed.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::GradientsParams;
use burn::prelude::*;
use indicatif::ProgressBar;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use zoo_data::Dataset;
use zoo_io::F32Tensor;
use zoo_models::{Model, ParamLayout, Selection, set_trainable};

use crate::TrainError;
use crate::batches::Tensors;
use crate::prefix::{PrefixCache, cut_for};
use crate::train::{OptimizerConfig, cross_entropy};

/// Settings of a collection run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectConfig {
    /// Number of checkpoints K.
    pub checkpoints: usize,
    /// Optimizer steps between two checkpoints.
    pub interval: usize,
    /// Steps before the first checkpoint (lets the subset leave the base point).
    pub warmup: usize,
    /// Samples per step.
    pub batch_size: usize,
    /// Optimizer of the selected parameters; its learning rate is the peak of `cycle`.
    pub optimizer: OptimizerConfig,
    /// Learning rate between two checkpoints.
    #[serde(default)]
    pub cycle: CollectCycle,
    /// Which parameters are trained and saved.
    pub selection: Selection,
}

impl Default for CollectConfig {
    fn default() -> Self {
        Self {
            checkpoints: 200,
            interval: 10,
            warmup: 50,
            batch_size: 64,
            optimizer: OptimizerConfig::Sgd {
                lr: 0.05,
                momentum: 0.9,
                weight_decay: 5e-4,
                nesterov: false,
            },
            selection: Selection::LastNorms,
            cycle: CollectCycle::Constant,
        }
    }
}

/// How the learning rate moves between two checkpoints of a collection run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", deny_unknown_fields)]
pub enum CollectCycle {
    /// The optimizer's learning rate at every step (the paper's collection).
    #[default]
    Constant,
    /// Snapshot-style cycles: within each interval the rate falls from the optimizer's
    /// learning rate to `floor` times it along a half cosine, and the checkpoint is taken at
    /// the low end; the warm-up runs at the peak rate.
    Cosine {
        /// Lowest rate of a cycle, as a fraction of the peak, in [0, 1).
        floor: f64,
    },
}

impl CollectCycle {
    /// Learning rate of optimizer step `step` (1-based) for a peak rate `lr`.
    pub fn lr(&self, lr: f64, step: usize, warmup: usize, interval: usize) -> f64 {
        match *self {
            CollectCycle::Constant => lr,
            CollectCycle::Cosine { .. } if step <= warmup => lr,
            CollectCycle::Cosine { floor } => {
                let position = ((step - warmup - 1) % interval + 1) as f64 / interval as f64;
                lr * (floor + (1.0 - floor) * 0.5 * (1.0 + (std::f64::consts::PI * position).cos()))
            }
        }
    }
}

impl CollectConfig {
    /// Defaults whose learning rate spreads the checkpoints of each family's small variant
    /// on MNIST (nearest-neighbour IoU of errors below 0.99) without costing accuracy:
    /// LayerNorm affine parameters need a much larger SGD step than BatchNorm ones, and
    /// ViT's a larger one still: at 2.0 its generated members sit closer to the trained
    /// checkpoints than noise-added copies do (docs/METHOD-NOTES.md §14).
    pub fn for_family(family: zoo_models::Family) -> Self {
        let lr = match family {
            zoo_models::Family::Resnet => 0.05,
            zoo_models::Family::Vit => 8.0,
            zoo_models::Family::Convnext => 0.5,
        };
        Self {
            optimizer: OptimizerConfig::Sgd {
                lr,
                momentum: 0.9,
                weight_decay: 5e-4,
                nesterov: false,
            },
            ..Self::default()
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad =
            |field, reason: &str| Err(TrainError::BadConfig { field, reason: reason.to_string() });
        if self.checkpoints < 2 {
            return bad("checkpoints", "needs at least 2");
        }
        if self.interval == 0 {
            return bad("interval", "must be at least 1");
        }
        if self.batch_size == 0 {
            return bad("batch_size", "must be at least 1");
        }
        if let CollectCycle::Cosine { floor } = self.cycle
            && !(0.0..1.0).contains(&floor)
        {
            return bad("cycle_floor", &format!("must be in [0, 1), got {floor}"));
        }
        self.optimizer.validate()
    }
}

/// K checkpoints of a parameter subset, with their accuracies.
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// Architecture name.
    pub arch: String,
    /// Meaning of each value of a vector.
    pub layout: ParamLayout,
    /// Row-major K × P matrix.
    pub params: Vec<f32>,
    /// Validation accuracy of each checkpoint, percent.
    pub val_accuracy: Vec<f64>,
    /// Test accuracy of each checkpoint, percent.
    pub test_accuracy: Vec<f64>,
    /// Validation-split predictions of each checkpoint (diversity on validation); empty in
    /// files written before they were stored.
    pub val_predictions: Vec<Vec<u16>>,
    /// Test-split predictions of each checkpoint (for diversity).
    pub test_predictions: Vec<Vec<u16>>,
    /// Free-form provenance (base model, config, seed, timings).
    pub info: serde_json::Value,
}

impl Collection {
    /// Number of checkpoints K.
    pub fn len(&self) -> usize {
        self.val_accuracy.len()
    }

    /// Whether the collection is empty.
    pub fn is_empty(&self) -> bool {
        self.val_accuracy.is_empty()
    }

    /// Row `k` of the matrix.
    pub fn row(&self, k: usize) -> &[f32] {
        let p = self.layout.len();
        &self.params[k * p..(k + 1) * p]
    }

    /// Writes the collection as one safetensors file (atomically).
    pub fn save(&self, path: &Path) -> Result<(), TrainError> {
        let k = self.len();
        let predictions = |name: &str, rows: &[Vec<u16>]| F32Tensor {
            name: name.into(),
            shape: vec![k, rows.first().map_or(0, Vec::len)],
            data: rows.iter().flatten().map(|&v| v as f32).collect(),
        };
        let mut tensors = vec![
            F32Tensor {
                name: "params".into(),
                shape: vec![k, self.layout.len()],
                data: self.params.clone(),
            },
            F32Tensor {
                name: "val_accuracy".into(),
                shape: vec![k],
                data: self.val_accuracy.iter().map(|&v| v as f32).collect(),
            },
            F32Tensor {
                name: "test_accuracy".into(),
                shape: vec![k],
                data: self.test_accuracy.iter().map(|&v| v as f32).collect(),
            },
            predictions("test_predictions", &self.test_predictions),
        ];
        if !self.val_predictions.is_empty() {
            tensors.push(predictions("val_predictions", &self.val_predictions));
        }
        let metadata = HashMap::from([
            ("format".to_string(), "pdiff-zoo collection v1".to_string()),
            ("arch".to_string(), self.arch.clone()),
            ("layout".to_string(), serde_json::to_string(&self.layout).expect("layout")),
            ("info".to_string(), self.info.to_string()),
        ]);
        zoo_io::write_safetensors(path, &tensors, Some(metadata)).map_err(crate::store::io)
    }

    /// Reads a collection written by [`Collection::save`].
    pub fn load(path: &Path) -> Result<Self, TrainError> {
        let (tensors, metadata) = zoo_io::read_safetensors(path).map_err(crate::store::io)?;
        let bad = |reason: String| TrainError::BadFile { path: path.to_path_buf(), reason };
        let meta = |key: &str| {
            metadata.get(key).cloned().ok_or_else(|| bad(format!("metadata `{key}` is missing")))
        };
        if meta("format")? != "pdiff-zoo collection v1" {
            return Err(bad("not a pdiff-zoo collection (metadata `format`)".into()));
        }
        let layout: ParamLayout = serde_json::from_str(&meta("layout")?)
            .map_err(|e| bad(format!("metadata `layout`: {e}")))?;
        let info = serde_json::from_str(&meta("info")?)
            .map_err(|e| bad(format!("metadata `info`: {e}")))?;
        let get = |name: &str| {
            tensors
                .iter()
                .find(|t| t.name == name)
                .ok_or_else(|| bad(format!("tensor `{name}` is missing")))
        };
        let params = get("params")?;
        if params.shape.len() != 2 || params.shape[1] != layout.len() {
            return Err(bad(format!(
                "tensor `params` has shape {:?}, expected [K, {}]",
                params.shape,
                layout.len()
            )));
        }
        let k = params.shape[0];
        if k < 2 {
            return Err(bad(format!(
                "tensor `params` holds {k} checkpoint(s); a collection needs at least 2"
            )));
        }
        let floats = |name: &str| -> Result<Vec<f64>, TrainError> {
            let t = get(name)?;
            if t.data.len() != k {
                return Err(bad(format!(
                    "tensor `{name}` has {} values, expected {k}",
                    t.data.len()
                )));
            }
            Ok(t.data.iter().map(|&v| v as f64).collect())
        };
        let rows = |t: &F32Tensor| -> Result<Vec<Vec<u16>>, TrainError> {
            let n = t.shape.get(1).copied().unwrap_or(0);
            if t.shape.len() != 2 || t.shape[0] != k {
                return Err(bad(format!(
                    "tensor `{}` has shape {:?}, expected [{k}, samples]",
                    t.name, t.shape
                )));
            }
            Ok(t.data.chunks(n.max(1)).map(|r| r.iter().map(|&v| v as u16).collect()).collect())
        };
        let val_predictions = match tensors.iter().find(|t| t.name == "val_predictions") {
            Some(t) => rows(t)?,
            None => Vec::new(),
        };
        Ok(Self {
            arch: meta("arch")?,
            layout,
            params: params.data.clone(),
            val_accuracy: floats("val_accuracy")?,
            test_accuracy: floats("test_accuracy")?,
            val_predictions,
            test_predictions: rows(get("test_predictions")?)?,
            info,
        })
    }
}

/// Prefix caches of the three splits for one model and selection.
pub struct SplitCaches {
    /// Training split.
    pub train: PrefixCache,
    /// Validation split.
    pub val: PrefixCache,
    /// Test split.
    pub test: PrefixCache,
}

impl SplitCaches {
    /// Pushes every split through the frozen prefix of `model` (a validation copy).
    pub fn new(model: &Model, data: &Dataset, cut: usize, device: &Device) -> Self {
        let cache = |split| PrefixCache::new(model, &Tensors::new(split, &data.info), cut, device);
        Self { train: cache(&data.train), val: cache(&data.val), test: cache(&data.test) }
    }
}

/// Collects `config.checkpoints` snapshots of the selected parameters of `model` (a
/// validation copy of a trained network). Deterministic for a seed on CPU.
pub fn collect(
    arch: &str,
    model: &Model,
    data: &Dataset,
    config: &CollectConfig,
    seed: u64,
    device: &Device,
    bar: &ProgressBar,
) -> Result<Collection, TrainError> {
    config.validate()?;
    let started = Instant::now();
    let layout = config.selection.resolve(arch, model)?;
    let cut = cut_for(model, &layout, arch)?;
    let caches = SplitCaches::new(model, data, cut, device);
    let end = model.segments().len();

    let autodiff = device.clone().autodiff();
    let mut tail = set_trainable(model.clone().fork(&autodiff).train().freeze(), &layout.names());
    let mut optim = config.optimizer.init();
    let lr = config.optimizer.lr();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut order: Vec<usize> = (0..caches.train.len()).collect();
    order.shuffle(&mut rng);
    let mut cursor = 0;

    let total = config.warmup + config.checkpoints * config.interval;
    bar.set_length(total as u64);
    let mut collection = Collection {
        arch: arch.to_string(),
        layout: layout.clone(),
        params: Vec::with_capacity(config.checkpoints * layout.len()),
        val_accuracy: Vec::new(),
        test_accuracy: Vec::new(),
        val_predictions: Vec::new(),
        test_predictions: Vec::new(),
        info: serde_json::Value::Null,
    };
    for step in 1..=total {
        if cursor + config.batch_size > order.len() {
            order.shuffle(&mut rng);
            cursor = 0;
        }
        let batch = &order[cursor..cursor + config.batch_size.min(order.len())];
        cursor += batch.len();
        let x = caches.train.rows(batch, &autodiff);
        let labels: Vec<i64> = batch.iter().map(|&i| caches.train.labels[i] as i64).collect();
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch.len()]), &autodiff);
        let logits = tail.forward_range(x, cut..end).flat();
        let loss = cross_entropy(logits, labels);
        let grads = GradientsParams::from_grads(loss.backward(), &tail);
        tail = optim.step(config.cycle.lr(lr, step, config.warmup, config.interval), tail, grads);
        bar.set_position(step as u64);
        if step > config.warmup && (step - config.warmup).is_multiple_of(config.interval) {
            let snapshot = tail.valid();
            let val = caches.val.evaluate(&snapshot);
            let test = caches.test.evaluate(&snapshot);
            collection.params.extend(layout.flatten(&snapshot));
            collection.val_accuracy.push(val.accuracy);
            collection.test_accuracy.push(test.accuracy);
            collection.val_predictions.push(val.predictions);
            collection.test_predictions.push(test.predictions);
            bar.set_message(format!(
                "checkpoint {}/{} val {:.2}% test {:.2}%",
                collection.len(),
                config.checkpoints,
                val.accuracy,
                test.accuracy
            ));
        }
    }
    collection.info = serde_json::json!({
        "config": config,
        "seed": seed,
        "cut_segment": model.segments()[cut].name,
        "seconds": started.elapsed().as_secs_f64(),
    });
    Ok(collection)
}

#[cfg(test)]
mod tests {
    use super::CollectCycle;

    #[test]
    fn cosine_cycle_falls_to_the_floor_at_each_checkpoint_and_restarts() {
        let cycle = CollectCycle::Cosine { floor: 0.1 };
        let (warmup, interval) = (5, 4);
        assert_eq!(cycle.lr(2.0, 3, warmup, interval), 2.0, "warm-up runs at the peak");
        let first: Vec<f64> = (6..=9).map(|s| cycle.lr(2.0, s, warmup, interval)).collect();
        // position k/4 of a half cosine from 2.0 to 0.2
        let expected = [
            0.2 + 1.8 * 0.5 * (1.0 + (std::f64::consts::PI / 4.0).cos()),
            0.2 + 1.8 * 0.5,
            0.2 + 1.8 * 0.5 * (1.0 + (3.0 * std::f64::consts::PI / 4.0).cos()),
            0.2,
        ];
        for (got, want) in first.iter().zip(expected) {
            assert!((got - want).abs() < 1e-12, "{first:?} vs {expected:?}");
        }
        assert!(first.windows(2).all(|w| w[1] < w[0]), "falls within a cycle: {first:?}");
        let second: Vec<f64> = (10..=13).map(|s| cycle.lr(2.0, s, warmup, interval)).collect();
        assert_eq!(first, second, "every cycle is the same");
        assert_eq!(CollectCycle::Constant.lr(2.0, 7, warmup, interval), 2.0);
    }
}
