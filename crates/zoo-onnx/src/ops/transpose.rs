//! Transpose — <https://onnx.ai/onnx/operators/onnx__Transpose.html>, opsets 13 and 21:
//! output axis `i` is input axis `perm[i]`.

use crate::builder::{GraphBuilder, Value, attr_ints};
use crate::error::{Result, invalid};

impl GraphBuilder {
    /// `Transpose(x)` with permutation `perm`.
    pub fn transpose(&mut self, x: &Value, scope: &str, perm: &[usize]) -> Result<Value> {
        let mut seen = vec![false; perm.len()];
        for &p in perm {
            if p >= perm.len() || std::mem::replace(&mut seen[p], true) {
                return Err(invalid(
                    scope,
                    format!("Transpose perm {perm:?} is not a permutation"),
                ));
            }
        }
        let attributes = vec![attr_ints("perm", perm.iter().map(|&p| p as i64))];
        self.emit(scope, "Transpose", &[x], attributes, "out", x.elem_type())
    }
}
