//! Tiny files of every supported format, valid and broken, built in temporary folders.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use tempfile::TempDir;
use zoo_data::{DataError, DataSource, Dataset, LoadOptions, Split, load, stratified_split};

// ---------------------------------------------------------------- helpers ---

fn opts() -> LoadOptions {
    LoadOptions::default()
}

/// Asserts an error whose message names `file` and contains every one of `words`.
fn expect_err(result: Result<Dataset, DataError>, file: &Path, words: &[&str]) -> DataError {
    let err = match result {
        Ok(_) => panic!("expected an error about {}", file.display()),
        Err(err) => err,
    };
    let message = err.to_string();
    assert!(
        message.contains(&file.display().to_string()),
        "`{message}` does not name {}",
        file.display()
    );
    for word in words {
        assert!(message.contains(word), "`{message}` does not say `{word}`");
    }
    assert_eq!(err.path(), file);
    err
}

fn class_counts(split: &Split, classes: usize) -> Vec<usize> {
    let mut counts = vec![0; classes];
    for &l in &split.labels {
        counts[usize::from(l)] += 1;
    }
    counts
}

fn gz(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn idx_images(n: usize, h: usize, w: usize, pixel: impl Fn(usize, usize) -> u8) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 3];
    for d in [n, h, w] {
        out.extend((d as u32).to_be_bytes());
    }
    for i in 0..n {
        out.extend((0..h * w).map(|p| pixel(i, p)));
    }
    out
}

fn idx_labels(labels: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, 1];
    out.extend((labels.len() as u32).to_be_bytes());
    out.extend_from_slice(labels);
    out
}

/// `k` samples of each of the 10 digits, labels cycling 0..9.
fn cycle_labels(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 10) as u8).collect()
}

/// Writes an IDX set: `n_train`/`n_test` images of 4x5 (h x w); pixel = label*10 + position.
fn write_idx(dir: &Path, n_train: usize, n_test: usize, gzip: bool, dotted: bool) {
    let name = |base: &str, kind: &str| {
        let mut n =
            if dotted { format!("{base}.{kind}-ubyte") } else { format!("{base}-{kind}-ubyte") };
        if gzip {
            n.push_str(".gz");
        }
        n
    };
    let write = |file: String, bytes: Vec<u8>| {
        fs::write(dir.join(file), if gzip { gz(&bytes) } else { bytes }).unwrap();
    };
    for (base, n) in [("train", n_train), ("t10k", n_test)] {
        let labels = cycle_labels(n);
        write(
            name(&format!("{base}-images"), "idx3"),
            idx_images(n, 4, 5, |i, p| labels[i] * 10 + p as u8),
        );
        write(name(&format!("{base}-labels"), "idx1"), idx_labels(&labels));
    }
}

/// A CIFAR record: label bytes then R, G, B planes of 32x32 (R = first label, G = 100, B = 200).
fn cifar_record(labels: &[u8]) -> Vec<u8> {
    let mut out = labels.to_vec();
    out.extend(std::iter::repeat_n(labels[0], 1024));
    out.extend(std::iter::repeat_n(100, 1024));
    out.extend(std::iter::repeat_n(200, 1024));
    out
}

fn write_cifar10(dir: &Path, per_batch: usize, n_test: usize) {
    fs::create_dir_all(dir).unwrap();
    for b in 1..=5 {
        let bytes: Vec<u8> =
            (0..per_batch).flat_map(|i| cifar_record(&[((b + i) % 10) as u8])).collect();
        fs::write(dir.join(format!("data_batch_{b}.bin")), bytes).unwrap();
    }
    let bytes: Vec<u8> = (0..n_test).flat_map(|i| cifar_record(&[(i % 10) as u8])).collect();
    fs::write(dir.join("test_batch.bin"), bytes).unwrap();
}

/// CIFAR-100 records with fine label `i % 100` and coarse label `i % 20`.
fn cifar100_bytes(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| cifar_record(&[(i % 20) as u8, (i % 100) as u8])).collect()
}

fn write_png(path: &Path, w: u32, h: u32, rgb: [u8; 3]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let buf: Vec<u8> = (0..w * h).flat_map(|_| rgb).collect();
    image::save_buffer(path, &buf, w, h, image::ExtendedColorType::Rgb8).unwrap();
}

