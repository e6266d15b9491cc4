//! Node emitters, one file per ONNX operator, each opening with its spec link and the opsets
//! it covers. Every emitter is a `GraphBuilder` method taking the data input(s), then the scope
//! (module path: node `{scope}/{OpType}`, output `{scope}/out`), then parameters and
//! attributes, and returns the output [`Value`](crate::Value).

mod add;
mod average_pool;
mod batch_norm;
mod cast;
mod concat;
mod conv;
mod div;
mod erf;
mod expand;
mod flatten;
mod gather;
mod gelu;
mod gemm;
mod global_average_pool;
mod identity;
mod layer_norm;
mod linear;
mod matmul;
mod max_pool;
mod mean;
mod mul;
mod pow;
mod reduce_mean;
mod relu;
mod reshape;
mod shape;
mod slice;
mod softmax;
mod sqrt;
mod sub;
mod transpose;
mod unsqueeze;

pub use batch_norm::BatchNorm;
pub use conv::ConvAttrs;
pub use gemm::GemmAttrs;
pub use layer_norm::LayerNorm;
pub use max_pool::PoolAttrs;
