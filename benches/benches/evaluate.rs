//! Splicing a generated parameter vector into resnet8 and evaluating the member on the
//! 1,000-image test split of the embedded digits, both ways (as
//! `crates/zoo-train/examples/prefix_speedup.rs` does):
//!
//! - `splice_evaluate/full`: `ParamLayout::splice` + `zoo_train::evaluate` (whole network);
//! - `splice_evaluate/prefix`: `ParamLayout::splice` + `PrefixCache::evaluate` (only the
//!   segments from the first one owning a selected parameter run; the cache is built once,
//!   outside the measurement, as `MemberBase::score` uses it);
//! - `splice_evaluate/prefix_block_boundary`: the same with the cut one segment earlier, at
//!   the residual block's boundary (where it was before blocks were split after `conv1`).
//!
//! - `score_members/threads_{1,2}`: `zoo_train::members::MemberBase::score` over 16 members on
//!   the validation and the test split (2,000 images per member, as the sample stage scores
//!   them), on one thread or two; one element = one member.
//!
//! The selection is the default one (last two normalization layers); the vectors are the
//! network's own values plus small deterministic perturbations. One iteration = one member.
//! Run: `cargo bench -p pdiff-zoo-benches --bench evaluate` (see `benches/README.md`).

use std::time::Duration;

use burn::prelude::*;
use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use zoo_data::{DataSource, LoadOptions};
use zoo_models::selection::Selection;
use zoo_train::members::MemberBase;
use zoo_train::prefix::{PrefixCache, cut_for};
use zoo_train::{Tensors, evaluate};

const ARCH: &str = "resnet8";
const MEMBERS: usize = 16;

fn splice_evaluate(c: &mut Criterion) {
    let device = Device::flex();
    let data = zoo_data::load(&DataSource::parse("mnist").unwrap(), &LoadOptions::default())
        .expect("embedded MNIST");
    let test = Tensors::new(&data.test, &data.info);
    assert_eq!(test.len(), 1000, "the embedded test split has 1,000 images");
    let spec = zoo_models::find(ARCH).unwrap().spec.with_io([1, 28, 28], 10);
    device.seed(0);
    let model = spec.init(&device);
    let layout = Selection::LastNorms.resolve(ARCH, &model).unwrap();
    let base = layout.flatten(&model);
    let vectors: Vec<Vec<f32>> = (0..MEMBERS)
        .map(|m| {
            base.iter()
                .enumerate()
                .map(|(i, v)| v + 0.01 * (((i * 31 + m * 17) % 13) as f32 - 6.0))
                .collect()
        })
        .collect();
    let cut = cut_for(&model, &layout, ARCH).unwrap();
    let cache = PrefixCache::new(&model, &test, cut, &device);

    let mut group = c.benchmark_group("splice_evaluate");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(1));
    let mut member = Some(model.clone());
    let mut next = 0;
    group.bench_function("full", |b| {
        b.iter(|| {
            let (spliced, _) = layout.splice(ARCH, member.take().unwrap(), &vectors[next]).unwrap();
            next = (next + 1) % MEMBERS;
            let accuracy = evaluate(&spliced, &test, &device).accuracy;
            member = Some(spliced);
            accuracy
        })
    });
    // `prefix_block_boundary`: the cut before blocks were split, at the residual block's
    // boundary, so the block's first convolution and its shortcut run per member too.
    let block_cache = PrefixCache::new(&model, &test, cut - 1, &device);
    for (name, cache) in [("prefix", &cache), ("prefix_block_boundary", &block_cache)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let (spliced, _) =
                    layout.splice(ARCH, member.take().unwrap(), &vectors[next]).unwrap();
                next = (next + 1) % MEMBERS;
                let accuracy = cache.evaluate(&spliced).accuracy;
                member = Some(spliced);
                accuracy
            })
        });
    }
    group.bench_function("prefix_cache_build", |b| {
        b.iter(|| PrefixCache::new(&model, &test, cut, &device).len())
    });
    group.finish();

    let val = PrefixCache::new(&model, &Tensors::new(&data.val, &data.info), cut, &device);
    let flat: Vec<f32> = vectors.concat();
    let mut group = c.benchmark_group("score_members");
    group
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(MEMBERS as u64));
    for threads in [1, 2] {
        group.bench_function(format!("threads_{threads}"), |b| {
            b.iter(|| {
                let base = MemberBase { arch: ARCH, model: &model, layout: &layout };
                base.score(&flat, &val, &cache, threads, |_| {}).unwrap().len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, splice_evaluate);
criterion_main!(benches);