/// `dir/<class>/<i>.png` for each class, `per_class` images of `w`x`h`, coloured
/// (100c, i, 255 - 100c) for image `i` of class `c`.
fn write_folder(dir: &Path, classes: &[&str], per_class: usize, w: u32, h: u32) {
    for (c, class) in classes.iter().enumerate() {
        for i in 0..per_class {
            let v = (c * 100) as u8;
            write_png(&dir.join(class).join(format!("{i:03}.png")), w, h, [v, i as u8, 255 - v]);
        }
    }
}

// -------------------------------------------------------------------- IDX ---

#[test]
fn idx_raw_loads_with_stratified_val() {
    let tmp = TempDir::new().unwrap();
    write_idx(tmp.path(), 100, 20, false, false);
    let source = DataSource::parse(tmp.path().to_str().unwrap()).unwrap();
    assert_eq!(source, DataSource::Idx { dir: tmp.path().to_path_buf() });
    let data = load(&source, &LoadOptions { val_fraction: 0.2, ..opts() }).unwrap();
    let info = &data.info;
    assert_eq!(info.name, "mnist");
    assert_eq!((info.channels, info.height, info.width, info.num_classes()), (1, 4, 5, 10));
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (80, 20, 20));
    assert_eq!(class_counts(&data.val, 10), vec![2; 10]);
    assert_eq!(class_counts(&data.train, 10), vec![8; 10]);
    for split in [&data.train, &data.val, &data.test] {
        assert_eq!(split.images.len(), split.len() * 20);
        // Pixel p of an image with label l is l*10 + p: checks pairing and row order.
        for (img, &l) in split.images.chunks_exact(20).zip(&split.labels) {
            assert!(img.iter().enumerate().all(|(p, &v)| v == l as u8 * 10 + p as u8));
        }
    }
    // Deterministic per seed; another seed gives another val split.
    assert_eq!(data, load(&source, &LoadOptions { val_fraction: 0.2, ..opts() }).unwrap());
    let other = load(&source, &LoadOptions { val_fraction: 0.2, seed: 1, ..opts() }).unwrap();
    assert_ne!(other.val, data.val);
    assert_eq!(other.test, data.test);
}

#[test]
fn idx_gz_and_dotted_names_and_fashion() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("Fashion-MNIST");
    fs::create_dir(&dir).unwrap();
    write_idx(&dir, 30, 10, true, true);
    let source = DataSource::parse(dir.to_str().unwrap()).unwrap();
    assert!(matches!(source, DataSource::Idx { .. }));
    let data = load(&source, &opts()).unwrap();
    assert_eq!(data.info.name, "fashion-mnist");
    assert_eq!(data.info.labels[9], "Ankle boot");
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (27, 3, 10));
    // Also gzip data in a file not named .gz.
    let plain = tmp.path().join("plain");
    fs::create_dir(&plain).unwrap();
    write_idx(&plain, 30, 10, false, false);
    let path = plain.join("t10k-labels-idx1-ubyte");
    fs::write(&path, gz(&fs::read(&path).unwrap())).unwrap();
    assert_eq!(load(&DataSource::Idx { dir: plain }, &opts()).unwrap().test.len(), 10);
}

fn idx_dir() -> (TempDir, PathBuf) {
    let tmp = TempDir::new().unwrap();
    write_idx(tmp.path(), 30, 10, false, false);
    let dir = tmp.path().to_path_buf();
    (tmp, dir)
}

#[test]
fn idx_missing_file() {
    let (_tmp, dir) = idx_dir();
    let file = dir.join("t10k-labels-idx1-ubyte");
    fs::remove_file(&file).unwrap();
    expect_err(load(&DataSource::Idx { dir }, &opts()), &file, &["not found", "IDX label file"]);
}

#[test]
fn idx_truncated() {
    let (_tmp, dir) = idx_dir();
    let file = dir.join("train-images-idx3-ubyte");
    let bytes = fs::read(&file).unwrap();
    fs::write(&file, &bytes[..bytes.len() - 7]).unwrap();
    expect_err(
        load(&DataSource::Idx { dir: dir.clone() }, &opts()),
        &file,
        &["truncated", "600 data bytes"],
    );
    fs::write(&file, &bytes[..10]).unwrap();
    expect_err(load(&DataSource::Idx { dir }, &opts()), &file, &["truncated", "header needs 16"]);
}

