//! Parameters by stable dotted name: read them out of a model, write them back in.
//!
//! Names follow PyTorch `state_dict` keys (torchvision / timm): burn's `gamma`/`beta` of norm
//! layers are called `weight`/`bias`, the `inner` LayerNorm of a `LayerNorm2d` is transparent,
//! and linear weights are stored `[out, in]` as in PyTorch (burn keeps `[in, out]`; the
//! transposition happens here and nowhere else). The same names are used in safetensors
//! files, parameter collections, splicing and ONNX initializers.

use std::collections::{BTreeMap, BTreeSet};

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether a named tensor is learned or a running statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TensorKind {
    /// A trainable parameter.
    Param,
    /// A buffer such as BatchNorm's running mean and variance.
    Buffer,
}

/// A tensor read out of a model, in PyTorch layout.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    /// Dotted name.
    pub name: String,
    /// Shape in PyTorch layout.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
    /// Parameter or buffer.
    pub kind: TensorKind,
}

/// Name and shape of one tensor of a model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// Dotted name.
    pub name: String,
    /// Shape in PyTorch layout.
    pub shape: Vec<usize>,
    /// Parameter or buffer.
    pub kind: TensorKind,
}

impl TensorInfo {
    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }
}

/// Tracks the dotted path, and the container types along it, while a visitor or mapper
/// walks a module tree.
#[derive(Default)]
struct PathTracker {
    /// One entry per open module: its name segment (`None`: not part of the dotted name)
    /// and its container type.
    stack: Vec<(Option<String>, String)>,
}

impl PathTracker {
    fn enter(&mut self, name: &str, container_type: &str) {
        let is_norm = matches!(container_type, "Struct:BatchNorm" | "Struct:LayerNorm");
        let segment = match (container_type, name) {
            (c, _) if c.starts_with("Enum:") => None,
            ("Struct:LayerNorm2d", "inner") => None,
            (_, "gamma") if is_norm => Some("weight".to_string()),
            (_, "beta") if is_norm => Some("bias".to_string()),
            _ => Some(name.to_string()),
        };
        self.stack.push((segment, container_type.to_string()));
    }

    fn exit(&mut self) {
        self.stack.pop();
    }

    fn name(&self) -> String {
        let segments: Vec<&str> = self.stack.iter().filter_map(|(s, _)| s.as_deref()).collect();
        segments.join(".")
    }

    /// Whether the rank-`rank` tensor `name` at the current position is a `Linear` weight,
    /// which burn stores transposed relative to PyTorch.
    fn is_linear_weight(&self, name: &str, rank: usize) -> bool {
        rank == 2
            && name.ends_with(".weight")
            && self.stack.last().is_some_and(|(_, c)| c == "Struct:Linear")
    }
}

fn kind_of(name: &str) -> TensorKind {
    if name.ends_with(".running_mean") || name.ends_with(".running_var") {
        TensorKind::Buffer
    } else {
        TensorKind::Param
    }
}

#[derive(Default)]
struct Collector {
    path: PathTracker,
    with_data: bool,
    out: Vec<NamedTensor>,
}

impl ModuleVisitor for Collector {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let name = self.path.name();
        let transpose = self.path.is_linear_weight(&name, D);
        let (shape, data) = if self.with_data {
            let mut tensor = param.val();
            if transpose {
                tensor = tensor.swap_dims(0, 1);
            }
            let shape = tensor.dims().to_vec();
            let data = tensor
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .expect("float tensor converts to f32");
            (shape, data)
        } else {
            // Lazy: reading the shape does not initialize the parameter.
            let mut shape = param.lazy_shape().dims::<D>().to_vec();
            if transpose {
                shape.swap(0, 1);
            }
            (shape, Vec::new())
        };
        let kind = kind_of(&name);
        self.out.push(NamedTensor { name, shape, data, kind });
    }
}

/// Every tensor of `module` (parameters and buffers), with values, in visiting order.
pub fn named_tensors<M: Module>(module: &M) -> Vec<NamedTensor> {
    let mut collector = Collector { with_data: true, ..Default::default() };
    module.visit(&mut collector);
    collector.out
}

/// Name, shape and kind of every tensor of `module`, without reading values.
pub fn tensor_infos<M: Module>(module: &M) -> Vec<TensorInfo> {
    let mut collector = Collector::default();
    module.visit(&mut collector);
    collector
        .out
        .into_iter()
        .map(|t| TensorInfo { name: t.name, shape: t.shape, kind: t.kind })
        .collect()
}

