//! Class-per-folder image trees: `DIR/<class>/*.png|jpg|jpeg`, or `DIR/train/<class>/…`
//! with `DIR/test/<class>/…` and optionally `DIR/val/<class>/…`.

use std::path::{Path, PathBuf};

use image::imageops::{self, FilterType};

use crate::{DataError, Dataset, DatasetInfo, LoadOptions, Split, files, stratified_split};

const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];
const VAL_NAMES: [&str; 3] = ["val", "valid", "validation"];

/// Whether `dir` has at least one (non-hidden) sub-folder.
pub(crate) fn detect(dir: &Path) -> Result<bool, DataError> {
    Ok(!files::subdirs(dir)?.is_empty())
}

/// Image files and their class labels, before decoding.
#[derive(Debug, Default, Clone)]
struct Listing {
    paths: Vec<PathBuf>,
    labels: Vec<u16>,
}

impl Listing {
    fn pick(&self, indices: &[usize]) -> Listing {
        Listing {
            paths: indices.iter().map(|&i| self.paths[i].clone()).collect(),
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
        }
    }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Sorted image files directly inside `class_dir`; none is [`DataError::EmptyClass`].
fn images_in(class_dir: &Path, class: &str) -> Result<Vec<PathBuf>, DataError> {
    let mut out: Vec<PathBuf> = files::read_dir(class_dir)?
        .into_iter()
        .map(|e| e.path())
        .filter(|p| is_image(p) && p.is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(DataError::EmptyClass {
            path: class_dir.to_path_buf(),
            class: class.to_string(),
        });
    }
    Ok(out)
}

/// Lists the train root: its sub-folders are the classes.
fn list_train(root: &Path) -> Result<(Vec<String>, Listing), DataError> {
    let classes = files::subdirs(root)?;
    if classes.is_empty() {
        return Err(DataError::NoClasses { path: root.to_path_buf() });
    }
    if classes.len() > usize::from(u16::MAX) {
        return Err(DataError::Format {
            path: root.to_path_buf(),
            detail: format!("{} class folders, at most {} are supported", classes.len(), u16::MAX),
        });
    }
    let mut listing = Listing::default();
    for (label, (name, path)) in classes.iter().enumerate() {
        for file in images_in(path, name)? {
            listing.paths.push(file);
            listing.labels.push(label as u16);
        }
    }
    Ok((classes.into_iter().map(|(name, _)| name).collect(), listing))
}

/// Lists a val/test root whose class folders must be among `classes` (some may be absent).
fn list_other(root: &Path, classes: &[String]) -> Result<Listing, DataError> {
    let found = files::subdirs(root)?;
    if found.is_empty() {
        return Err(DataError::NoClasses { path: root.to_path_buf() });
    }
    let mut listing = Listing::default();
    for (name, path) in found {
        let Some(label) = classes.iter().position(|c| *c == name) else {
            return Err(DataError::Mismatch {
                path,
                detail: format!("class `{name}` is not one of the train classes {classes:?}"),
            });
        };
        for file in images_in(&path, &name)? {
            listing.paths.push(file);
            listing.labels.push(label as u16);
        }
    }
    Ok(listing)
}

/// Loads an image-folder tree, splitting, limiting, resizing and normalizing as `opts` say.
pub(crate) fn load(dir: &Path, opts: &LoadOptions) -> Result<Dataset, DataError> {
    let options = |detail: String| DataError::Options { path: dir.to_path_buf(), detail };
    let channels = opts.channels.unwrap_or(3);
    if channels != 1 && channels != 3 {
        return Err(options(format!("channels must be 1 or 3, not {channels}")));
    }
    if let Some((h, w)) = opts.image_size
        && (h == 0 || w == 0 || h > 4096 || w > 4096)
    {
        return Err(options(format!("image size {h}x{w} must be between 1x1 and 4096x4096")));
    }

    let split_layout = dir.join("train").is_dir();
    let train_root = if split_layout { dir.join("train") } else { dir.to_path_buf() };
    let (classes, all_train) = list_train(&train_root)?;
    let val_root = VAL_NAMES.iter().map(|n| dir.join(n)).find(|p| split_layout && p.is_dir());
    let test_root = Some(dir.join("test")).filter(|p| split_layout && p.is_dir());
    let val_listing = val_root.as_deref().map(|r| list_other(r, &classes)).transpose()?;
    let test_listing = test_root.as_deref().map(|r| list_other(r, &classes)).transpose()?;

    // Carve the missing splits from train: val_fraction each.
    let missing = usize::from(val_listing.is_none()) + usize::from(test_listing.is_none());
    let keep = 1.0 - opts.val_fraction * missing as f64;
    if keep <= 0.0 {
        return Err(options(format!(
            "val_fraction {} leaves no training images when carving {missing} split(s) from them",
            opts.val_fraction
        )));
    }
    let mut fractions = vec![keep];
    fractions.resize(1 + missing, opts.val_fraction);
    let groups = stratified_split(&all_train.labels, &fractions, opts.seed);
    let mut carved = groups[1..].iter().map(|g| all_train.pick(g));
    let train = all_train.pick(&groups[0]);
    let val = val_listing.unwrap_or_else(|| carved.next().unwrap_or_default());
    let test = test_listing.unwrap_or_else(|| carved.next().unwrap_or_default());

    // Limit before decoding, so that a quick run does not decode the whole tree.
    let limited = |listing: Listing, salt: u64| match opts.limit {
        Some(limit) if limit < listing.labels.len() => {
            let fraction = limit as f64 / listing.labels.len() as f64;
            let keep = stratified_split(&listing.labels, &[fraction], opts.seed.wrapping_add(salt));
            listing.pick(&keep[0])
        }
        _ => listing,
    };
    let (train, val, test) = (limited(train, 1), limited(val, 2), limited(test, 3));

    let (height, width) = match opts.image_size {
        Some(size) => size,
        None => first_size(&all_train.paths[0])?,
    };
    let decode = |listing: Listing| -> Result<Split, DataError> {
        Ok(Split {
            images: decode_all(&listing.paths, height, width, channels)?,
            labels: listing.labels,
        })
    };
    let (train, val, test) = (decode(train)?, decode(val)?, decode(test)?);
    let (mean, std) = channel_stats(&train.images, channels, height * width);
    let info = DatasetInfo {
        name: dataset_name(dir),
        channels,
        height,
        width,
        labels: classes,
        mean,
        std,
    };
    Ok(Dataset { info, train, val, test })
}

/// `(height, width)` of an image, from its header.
fn first_size(path: &Path) -> Result<(usize, usize), DataError> {
    let (w, h) = open(path)?
        .into_dimensions()
        .map_err(|e| DataError::Image { path: path.to_path_buf(), detail: e.to_string() })?;
    Ok((h as usize, w as usize))
}

fn open(path: &Path) -> Result<image::ImageReader<std::io::BufReader<std::fs::File>>, DataError> {
    let io = |error: std::io::Error| DataError::Io { path: path.to_path_buf(), error };
    image::ImageReader::open(path).map_err(io)?.with_guessed_format().map_err(io)
}

/// Decodes one image to `channels` × `height` × `width` bytes (CHW), resizing when needed.
fn decode(path: &Path, height: usize, width: usize, channels: usize) -> Result<Vec<u8>, DataError> {
    let image = open(path)?
        .decode()
        .map_err(|e| DataError::Image { path: path.to_path_buf(), detail: e.to_string() })?;
    let (w, h) = (width as u32, height as u32);
    let same = image.width() == w && image.height() == h;
    if channels == 1 {
        let gray = image.to_luma8();
        let gray = if same { gray } else { imageops::resize(&gray, w, h, FilterType::Triangle) };
        return Ok(gray.into_raw());
    }
    let rgb = image.to_rgb8();
    let rgb = if same { rgb } else { imageops::resize(&rgb, w, h, FilterType::Triangle) };
    let plane = height * width;
    let mut chw = vec![0u8; 3 * plane];
    for (i, px) in rgb.as_raw().chunks_exact(3).enumerate() {
        chw[i] = px[0];
        chw[plane + i] = px[1];
        chw[2 * plane + i] = px[2];
    }
    Ok(chw)
}

/// Decodes images on a few threads, keeping their order; the first failure (in order) wins.
fn decode_all(
    paths: &[PathBuf],
    height: usize,
    width: usize,
    channels: usize,
) -> Result<Vec<u8>, DataError> {
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let chunk = paths.len().div_ceil(threads);
    let parts: Vec<Result<Vec<u8>, DataError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = paths
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len() * channels * height * width);
                    for path in part {
                        out.extend(decode(path, height, width, channels)?);
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .zip(paths.chunks(chunk))
            .map(|(handle, part)| {
                handle.join().unwrap_or_else(|_| {
                    Err(DataError::Image {
                        path: part[0].clone(),
                        detail: "the decoder panicked".into(),
                    })
                })
            })
            .collect()
    });
    let mut images = Vec::with_capacity(paths.len() * channels * height * width);
    for part in parts {
        images.extend(part?);
    }
    Ok(images)
}