#[test]
fn idx_corrupt_gzip() {
    let (_tmp, dir) = idx_dir();
    fs::remove_file(dir.join("train-labels-idx1-ubyte")).unwrap();
    let file = dir.join("train-labels-idx1-ubyte.gz");
    let mut bytes = gz(&idx_labels(&cycle_labels(30)));
    bytes.truncate(bytes.len() - 12);
    fs::write(&file, &bytes).unwrap();
    expect_err(load(&DataSource::Idx { dir: dir.clone() }, &opts()), &file, &["corrupt gzip"]);
    fs::write(&file, b"plain text, not gzip").unwrap();
    expect_err(load(&DataSource::Idx { dir }, &opts()), &file, &["corrupt gzip", "not gzip"]);
}

#[test]
fn idx_wrong_magic_and_dims() {
    let (_tmp, dir) = idx_dir();
    let file = dir.join("t10k-images-idx3-ubyte");
    // A label file where images belong.
    fs::write(&file, idx_labels(&cycle_labels(10))).unwrap();
    expect_err(
        load(&DataSource::Idx { dir: dir.clone() }, &opts()),
        &file,
        &["wrong IDX magic", "0x00000801"],
    );
    // Images of another size than the training images.
    fs::write(&file, idx_images(10, 5, 4, |_, _| 0)).unwrap();
    expect_err(
        load(&DataSource::Idx { dir: dir.clone() }, &opts()),
        &file,
        &["mismatch", "5x4", "4x5"],
    );
    // A zero side.
    fs::write(&file, idx_images(10, 0, 4, |_, _| 0)).unwrap();
    expect_err(load(&DataSource::Idx { dir: dir.clone() }, &opts()), &file, &["zero side"]);
    // Trailing bytes.
    let mut bytes = idx_images(10, 4, 5, |_, _| 0);
    bytes.push(0);
    fs::write(&file, bytes).unwrap();
    expect_err(
        load(&DataSource::Idx { dir }, &opts()),
        &file,
        &["invalid format", "201 data bytes"],
    );
}

#[test]
fn idx_count_mismatch_label_range_and_empty() {
    let (_tmp, dir) = idx_dir();
    let file = dir.join("train-labels-idx1-ubyte");
    fs::write(&file, idx_labels(&cycle_labels(29))).unwrap();
    expect_err(
        load(&DataSource::Idx { dir: dir.clone() }, &opts()),
        &file,
        &["mismatch", "29 labels", "30 images"],
    );
    let mut labels = cycle_labels(30);
    labels[17] = 10;
    fs::write(&file, idx_labels(&labels)).unwrap();
    expect_err(
        load(&DataSource::Idx { dir: dir.clone() }, &opts()),
        &file,
        &["label 10 of record 17", "out of range"],
    );
    fs::write(&file, idx_labels(&[])).unwrap();
    let images = dir.join("train-images-idx3-ubyte");
    fs::write(&images, idx_images(0, 4, 5, |_, _| 0)).unwrap();
    expect_err(load(&DataSource::Idx { dir }, &opts()), &images, &["0 samples"]);
}

// --------------------------------------------------------------- CIFAR-10 ---

#[test]
fn cifar10_loads_from_dir_or_subdir() {
    let tmp = TempDir::new().unwrap();
    write_cifar10(&tmp.path().join("cifar-10-batches-bin"), 10, 10);
    let source = DataSource::parse(tmp.path().to_str().unwrap()).unwrap();
    assert_eq!(source, DataSource::Cifar10 { dir: tmp.path().to_path_buf() });
    let data = load(&source, &opts()).unwrap();
    let info = &data.info;
    assert_eq!(
        (info.name.as_str(), info.channels, info.height, info.width),
        ("cifar10", 3, 32, 32)
    );
    assert_eq!(info.labels, zoo_data::CIFAR10_LABELS);
    assert_eq!(info.labels[0], "airplane");
    assert_eq!(info.mean.len(), 3);
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (45, 5, 10));
    assert_eq!(class_counts(&data.test, 10), vec![1; 10]);
    // Planes stay NCHW: R = label, G = 100, B = 200.
    for (img, &l) in data.train.images.chunks_exact(3072).zip(&data.train.labels) {
        assert!(img[..1024].iter().all(|&v| v == l as u8));
        assert!(img[1024..2048].iter().all(|&v| v == 100) && img[2048..].iter().all(|&v| v == 200));
    }
    let direct =
        DataSource::parse(tmp.path().join("cifar-10-batches-bin").to_str().unwrap()).unwrap();
    assert_eq!(load(&direct, &opts()).unwrap(), data);
}

