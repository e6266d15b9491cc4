//! Reading a state dict: every floating-point tensor of a `.safetensors` file or a PyTorch
//! checkpoint (`.pth`, `.pt`, `.bin`, `.ckpt`) as f32, by name, with checkpoint wrappers
//! stripped (see [`crate::names`]).

use std::path::{Path, PathBuf};

use pytorch_reader::{DType, PytorchReader};
use safetensors::{Dtype, SafeTensors};
use zoo_models::{NamedTensor, TensorKind};

use crate::ImportError;
use crate::names;

/// The tensors of a checkpoint, ready to write into a model.
#[derive(Debug, Clone)]
pub struct StateDict {
    /// The file read.
    pub path: PathBuf,
    /// `safetensors` or `pytorch`.
    pub format: &'static str,
    /// Floating-point tensors as f32, under their unwrapped names, sorted by name.
    pub tensors: Vec<NamedTensor>,
    /// Tensors deliberately not imported (BatchNorm `num_batches_tracked` counters, tensors
    /// outside the chosen wrapper such as an optimizer state), by their name in the file.
    pub ignored: Vec<String>,
    /// What was done to the names (`stripped prefix module.`, ...), for the report.
    pub renames: Vec<String>,
}

/// A tensor as read, before names are unwrapped: its f32 values or the reason it is skipped.
pub(crate) enum Raw {
    /// Floating point, converted.
    Float(NamedTensor),
    /// An integer tensor that is a known counter (`num_batches_tracked`).
    Counter(String),
}

/// Reads a state dict, picking the format from the extension.
pub fn read_state_dict(path: &Path) -> Result<StateDict, ImportError> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let (format, raw) = match ext.as_str() {
        "safetensors" => ("safetensors", read_safetensors(path)?),
        "pth" | "pt" | "bin" | "ckpt" => ("pytorch", read_pytorch(path)?),
        _ => {
            if !path.exists() {
                return Err(io_error(path, std::io::ErrorKind::NotFound.into()));
            }
            return Err(ImportError::UnknownFormat { path: path.to_path_buf() });
        }
    };
    let mut tensors = Vec::new();
    let mut ignored = Vec::new();
    for r in raw {
        match r {
            Raw::Float(t) => tensors.push(t),
            Raw::Counter(name) => ignored.push(name),
        }
    }
    if tensors.is_empty() {
        return Err(ImportError::Empty { path: path.to_path_buf() });
    }
    let unwrapped = names::unwrap(tensors);
    ignored.extend(unwrapped.outside);
    ignored.sort();
    let mut tensors = unwrapped.tensors;
    tensors.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(StateDict { path: path.to_path_buf(), format, tensors, ignored, renames: unwrapped.renames })
}

fn io_error(path: &Path, source: std::io::Error) -> ImportError {
    ImportError::Io { path: path.to_path_buf(), source }
}

/// True for the integer buffers PyTorch keeps beside BatchNorm statistics.
fn is_counter(name: &str) -> bool {
    name.ends_with("num_batches_tracked")
}

fn unsupported(path: &Path, name: &str, dtype: impl std::fmt::Debug) -> ImportError {
    ImportError::UnsupportedDtype {
        path: path.to_path_buf(),
        name: name.to_string(),
        dtype: format!("{dtype:?}"),
    }
}

fn tensor(name: String, shape: Vec<usize>, data: Vec<f32>) -> Raw {
    Raw::Float(NamedTensor { name, shape, data, kind: TensorKind::Param })
}

fn read_safetensors(path: &Path) -> Result<Vec<Raw>, ImportError> {
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    let format = |reason: String| ImportError::Format {
        path: path.to_path_buf(),
        format: "safetensors",
        reason,
    };
    let file = SafeTensors::deserialize(&bytes).map_err(|e| format(e.to_string()))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let raw = view.data();
        let data = match view.dtype() {
            Dtype::F32 => f32s(raw),
            Dtype::F16 => f16s(raw),
            Dtype::BF16 => bf16s(raw),
            Dtype::F64 => f64s(raw),
            Dtype::I64 | Dtype::I32 | Dtype::U64 | Dtype::U32 if is_counter(&name) => {
                out.push(Raw::Counter(name));
                continue;
            }
            other => return Err(unsupported(path, &name, other)),
        };
        out.push(tensor(name, view.shape().to_vec(), data));
    }
    Ok(out)
}

fn read_pytorch(path: &Path) -> Result<Vec<Raw>, ImportError> {
    if !path.exists() {
        return Err(io_error(path, std::io::ErrorKind::NotFound.into()));
    }
    let reader = PytorchReader::new(path).map_err(|e| ImportError::Format {
        path: path.to_path_buf(),
        format: "PyTorch checkpoint",
        reason: e.to_string(),
    })?;
    let mut entries: Vec<_> = reader.into_tensors().into_iter().collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = Vec::with_capacity(entries.len());
    for (name, t) in entries {
        let convert: fn(&[u8]) -> Vec<f32> = match t.dtype() {
            DType::F32 => f32s,
            DType::F16 => f16s,
            DType::BF16 => bf16s,
            DType::F64 => f64s,
            DType::I64 | DType::I32 | DType::U64 | DType::U32 if is_counter(&name) => {
                out.push(Raw::Counter(name));
                continue;
            }
            other => return Err(unsupported(path, &name, other)),
        };
        let bytes = t.read().map_err(|e| ImportError::Format {
            path: path.to_path_buf(),
            format: "PyTorch checkpoint",
            reason: e.to_string(),
        })?;
        out.push(tensor(name, t.shape().to_vec(), convert(&bytes)));
    }
    Ok(out)
}

fn f32s(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

fn f64s(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(8)
        .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f32)
        .collect()
}

fn bf16s(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(2)
        .map(|c| f32::from_bits(u32::from(u16::from_le_bytes([c[0], c[1]])) << 16))
        .collect()
}

fn f16s(raw: &[u8]) -> Vec<f32> {
    raw.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect()
}

/// IEEE 754 half precision to single precision (exact).
pub(crate) fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    let bits = match (exp, mant) {
        (0, 0) => sign,
        (0, m) => {
            // Subnormal: normalize.
            let shift = m.leading_zeros() - 21;
            let m = (m << shift) & 0x3ff;
            sign | ((127 - 15 + 1 - shift) << 23) | (m << 13)
        }
        (0x1f, m) => sign | 0x7f80_0000 | (m << 13),
        (e, m) => sign | ((e + 127 - 15) << 23) | (m << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::f16_to_f32;

    #[test]
    fn half_precision_values() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x03ff), 1023.0 * 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }
}
