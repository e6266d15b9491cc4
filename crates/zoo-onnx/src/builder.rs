//! [`GraphBuilder`]: write an ONNX graph the way a forward pass reads.
//!
//! Names: graph inputs, graph outputs and initializers keep the names the caller gives
//! (dotted parameter names such as `layer4.1.bn2.weight`). Every node gets the name
//! `{scope}/{OpType}` and writes `{scope}/out`, where `scope` is the module path the
//! caller passes (`layer4.1.bn2/BatchNormalization` → `layer4.1.bn2/out`); multi-node
//! emitters label their intermediate values (`ln/mean`, `ln/var`…). Repeated names get a
//! `_1`, `_2`… suffix, so every name is unique and readable.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use onnx_protobuf::tensor_shape_proto::{Dimension, dimension};
use onnx_protobuf::type_proto::{self, Tensor as TypeTensor};
use onnx_protobuf::{
    AttributeProto, GraphProto, Message, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto, ValueInfoProto,
    attribute_proto::AttributeType,
};

use crate::error::{OnnxError, Result, invalid};
use crate::tensor::{ElemType, TensorData};

/// Opset written when none is chosen: LayerNormalization needs ≥ 17.
pub const DEFAULT_OPSET: u32 = 17;
/// Lowest opset the emitters support (Softmax/ReduceMean/Unsqueeze semantics of opset 13).
pub const MIN_OPSET: u32 = 13;
/// Highest opset the emitters support.
pub const MAX_OPSET: u32 = 21;
/// `producer_name` of every model.
pub const PRODUCER_NAME: &str = "pdiff-zoo";
/// The `dim_param` of the dynamic batch dimension.
pub const BATCH_DIM: &str = "batch";

/// The IR version written for `opset`: the one the ONNX release that introduced the opset
/// wrote (`onnx.helper.VERSION_TABLE`): 8 up to opset 18, 9 for 19–20, 10 for 21.
pub fn ir_version_for(opset: u32) -> i64 {
    match opset {
        ..=18 => 8,
        19..=20 => 9,
        _ => 10,
    }
}

/// One dimension of a graph input or output.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Dim {
    /// The dynamic batch dimension (`dim_param = "batch"`).
    Batch,
    /// A fixed size.
    Fixed(usize),
}

impl From<usize> for Dim {
    fn from(size: usize) -> Self {
        Dim::Fixed(size)
    }
}

/// Dimensions for [`GraphBuilder::input`] and [`GraphBuilder::output`]: `dims![batch, 3, 32, 32]`
/// is `[Dim::Batch, Dim::Fixed(3), Dim::Fixed(32), Dim::Fixed(32)]`; `dims![4, 10]` is all fixed.
#[macro_export]
macro_rules! dims {
    (batch $(, $d:expr)* $(,)?) => { [$crate::Dim::Batch $(, $crate::Dim::Fixed($d))*] };
    ($($d:expr),* $(,)?) => { [$($crate::Dim::Fixed($d)),*] };
}

/// A handle to a value of the graph under construction (a graph input, an initializer or a
/// node output). Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Value {
    name: String,
    elem: ElemType,
}

impl Value {
    /// The value's name in the graph (before graph-output renaming).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its element type.
    pub fn elem_type(&self) -> ElemType {
        self.elem
    }
}

/// A node attribute value, for [`GraphBuilder::node`].
#[derive(Clone, Debug, PartialEq)]
pub enum Attr {
    /// `INT`.
    Int(i64),
    /// `INTS`.
    Ints(Vec<i64>),
    /// `FLOAT`.
    Float(f32),
    /// `FLOATS`.
    Floats(Vec<f32>),
    /// `STRING`.
    String(String),
    /// `TENSOR`.
    Tensor(TensorData),
}

pub(crate) fn attr(name: &str, value: Attr) -> AttributeProto {
    let mut a = AttributeProto::new();
    a.name = name.to_string();
    let ty = match value {
        Attr::Int(i) => {
            a.i = i;
            AttributeType::INT
        }
        Attr::Ints(v) => {
            a.ints = v;
            AttributeType::INTS
        }
        Attr::Float(f) => {
            a.f = f;
            AttributeType::FLOAT
        }
        Attr::Floats(v) => {
            a.floats = v;
            AttributeType::FLOATS
        }
        Attr::String(s) => {
            a.s = s.into_bytes();
            AttributeType::STRING
        }
        Attr::Tensor(t) => {
            a.t = protobuf::MessageField::some(t.to_proto(""));
            AttributeType::TENSOR
        }
    };
    a.type_ = ty.into();
    a
}

pub(crate) fn attr_int(name: &str, v: i64) -> AttributeProto {
    attr(name, Attr::Int(v))
}