#[test]
fn cifar10_errors() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().to_path_buf();
    write_cifar10(&dir, 4, 4);
    let source = DataSource::Cifar10 { dir: dir.clone() };
    let file = dir.join("data_batch_3.bin");
    fs::remove_file(&file).unwrap();
    expect_err(load(&source, &opts()), &file, &["not found"]);
    fs::write(&file, vec![0u8; 3073 * 2 + 5]).unwrap();
    expect_err(
        load(&source, &opts()),
        &file,
        &["truncated", "not a multiple of the 3073-byte record"],
    );
    let mut bytes = cifar_record(&[3]);
    bytes.extend(cifar_record(&[10]));
    fs::write(&file, bytes).unwrap();
    expect_err(load(&source, &opts()), &file, &["label 10 of record 1", "out of range"]);
    fs::write(&file, b"").unwrap();
    expect_err(load(&source, &opts()), &file, &["0 samples", "empty"]);
}

// -------------------------------------------------------------- CIFAR-100 ---

#[test]
fn cifar100_fine_and_coarse() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("cifar-100-binary");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("train.bin"), cifar100_bytes(200)).unwrap();
    fs::write(dir.join("test.bin"), cifar100_bytes(100)).unwrap();
    let spec = tmp.path().to_str().unwrap();
    let source = DataSource::parse(spec).unwrap();
    assert_eq!(source, DataSource::Cifar100 { dir: tmp.path().to_path_buf(), coarse: false });
    let fine = load(&source, &opts()).unwrap();
    assert_eq!((fine.info.name.as_str(), fine.info.num_classes()), ("cifar100", 100));
    assert_eq!(fine.info.labels[99], "worm");
    assert_eq!((fine.train.len(), fine.val.len(), fine.test.len()), (180, 20, 100));
    assert_eq!(fine.test.labels, (0..100).collect::<Vec<u16>>());

    let coarse_source = DataSource::parse(&format!("cifar100-coarse:{spec}")).unwrap();
    assert_eq!(coarse_source, DataSource::Cifar100 { dir: tmp.path().to_path_buf(), coarse: true });
    let coarse = load(&coarse_source, &opts()).unwrap();
    assert_eq!((coarse.info.name.as_str(), coarse.info.num_classes()), ("cifar100-coarse", 20));
    assert_eq!(coarse.info.labels[19], "vehicles_2");
    assert_eq!(coarse.test.labels, (0..100).map(|i| i % 20).collect::<Vec<u16>>());
    assert_eq!(class_counts(&coarse.val, 20), vec![1; 20]);
}

#[test]
fn cifar100_errors() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().to_path_buf();
    let (train, test) = (dir.join("train.bin"), dir.join("test.bin"));
    fs::write(&train, cifar100_bytes(40)).unwrap();
    let source = DataSource::Cifar100 { dir: dir.clone(), coarse: false };
    expect_err(load(&source, &opts()), &test, &["not found"]);
    fs::write(&test, &cifar100_bytes(10)[..3074 * 10 - 1]).unwrap();
    expect_err(
        load(&source, &opts()),
        &test,
        &["truncated", "9 whole records and 3073 bytes left"],
    );
    let mut bytes = cifar100_bytes(2);
    bytes.extend(cifar_record(&[20, 5]));
    fs::write(&test, &bytes).unwrap();
    expect_err(load(&source, &opts()), &test, &["label 20 of record 2", "0..=19"]);
    let mut bytes = cifar100_bytes(2);
    bytes.extend(cifar_record(&[5, 100]));
    fs::write(&test, &bytes).unwrap();
    expect_err(load(&source, &opts()), &test, &["label 100 of record 2", "0..=99"]);
}

// ----------------------------------------------------------- image folder ---

