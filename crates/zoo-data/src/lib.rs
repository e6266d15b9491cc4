//! Datasets for pdiff-zoo: what a model is trained and tested on. Knows nothing about models.
//!
//! * [`DataSource::EmbeddedMnist`] (`"mnist"`): 10,000 real MNIST digits compiled into the
//!   crate, with a fixed stratified 8,000 / 1,000 / 1,000 train / val / test split
//!   (see `data/README.md` for provenance and licence).
//! * Users' data: MNIST / Fashion-MNIST IDX files, CIFAR-10 and CIFAR-100 binary batches and
//!   class-per-folder image trees, found by [`DataSource::parse`] and read by [`load`].
//!
//! Images are kept as `u8` in NCHW order; [`Split::normalized`] turns them into the `f32`
//! input of a model with the per-channel mean/std of [`DatasetInfo`].
//!
//! ```
//! let data = zoo_data::load(&zoo_data::DataSource::EmbeddedMnist, &Default::default()).unwrap();
//! assert_eq!((data.train.len(), data.val.len(), data.test.len()), (8000, 1000, 1000));
//! let x = data.test.normalized(&data.info, &[0, 1]);
//! assert_eq!(x.len(), 2 * data.info.image_len());
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

mod cifar;
mod embedded;
mod error;
mod files;
mod folder;
mod idx;
mod split;

pub use cifar::{CIFAR10_LABELS, CIFAR100_COARSE_LABELS, CIFAR100_FINE_LABELS};
pub use error::DataError;
pub use split::stratified_split;

/// What a model needs to know about the inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    /// Short, file-name-safe name (`mnist`, `fashion-mnist`, `cifar10`, `cifar100`,
    /// `cifar100-coarse`, or an image folder's name).
    pub name: String,
    /// Image channels (1 or 3).
    pub channels: usize,
    /// Image height in pixels.
    pub height: usize,
    /// Image width in pixels.
    pub width: usize,
    /// Class names, indexed by label.
    pub labels: Vec<String>,
    /// Per-channel mean of pixels scaled to [0, 1].
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of pixels scaled to [0, 1].
    pub std: Vec<f32>,
}

impl DatasetInfo {
    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.labels.len()
    }

    /// Values per image: channels × height × width.
    pub fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
}

/// One split: uint8 images in NCHW order and labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    /// Pixels, image after image, each channels × height × width.
    pub images: Vec<u8>,
    /// Class index of each image.
    pub labels: Vec<u16>,
}

impl Split {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether the split has no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The samples at `indices`, in that order (repeats allowed).
    ///
    /// # Panics
    /// If an index is out of range or `image_len` does not match the images.
    pub fn subset(&self, indices: &[usize], image_len: usize) -> Split {
        let mut images = Vec::with_capacity(indices.len() * image_len);
        for &i in indices {
            images.extend_from_slice(&self.images[i * image_len..(i + 1) * image_len]);
        }
        Split { images, labels: indices.iter().map(|&i| self.labels[i]).collect() }
    }

    /// `(x/255 - mean[c]) / std[c]`, NCHW `f32`, for the images at `indices` (in that
    /// order), or for all images when `indices` is empty; ready for a tensor.
    ///
    /// # Panics
    /// If an index is out of range or `info` does not describe these images.
    pub fn normalized(&self, info: &DatasetInfo, indices: &[usize]) -> Vec<f32> {
        let plane = info.height * info.width;
        let image_len = info.image_len();
        // One lookup table per channel: 256 possible values.
        let tables: Vec<[f32; 256]> = (0..info.channels)
            .map(|c| {
                let mean = info.mean.get(c).copied().unwrap_or(0.0);
                let std = info.std.get(c).copied().unwrap_or(1.0);
                std::array::from_fn(|v| (v as f32 / 255.0 - mean) / std)
            })
            .collect();
        let count = if indices.is_empty() { self.len() } else { indices.len() };
        let mut out = Vec::with_capacity(count * image_len);
        let mut push = |i: usize| {
            let image = &self.images[i * image_len..(i + 1) * image_len];
            for (c, values) in image.chunks_exact(plane.max(1)).enumerate() {
                out.extend(values.iter().map(|&v| tables[c][usize::from(v)]));
            }
        };
        if indices.is_empty() {
            (0..self.len()).for_each(&mut push);
        } else {
            indices.iter().for_each(|&i| push(i));
        }
        out
    }
}

/// A dataset: its description and three disjoint splits.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Shape, classes and normalization.
    pub info: DatasetInfo,
    /// Training samples.
    pub train: Split,
    /// Validation samples (model selection).
    pub val: Split,
    /// Held-out test samples.
    pub test: Split,
}