pub(crate) fn attr_ints(name: &str, v: impl IntoIterator<Item = i64>) -> AttributeProto {
    attr(name, Attr::Ints(v.into_iter().collect()))
}

pub(crate) fn attr_float(name: &str, v: f32) -> AttributeProto {
    attr(name, Attr::Float(v))
}

fn value_info(name: &str, elem: ElemType, dims: &[Dim]) -> ValueInfoProto {
    let mut shape = TensorShapeProto::new();
    shape.dim = dims
        .iter()
        .map(|d| {
            let mut dim = Dimension::new();
            dim.value = Some(match d {
                Dim::Batch => dimension::Value::DimParam(BATCH_DIM.to_string()),
                Dim::Fixed(n) => dimension::Value::DimValue(*n as i64),
            });
            dim
        })
        .collect();
    let mut tensor = TypeTensor::new();
    tensor.elem_type = elem.onnx_code();
    tensor.shape = protobuf::MessageField::some(shape);
    let mut ty = TypeProto::new();
    ty.value = Some(type_proto::Value::TensorType(tensor));
    let mut vi = ValueInfoProto::new();
    vi.name = name.to_string();
    vi.type_ = protobuf::MessageField::some(ty);
    vi
}

fn fresh(taken: &mut HashSet<String>, base: String) -> String {
    if taken.insert(base.clone()) {
        return base;
    }
    (1..)
        .map(|i| format!("{base}_{i}"))
        .find(|candidate| taken.insert(candidate.clone()))
        .expect("an unused suffix exists")
}

/// Builds one ONNX model: inputs, initializers, nodes in forward order, outputs, metadata.
#[derive(Debug)]
pub struct GraphBuilder {
    graph_name: String,
    opset: u32,
    producer_version: String,
    doc_string: String,
    metadata: Vec<(String, String)>,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    /// Every value name defined or reserved (inputs, initializers, node outputs, output names).
    values: HashSet<String>,
    node_names: HashSet<String>,
    /// Graph inputs and initializers: values no node produces.
    sources: HashSet<String>,
    /// Node output → graph output name, applied in [`GraphBuilder::build`].
    renames: HashMap<String, String>,
}

impl GraphBuilder {
    /// A builder for graph `graph_name` at [`DEFAULT_OPSET`].
    pub fn new(graph_name: &str) -> Self {
        GraphBuilder {
            graph_name: graph_name.to_string(),
            opset: DEFAULT_OPSET,
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            doc_string: String::new(),
            metadata: Vec::new(),
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            values: HashSet::new(),
            node_names: HashSet::new(),
            sources: HashSet::new(),
            renames: HashMap::new(),
        }
    }

    /// A builder for graph `graph_name` emitting opset `opset` ([`MIN_OPSET`]..=[`MAX_OPSET`]).
    pub fn with_opset(graph_name: &str, opset: u32) -> Result<Self> {
        if !(MIN_OPSET..=MAX_OPSET).contains(&opset) {
            return Err(OnnxError::UnsupportedOpset { opset, min: MIN_OPSET, max: MAX_OPSET });
        }
        Ok(GraphBuilder { opset, ..GraphBuilder::new(graph_name) })
    }

    /// The opset the emitters target.
    pub fn opset(&self) -> u32 {
        self.opset
    }

    /// Sets the model's `doc_string`.
    pub fn set_doc_string(&mut self, doc: impl Into<String>) {
        self.doc_string = doc.into();
    }

    /// Sets `producer_version` (default: this crate's version).
    pub fn set_producer_version(&mut self, version: impl Into<String>) {
        self.producer_version = version.into();
    }

    /// Sets one `metadata_props` entry; a key set twice keeps the last value, in first-set order.
    pub fn set_metadata(&mut self, key: impl Into<String>, value: impl Into<String>) {
        let (key, value) = (key.into(), value.into());
        match self.metadata.iter_mut().find(|(k, _)| *k == key) {
            Some(entry) => entry.1 = value,
            None => self.metadata.push((key, value)),
        }
    }

    fn reserve(&mut self, name: &str) -> Result<()> {
        if self.values.insert(name.to_string()) {
            Ok(())
        } else {
            Err(OnnxError::DuplicateName { name: name.to_string() })
        }
    }

