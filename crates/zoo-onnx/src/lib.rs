//! A small ONNX graph builder over `onnx-protobuf`, so exporters read like a forward pass.
//!
//! ```
//! use zoo_onnx::{BatchNorm, ConvAttrs, GemmAttrs, GraphBuilder, TensorData, dims};
//!
//! # fn main() -> zoo_onnx::Result<()> {
//! let mut g = GraphBuilder::new("tiny");
//! let x = g.input("input", &dims![batch, 1, 8, 8])?;
//! let w = g.initializer("conv1.weight", TensorData::f32([4, 1, 3, 3], vec![0.1; 36])?)?;
//! let y = g.conv(&x, "conv1", &w, None, &ConvAttrs::default().pad(1))?;
//! let ones = |n| TensorData::f32([n], vec![1.0; n]);
//! let zeros = |n| TensorData::f32([n], vec![0.0; n]);
//! let (scale, bias) = (g.initializer("bn1.weight", ones(4)?)?, g.initializer("bn1.bias", zeros(4)?)?);
//! let (mean, var) = (g.initializer("bn1.running_mean", zeros(4)?)?, g.initializer("bn1.running_var", ones(4)?)?);
//! let y = g.batch_norm(&y, "bn1", BatchNorm { scale: &scale, bias: &bias, mean: &mean, var: &var, epsilon: 1e-5 })?;
//! let y = g.relu(&y, "relu")?;
//! let y = g.global_average_pool(&y, "pool")?;
//! let y = g.flatten(&y, "flatten", 1)?;
//! let fw = g.initializer("fc.weight", TensorData::f32([10, 4], vec![0.0; 40])?)?;
//! let fb = g.initializer("fc.bias", TensorData::f32([10], vec![0.0; 10])?)?;
//! let logits = g.gemm(&y, "fc", &fw, Some(&fb), GemmAttrs::linear())?;
//! g.output(&logits, "logits", &dims![batch, 10])?;
//! g.set_metadata("arch", "tiny");
//! let model = g.build()?;
//! assert_eq!(model.graph().node[0].name, "conv1/Conv");
//! assert_eq!(model.graph().node[5].output[0], "logits");
//! let bytes = model.to_bytes()?; // or model.write("tiny.onnx")?
//! # assert!(!bytes.is_empty());
//! # Ok(())
//! # }
//! ```
//!
//! Initializers keep the caller's names (dotted parameter names); nodes are `{scope}/{OpType}`
//! writing `{scope}/out`; constants the graph needs (reshape targets, axes) are initializers
//! named `{scope}/{label}`. See [`GraphBuilder`] for the naming rules and [`ops`] for the
//! operators and the opsets each covers. Nothing here runs a model: that is `zoo-verify`.

mod builder;
mod error;
pub mod ops;
mod tensor;
pub mod test_data;

pub use builder::{
    Attr, BATCH_DIM, DEFAULT_OPSET, Dim, GraphBuilder, MAX_OPSET, MIN_OPSET, Model, PRODUCER_NAME,
    Value, ir_version_for,
};
pub use error::{OnnxError, Result};
/// The generated ONNX protobuf messages (`ModelProto`, `TensorProto`…), for inspection.
pub use onnx_protobuf as proto;
pub use ops::{BatchNorm, ConvAttrs, GemmAttrs, LayerNorm, PoolAttrs};
pub use tensor::{ElemType, NamedTensor, TensorData, Values};
