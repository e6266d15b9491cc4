//! Owned tensors (`f32` or `i64`, row-major) and their `TensorProto` encoding
//! (<https://onnx.ai/onnx/api/classes.html#tensorproto>).

use onnx_protobuf::TensorProto;
use onnx_protobuf::tensor_proto::DataType;

use crate::error::{OnnxError, Result};

/// Element type of a tensor or graph value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ElemType {
    /// 32-bit float (`TensorProto.FLOAT`).
    F32,
    /// 64-bit signed integer (`TensorProto.INT64`): shapes, axes, indices.
    I64,
}

impl ElemType {
    /// The `TensorProto.DataType` code.
    pub fn onnx_code(self) -> i32 {
        match self {
            ElemType::F32 => DataType::FLOAT as i32,
            ElemType::I64 => DataType::INT64 as i32,
        }
    }

    /// The element type of a `TensorProto.DataType` code, if supported.
    pub fn from_onnx_code(code: i32) -> Option<Self> {
        match code {
            c if c == DataType::FLOAT as i32 => Some(ElemType::F32),
            c if c == DataType::INT64 as i32 => Some(ElemType::I64),
            _ => None,
        }
    }
}

/// The values of a [`TensorData`].
#[derive(Clone, Debug, PartialEq)]
pub enum Values {
    /// `f32` values.
    F32(Vec<f32>),
    /// `i64` values.
    I64(Vec<i64>),
}

/// A dense row-major tensor with its shape: initializer data, model inputs and outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorData {
    dims: Vec<usize>,
    values: Values,
}

fn check_len(dims: &[usize], got: usize) -> Result<()> {
    let expected = dims.iter().product::<usize>();
    if expected == got {
        Ok(())
    } else {
        Err(OnnxError::DataLength { dims: dims.to_vec(), expected, got })
    }
}

impl TensorData {
    /// An `f32` tensor; `data` (a slice or a `Vec`) must fill `dims` exactly.
    pub fn f32(dims: impl Into<Vec<usize>>, data: impl Into<Vec<f32>>) -> Result<Self> {
        let (dims, data) = (dims.into(), data.into());
        check_len(&dims, data.len())?;
        Ok(TensorData { dims, values: Values::F32(data) })
    }

    /// An `i64` tensor; `data` must fill `dims` exactly.
    pub fn i64(dims: impl Into<Vec<usize>>, data: impl Into<Vec<i64>>) -> Result<Self> {
        let (dims, data) = (dims.into(), data.into());
        check_len(&dims, data.len())?;
        Ok(TensorData { dims, values: Values::I64(data) })
    }

    /// A rank-0 `f32` tensor.
    pub fn scalar_f32(value: f32) -> Self {
        TensorData { dims: Vec::new(), values: Values::F32(vec![value]) }
    }

    /// A rank-0 `i64` tensor.
    pub fn scalar_i64(value: i64) -> Self {
        TensorData { dims: Vec::new(), values: Values::I64(vec![value]) }
    }

    /// A rank-1 `i64` tensor (shapes, axes, starts/ends).
    pub fn vec_i64(values: &[i64]) -> Self {
        TensorData { dims: vec![values.len()], values: Values::I64(values.to_vec()) }
    }

    /// The shape.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// The element type.
    pub fn elem_type(&self) -> ElemType {
        match self.values {
            Values::F32(_) => ElemType::F32,
            Values::I64(_) => ElemType::I64,
        }
    }

    /// The values.
    pub fn values(&self) -> &Values {
        &self.values
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        match &self.values {
            Values::F32(v) => v.len(),
            Values::I64(v) => v.len(),
        }
    }

    /// Whether the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `f32` values, or `None` for another element type.
    pub fn as_f32(&self) -> Option<&[f32]> {
        match &self.values {
            Values::F32(v) => Some(v),
            Values::I64(_) => None,
        }
    }

    /// The `i64` values, or `None` for another element type.
    pub fn as_i64(&self) -> Option<&[i64]> {
        match &self.values {
            Values::I64(v) => Some(v),
            Values::F32(_) => None,
        }
    }

    /// The `f32` values by value, or `None` for another element type.
    pub fn into_f32(self) -> Option<Vec<f32>> {
        match self.values {
            Values::F32(v) => Some(v),
            Values::I64(_) => None,
        }
    }

    /// Encodes as a `TensorProto` named `name`, values little-endian in `raw_data`.
    pub fn to_proto(&self, name: &str) -> TensorProto {
        let mut t = TensorProto::new();
        t.name = name.to_string();
        t.dims = self.dims.iter().map(|&d| d as i64).collect();
        t.data_type = self.elem_type().onnx_code();
        t.raw_data = match &self.values {
            Values::F32(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            Values::I64(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
        };
        t
    }

    /// Decodes a `TensorProto` holding `FLOAT` or `INT64` data in `raw_data` or in the typed
    /// fields. External data and other element types are refused; the message says why.
    pub fn from_proto(t: &TensorProto) -> std::result::Result<Self, String> {
        let label =
            if t.name.is_empty() { "tensor".to_string() } else { format!("tensor `{}`", t.name) };
        if !t.external_data.is_empty() {
            return Err(format!("{label} keeps its data in external files, which are not read"));
        }
        let dims = t
            .dims
            .iter()
            .map(|&d| usize::try_from(d).map_err(|_| format!("{label} has negative dimension {d}")))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let count: usize = dims.iter().product();
        let elem = ElemType::from_onnx_code(t.data_type).ok_or_else(|| {
            format!("{label} has data type {}; only FLOAT (1) and INT64 (7) are read", t.data_type)
        })?;
        let values = if !t.raw_data.is_empty() {
            let size = match elem {
                ElemType::F32 => 4,
                ElemType::I64 => 8,
            };
            if t.raw_data.len() != count * size {
                return Err(format!(
                    "{label} of shape {dims:?} needs {} bytes of raw data, has {}",
                    count * size,
                    t.raw_data.len()
                ));
            }
            match elem {
                ElemType::F32 => Values::F32(
                    t.raw_data
                        .chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                ),
                ElemType::I64 => Values::I64(
                    t.raw_data
                        .chunks_exact(8)
                        .map(|c| i64::from_le_bytes(c.try_into().expect("chunks of 8 bytes")))
                        .collect(),
                ),
            }
        } else {
            match elem {
                ElemType::F32 => Values::F32(t.float_data.clone()),
                ElemType::I64 => Values::I64(t.int64_data.clone()),
            }
        };
        let data = TensorData { dims, values };
        if data.len() != count {
            return Err(format!(
                "{label} of shape {:?} needs {count} values, has {}",
                data.dims,
                data.len()
            ));
        }
        Ok(data)
    }
}

/// A tensor with a name: a graph input or output, or an entry of a test-data set.
#[derive(Clone, Debug, PartialEq)]
pub struct NamedTensor {
    /// The value's name in the graph.
    pub name: String,
    /// The tensor.
    pub data: TensorData,
}