/// Per-channel mean and standard deviation of pixels scaled to [0, 1] (CHW images with
/// `plane` pixels per channel). A constant channel gets std 1 to avoid dividing by 0.
fn channel_stats(images: &[u8], channels: usize, plane: usize) -> (Vec<f32>, Vec<f32>) {
    let mut histograms = vec![[0u64; 256]; channels];
    for image in images.chunks_exact(channels * plane) {
        for (c, values) in image.chunks_exact(plane).enumerate() {
            for &v in values {
                histograms[c][usize::from(v)] += 1;
            }
        }
    }
    histograms
        .iter()
        .map(|h| {
            let n: u64 = h.iter().sum();
            if n == 0 {
                return (0.0, 1.0);
            }
            let (sum, sum_sq) = h.iter().enumerate().fold((0.0f64, 0.0f64), |(s, q), (v, &k)| {
                let x = v as f64 / 255.0;
                (s + x * k as f64, q + x * x * k as f64)
            });
            let mean = sum / n as f64;
            let std = (sum_sq / n as f64 - mean * mean).max(0.0).sqrt();
            (mean as f32, if std < 1e-6 { 1.0 } else { std as f32 })
        })
        .unzip()
}

/// A file-name-safe dataset name from the folder's name.
fn dataset_name(dir: &Path) -> String {
    let full = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let raw = full.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '-' })
        .collect();
    let name = name.trim_matches(|c| c == '-' || c == '.').to_string();
    if name.is_empty() { "images".into() } else { name }
}
