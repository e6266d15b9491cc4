//! [`OrtModel`]: one ONNX Runtime session with its signature and metadata read up front,
//! inputs checked against the signature before anything runs.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use ort::session::{Session, SessionInputValue};
use ort::value::{DynValue, TensorElementType, TensorRef, ValueType};
use zoo_onnx::{ElemType, NamedTensor, TensorData, Values};

use crate::error::{Result, VerifyError};
use crate::runtime::runtime;

/// One dimension of a model input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SigDim {
    /// A fixed size.
    Fixed(usize),
    /// A dynamic size, with its symbol (`"batch"`) or `""` when unnamed.
    Dynamic(String),
}

impl fmt::Display for SigDim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SigDim::Fixed(n) => write!(f, "{n}"),
            SigDim::Dynamic(s) if s.is_empty() => f.write_str("?"),
            SigDim::Dynamic(s) => f.write_str(s),
        }
    }
}

/// Name, element type and shape of a model input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSignature {
    /// The value's name.
    pub name: String,
    /// Element type; `None` for a type this crate does not read (or not a tensor).
    pub elem_type: Option<ElemType>,
    /// Declared shape.
    pub dims: Vec<SigDim>,
}

impl TensorSignature {
    /// The declared shape as text, e.g. `[batch, 1, 28, 28]`.
    pub fn shape_text(&self) -> String {
        format!("[{}]", self.dims.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
    }

    /// Whether a tensor of shape `dims` fits: same rank, fixed sizes equal.
    pub fn accepts(&self, dims: &[usize]) -> bool {
        dims.len() == self.dims.len()
            && self.dims.iter().zip(dims).all(|(s, &d)| match s {
                SigDim::Fixed(n) => *n == d,
                SigDim::Dynamic(_) => true,
            })
    }

    fn from_ort(name: &str, ty: &ValueType) -> Self {
        let (elem_type, dims) = match ty {
            ValueType::Tensor { ty, shape, dimension_symbols } => {
                let elem = match ty {
                    TensorElementType::Float32 => Some(ElemType::F32),
                    TensorElementType::Int64 => Some(ElemType::I64),
                    _ => None,
                };
                let dims = shape
                    .iter()
                    .enumerate()
                    .map(|(i, &d)| match usize::try_from(d) {
                        Ok(n) => SigDim::Fixed(n),
                        Err(_) => {
                            SigDim::Dynamic(dimension_symbols.get(i).cloned().unwrap_or_default())
                        }
                    })
                    .collect();
                (elem, dims)
            }
            _ => (None, Vec::new()),
        };
        TensorSignature { name: name.to_string(), elem_type, dims }
    }
}

/// A loaded ONNX model ready to run in ONNX Runtime (CPU).
pub struct OrtModel {
    label: String,
    session: Session,
    inputs: Vec<TensorSignature>,
    outputs: Vec<TensorSignature>,
    metadata: BTreeMap<String, String>,
    producer: Option<String>,
    doc_string: Option<String>,
}

impl fmt::Debug for OrtModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrtModel")
            .field("label", &self.label)
            .field("inputs", &self.inputs)
            .field("outputs", &self.outputs)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl OrtModel {
    /// Loads a `.onnx` file. A missing, unreadable or corrupt file is an error naming it.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let fail = |reason: String| VerifyError::ModelLoad { model: label.clone(), reason };
        let meta = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
        if !meta.is_file() {
            return Err(fail("not a file".into()));
        }
        let rt = runtime()?;
        let session = Session::builder(&rt.env)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_file(path)
            .map_err(|e| fail(e.to_string()))?;
        Self::from_session(session, label)
    }

    /// Loads a serialized model held in memory; `label` names it in errors.
    pub fn from_bytes(bytes: &[u8], label: &str) -> Result<Self> {
        let fail = |reason: String| VerifyError::ModelLoad { model: label.to_string(), reason };
        let rt = runtime()?;
        let session = Session::builder(&rt.env)
            .map_err(|e| fail(e.to_string()))?
            .commit_from_memory(bytes)
            .map_err(|e| fail(e.to_string()))?;
        Self::from_session(session, label.to_string())
    }

    /// Loads a model built by `zoo-onnx` without writing it to disk.
    pub fn from_model(model: &zoo_onnx::Model, label: &str) -> Result<Self> {
        Self::from_bytes(&model.to_bytes()?, label)
    }

    fn from_session(session: Session, label: String) -> Result<Self> {
        let fail = |reason: String| VerifyError::ModelLoad { model: label.clone(), reason };
        let inputs = session
            .inputs()
            .iter()
            .map(|o| TensorSignature::from_ort(o.name(), o.dtype()))
            .collect();
        let outputs = session
            .outputs()
            .iter()
            .map(|o| TensorSignature::from_ort(o.name(), o.dtype()))
            .collect();
        let meta = session.metadata().map_err(|e| fail(format!("metadata: {e}")))?;
        let keys = meta.custom_keys().map_err(|e| fail(format!("metadata: {e}")))?;
        let metadata = keys.into_iter().filter_map(|k| meta.custom(&k).map(|v| (k, v))).collect();
        let producer = meta.producer().filter(|s| !s.is_empty());
        let doc_string = meta.description().filter(|s| !s.is_empty());
        drop(meta);
        Ok(OrtModel { label, session, inputs, outputs, metadata, producer, doc_string })
    }

