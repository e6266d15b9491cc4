//! [`DataError`]: every failure names the file or folder it is about.

use std::io;
use std::path::{Path, PathBuf};

/// A dataset that cannot be found, read or understood. Every variant names the path at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// A file or folder the source needs does not exist.
    #[error("{}: not found: {what}", path.display())]
    Missing {
        /// The path looked for.
        path: PathBuf,
        /// What was expected there.
        what: String,
    },
    /// The file exists but reading it failed.
    #[error("{}: cannot read: {error}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        error: io::Error,
    },
    /// The file claims to be gzip-compressed but does not decompress.
    #[error("{}: corrupt gzip data: {detail}", path.display())]
    Gzip {
        /// The file.
        path: PathBuf,
        /// What the decompressor said.
        detail: String,
    },
    /// The file is shorter than its header or record size says it must be.
    #[error("{}: truncated: {detail}", path.display())]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Sizes expected and found.
        detail: String,
    },
    /// Wrong magic number, dimensions or layout.
    #[error("{}: invalid format: {detail}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// Two files that must agree (images and labels, train and test) do not.
    #[error("{}: mismatch: {detail}", path.display())]
    Mismatch {
        /// The file found to disagree.
        path: PathBuf,
        /// The two counts or shapes.
        detail: String,
    },
    /// A label is not a valid class index.
    #[error("{}: label {label} of record {index} is out of range (expected 0..={max})", path.display(), max = classes.saturating_sub(1))]
    LabelOutOfRange {
        /// The file.
        path: PathBuf,
        /// Record number (from 0) in that file.
        index: usize,
        /// The label read.
        label: usize,
        /// Number of classes of the format.
        classes: usize,
    },
    /// A class folder holds no png/jpg/jpeg image.
    #[error("{}: empty class folder `{class}` (no .png/.jpg/.jpeg images)", path.display())]
    EmptyClass {
        /// The class folder.
        path: PathBuf,
        /// The class name.
        class: String,
    },
    /// An image folder has no class sub-folders.
    #[error(
        "{}: no class folders (expected DIR/<class>/*.png|jpg|jpeg or DIR/train/<class>/... and DIR/test/<class>/...)",
        path.display()
    )]
    NoClasses {
        /// The folder searched.
        path: PathBuf,
    },
    /// An image file could not be decoded.
    #[error("{}: cannot decode image: {detail}", path.display())]
    Image {
        /// The image file.
        path: PathBuf,
        /// What the decoder said.
        detail: String,
    },
    /// A file or split holds no samples.
    #[error("{}: 0 samples: {detail}", path.display())]
    NoSamples {
        /// The file or dataset folder.
        path: PathBuf,
        /// Which split or file is empty.
        detail: String,
    },
    /// A path given as a dataset does not look like any supported format.
    #[error("{}: not a recognized dataset: {detail}", path.display())]
    Unrecognized {
        /// The path given.
        path: PathBuf,
        /// What was looked for.
        detail: String,
    },
    /// [`LoadOptions`](crate::LoadOptions) that do not fit the source.
    #[error("{}: invalid load options: {detail}", path.display())]
    Options {
        /// The dataset the options were given for.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
}

impl DataError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            Self::Missing { path, .. }
            | Self::Io { path, .. }
            | Self::Gzip { path, .. }
            | Self::Truncated { path, .. }
            | Self::Format { path, .. }
            | Self::Mismatch { path, .. }
            | Self::LabelOutOfRange { path, .. }
            | Self::EmptyClass { path, .. }
            | Self::NoClasses { path }
            | Self::Image { path, .. }
            | Self::NoSamples { path, .. }
            | Self::Unrecognized { path, .. }
            | Self::Options { path, .. } => path,
        }
    }
}
