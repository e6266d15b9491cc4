//! MNIST / Fashion-MNIST IDX files (`train-images-idx3-ubyte`, … raw or `.gz`).

use std::path::{Path, PathBuf};

use crate::{DataError, DatasetInfo, Split, embedded, files};

/// File names tried for each part, in order (each also with `.gz`).
pub(crate) const TRAIN_IMAGES: &[&str] = &["train-images-idx3-ubyte", "train-images.idx3-ubyte"];
const TRAIN_LABELS: &[&str] = &["train-labels-idx1-ubyte", "train-labels.idx1-ubyte"];
const TEST_IMAGES: &[&str] = &["t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"];
const TEST_LABELS: &[&str] = &["t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"];

const CLASSES: usize = 10;

const FASHION_LABELS: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

/// Whether `dir` holds IDX training images.
pub(crate) fn detect(dir: &Path) -> bool {
    files::find_first(dir, TRAIN_IMAGES).is_some()
}

/// Loads `(info, train, test)`; the caller carves val from train.
pub(crate) fn load(dir: &Path) -> Result<(DatasetInfo, Split, Split), DataError> {
    let (train, train_dims) = load_pair(dir, TRAIN_IMAGES, TRAIN_LABELS)?;
    let (test, test_dims) = load_pair(dir, TEST_IMAGES, TEST_LABELS)?;
    if train_dims != test_dims {
        return Err(DataError::Mismatch {
            path: locate(dir, TEST_IMAGES),
            detail: format!(
                "test images are {}x{}, train images are {}x{}",
                test_dims.0, test_dims.1, train_dims.0, train_dims.1
            ),
        });
    }
    let (height, width) = train_dims;
    let mut info = embedded::mnist_info(height, width);
    if is_fashion(dir) {
        info.name = "fashion-mnist".into();
        info.labels = FASHION_LABELS.iter().map(|s| s.to_string()).collect();
        info.mean = vec![0.2860];
        info.std = vec![0.3530];
    }
    Ok((info, train, test))
}

/// Fashion-MNIST uses the same file names as MNIST; tell them apart by the name of the
/// folder or of its parent (`fashion-mnist/raw`).
fn is_fashion(dir: &Path) -> bool {
    let full = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    full.components()
        .rev()
        .take(2)
        .any(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase().contains("fashion"))
}

/// The existing file for `names`, or the first name (for error messages).
fn locate(dir: &Path, names: &[&str]) -> PathBuf {
    files::find_first(dir, names).unwrap_or_else(|| dir.join(names[0]))
}

fn load_pair(
    dir: &Path,
    images: &[&str],
    labels: &[&str],
) -> Result<(Split, (usize, usize)), DataError> {
    let what = |names: &[&str], kind: &str| {
        format!("IDX {kind} file (also tried {} and .gz)", names[1..].join(", "))
    };
    let images_path = locate(dir, images);
    let labels_path = locate(dir, labels);
    let image_bytes = files::read_maybe_gz(&images_path, &what(images, "image"))?;
    let label_bytes = files::read_maybe_gz(&labels_path, &what(labels, "label"))?;
    let (dims, pixels) = parse(&images_path, &image_bytes, 3)?;
    let (label_dims, raw_labels) = parse(&labels_path, &label_bytes, 1)?;
    let (n, height, width) = (dims[0], dims[1], dims[2]);
    if height == 0 || width == 0 {
        return Err(DataError::Format {
            path: images_path,
            detail: format!("image size {height}x{width} has a zero side"),
        });
    }
    if label_dims[0] != n {
        return Err(DataError::Mismatch {
            path: labels_path,
            detail: format!(
                "{} labels but {} has {n} images",
                label_dims[0],
                images_path.display()
            ),
        });
    }
    if n == 0 {
        return Err(DataError::NoSamples {
            path: images_path,
            detail: "the IDX header counts 0 images".into(),
        });
    }
    let mut out_labels = Vec::with_capacity(n);
    for (index, &label) in raw_labels.iter().enumerate() {
        if usize::from(label) >= CLASSES {
            return Err(DataError::LabelOutOfRange {
                path: labels_path,
                index,
                label: label.into(),
                classes: CLASSES,
            });
        }
        out_labels.push(u16::from(label));
    }
    Ok((Split { images: pixels.to_vec(), labels: out_labels }, (height, width)))
}

/// Checks the IDX header (unsigned bytes, `ndims` dimensions) and returns dims and data.
fn parse<'a>(
    path: &Path,
    bytes: &'a [u8],
    ndims: usize,
) -> Result<(Vec<usize>, &'a [u8]), DataError> {
    let truncated = |detail: String| DataError::Truncated { path: path.to_path_buf(), detail };
    let header = 4 + 4 * ndims;
    if bytes.len() < 4 {
        return Err(truncated(format!("{} bytes, an IDX header needs {header}", bytes.len())));
    }
    let magic = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let expected = 0x0800 | ndims as u32;
    if magic != expected {
        let kind = if ndims == 3 { "images" } else { "labels" };
        return Err(DataError::Format {
            path: path.to_path_buf(),
            detail: format!(
                "wrong IDX magic 0x{magic:08x}, expected 0x{expected:08x} (unsigned bytes, {ndims} dimension{}, {kind})",
                if ndims == 1 { "" } else { "s" }
            ),
        });
    }
    if bytes.len() < header {
        return Err(truncated(format!("{} bytes, the IDX header needs {header}", bytes.len())));
    }
    let dims: Vec<usize> = (0..ndims)
        .map(|i| {
            let at = 4 + 4 * i;
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
        })
        .collect();
    let need = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let data = &bytes[header..];
    match need {
        Some(need) if need == data.len() => Ok((dims, data)),
        Some(need) if need > data.len() => Err(truncated(format!(
            "header dims {dims:?} need {need} data bytes, the file has {}",
            data.len()
        ))),
        Some(need) => Err(DataError::Format {
            path: path.to_path_buf(),
            detail: format!("{} data bytes, header dims {dims:?} need only {need}", data.len()),
        }),
        None => Err(DataError::Format {
            path: path.to_path_buf(),
            detail: format!("header dims {dims:?} overflow"),
        }),
    }
}