    /// The file path or label given at load time.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Input signature, in the model's order.
    pub fn inputs(&self) -> &[TensorSignature] {
        &self.inputs
    }

    /// Output signature, in the model's order.
    pub fn outputs(&self) -> &[TensorSignature] {
        &self.outputs
    }

    /// `metadata_props`.
    pub fn metadata(&self) -> &BTreeMap<String, String> {
        &self.metadata
    }

    /// `producer_name`, if set.
    pub fn producer(&self) -> Option<&str> {
        self.producer.as_deref()
    }

    /// The model's `doc_string`, if set.
    pub fn doc_string(&self) -> Option<&str> {
        self.doc_string.as_deref()
    }

    fn input_error(&self, reason: String) -> VerifyError {
        VerifyError::Input { model: self.label.clone(), reason }
    }

    /// Runs a single-input model on an NCHW `f32` batch and returns its first output
    /// (logits), row-major. The shape is checked against the signature first.
    pub fn run(&mut self, input: &[f32], shape: [usize; 4]) -> Result<Vec<f32>> {
        let name = self.outputs.first().map(|o| o.name.clone()).unwrap_or_default();
        self.run_output(input, shape, &name)
    }

    /// Like [`OrtModel::run`] but returns the output called `output` (ensembles emit several).
    pub fn run_output(
        &mut self,
        input: &[f32],
        shape: [usize; 4],
        output: &str,
    ) -> Result<Vec<f32>> {
        if !self.outputs.iter().any(|o| o.name == output) {
            return Err(VerifyError::UnknownOutput {
                model: self.label.clone(),
                name: output.to_string(),
                available: self
                    .outputs
                    .iter()
                    .map(|o| o.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let data =
            TensorData::f32(shape, input).map_err(|e| self.input_error(format!("input: {e}")))?;
        let outputs = self.run_tensors(&[&data])?;
        let out = outputs.into_iter().find(|o| o.name == output).expect("checked above");
        out.data.into_f32().ok_or_else(|| self.input_error(format!("output `{output}` is not f32")))
    }

    /// Runs the model on `inputs` (in signature order; `f32` or `i64`) and returns every
    /// output by name, in signature order. Count, element types and shapes are checked first.
    pub fn run_tensors(&mut self, inputs: &[&TensorData]) -> Result<Vec<NamedTensor>> {
        if inputs.len() != self.inputs.len() {
            let names: Vec<_> = self.inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(self.input_error(format!(
                "expects {} input(s) ({}), got {}",
                names.len(),
                names.join(", "),
                inputs.len()
            )));
        }
        for (sig, data) in self.inputs.iter().zip(inputs) {
            if sig.elem_type != Some(data.elem_type()) {
                return Err(self.input_error(format!(
                    "input `{}` has element type {:?}, got {:?}",
                    sig.name,
                    sig.elem_type,
                    data.elem_type()
                )));
            }
            if !sig.accepts(data.dims()) {
                return Err(self.input_error(format!(
                    "input `{}` expects shape {}, got {:?}",
                    sig.name,
                    sig.shape_text(),
                    data.dims()
                )));
            }
        }
        let run_err = |reason: String| VerifyError::Run { model: self.label.clone(), reason };
        let values = inputs
            .iter()
            .map(|data| -> ort::Result<SessionInputValue<'_>> {
                let dims = data.dims().to_vec();
                Ok(match data.values() {
                    Values::F32(v) => TensorRef::from_array_view((dims, v.as_slice()))?.into(),
                    Values::I64(v) => TensorRef::from_array_view((dims, v.as_slice()))?.into(),
                })
            })
            .collect::<ort::Result<Vec<_>>>()
            .map_err(|e| run_err(e.to_string()))?;
        let outputs = self.session.run(values.as_slice()).map_err(|e| run_err(e.to_string()))?;
        outputs
            .iter()
            .map(|(name, value)| {
                let data = extract(&value)
                    .map_err(|reason| run_err(format!("output `{name}`: {reason}")))?;
                Ok(NamedTensor { name: name.to_string(), data })
            })
            .collect()
    }
}

fn extract(value: &DynValue) -> std::result::Result<TensorData, String> {
    let dims_of = |shape: &[i64]| shape.iter().map(|&d| d as usize).collect::<Vec<_>>();
    match value.dtype() {
        ValueType::Tensor { ty: TensorElementType::Float32, .. } => {
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(|e| e.to_string())?;
            TensorData::f32(dims_of(shape), data).map_err(|e| e.to_string())
        }
        ValueType::Tensor { ty: TensorElementType::Int64, .. } => {
            let (shape, data) = value.try_extract_tensor::<i64>().map_err(|e| e.to_string())?;
            TensorData::i64(dims_of(shape), data).map_err(|e| e.to_string())
        }
        other => Err(format!("unsupported output type {other:?}")),
    }
}