    /// Declares an `f32` graph input.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> Result<Value> {
        self.input_typed(name, ElemType::F32, dims)
    }

    /// Declares a graph input of element type `elem`.
    pub fn input_typed(&mut self, name: &str, elem: ElemType, dims: &[Dim]) -> Result<Value> {
        self.reserve(name)?;
        self.sources.insert(name.to_string());
        self.inputs.push(value_info(name, elem, dims));
        Ok(Value { name: name.to_string(), elem })
    }

    /// Adds an initializer under `name`, kept verbatim (a parameter name such as
    /// `layer1.0.conv1.weight`). A name used twice is an error.
    pub fn initializer(&mut self, name: &str, data: TensorData) -> Result<Value> {
        self.reserve(name)?;
        self.sources.insert(name.to_string());
        self.initializers.push(data.to_proto(name));
        Ok(Value { name: name.to_string(), elem: data.elem_type() })
    }

    /// Adds a constant the graph needs but that is no model parameter (a reshape target, axes,
    /// an epsilon) as an initializer named `{scope}/{label}`, made unique.
    pub fn constant(&mut self, scope: &str, label: &str, data: TensorData) -> Result<Value> {
        let name = fresh(&mut self.values, format!("{scope}/{label}"));
        self.sources.insert(name.clone());
        self.initializers.push(data.to_proto(&name));
        Ok(Value { name, elem: data.elem_type() })
    }

    pub(crate) fn const_i64(&mut self, scope: &str, label: &str, values: &[i64]) -> Result<Value> {
        self.constant(scope, label, TensorData::vec_i64(values))
    }

    pub(crate) fn const_scalar(&mut self, scope: &str, label: &str, value: f32) -> Result<Value> {
        self.constant(scope, label, TensorData::scalar_f32(value))
    }

    fn check_defined(&self, scope: &str, op_type: &str, inputs: &[&Value]) -> Result<()> {
        match inputs.iter().find(|v| !self.values.contains(&v.name)) {
            Some(v) => Err(OnnxError::UndefinedValue {
                node: format!("{scope}/{op_type}"),
                value: v.name.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Emits one node `{scope}/{op_type}` whose single output is labelled `{scope}/{label}`.
    pub(crate) fn emit(
        &mut self,
        scope: &str,
        op_type: &str,
        inputs: &[&Value],
        attributes: Vec<AttributeProto>,
        label: &str,
        elem: ElemType,
    ) -> Result<Value> {
        self.check_defined(scope, op_type, inputs)?;
        let output = fresh(&mut self.values, format!("{scope}/{label}"));
        self.push_node(
            scope,
            op_type,
            inputs.iter().map(|v| v.name.clone()).collect(),
            vec![output.clone()],
            attributes,
        );
        Ok(Value { name: output, elem })
    }

    fn push_node(
        &mut self,
        scope: &str,
        op_type: &str,
        inputs: Vec<String>,
        outputs: Vec<String>,
        attributes: Vec<AttributeProto>,
    ) {
        let mut node = NodeProto::new();
        node.name = fresh(&mut self.node_names, format!("{scope}/{op_type}"));
        node.op_type = op_type.to_string();
        node.input = inputs;
        node.output = outputs;
        node.attribute = attributes;
        self.nodes.push(node);
    }

    /// Emits any operator of the default domain: node `{scope}/{op_type}`, output `{scope}/out`
    /// of element type `elem`. For operators without a dedicated emitter; the caller is
    /// responsible for the operator's opset semantics.
    pub fn node(
        &mut self,
        scope: &str,
        op_type: &str,
        inputs: &[&Value],
        attributes: Vec<(&str, Attr)>,
        elem: ElemType,
    ) -> Result<Value> {
        let attributes = attributes.into_iter().map(|(n, a)| attr(n, a)).collect();
        self.emit(scope, op_type, inputs, attributes, "out", elem)
    }

    /// Declares `value` a graph output called `name` with shape `dims`. A node output is
    /// renamed to `name` when the model is built (handles to it stay usable); a graph input
    /// or initializer, or a value already exported, is passed through an Identity node.
    pub fn output(&mut self, value: &Value, name: &str, dims: &[Dim]) -> Result<()> {
        self.check_defined(name, "output", &[value])?;
        let already = self.outputs.iter().any(|o| o.name == value.name)
            || self.renames.contains_key(&value.name);
        if value.name == name && !self.sources.contains(name) && !already {
            self.outputs.push(value_info(name, value.elem, dims));
            return Ok(());
        }
        self.reserve(name)?;
        if self.sources.contains(&value.name) || already {
            self.push_node(
                name,
                "Identity",
                vec![value.name.clone()],
                vec![name.to_string()],
                vec![],
            );
        } else {
            self.renames.insert(value.name.clone(), name.to_string());
        }
        self.outputs.push(value_info(name, value.elem, dims));
        Ok(())
    }

    /// Finishes the model: applies output renames, checks that every node reads only values
    /// defined before it and that there is at least one output.
    pub fn build(mut self) -> Result<Model> {
        if self.outputs.is_empty() {
            return Err(invalid(&self.graph_name, "the graph has no outputs"));
        }
        let rename = |n: &mut String, renames: &HashMap<String, String>| {
            if let Some(new) = renames.get(n.as_str()) {
                *n = new.clone();
            }
        };
        let mut defined: HashSet<String> = self.inputs.iter().map(|v| v.name.clone()).collect();
        defined.extend(self.initializers.iter().map(|t| t.name.clone()));
        for node in &mut self.nodes {
            for input in &mut node.input {
                rename(input, &self.renames);
                if !input.is_empty() && !defined.contains(input.as_str()) {
                    return Err(OnnxError::UndefinedValue {
                        node: node.name.clone(),
                        value: input.clone(),
                    });
                }
            }
            for output in &mut node.output {
                rename(output, &self.renames);
                defined.insert(output.clone());
            }
        }
        if let Some(o) = self.outputs.iter().find(|o| !defined.contains(&o.name)) {
            return Err(OnnxError::UndefinedValue {
                node: "graph output".into(),
                value: o.name.clone(),
            });
        }

        let mut graph = GraphProto::new();
        graph.name = self.graph_name;
        graph.node = self.nodes;
        graph.initializer = self.initializers;
        graph.input = self.inputs;
        graph.output = self.outputs;

        let mut opset = OperatorSetIdProto::new();
        opset.domain = String::new();
        opset.version = i64::from(self.opset);

        let mut model = ModelProto::new();
        model.ir_version = ir_version_for(self.opset);
        model.opset_import = vec![opset];
        model.producer_name = PRODUCER_NAME.to_string();
        model.producer_version = self.producer_version;
        model.doc_string = self.doc_string;
        model.graph = protobuf::MessageField::some(graph);
        model.metadata_props = self
            .metadata
            .into_iter()
            .map(|(key, value)| {
                let mut e = StringStringEntryProto::new();
                e.key = key;
                e.value = value;
                e
            })
            .collect();
        Ok(Model { proto: model })
    }
}

/// A finished ONNX model.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    proto: ModelProto,
}

impl Model {
    /// Wraps a `ModelProto` (for example one read from elsewhere).
    pub fn from_proto(proto: ModelProto) -> Self {
        Model { proto }
    }

    /// The protobuf message.
    pub fn proto(&self) -> &ModelProto {
        &self.proto
    }

    /// The protobuf message, by value.
    pub fn into_proto(self) -> ModelProto {
        self.proto
    }

    /// The serialized model (protobuf binary, the `.onnx` file content).
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        self.proto
            .write_to_bytes()
            .map_err(|e| OnnxError::Encode { what: "model".into(), reason: e.to_string() })
    }

    /// Parses a serialized model.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        Self::decode(bytes, Path::new("<memory>"))
    }

    fn decode(bytes: &[u8], path: &Path) -> Result<Self> {
        let proto = ModelProto::parse_from_bytes(bytes).map_err(|e| OnnxError::Decode {
            path: path.to_path_buf(),
            reason: format!("not an ONNX model: {e}"),
        })?;
        if proto.graph.is_none() {
            return Err(OnnxError::Decode {
                path: path.to_path_buf(),
                reason: "the model has no graph".into(),
            });
        }
        Ok(Model { proto })
    }

    /// Writes the model atomically (temporary file beside `path`, fsync, rename): a reader
    /// never sees a partial file, and on error none is left.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let bytes = self.to_bytes()?;
        zoo_io::atomic_write(path.as_ref(), &bytes)?;
        Ok(())
    }

    /// Reads a model file.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        Self::decode(&zoo_io::read(path)?, path)
    }

    /// The IR version.
    pub fn ir_version(&self) -> i64 {
        self.proto.ir_version
    }

    /// The opset imported for the default (`ai.onnx`) domain.
    pub fn opset(&self) -> Option<u32> {
        self.proto
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .and_then(|o| u32::try_from(o.version).ok())
    }

    /// `metadata_props` as (key, value) pairs, in file order.
    pub fn metadata(&self) -> Vec<(&str, &str)> {
        self.proto.metadata_props.iter().map(|e| (e.key.as_str(), e.value.as_str())).collect()
    }

    /// The graph.
    pub fn graph(&self) -> &GraphProto {
        &self.proto.graph
    }

    /// Initializer names, in file order.
    pub fn initializer_names(&self) -> Vec<&str> {
        self.graph().initializer.iter().map(|t| t.name.as_str()).collect()
    }

    /// Decodes initializer `name`; `None` if there is none of that name.
    pub fn initializer(&self, name: &str) -> Option<Result<TensorData>> {
        self.graph().initializer.iter().find(|t| t.name == name).map(|t| {
            TensorData::from_proto(t)
                .map_err(|reason| OnnxError::Decode { path: "<model>".into(), reason })
        })
    }
}
