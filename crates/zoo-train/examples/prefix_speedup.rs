//! Shared-prefix evaluation against full forward passes, on the test split of the embedded
//! digits: `cargo run --release -p zoo-train --example prefix_speedup -- MODEL COLLECTION [N]`.
//! Splices N vectors of the collection (cycling) into the model, evaluates each member both
//! ways, checks that the predictions are identical and prints the timings as JSON.

use std::time::Instant;

use burn::prelude::Device;
use zoo_data::{DataSource, LoadOptions};
use zoo_train::collect::Collection;
use zoo_train::prefix::{PrefixCache, cut_for};
use zoo_train::{Tensors, evaluate, load_model};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, model_path, collection_path, rest @ ..] = args.as_slice() else {
        return Err("usage: prefix_speedup MODEL COLLECTION [N]".into());
    };
    let n: usize = rest.first().map_or(Ok(100), |s| s.parse())?;
    let device = Device::flex();
    let (model, card) = load_model(model_path.as_ref(), &device)?;
    let collection = Collection::load(collection_path.as_ref())?;
    let options = LoadOptions { seed: card.seed, ..Default::default() };
    let data = zoo_data::load(&DataSource::parse("mnist")?, &options)?;
    let test = Tensors::new(&data.test, &data.info);
    let rows: Vec<&[f32]> = (0..n).map(|i| collection.row(i % collection.len())).collect();
    let arch = &collection.arch;

    let started = Instant::now();
    let mut member = model.clone();
    let mut full = Vec::new();
    for row in &rows {
        member = collection.layout.splice(arch, member, row)?.0;
        full.push(evaluate(&member, &test, &device).predictions);
    }
    let full_seconds = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let cut = cut_for(&model, &collection.layout, arch)?;
    let cache = PrefixCache::new(&model, &test, cut, &device);
    let prefix_once = started.elapsed().as_secs_f64();
    let mut member = model.clone();
    let mut tail = Vec::new();
    for row in &rows {
        member = collection.layout.splice(arch, member, row)?.0;
        tail.push(cache.evaluate(&member).predictions);
    }
    let prefix_seconds = started.elapsed().as_secs_f64();
    let same = full == tail;
    println!(
        "{}",
        serde_json::json!({
            "arch": arch, "members": n, "test_images": test.len(), "cut_segment": cut,
            "segments": model.segments().len(), "full_seconds": full_seconds,
            "prefix_seconds": prefix_seconds, "prefix_once_seconds": prefix_once,
            "speedup": full_seconds / prefix_seconds, "identical_predictions": same,
        })
    );
    if !same {
        return Err("shared-prefix predictions differ from full forward passes".into());
    }
    Ok(())
}
