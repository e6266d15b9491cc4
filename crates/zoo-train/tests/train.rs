//! Training, evaluation and the model file on a tiny synthetic dataset.

use burn::prelude::*;
use indicatif::ProgressBar;
use zoo_data::{Dataset, DatasetInfo, Split};
use zoo_models::{find, named_tensors};
use zoo_train::{
    FineTune, LrSchedule, OptimizerConfig, Tensors, TrainConfig, fine_tune, load_model, save_model,
    train,
};

/// Two classes of 8×8 images: dark with a bright left half, or bright right half.
fn toy_dataset() -> Dataset {
    let split = |n: usize, offset: usize| {
        let mut images = Vec::new();
        let mut labels = Vec::new();
        for i in 0..n {
            let label = ((i + offset) % 2) as u16;
            for y in 0..8 {
                for x in 0..8 {
                    let bright = if label == 0 { x < 4 } else { x >= 4 };
                    let noise = ((i * 31 + y * 7 + x * 13) % 40) as u8;
                    images.push(if bright { 200 + noise / 2 } else { noise });
                }
            }
            labels.push(label);
        }
        Split { images, labels }
    };
    Dataset {
        info: DatasetInfo {
            name: "toy".into(),
            channels: 1,
            height: 8,
            width: 8,
            labels: vec!["left".into(), "right".into()],
            mean: vec![0.5],
            std: vec![0.4],
        },
        train: split(64, 0),
        val: split(16, 1),
        test: split(16, 0),
    }
}

/// burn's seeded RNG is process-wide: tests that initialize models run one at a time so
/// that "same seed, same weights" is not broken by a concurrent test drawing from it.
static DEVICE_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn config() -> TrainConfig {
    TrainConfig {
        epochs: 8,
        batch_size: 16,
        optimizer: OptimizerConfig::Adamw { lr: 3e-3, weight_decay: 0.0 },
        schedule: LrSchedule::Cosine { warmup_epochs: 0.0 },
        shift: 1,
        max_steps: None,
        fine_tune: FineTune::All,
    }
}

#[test]
fn training_learns_is_deterministic_and_round_trips_through_files() {
    let _rng = DEVICE_RNG.lock().unwrap();
    let device = Device::flex();
    let data = toy_dataset();
    let spec = find("vit-micro").unwrap().spec;
    let spec = zoo_models::ArchSpec {
        config: zoo_models::ArchConfig::Resnet(zoo_models::resnet::ResNetConfig {
            widths: vec![4, 8, 8],
            ..zoo_models::resnet::ResNetConfig::cifar(1)
        }),
        ..spec.with_io([1, 8, 8], 2)
    };
    let bar = ProgressBar::hidden();
    let first = train(&spec, &data, &config(), 7, &device, &bar).unwrap();
    assert_eq!(first.history.len(), 8);
    assert!(first.test.accuracy >= 90.0, "toy task not learned: {}", first.test.accuracy);

    let second = train(&spec, &data, &config(), 7, &device, &bar).unwrap();
    assert_eq!(
        named_tensors(&first.model),
        named_tensors(&second.model),
        "same seed, same weights"
    );

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let card = zoo_train::ModelCard {
        schema: zoo_train::store::CARD_SCHEMA,
        arch: spec.clone(),
        dataset: data.info.clone(),
        val_accuracy: first.val.accuracy,
        test_accuracy: first.test.accuracy,
        seed: 7,
        training: serde_json::Value::Null,
        seconds: first.seconds,
        pdiff_zoo_version: "test".into(),
    };
    save_model(&path, &first.model, &card).unwrap();
    let (loaded, loaded_card) = load_model(&path, &device).unwrap();
    assert_eq!(loaded_card, card);
    let test = Tensors::new(&data.test, &data.info);
    let a = zoo_train::eval::logits(&first.model, &test, &device);
    let b = zoo_train::eval::logits(&loaded, &test, &device);
    // Loaded linear weights are transposed views, so matmuls may sum in another order.
    let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-5, "reloaded model differs by {diff}");
}

#[test]
fn mismatched_data_and_bad_settings_are_errors() {
    let device = Device::flex();
    let data = toy_dataset();
    let spec = find("resnet8").unwrap().spec; // 1×28×28, 10 classes
    let bar = ProgressBar::hidden();
    let err = train(&spec, &data, &config(), 0, &device, &bar).unwrap_err().to_string();
    assert!(err.contains("toy") && err.contains("[1, 8, 8]"), "{err}");
    let bad = TrainConfig { epochs: 0, ..config() };
    let err = bad.validate().unwrap_err().to_string();
    assert!(err.contains("epochs"), "{err}");
}

#[test]
fn corrupt_model_file_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.safetensors");
    std::fs::write(&path, b"junk").unwrap();
    let err = load_model(&path, &Device::flex()).unwrap_err().to_string();
    assert!(err.contains("broken.json"), "card is read first: {err}");
}

