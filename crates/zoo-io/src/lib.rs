//! File plumbing shared by every stage: atomic writes (temp file in the same directory,
//! fsync, rename — a reader never sees half a file), JSON documents, and f32 tensors in
//! safetensors files. Every error names the file.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, TensorView};

/// An I/O or format error, naming the file.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// The operating system refused (the cause is the error's `source`, so `{:#}` prints it once).
    #[error("{}", path.display())]
    Os {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The content is not what was expected.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl IoError {
    fn os(path: &Path, source: std::io::Error) -> Self {
        IoError::Os { path: path.to_path_buf(), source }
    }

    /// A format error for `path`.
    pub fn format(path: &Path, reason: impl Into<String>) -> Self {
        IoError::Format { path: path.to_path_buf(), reason: reason.into() }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, fsync, rename.
/// Parent directories are created. On error no file (partial or temporary) is left.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<(), IoError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir).map_err(|e| IoError::os(dir, e))?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        return Err(IoError::os(path, e));
    }
    Ok(())
}

/// Reads a whole file.
pub fn read(path: &Path) -> Result<Vec<u8>, IoError> {
    fs::read(path).map_err(|e| IoError::os(path, e))
}

/// Serializes `value` as pretty JSON and writes it atomically.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), IoError> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| IoError::format(path, format!("cannot serialize: {e}")))?;
    text.push('\n');
    atomic_write(path, text.as_bytes())
}

/// Reads a JSON document, naming the file and the problem on failure.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, IoError> {
    let bytes = read(path)?;
    serde_json::from_slice(&bytes).map_err(|e| IoError::format(path, format!("invalid JSON: {e}")))
}

/// A named f32 tensor as stored in safetensors files.
#[derive(Debug, Clone, PartialEq)]
pub struct F32Tensor {
    /// Name.
    pub name: String,
    /// Shape.
    pub shape: Vec<usize>,
    /// Row-major values.
    pub data: Vec<f32>,
}

/// Writes f32 tensors (in the given order) and string metadata as a safetensors file,
/// atomically.
pub fn write_safetensors(
    path: &Path,
    tensors: &[F32Tensor],
    metadata: Option<HashMap<String, String>>,
) -> Result<(), IoError> {
    let bytes: Vec<Vec<u8>> =
        tensors.iter().map(|t| t.data.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
    let mut views = Vec::with_capacity(tensors.len());
    for (t, b) in tensors.iter().zip(&bytes) {
        let view = TensorView::new(Dtype::F32, t.shape.clone(), b)
            .map_err(|e| IoError::format(path, format!("tensor `{}`: {e}", t.name)))?;
        views.push((t.name.clone(), view));
    }
    let out = safetensors::serialize(views, metadata)
        .map_err(|e| IoError::format(path, format!("cannot serialize: {e}")))?;
    atomic_write(path, &out)
}

/// Reads every tensor of a safetensors file as f32 (F32, F16 and BF16 are accepted),
/// sorted by name, with the file's metadata.
pub fn read_safetensors(path: &Path) -> Result<(Vec<F32Tensor>, HashMap<String, String>), IoError> {
    let bytes = read(path)?;
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes)
        .map_err(|e| IoError::format(path, format!("not a safetensors file: {e}")))?;
    let metadata = header.metadata().clone().unwrap_or_default();
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .map_err(|e| IoError::format(path, format!("not a safetensors file: {e}")))?;
    let mut out = Vec::new();
    for (name, view) in file.tensors() {
        let raw = view.data();
        let data: Vec<f32> = match view.dtype() {
            Dtype::F32 => {
                raw.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
            }
            Dtype::F16 => {
                raw.chunks_exact(2).map(|c| f16_to_f32(u16::from_le_bytes([c[0], c[1]]))).collect()
            }
            Dtype::BF16 => raw
                .chunks_exact(2)
                .map(|c| f32::from_bits((u16::from_le_bytes([c[0], c[1]]) as u32) << 16))
                .collect(),
            other => {
                return Err(IoError::format(
                    path,
                    format!("tensor `{name}` has dtype {other:?}; expected F32, F16 or BF16"),
                ));
            }
        };
        out.push(F32Tensor { name, shape: view.shape().to_vec(), data });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok((out, metadata))
}

/// IEEE half → single precision.
fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h >> 15) as u32) << 31;
    let exp = ((h >> 10) & 0x1f) as u32;
    let frac = (h & 0x3ff) as u32;
    let bits = match (exp, frac) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: renormalize.
            let mut e = 127 - 15 + 1;
            let mut f = frac;
            while f & 0x400 == 0 {
                f <<= 1;
                e -= 1;
            }
            sign | ((e as u32) << 23) | ((f & 0x3ff) << 13)
        }
        (0x1f, _) => sign | 0x7f80_0000 | (frac << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (frac << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn safetensors_round_trip_keeps_values_and_metadata() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/t.safetensors");
        let tensors = vec![
            F32Tensor { name: "b".into(), shape: vec![2, 2], data: vec![1.0, -2.0, 3.5, 0.0] },
            F32Tensor { name: "a".into(), shape: vec![1], data: vec![7.0] },
        ];
        let meta = HashMap::from([("k".to_string(), "v".to_string())]);
        write_safetensors(&path, &tensors, Some(meta.clone())).unwrap();
        let (back, got_meta) = read_safetensors(&path).unwrap();
        assert_eq!(back, vec![tensors[1].clone(), tensors[0].clone()]);
        assert_eq!(got_meta, meta);
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("broken.safetensors");
        fs::write(&path, b"not a tensor file").unwrap();
        let err = read_safetensors(&path).unwrap_err().to_string();
        assert!(err.contains("broken.safetensors") && err.contains("not a safetensors"), "{err}");
        let err = read(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(err.contains("missing"), "{err}");
    }

    #[test]
    fn half_precision_values_decode() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
    }
}
