//! ONNX export and ONNX Runtime verification of resnet8 members (1 × 28 × 28, 10 classes),
//! step by step as the pipeline's export stage runs them for each member:
//!
//! - `export/export_model`: burn model → ONNX graph (`zoo_export::export_model`) and its
//!   serialization (`to_bytes`);
//! - `export/export_verified`: `zoo_export::export_verified` on the pipeline's 8-image batch
//!   (export + burn logits + ORT session + comparison);
//! - `export/write`: `Verified::write` (model + `test_data_set_0/`, atomically, temp dir);
//! - `export/ort_session`: an ORT session from the in-memory model;
//! - `export/ort_accuracy_2000`: ORT predictions on the 1,000 test + 1,000 val images in
//!   batches of 250, with an open session;
//! - `export/member`: all of the above for one member, as `pdiff-zoo run` does it.
//!
//! One iteration = one member. The ORT benches are skipped (with a message) when ONNX
//! Runtime cannot be loaded (`source scripts/env.sh` sets `ORT_DYLIB_PATH`).
//! Run: `cargo bench -p pdiff-zoo-benches --bench export`.

use std::time::Duration;

use burn::prelude::*;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use zoo_data::{DataSource, LoadOptions};
use zoo_export::{ExportOptions, LOGITS_NAME, export_model, export_verified, ort_predictions};
use zoo_verify::OrtModel;

const ARCH: &str = "resnet8";
/// Images of the verification batch (`TEST_BATCH` of the pipeline).
const VERIFY_BATCH: usize = 8;
/// Images per ORT call when scoring a split (`ORT_BATCH` of the pipeline).
const ORT_BATCH: usize = 250;

fn export(c: &mut Criterion) {
    let device = Device::flex();
    let data = zoo_data::load(&DataSource::parse("mnist").unwrap(), &LoadOptions::default())
        .expect("embedded MNIST");
    let info = &data.info;
    let image = [info.channels, info.height, info.width];
    let all =
        |split: &zoo_data::Split| split.normalized(info, &(0..split.len()).collect::<Vec<_>>());
    let (test, val) = (all(&data.test), all(&data.val));
    let batch = &test[..VERIFY_BATCH * info.image_len()];
    let shape = [VERIFY_BATCH, image[0], image[1], image[2]];
    let spec = zoo_models::find(ARCH).unwrap().spec.with_io(image, info.num_classes());
    device.seed(0);
    let model = spec.init(&device);
    let opts = ExportOptions::default();

    let mut group = c.benchmark_group("export");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(1));
    group.bench_function("export_model", |b| {
        b.iter(|| export_model(&model, &spec, &opts).unwrap().to_bytes().unwrap())
    });
    let verified = match export_verified(&model, &spec, &opts, batch, shape, &device) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("skipping the ONNX Runtime benches: {e}");
            group.finish();
            return;
        }
    };
    group.bench_function("export_verified", |b| {
        b.iter(|| export_verified(&model, &spec, &opts, batch, shape, &device).unwrap())
    });
    let dir = std::env::temp_dir().join(format!("pdiff-zoo-bench-{}", std::process::id()));
    let path = dir.join("resnet8.g000").join("model.onnx");
    group.bench_function("write", |b| b.iter(|| verified.write(&path).unwrap()));
    group.bench_function("ort_session", |b| {
        b.iter(|| OrtModel::from_model(&verified.model, ARCH).unwrap())
    });
    let mut ort = OrtModel::from_model(&verified.model, ARCH).unwrap();
    group.bench_function("ort_accuracy_2000", |b| {
        b.iter(|| {
            let t = ort_predictions(&mut ort, &test, image, LOGITS_NAME, ORT_BATCH).unwrap();
            let v = ort_predictions(&mut ort, &val, image, LOGITS_NAME, ORT_BATCH).unwrap();
            t.len() + v.len()
        })
    });
    group.bench_function("member", |b| {
        b.iter(|| {
            let v = export_verified(&model, &spec, &opts, batch, shape, &device).unwrap();
            v.write(&path).unwrap();
            let mut ort = OrtModel::from_model(&v.model, ARCH).unwrap();
            let t = ort_predictions(&mut ort, &test, image, LOGITS_NAME, ORT_BATCH).unwrap();
            let w = ort_predictions(&mut ort, &val, image, LOGITS_NAME, ORT_BATCH).unwrap();
            t.len() + w.len()
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, export);
criterion_main!(benches);