#[test]
fn collection_trains_only_the_selection_and_round_trips() {
    let _rng = DEVICE_RNG.lock().unwrap();
    use zoo_models::Selection;
    use zoo_train::collect::{CollectConfig, CollectCycle, Collection, collect};
    let device = Device::flex();
    let data = toy_dataset();
    let spec = tiny_resnet();
    let bar = ProgressBar::hidden();
    let trained = train(&spec, &data, &config(), 3, &device, &bar).unwrap();
    let config = CollectConfig {
        checkpoints: 5,
        interval: 2,
        warmup: 2,
        batch_size: 16,
        optimizer: OptimizerConfig::Sgd {
            lr: 0.5,
            momentum: 0.9,
            weight_decay: 0.0,
            nesterov: false,
        },
        selection: Selection::LastNorms,
        cycle: CollectCycle::Constant,
    };
    let collection = collect("toy", &trained.model, &data, &config, 1, &device, &bar).unwrap();
    assert_eq!(collection.len(), 5);
    assert_eq!(collection.layout.names()[0], "layer3.0.bn1.weight");
    assert_ne!(collection.row(0), collection.row(4), "the subset moved");

    // Splicing the last checkpoint changes exactly the selected tensors: everything else,
    // BatchNorm running statistics included, is the base model's.
    let base = named_tensors(&trained.model);
    let (spliced, report) =
        collection.layout.splice("toy", trained.model.clone(), collection.row(4)).unwrap();
    assert!(report.is_clean());
    for (a, b) in base.iter().zip(named_tensors(&spliced)) {
        let selected = collection.layout.names().contains(&a.name);
        assert_eq!(a.data != b.data, selected, "{}", a.name);
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c.safetensors");
    collection.save(&path).unwrap();
    assert_eq!(Collection::load(&path).unwrap(), collection);
    // Validation predictions are stored per checkpoint; files written before them still load.
    assert_eq!(collection.val_predictions.len(), collection.len());
    assert!(collection.val_predictions.iter().all(|p| p.len() == data.val.len()));
    let older = Collection { val_predictions: Vec::new(), ..collection.clone() };
    older.save(&path).unwrap();
    assert_eq!(Collection::load(&path).unwrap(), older);

    // A one-checkpoint file is refused on load: no spread, no pairs to compare.
    let single = Collection {
        params: collection.row(0).to_vec(),
        val_accuracy: collection.val_accuracy[..1].to_vec(),
        test_accuracy: collection.test_accuracy[..1].to_vec(),
        val_predictions: collection.val_predictions[..1].to_vec(),
        test_predictions: collection.test_predictions[..1].to_vec(),
        ..collection.clone()
    };
    let single_path = dir.path().join("one.safetensors");
    single.save(&single_path).unwrap();
    let err = Collection::load(&single_path).unwrap_err().to_string();
    assert!(err.contains("one.safetensors") && err.contains("at least 2"), "{err}");
}

#[test]
fn head_fine_tuning_changes_the_head_only_and_all_changes_the_body_too() {
    let _rng = DEVICE_RNG.lock().unwrap();
    let device = Device::flex();
    let data = toy_dataset();
    let spec = tiny_resnet();
    let bar = ProgressBar::hidden();
    let base = spec.init_seeded(1, &device);
    let before = named_tensors(&base);
    let changed = |mode: FineTune| -> Vec<String> {
        let config = TrainConfig { epochs: 1, fine_tune: mode, ..config() };
        let tuned = fine_tune(&spec, base.clone(), &data, &config, 2, &device, &bar).unwrap();
        named_tensors(&tuned.model)
            .into_iter()
            .zip(&before)
            .filter(|(after, before)| after.data != before.data)
            .map(|(after, _)| after.name)
            .collect()
    };
    assert_eq!(changed(FineTune::Head), ["fc.weight", "fc.bias"]);
    let all = changed(FineTune::All);
    assert!(all.contains(&"conv1.weight".to_string()), "{all:?}");
    assert!(all.contains(&"bn1.running_mean".to_string()), "{all:?}");
}

#[test]
fn member_scores_do_not_depend_on_the_thread_count() {
    use zoo_models::Selection;
    use zoo_train::members::MemberBase;
    use zoo_train::prefix::{PrefixCache, cut_for};
    let device = Device::flex();
    let data = toy_dataset();
    let spec = tiny_resnet();
    let model = spec.init_seeded(4, &device);
    let layout = Selection::LastNorms.resolve(&spec.name, &model).unwrap();
    let base = layout.flatten(&model);
    let mut vectors = Vec::new();
    for m in 0..5 {
        vectors
            .extend(base.iter().enumerate().map(|(i, v)| v + ((i * 7 + m * 5) % 11) as f32 - 5.0));
    }
    let cut = cut_for(&model, &layout, &spec.name).unwrap();
    let cache = |split| PrefixCache::new(&model, &Tensors::new(split, &data.info), cut, &device);
    let (val, test) = (cache(&data.val), cache(&data.test));
    let score = |threads| {
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let base = MemberBase { arch: &spec.name, model: &model, layout: &layout };
        let scores = base
            .score(&vectors, &val, &test, threads, |_| {
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
        assert_eq!(calls.into_inner(), 5, "one progress call per member");
        scores
    };
    let one = score(1);
    assert_eq!(one.len(), 5);
    assert!(one.windows(2).any(|w| w[0] != w[1]), "perturbed members should differ");
    assert_eq!(one, score(2));
    assert_eq!(one, score(8));
}

/// resnet8's layout at widths 4-8-8 for 1×8×8 inputs and two classes.
fn tiny_resnet() -> zoo_models::ArchSpec {
    zoo_models::ArchSpec {
        config: zoo_models::ArchConfig::Resnet(zoo_models::resnet::ResNetConfig {
            widths: vec![4, 8, 8],
            ..zoo_models::resnet::ResNetConfig::cifar(1)
        }),
        ..find("resnet8").unwrap().spec.with_io([1, 8, 8], 2)
    }
}
