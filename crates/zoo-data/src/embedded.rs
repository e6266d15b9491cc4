//! The embedded MNIST digits (`data/mnist-embedded.bin.gz`, see `data/README.md`).

use std::path::{Path, PathBuf};

use crate::{DataError, Dataset, DatasetInfo, Split, files};

/// The gzip file built by `scripts/build_embedded_mnist.py`.
static EMBEDDED: &[u8] = include_bytes!("../data/mnist-embedded.bin.gz");

const MAGIC: &[u8; 8] = b"PZMNIST1";
const HEADER: usize = 8 + 7 * 4;

/// The path used in errors about the embedded file.
pub(crate) fn path() -> PathBuf {
    PathBuf::from("<embedded>/mnist-embedded.bin.gz")
}

/// Info shared by the embedded digits and IDX MNIST.
pub(crate) fn mnist_info(height: usize, width: usize) -> DatasetInfo {
    DatasetInfo {
        name: "mnist".into(),
        channels: 1,
        height,
        width,
        labels: (0..10).map(|d| d.to_string()).collect(),
        mean: vec![0.1307],
        std: vec![0.3081],
    }
}

/// Decodes the embedded file into its fixed train/val/test splits.
pub(crate) fn load() -> Result<Dataset, DataError> {
    decode(&path(), EMBEDDED)
}

fn decode(path: &Path, gz: &[u8]) -> Result<Dataset, DataError> {
    let bytes = files::gunzip(path, gz)?;
    let format = |detail: String| DataError::Format { path: path.to_path_buf(), detail };
    if bytes.len() < HEADER {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!("{} bytes, header needs {HEADER}", bytes.len()),
        });
    }
    if &bytes[..8] != MAGIC {
        return Err(format(format!(
            "magic {:?}, expected PZMNIST1",
            String::from_utf8_lossy(&bytes[..8])
        )));
    }
    let field = |i: usize| {
        let at = 8 + 4 * i;
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    let (n, height, width, classes) = (field(0), field(1), field(2), field(3));
    let counts = [field(4), field(5), field(6)];
    if classes != 10 || height == 0 || width == 0 || counts.iter().sum::<usize>() != n {
        return Err(format(format!(
            "header n={n} {height}x{width} classes={classes} splits={counts:?} is inconsistent"
        )));
    }
    let image_len = height * width;
    let need = HEADER + n * (image_len + 2);
    if bytes.len() != need {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!("{} bytes, header says {need}", bytes.len()),
        });
    }
    let pixels = &bytes[HEADER..HEADER + n * image_len];
    let labels = &bytes[HEADER + n * image_len..HEADER + n * (image_len + 1)];
    let tags = &bytes[HEADER + n * (image_len + 1)..];
    let mut splits: [Split; 3] = Default::default();
    for (i, (&label, &tag)) in labels.iter().zip(tags).enumerate() {
        if usize::from(label) >= classes {
            return Err(DataError::LabelOutOfRange {
                path: path.to_path_buf(),
                index: i,
                label: label.into(),
                classes,
            });
        }
        let split = splits
            .get_mut(usize::from(tag))
            .ok_or_else(|| format(format!("split tag {tag} of record {i} (expected 0, 1 or 2)")))?;
        split.images.extend_from_slice(&pixels[i * image_len..(i + 1) * image_len]);
        split.labels.push(label.into());
    }
    let [train, val, test] = splits;
    if [train.len(), val.len(), test.len()] != counts {
        return Err(format(format!("split tags do not match the header counts {counts:?}")));
    }
    Ok(Dataset { info: mnist_info(height, width), train, val, test })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_embedded_bytes_are_errors() {
        let err = decode(&path(), b"not gzip").unwrap_err();
        assert!(err.to_string().contains("corrupt gzip"), "{err}");
        let mut gz = EMBEDDED.to_vec();
        gz.truncate(gz.len() / 2);
        let err = decode(&path(), &gz).unwrap_err();
        assert!(err.to_string().contains("mnist-embedded.bin.gz"), "{err}");
    }
}
