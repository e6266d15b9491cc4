//! Shared test fixtures.

#![allow(dead_code)]

pub mod synthetic;

use serde_json::Value;

/// Whether two JSON documents are equal, numbers to a relative 1e-12: serde_json (without its
/// `float_roundtrip` feature) may read a written f64 back one ulp off.
pub fn json_close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= 1e-12 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_close(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_close(v, w)))
        }
        _ => a == b,
    }
}

/// [`json_close`] of two serializable values.
pub fn close<T: serde::Serialize>(a: &T, b: &T) -> bool {
    json_close(&serde_json::to_value(a).unwrap(), &serde_json::to_value(b).unwrap())
}