/// Where a dataset comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DataSource {
    /// The 10,000 MNIST digits compiled into this crate (fixed 8,000 / 1,000 / 1,000 split).
    EmbeddedMnist,
    /// MNIST-style IDX files in `dir`: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte` (or `train-images.idx3-ubyte`…),
    /// raw or `.gz`. A folder whose path contains "fashion" is read as Fashion-MNIST.
    Idx {
        /// The folder holding the files.
        dir: PathBuf,
    },
    /// CIFAR-10 binary version: `data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`
    /// in `dir` or `dir/cifar-10-batches-bin`.
    Cifar10 {
        /// The folder holding the batches (or their `cifar-10-batches-bin` parent).
        dir: PathBuf,
    },
    /// CIFAR-100 binary version: `train.bin`, `test.bin` in `dir` or `dir/cifar-100-binary`.
    Cifar100 {
        /// The folder holding the files (or their `cifar-100-binary` parent).
        dir: PathBuf,
        /// Use the 20 coarse superclasses instead of the 100 fine classes.
        coarse: bool,
    },
    /// `dir/<class>/*.png|jpg|jpeg`, or `dir/train/<class>/…` with optional
    /// `dir/test/<class>/…` and `dir/val/<class>/…` (also `valid`, `validation`).
    ImageFolder {
        /// The root folder.
        dir: PathBuf,
    },
}

impl DataSource {
    /// `"mnist"` (the embedded default) or a path whose contents are sniffed: IDX files,
    /// CIFAR-10 batches, CIFAR-100 `train.bin`/`test.bin`, or a class-per-folder tree.
    ///
    /// A prefix forces the kind: `idx:PATH`, `cifar10:PATH`, `cifar100:PATH`,
    /// `cifar100-coarse:PATH`, `folder:PATH` (`cifar100-coarse:` is the only way to get the
    /// coarse labels). Write `./mnist` for a folder named `mnist`.
    pub fn parse(spec: &str) -> Result<DataSource, DataError> {
        if spec.trim().eq_ignore_ascii_case("mnist") {
            return Ok(DataSource::EmbeddedMnist);
        }
        type Make = fn(PathBuf) -> DataSource;
        let prefixes: [(&str, Make); 5] = [
            ("idx:", |dir| DataSource::Idx { dir }),
            ("cifar10:", |dir| DataSource::Cifar10 { dir }),
            ("cifar100:", |dir| DataSource::Cifar100 { dir, coarse: false }),
            ("cifar100-coarse:", |dir| DataSource::Cifar100 { dir, coarse: true }),
            ("folder:", |dir| DataSource::ImageFolder { dir }),
        ];
        for (prefix, make) in prefixes {
            if let Some(rest) = spec.strip_prefix(prefix) {
                let dir = PathBuf::from(rest);
                check_dir(&dir)?;
                return Ok(make(dir));
            }
        }
        let dir = PathBuf::from(spec);
        check_dir(&dir)?;
        if idx::detect(&dir) {
            Ok(DataSource::Idx { dir })
        } else if cifar::detect10(&dir) {
            Ok(DataSource::Cifar10 { dir })
        } else if cifar::detect100(&dir) {
            Ok(DataSource::Cifar100 { dir, coarse: false })
        } else if folder::detect(&dir)? {
            Ok(DataSource::ImageFolder { dir })
        } else {
            Err(DataError::Unrecognized {
                path: dir,
                detail: "expected IDX files (train-images-idx3-ubyte[.gz], …), CIFAR-10 batches \
                         (data_batch_1.bin, …), CIFAR-100 train.bin/test.bin, or class sub-folders \
                         of images"
                    .into(),
            })
        }
    }

    /// The folder of the source (a placeholder path for the embedded digits).
    pub fn path(&self) -> PathBuf {
        match self {
            DataSource::EmbeddedMnist => embedded::path(),
            DataSource::Idx { dir }
            | DataSource::Cifar10 { dir }
            | DataSource::Cifar100 { dir, .. }
            | DataSource::ImageFolder { dir } => dir.clone(),
        }
    }
}

fn check_dir(dir: &Path) -> Result<(), DataError> {
    if dir.is_dir() {
        Ok(())
    } else if dir.exists() {
        Err(DataError::Unrecognized {
            path: dir.to_path_buf(),
            detail: "is a file; give the folder that holds the dataset (unpack archives first)"
                .into(),
        })
    } else {
        Err(DataError::Missing {
            path: dir.to_path_buf(),
            what: "dataset folder (or `mnist` for the embedded digits)".into(),
        })
    }
}

/// How to load a [`DataSource`].
#[derive(Debug, Clone, PartialEq)]
pub struct LoadOptions {
    /// Fraction of train carved (stratified) into val when the source has no val split
    /// (default 0.1). Image folders without a test split also carve this fraction as test.
    /// Ignored by the embedded digits, whose split is fixed.
    pub val_fraction: f64,
    /// Seed of the val carving and of `limit`'s subsets.
    pub seed: u64,
    /// `(height, width)` to resize image-folder images to (default: the first image's
    /// size). Other sources have a fixed size and reject a different one.
    pub image_size: Option<(usize, usize)>,
    /// 1 (grayscale) or 3 (RGB) for image folders (default 3). Other sources have a fixed
    /// channel count and reject a different one.
    pub channels: Option<usize>,
    /// At most this many samples in each split (a stratified, seeded subset), for quick runs.
    pub limit: Option<usize>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self { val_fraction: 0.1, seed: 0, image_size: None, channels: None, limit: None }
    }
}

