//! The diversity figures of a comparison at #4's sizes (K = 200 trained checkpoints, N = 100
//! members per group, the 1,000-sample test split, about ten errors per model as ResNet-8 has):
//!
//! - `diversity/max_iou_to`: each of 200 members' max IoU to the 200 checkpoints (the point
//!   estimate, both groups);
//! - `diversity/margin_bootstrap`: `zoo_train::bootstrap::max_iou_margin` with the comparison's
//!   1,000 replicates (nearest checkpoints found once, then one weighted IoU per member and
//!   replicate).
//!
//! Error sets are drawn from a seeded generator around 30 "hard" samples, so sets overlap as
//! real ones do. Run: `cargo bench -p pdiff-zoo-benches --bench diversity`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zoo_train::bootstrap::{REPLICATES, SEED, max_iou_margin};
use zoo_train::metrics::{ErrorSet, max_iou_to};

const SAMPLES: usize = 1000;

/// `count` error sets of about ten errors, mostly among 30 shared hard samples.
fn error_sets(count: usize, rng: &mut StdRng) -> Vec<ErrorSet> {
    let labels = vec![0u16; SAMPLES];
    (0..count)
        .map(|_| {
            let mut predictions = vec![0u16; SAMPLES];
            for _ in 0..10 {
                let i = if rng.random_bool(0.8) {
                    rng.random_range(0..30)
                } else {
                    rng.random_range(0..SAMPLES)
                };
                predictions[i] = 1;
            }
            ErrorSet::new(&predictions, &labels)
        })
        .collect()
}

fn diversity(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(7);
    let trained = error_sets(200, &mut rng);
    let generated = error_sets(100, &mut rng);
    let noise = error_sets(100, &mut rng);
    let mut group = c.benchmark_group("diversity");
    group.sample_size(10).measurement_time(Duration::from_secs(5));
    group.bench_function("max_iou_to", |b| {
        b.iter(|| (max_iou_to(&generated, &trained), max_iou_to(&noise, &trained)))
    });
    group.bench_function("margin_bootstrap", |b| {
        b.iter(|| max_iou_margin(&trained, &generated, &noise, SAMPLES, REPLICATES, SEED))
    });
    group.finish();
}

criterion_group!(benches, diversity);
criterion_main!(benches);
