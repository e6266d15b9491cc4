//! ONNX model-zoo test data: a folder `test_data_set_N/` beside `model.onnx` holding
//! `input_0.pb`, `input_1.pb`… and `output_0.pb`… — each one serialized `TensorProto`
//! (<https://github.com/onnx/models#usage---test-data-starter-code>), readable by any runtime
//! (`onnx.numpy_helper.to_array(onnx.load_tensor(path))` in Python).

use std::path::{Path, PathBuf};

use onnx_protobuf::{Message, TensorProto};

use crate::error::{OnnxError, Result};
use crate::tensor::{NamedTensor, TensorData};

/// The inputs and expected outputs of one test-data set, in index order.
#[derive(Clone, Debug, PartialEq)]
pub struct TestDataSet {
    /// `input_0.pb`, `input_1.pb`…
    pub inputs: Vec<NamedTensor>,
    /// `output_0.pb`, `output_1.pb`…
    pub outputs: Vec<NamedTensor>,
}

/// `model_dir/test_data_set_{index}`.
pub fn test_data_set_dir(model_dir: &Path, index: usize) -> PathBuf {
    model_dir.join(format!("test_data_set_{index}"))
}

/// Writes one `TensorProto` file atomically.
pub fn write_tensor_pb(path: &Path, name: &str, data: &TensorData) -> Result<()> {
    let bytes = data.to_proto(name).write_to_bytes().map_err(|e| OnnxError::Encode {
        what: path.display().to_string(),
        reason: e.to_string(),
    })?;
    zoo_io::atomic_write(path, &bytes)?;
    Ok(())
}

/// Reads one `TensorProto` file (`FLOAT` or `INT64`).
pub fn read_tensor_pb(path: &Path) -> Result<NamedTensor> {
    let bytes = zoo_io::read(path)?;
    let decode = |reason: String| OnnxError::Decode { path: path.to_path_buf(), reason };
    let proto = TensorProto::parse_from_bytes(&bytes)
        .map_err(|e| decode(format!("not a TensorProto: {e}")))?;
    let data = TensorData::from_proto(&proto).map_err(decode)?;
    Ok(NamedTensor { name: proto.name, data })
}

/// Writes `dir/input_{i}.pb` and `dir/output_{i}.pb` (dir is a `test_data_set_N` folder,
/// created if needed). Names are the graph's input and output names.
pub fn write_test_data_set(
    dir: &Path,
    inputs: &[(&str, &TensorData)],
    outputs: &[(&str, &TensorData)],
) -> Result<()> {
    for (kind, tensors) in [("input", inputs), ("output", outputs)] {
        for (i, (name, data)) in tensors.iter().enumerate() {
            write_tensor_pb(&dir.join(format!("{kind}_{i}.pb")), name, data)?;
        }
    }
    Ok(())
}

/// Reads a `test_data_set_N` folder: `input_0.pb`… and `output_0.pb`… up to the first
/// missing index. A folder without `input_0.pb` is an error.
pub fn read_test_data_set(dir: &Path) -> Result<TestDataSet> {
    let read_all = |kind: &str| -> Result<Vec<NamedTensor>> {
        let mut tensors = Vec::new();
        loop {
            let path = dir.join(format!("{kind}_{}.pb", tensors.len()));
            if !path.is_file() {
                return Ok(tensors);
            }
            tensors.push(read_tensor_pb(&path)?);
        }
    };
    let inputs = read_all("input")?;
    if inputs.is_empty() {
        return Err(OnnxError::Decode {
            path: dir.join("input_0.pb"),
            reason: "missing: not a model-zoo test_data_set folder".into(),
        });
    }
    Ok(TestDataSet { inputs, outputs: read_all("output")? })
}