#[test]
fn folder_flat_layout() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("my pets!");
    let written = ["zebra", "cat", "dog"];
    write_folder(&dir, &written, 10, 8, 6);
    // Noise that must be ignored: a text file, a hidden folder, a file at the root.
    fs::write(dir.join("cat").join("notes.txt"), "x").unwrap();
    fs::create_dir_all(dir.join(".cache")).unwrap();
    fs::write(dir.join("README"), "x").unwrap();
    let source = DataSource::parse(dir.to_str().unwrap()).unwrap();
    assert_eq!(source, DataSource::ImageFolder { dir: dir.clone() });
    let data = load(&source, &opts()).unwrap();
    let info = &data.info;
    assert_eq!(info.name, "my-pets");
    assert_eq!(info.labels, ["cat", "dog", "zebra"]);
    assert_eq!((info.channels, info.height, info.width), (3, 6, 8));
    // val_fraction 0.1 carved twice: val and test.
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (24, 3, 3));
    assert_eq!(class_counts(&data.val, 3), vec![1; 3]);
    assert_eq!(class_counts(&data.test, 3), vec![1; 3]);
    // Colours: written class c is (100c, i, 255-100c) in CHW planes of 48.
    for (img, &l) in data.train.images.chunks_exact(3 * 48).zip(&data.train.labels) {
        let c = written.iter().position(|&w| w == info.labels[usize::from(l)]).unwrap();
        let v = c as u8 * 100;
        assert!(img[..48].iter().all(|&p| p == v) && img[96..].iter().all(|&p| p == 255 - v));
        assert!(img[48..96].iter().all(|&p| p == img[48]) && img[48] < 10);
    }
    // Train has 8 of each class: mean of channel 0 is (0 + 100 + 200) / 3 / 255.
    assert!((info.mean[0] - 100.0 / 255.0).abs() < 1e-6, "{:?}", info.mean);
    assert!((info.mean[2] - 155.0 / 255.0).abs() < 1e-6, "{:?}", info.mean);
    let std = (2.0f32 / 3.0).sqrt() * 100.0 / 255.0;
    assert!((info.std[0] - std).abs() < 1e-5, "{:?}", info.std);
    assert_eq!(data, load(&source, &opts()).unwrap());
    let other = load(&source, &LoadOptions { seed: 9, ..opts() }).unwrap();
    assert_ne!((&other.val, &other.test), (&data.val, &data.test));
}

#[test]
fn folder_split_layout_resize_gray_jpeg() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().join("shapes");
    write_folder(&dir.join("train"), &["a", "b"], 5, 9, 7);
    write_folder(&dir.join("val"), &["a", "b"], 2, 9, 7);
    write_folder(&dir.join("test"), &["b"], 3, 12, 12);
    // A JPEG with an upper-case extension in train/a.
    let buf = vec![128u8; 16 * 16 * 3];
    image::save_buffer(dir.join("train/a/z.jpg"), &buf, 16, 16, image::ExtendedColorType::Rgb8)
        .unwrap();
    fs::rename(dir.join("train/a/z.jpg"), dir.join("train/a/z.JPG")).unwrap();
    let source = DataSource::parse(dir.to_str().unwrap()).unwrap();
    let opts = LoadOptions { image_size: Some((4, 4)), channels: Some(1), ..opts() };
    let data = load(&source, &opts).unwrap();
    assert_eq!((data.info.channels, data.info.height, data.info.width), (1, 4, 4));
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (11, 4, 3));
    assert_eq!(data.test.labels, vec![1, 1, 1]);
    assert_eq!(data.train.images.len(), 11 * 16);
    assert_eq!(data.info.mean.len(), 1);
    // Without val/: carved from train; without image_size: the first image's size (9x7).
    fs::remove_dir_all(dir.join("val")).unwrap();
    let data = load(&source, &LoadOptions { val_fraction: 0.2, ..LoadOptions::default() }).unwrap();
    assert_eq!((data.info.height, data.info.width, data.info.channels), (7, 9, 3));
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (9, 2, 3));
}

#[test]
fn folder_limit_before_decoding() {
    let tmp = TempDir::new().unwrap();
    write_folder(tmp.path(), &["x", "y", "z"], 20, 4, 4);
    let source = DataSource::ImageFolder { dir: tmp.path().to_path_buf() };
    let data = load(&source, &LoadOptions { limit: Some(6), ..opts() }).unwrap();
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (6, 6, 6));
    assert_eq!(class_counts(&data.train, 3), vec![2; 3]);
}

