//! Expand — <https://onnx.ai/onnx/operators/onnx__Expand.html>, opset 13: broadcasts `x`
//! against an `int64` shape (numpy rules in both directions: a 1 in `shape` keeps `x`'s size).
//!
//! [`GraphBuilder::expand_to_batch`] repeats a `[1, …]` parameter (a ViT class token
//! `[1, 1, D]`) over the dynamic batch of another value: `Expand(token, [B, 1, …, 1])` with
//! `B` read by [Shape](https://onnx.ai/onnx/operators/onnx__Shape.html) and joined by
//! [Concat](https://onnx.ai/onnx/operators/onnx__Concat.html).

use crate::builder::{GraphBuilder, Value};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Expand(x, shape)`.
    pub fn expand(&mut self, x: &Value, scope: &str, shape: &Value) -> Result<Value> {
        self.emit(scope, "Expand", &[x, shape], vec![], "out", x.elem_type())
    }

    /// `token` (`[1, d1, …]`, rank `rank`) broadcast to `[B, d1, …]`, `B` the batch size of
    /// `like` (its first dimension).
    pub fn expand_to_batch(
        &mut self,
        token: &Value,
        scope: &str,
        like: &Value,
        rank: usize,
    ) -> Result<Value> {
        if rank == 0 {
            return Err(invalid(scope, "expand_to_batch needs a token of rank ≥ 1"));
        }
        let batch = self.shape(like, &format!("{scope}/batch"), Some(0), Some(1))?;
        let target = if rank == 1 {
            batch
        } else {
            let ones = self.const_i64(scope, "ones", &vec![1; rank - 1])?;
            self.concat(&[&batch, &ones], &format!("{scope}/target"), 0)?
        };
        self.expand(token, scope, &target)
    }
}