/// Loads a dataset: reads and checks the files, carves val from train where needed, applies
/// `limit`, and fails if train, val or test ends up empty (val may be empty only with
/// `val_fraction` 0).
pub fn load(source: &DataSource, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let path = source.path();
    let options = |detail: String| DataError::Options { path: path.clone(), detail };
    if !(0.0..1.0).contains(&opts.val_fraction) {
        return Err(options(format!("val_fraction must be in [0, 1), not {}", opts.val_fraction)));
    }
    if opts.limit == Some(0) {
        return Err(options("limit must be at least 1".into()));
    }
    let data = match source {
        DataSource::EmbeddedMnist => embedded::load()?,
        DataSource::Idx { dir } => with_val(idx::load(dir)?, opts),
        DataSource::Cifar10 { dir } => with_val(cifar::load10(dir)?, opts),
        DataSource::Cifar100 { dir, coarse } => with_val(cifar::load100(dir, *coarse)?, opts),
        DataSource::ImageFolder { dir } => folder::load(dir, opts)?,
    };
    if !matches!(source, DataSource::ImageFolder { .. }) {
        let info = &data.info;
        if let Some(c) = opts.channels.filter(|&c| c != info.channels) {
            return Err(options(format!(
                "{c} channels requested, this source has {}",
                info.channels
            )));
        }
        if let Some((h, w)) = opts.image_size.filter(|&s| s != (info.height, info.width)) {
            return Err(options(format!(
                "image size {h}x{w} requested, this source has fixed {}x{} images",
                info.height, info.width
            )));
        }
    }
    let image_len = data.info.image_len();
    let limit = |split: Split, salt: u64| match opts.limit {
        Some(limit) if limit < split.len() => {
            let keep = stratified_split(
                &split.labels,
                &[limit as f64 / split.len() as f64],
                opts.seed ^ salt,
            );
            split.subset(&keep[0], image_len)
        }
        _ => split,
    };
    let data = Dataset {
        train: limit(data.train, 1),
        val: limit(data.val, 2),
        test: limit(data.test, 3),
        info: data.info,
    };
    for (name, split) in [("train", &data.train), ("val", &data.val), ("test", &data.test)] {
        if split.is_empty() && !(name == "val" && opts.val_fraction == 0.0) {
            return Err(DataError::NoSamples {
                path: path.clone(),
                detail: format!("the {name} split is empty (val_fraction {})", opts.val_fraction),
            });
        }
    }
    Ok(data)
}

/// Carves a stratified val split of `val_fraction` from train.
fn with_val((info, train, test): (DatasetInfo, Split, Split), opts: &LoadOptions) -> Dataset {
    let groups =
        stratified_split(&train.labels, &[1.0 - opts.val_fraction, opts.val_fraction], opts.seed);
    let image_len = info.image_len();
    let val = train.subset(&groups[1], image_len);
    let train = train.subset(&groups[0], image_len);
    Dataset { info, train, val, test }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> DatasetInfo {
        DatasetInfo {
            name: "t".into(),
            channels: 2,
            height: 1,
            width: 2,
            labels: vec!["a".into(), "b".into()],
            mean: vec![0.5, 0.0],
            std: vec![0.5, 2.0],
        }
    }

    #[test]
    fn normalized_is_per_channel_nchw() {
        let split = Split { images: vec![0, 255, 51, 102, 255, 0, 0, 0], labels: vec![0, 1] };
        let info = info();
        assert_eq!(info.image_len(), 4);
        assert_eq!(info.num_classes(), 2);
        let x = split.normalized(&info, &[1]);
        assert_eq!(x, vec![1.0, -1.0, 0.0, 0.0]);
        let all = split.normalized(&info, &[]);
        assert_eq!(all.len(), 8);
        assert_eq!(&all[..4], &[-1.0, 1.0, 0.1, 0.2]);
        assert_eq!(&all[4..], &x[..]);
    }

    #[test]
    fn subset_keeps_order() {
        let split = Split { images: vec![1, 1, 2, 2, 3, 3], labels: vec![0, 1, 0] };
        let sub = split.subset(&[2, 0, 2], 2);
        assert_eq!(sub.images, vec![3, 3, 1, 1, 3, 3]);
        assert_eq!(sub.labels, vec![0, 0, 0]);
        assert_eq!(sub.len(), 3);
        assert!(!sub.is_empty());
        assert!(Split::default().is_empty());
    }

    #[test]
    fn info_round_trips_through_json() {
        let info = info();
        let text = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<DatasetInfo>(&text).unwrap(), info);
    }
}