#[test]
fn folder_errors() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path().to_path_buf();
    write_folder(&dir, &["a", "b"], 5, 4, 4);
    let source = DataSource::ImageFolder { dir: dir.clone() };

    let empty = dir.join("c");
    fs::create_dir(&empty).unwrap();
    fs::write(empty.join("readme.txt"), "no images").unwrap();
    expect_err(load(&source, &opts()), &empty, &["empty class folder `c`"]);
    fs::remove_dir_all(&empty).unwrap();

    let bad = dir.join("b").join("002.png");
    fs::write(&bad, b"\x89PNG\r\n\x1a\n but then garbage").unwrap();
    expect_err(load(&source, &opts()), &bad, &["cannot decode image"]);
    fs::write(&bad, b"not an image at all").unwrap();
    expect_err(load(&source, &opts()), &bad, &["cannot decode image"]);
    write_png(&bad, 4, 4, [0, 0, 0]);

    expect_err(
        load(&source, &LoadOptions { channels: Some(2), ..opts() }),
        &dir,
        &["channels must be 1 or 3"],
    );
    expect_err(
        load(&source, &LoadOptions { image_size: Some((0, 4)), ..opts() }),
        &dir,
        &["image size 0x4"],
    );
    expect_err(
        load(&source, &LoadOptions { val_fraction: 0.5, ..opts() }),
        &dir,
        &["val_fraction 0.5"],
    );
    expect_err(
        load(&source, &LoadOptions { val_fraction: 1.5, ..opts() }),
        &dir,
        &["val_fraction must be"],
    );
    expect_err(load(&source, &LoadOptions { limit: Some(0), ..opts() }), &dir, &["limit"]);
    // Too few images for a test split: 0 samples.
    expect_err(
        load(&source, &LoadOptions { val_fraction: 0.01, ..opts() }),
        &dir,
        &["0 samples", "val"],
    );

    // Split layout: a test class unknown to train.
    let split = tmp.path().join("split");
    write_folder(&split.join("train"), &["a", "b"], 3, 4, 4);
    write_folder(&split.join("test"), &["a", "q"], 1, 4, 4);
    let source = DataSource::ImageFolder { dir: split.clone() };
    expect_err(
        load(&source, &opts()),
        &split.join("test").join("q"),
        &["class `q` is not one of the train classes"],
    );

    // No class folders at all.
    let flat = tmp.path().join("flat");
    write_png(&flat.join("one.png"), 4, 4, [1, 2, 3]);
    expect_err(
        load(&DataSource::ImageFolder { dir: flat.clone() }, &opts()),
        &flat,
        &["no class folders"],
    );
    let err = DataSource::parse(flat.to_str().unwrap()).unwrap_err();
    assert!(
        matches!(err, DataError::Unrecognized { .. }) && err.to_string().contains("flat"),
        "{err}"
    );
}

// ------------------------------------------------------------------ parse ---

#[test]
fn parse_errors_and_prefixes() {
    let tmp = TempDir::new().unwrap();
    let missing = tmp.path().join("nope");
    let err = DataSource::parse(missing.to_str().unwrap()).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }) && err.to_string().contains("nope"), "{err}");
    let err = DataSource::parse("mnsit").unwrap_err().to_string();
    assert!(err.contains("mnsit") && err.contains("`mnist`"), "{err}");

    let file = tmp.path().join("cifar-10-binary.tar.gz");
    fs::write(&file, b"x").unwrap();
    let err = DataSource::parse(file.to_str().unwrap()).unwrap_err().to_string();
    assert!(err.contains("cifar-10-binary.tar.gz") && err.contains("is a file"), "{err}");

    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    let err = DataSource::parse(empty.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        err.contains("not a recognized dataset") && err.contains("train-images-idx3-ubyte"),
        "{err}"
    );

    let spec = empty.to_str().unwrap();
    assert_eq!(
        DataSource::parse(&format!("idx:{spec}")).unwrap(),
        DataSource::Idx { dir: empty.clone() }
    );
    assert_eq!(
        DataSource::parse(&format!("cifar10:{spec}")).unwrap(),
        DataSource::Cifar10 { dir: empty.clone() }
    );
    assert_eq!(
        DataSource::parse(&format!("cifar100:{spec}")).unwrap(),
        DataSource::Cifar100 { dir: empty.clone(), coarse: false }
    );
    assert_eq!(
        DataSource::parse(&format!("folder:{spec}")).unwrap(),
        DataSource::ImageFolder { dir: empty.clone() }
    );
    // A forced kind whose files are absent: the missing file is named.
    let err = load(&DataSource::parse(&format!("idx:{spec}")).unwrap(), &opts()).unwrap_err();
    assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
    let err = DataSource::parse(&format!("cifar10:{}", missing.display())).unwrap_err();
    assert!(matches!(err, DataError::Missing { .. }), "{err}");
}

#[test]
fn stratified_split_is_public_and_deterministic() {
    let labels: Vec<u16> = (0..90).map(|i| (i % 3) as u16).collect();
    let a = stratified_split(&labels, &[0.8, 0.2], 42);
    assert_eq!(a, stratified_split(&labels, &[0.8, 0.2], 42));
    assert_eq!((a[0].len(), a[1].len()), (72, 18));
    assert!((0..3).all(|c| a[1].iter().filter(|&&i| labels[i] == c).count() == 6));
}
