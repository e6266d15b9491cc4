//! CIFAR-10 and CIFAR-100 binary versions.

use std::path::{Path, PathBuf};

use crate::{DataError, DatasetInfo, Split, files};

const PIXELS: usize = 3 * 32 * 32;

/// CIFAR-10 class names, in label order.
pub const CIFAR10_LABELS: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// CIFAR-100 fine class names, in label order (`fine_label_names.txt`).
pub const CIFAR100_FINE_LABELS: [&str; 100] = [
    "apple",
    "aquarium_fish",
    "baby",
    "bear",
    "beaver",
    "bed",
    "bee",
    "beetle",
    "bicycle",
    "bottle",
    "bowl",
    "boy",
    "bridge",
    "bus",
    "butterfly",
    "camel",
    "can",
    "castle",
    "caterpillar",
    "cattle",
    "chair",
    "chimpanzee",
    "clock",
    "cloud",
    "cockroach",
    "couch",
    "crab",
    "crocodile",
    "cup",
    "dinosaur",
    "dolphin",
    "elephant",
    "flatfish",
    "forest",
    "fox",
    "girl",
    "hamster",
    "house",
    "kangaroo",
    "keyboard",
    "lamp",
    "lawn_mower",
    "leopard",
    "lion",
    "lizard",
    "lobster",
    "man",
    "maple_tree",
    "motorcycle",
    "mountain",
    "mouse",
    "mushroom",
    "oak_tree",
    "orange",
    "orchid",
    "otter",
    "palm_tree",
    "pear",
    "pickup_truck",
    "pine_tree",
    "plain",
    "plate",
    "poppy",
    "porcupine",
    "possum",
    "rabbit",
    "raccoon",
    "ray",
    "road",
    "rocket",
    "rose",
    "sea",
    "seal",
    "shark",
    "shrew",
    "skunk",
    "skyscraper",
    "snail",
    "snake",
    "spider",
    "squirrel",
    "streetcar",
    "sunflower",
    "sweet_pepper",
    "table",
    "tank",
    "telephone",
    "television",
    "tiger",
    "tractor",
    "train",
    "trout",
    "tulip",
    "turtle",
    "wardrobe",
    "whale",
    "willow_tree",
    "wolf",
    "woman",
    "worm",
];

/// CIFAR-100 coarse (superclass) names, in label order (`coarse_label_names.txt`).
pub const CIFAR100_COARSE_LABELS: [&str; 20] = [
    "aquatic_mammals",
    "fish",
    "flowers",
    "food_containers",
    "fruit_and_vegetables",
    "household_electrical_devices",
    "household_furniture",
    "insects",
    "large_carnivores",
    "large_man-made_outdoor_things",
    "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores",
    "medium_mammals",
    "non-insect_invertebrates",
    "people",
    "reptiles",
    "small_mammals",
    "trees",
    "vehicles_1",
    "vehicles_2",
];

const CIFAR10_SUBDIR: &str = "cifar-10-batches-bin";
const CIFAR100_SUBDIR: &str = "cifar-100-binary";

/// `dir` itself when it holds `marker`, else `dir/subdir` when that does, else `None`.
fn root(dir: &Path, subdir: &str, marker: &str) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.join(subdir)].into_iter().find(|d| d.join(marker).is_file())
}

/// The folder holding the CIFAR-10 batches, if `dir` is one.
pub(crate) fn detect10(dir: &Path) -> bool {
    root(dir, CIFAR10_SUBDIR, "data_batch_1.bin").is_some()
}

/// The folder holding CIFAR-100 `train.bin`, if `dir` is one.
pub(crate) fn detect100(dir: &Path) -> bool {
    root(dir, CIFAR100_SUBDIR, "train.bin").is_some()
}

fn info(name: &str, labels: &[&str], mean: [f32; 3], std: [f32; 3]) -> DatasetInfo {
    DatasetInfo {
        name: name.into(),
        channels: 3,
        height: 32,
        width: 32,
        labels: labels.iter().map(|s| s.to_string()).collect(),
        mean: mean.to_vec(),
        std: std.to_vec(),
    }
}

/// Loads CIFAR-10 `(info, train, test)` from `dir` or `dir/cifar-10-batches-bin`.
pub(crate) fn load10(dir: &Path) -> Result<(DatasetInfo, Split, Split), DataError> {
    let root = root(dir, CIFAR10_SUBDIR, "data_batch_1.bin").unwrap_or_else(|| dir.to_path_buf());
    let mut train = Split::default();
    for i in 1..=5 {
        let part = read_records(&root.join(format!("data_batch_{i}.bin")), 1, 0, 10)?;
        train.images.extend(part.images);
        train.labels.extend(part.labels);
    }
    let test = read_records(&root.join("test_batch.bin"), 1, 0, 10)?;
    let info = info("cifar10", &CIFAR10_LABELS, [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]);
    Ok((info, train, test))
}

/// Loads CIFAR-100 `(info, train, test)` with fine (100) or coarse (20) labels from `dir`
/// or `dir/cifar-100-binary`.
pub(crate) fn load100(dir: &Path, coarse: bool) -> Result<(DatasetInfo, Split, Split), DataError> {
    let root = root(dir, CIFAR100_SUBDIR, "train.bin").unwrap_or_else(|| dir.to_path_buf());
    let (which, classes, name, labels): (usize, usize, &str, &[&str]) = if coarse {
        (0, 20, "cifar100-coarse", &CIFAR100_COARSE_LABELS)
    } else {
        (1, 100, "cifar100", &CIFAR100_FINE_LABELS)
    };
    let train = read_records(&root.join("train.bin"), 2, which, classes)?;
    let test = read_records(&root.join("test.bin"), 2, which, classes)?;
    let info = info(name, labels, [0.5071, 0.4865, 0.4409], [0.2673, 0.2564, 0.2762]);
    Ok((info, train, test))
}

/// Reads records of `label_bytes` label bytes then 3072 pixel bytes (R, G, B planes);
/// keeps label byte `which`, checked against `classes` (the other label bytes are checked too
/// for CIFAR-100: coarse < 20, fine < 100).
fn read_records(
    path: &Path,
    label_bytes: usize,
    which: usize,
    classes: usize,
) -> Result<Split, DataError> {
    let bytes = files::read(path, "CIFAR binary batch")?;
    let record = label_bytes + PIXELS;
    if bytes.is_empty() {
        return Err(DataError::NoSamples {
            path: path.to_path_buf(),
            detail: "the file is empty".into(),
        });
    }
    if bytes.len() % record != 0 {
        return Err(DataError::Truncated {
            path: path.to_path_buf(),
            detail: format!(
                "{} bytes is not a multiple of the {record}-byte record ({} whole records and {} bytes left)",
                bytes.len(),
                bytes.len() / record,
                bytes.len() % record
            ),
        });
    }
    let limits: &[usize] = if label_bytes == 2 { &[20, 100] } else { &[10] };
    let n = bytes.len() / record;
    let mut split = Split { images: Vec::with_capacity(n * PIXELS), labels: Vec::with_capacity(n) };
    for (index, rec) in bytes.chunks_exact(record).enumerate() {
        for (b, &limit) in limits.iter().enumerate() {
            let label = usize::from(rec[b]);
            if label >= limit {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_path_buf(),
                    index,
                    label,
                    classes: limit,
                });
            }
        }
        debug_assert!(usize::from(rec[which]) < classes);
        split.labels.push(rec[which].into());
        split.images.extend_from_slice(&rec[label_bytes..]);
    }
    Ok(split)
}