/// Number of trainable parameter values (buffers excluded, as PyTorch counts).
pub fn count_params<M: Module>(module: &M) -> usize {
    tensor_infos(module).iter().filter(|t| t.kind == TensorKind::Param).map(TensorInfo::numel).sum()
}

/// What writing tensors into a model did, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Names written.
    pub applied: Vec<String>,
    /// Model tensors that got no value (only reported when the load had to be complete).
    pub missing: Vec<String>,
    /// Given tensors the model does not have.
    pub unused: Vec<String>,
    /// Names present on both sides with different shapes: `(name, expected, given)`.
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
}

impl LoadReport {
    /// True when nothing was missing, unused or mismatched.
    pub fn is_clean(&self) -> bool {
        self.missing.is_empty() && self.unused.is_empty() && self.mismatched.is_empty()
    }

    /// A one-paragraph human summary.
    pub fn summary(&self) -> String {
        let mut text = format!("{} applied", self.applied.len());
        let list = |names: Vec<String>| {
            let shown: Vec<_> = names.iter().take(5).cloned().collect();
            let more = names.len().saturating_sub(5);
            let tail = if more > 0 { format!(", … {more} more") } else { String::new() };
            format!("{}{tail}", shown.join(", "))
        };
        if !self.missing.is_empty() {
            text += &format!("; {} missing ({})", self.missing.len(), list(self.missing.clone()));
        }
        if !self.unused.is_empty() {
            text += &format!("; {} unused ({})", self.unused.len(), list(self.unused.clone()));
        }
        if !self.mismatched.is_empty() {
            let shown = self
                .mismatched
                .iter()
                .map(|(n, e, g)| format!("{n}: expected {e:?}, got {g:?}"))
                .collect();
            text += &format!("; {} shape mismatches ({})", self.mismatched.len(), list(shown));
        }
        text
    }
}

struct Writer<'a> {
    path: PathTracker,
    values: &'a BTreeMap<String, NamedTensor>,
    report: LoadReport,
}

impl ModuleMapper for Writer<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let name = self.path.name();
        let Some(given) = self.values.get(&name) else {
            self.report.missing.push(name);
            return param;
        };
        let transpose = self.path.is_linear_weight(&name, D);
        let mut expected = param.lazy_shape().dims::<D>().to_vec();
        if transpose {
            expected.swap(0, 1);
        }
        if expected != given.shape || given.data.len() != expected.iter().product::<usize>() {
            self.report.mismatched.push((name, expected, given.shape.clone()));
            return param;
        }
        self.report.applied.push(name);
        // Replace without drawing the lazy initial value (burn's process-wide RNG is shared
        // with other threads; see `ArchSpec::init_seeded`).
        let data = TensorData::new(given.data.clone(), given.shape.clone());
        let tensor = Tensor::<D>::from_data(data, &param.lazy_device());
        let tensor = if transpose { tensor.swap_dims(0, 1) } else { tensor };
        let id = param.id;
        param.transform_for_load(tensor, id)
    }
}

/// Writes `tensors` into `module` by name. Tensors of the module not given are left as they
/// are and listed as `missing`; given names the module lacks are `unused`; shape conflicts
/// are `mismatched` and not written.
pub fn write_tensors<M: Module>(module: M, tensors: &[NamedTensor]) -> (M, LoadReport) {
    let values: BTreeMap<String, NamedTensor> =
        tensors.iter().map(|t| (t.name.clone(), t.clone())).collect();
    let mut writer =
        Writer { path: PathTracker::default(), values: &values, report: LoadReport::default() };
    let module = module.map(&mut writer);
    let mut report = writer.report;
    let seen: BTreeSet<&String> = report
        .applied
        .iter()
        .chain(&report.missing)
        .chain(report.mismatched.iter().map(|(n, _, _)| n))
        .collect();
    report.unused = values.keys().filter(|name| !seen.contains(name)).cloned().collect();
    (module, report)
}

struct Trainable<'a> {
    path: PathTracker,
    names: &'a BTreeSet<String>,
}

impl ModuleMapper for Trainable<'_> {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.path.enter(name, container_type);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.exit();
    }

    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let trainable = self.names.contains(&self.path.name());
        param.set_require_grad(trainable)
    }
}

/// Makes exactly the parameters named in `names` require gradients; every other tensor
/// stops requiring them. Training flags (BatchNorm statistics, dropout) are not touched:
/// call `freeze()` first to put every layer in inference behaviour.
pub fn set_trainable<M: Module>(module: M, names: &[String]) -> M {
    let names: BTreeSet<String> = names.iter().cloned().collect();
    module.map(&mut Trainable { path: PathTracker::default(), names: &names })
}
