//! One training step (forward + cross-entropy + backward + optimizer step, loss read back) of
//! each family's small variant on a batch of 64 embedded MNIST digits (1 × 28 × 28, 10
//! classes), with the family's default optimizer (`TrainConfig::for_family`), as
//! `zoo_train::train` runs it. Run: `cargo bench -p pdiff-zoo-benches --bench train_step`.

use std::time::Duration;

use burn::optim::GradientsParams;
use burn::prelude::*;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use zoo_data::{DataSource, LoadOptions};
use zoo_train::train::cross_entropy;
use zoo_train::{Tensors, TrainConfig};

const BATCH: usize = 64;

fn train_step(c: &mut Criterion) {
    let data = zoo_data::load(&DataSource::parse("mnist").unwrap(), &LoadOptions::default())
        .expect("embedded MNIST");
    let train_set = Tensors::new(&data.train, &data.info);
    let device = Device::flex();
    let autodiff = device.autodiff();
    let mut group = c.benchmark_group("train_step");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6))
        .throughput(Throughput::Elements(BATCH as u64));
    for name in ["resnet8", "vit-micro", "convnext-micro"] {
        let variant = zoo_models::find(name).unwrap();
        let config = TrainConfig::for_family(variant.family());
        let spec = variant.spec.with_io([1, 28, 28], 10);
        autodiff.seed(0);
        let mut model = Some(spec.init(&autodiff));
        let mut optim = config.optimizer.init();
        let lr = config.optimizer.lr();
        let mut start = 0;
        group.bench_function(name, |b| {
            b.iter(|| {
                let batch: Vec<usize> =
                    (start..start + BATCH).map(|i| i % train_set.len()).collect();
                start = (start + BATCH) % train_set.len();
                let images = train_set.images_at(&batch, &autodiff);
                let labels = train_set.labels_at(&batch, &autodiff);
                let current = model.take().unwrap();
                let logits = current.forward(images);
                let loss = cross_entropy(logits, labels);
                let grads = GradientsParams::from_grads(loss.backward(), &current);
                let value = loss.into_scalar::<f32>();
                model = Some(optim.step(lr, current, grads));
                value
            })
        });
    }
    group.finish();
}

criterion_group!(benches, train_step);
criterion_main!(benches);
