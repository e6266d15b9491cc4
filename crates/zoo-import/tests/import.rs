//! Imports the fixtures of `scripts/import_fixtures.py` (torchvision / timm names and shapes
//! written out from the published architectures, random values, NumPy reference forwards)
//! and checks the reports, the `.pth` reader against safetensors, the logits against NumPy,
//! and the errors. Needs the project venv (`scripts/setup-python.sh`); fails without it.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use burn::prelude::*;
use zoo_import::{ImportError, ImportOptions, StateDict, import_into, read_state_dict};
use zoo_models::{NamedTensor, tensor_infos};
use zoo_verify::runtime::repo_root;

const STANDARD: [&str; 7] =
    ["resnet18", "resnet50", "vit-tiny", "vit-small", "vit-base", "convnext-tiny", "convnext-base"];

/// The fixture folder, generated once per test process.
fn fixtures() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let python = repo_root().join(".venv/bin/python");
        assert!(
            python.is_file(),
            "{} is missing: run scripts/setup-python.sh (numpy, safetensors) to create the project venv",
            python.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new(&python)
            .arg(repo_root().join("scripts/import_fixtures.py"))
            .arg(dir.path())
            .output()
            .expect("start python");
        assert!(
            out.status.success(),
            "scripts/import_fixtures.py failed (is `safetensors` installed? run scripts/setup-python.sh):\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        dir
    })
    .path()
}

fn read(name: &str) -> StateDict {
    let path = fixtures().join(name);
    read_state_dict(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn spec(arch: &str) -> zoo_models::ArchSpec {
    zoo_models::find(arch).expect("registered").spec
}

#[test]
fn standard_variants_import_cleanly() {
    let device = Device::flex();
    for arch in STANDARD {
        let dict = read(&format!("{arch}.safetensors"));
        let spec = spec(arch);
        let (model, report) = import_into(&spec, &dict, ImportOptions::default(), &device);
        assert!(report.is_clean(), "{arch}: {}\n{}", report.counts(), report.problems().join("\n"));
        assert_eq!(report.applied.len(), tensor_infos(&model).len(), "{arch}");
        let resnet = arch.starts_with("resnet");
        assert_eq!(!report.ignored.is_empty(), resnet, "{arch}: ignored {:?}", report.ignored);
        assert!(report.ignored.iter().all(|n| n.ends_with("num_batches_tracked")));
    }
}

fn by_name(tensors: &[NamedTensor]) -> Vec<(&str, &[usize], &[f32])> {
    tensors.iter().map(|t| (t.name.as_str(), t.shape.as_slice(), t.data.as_slice())).collect()
}

#[test]
fn pth_reads_as_the_same_weights_as_safetensors() {
    let st = read("resnet18.safetensors");
    for file in ["resnet18.pth", "resnet18_plain.pth"] {
        let pth = read(file);
        assert_eq!(pth.format, "pytorch");
        assert_eq!(by_name(&pth.tensors), by_name(&st.tensors), "{file}");
        assert_eq!(pth.ignored.len(), st.ignored.len(), "{file}: {:?}", pth.ignored);
    }
    let wrapped = read("resnet18.pth");
    assert_eq!(wrapped.renames.len(), 2, "{:?}", wrapped.renames);
    let device = Device::flex();
    let (_, report) = import_into(&spec("resnet18"), &wrapped, ImportOptions::default(), &device);
    assert!(report.is_clean(), "{}", report.counts());
}

fn check_reference(arch: &str) {
    let reference = read(&format!("{arch}.reference.safetensors"));
    let get = |name: &str| reference.tensors.iter().find(|t| t.name == name).expect(name).clone();
    let (input, logits) = (get("input"), get("logits"));
    let [n, c, h, w] = <[usize; 4]>::try_from(input.shape.clone()).expect("NCHW input");
    let spec = spec(arch).with_io([c, h, w], logits.shape[1]);
    let device = Device::flex();
    let dict = read(&format!("{arch}.safetensors"));
    let (model, report) = import_into(&spec, &dict, ImportOptions::default(), &device);
    assert!(report.is_clean(), "{arch}: {}", report.counts());
    let x = Tensor::<4>::from_data(TensorData::new(input.data, [n, c, h, w]), &device);
    let got: Vec<f32> = model.forward(x).into_data().try_to_vec::<f32>().expect("f32 logits");
    let scale = logits.data.iter().fold(1f32, |m, v| m.max(v.abs()));
    let worst = got.iter().zip(&logits.data).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert_eq!(got.len(), logits.data.len());
    assert!(
        worst <= 1e-4 * scale,
        "{arch}: logits differ from the NumPy reference by {worst} (scale {scale})"
    );
}

#[test]
fn resnet50_matches_numpy_reference() {
    check_reference("resnet50");
}

#[test]
fn vit_tiny_matches_numpy_reference() {
    check_reference("vit-tiny");
}

#[test]
fn convnext_tiny_matches_numpy_reference() {
    check_reference("convnext-tiny");
}

#[test]
fn wrong_architecture_lists_mismatches() {
    let dict = read("resnet50.safetensors");
    let (_, report) =
        import_into(&spec("resnet18"), &dict, ImportOptions::default(), &Device::flex());
    assert!(!report.is_clean());
    assert!(report.mismatched.iter().any(|m| m.0 == "layer1.0.conv1.weight"), "{report:?}");
    assert!(report.unused.iter().any(|n| n == "layer1.0.conv3.weight"));
    let problems = report.problems().join("\n");
    assert!(
        problems.contains("mismatched layer1.0.conv1.weight: model expects [64, 64, 3, 3]"),
        "{problems}"
    );
}

#[test]
fn head_is_replaced_only_when_asked() {
    let dict = read("resnet18.safetensors");
    let spec = spec("resnet18").with_io([3, 224, 224], 10);
    let device = Device::flex();
    let (_, strict) = import_into(&spec, &dict, ImportOptions::default(), &device);
    let names: Vec<&str> = strict.mismatched.iter().map(|m| m.0.as_str()).collect();
    assert_eq!(names, ["fc.weight", "fc.bias"]);
    let (_, replaced) = import_into(
        &spec,
        &dict,
        ImportOptions { replace_head: true, ..Default::default() },
        &device,
    );
    assert!(replaced.is_clean(), "{}", replaced.counts());
    assert_eq!(replaced.head_replaced, ["fc.bias", "fc.weight"]);
    // Only the head may differ: a wrong input channel count still fails.
    let gray = zoo_models::find("resnet18").unwrap().spec.with_io([1, 224, 224], 10);
    let (_, report) = import_into(
        &gray,
        &dict,
        ImportOptions { replace_head: true, ..Default::default() },
        &device,
    );
    assert_eq!(report.mismatched.len(), 1, "{report:?}");
    assert_eq!(report.mismatched[0].0, "conv1.weight");
}

#[test]
fn vit_with_another_input_size_mismatches_pos_embed() {
    let dict = read("vit-tiny.safetensors");
    let spec = spec("vit-tiny").with_io([3, 112, 112], 1000);
    let (_, report) = import_into(&spec, &dict, ImportOptions::default(), &Device::flex());
    assert_eq!(
        report.mismatched,
        vec![("pos_embed".to_string(), vec![1, 50, 192], vec![1, 197, 192])]
    );
}

#[test]
fn bad_files_give_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("absent.pth");
    let err = read_state_dict(&missing).unwrap_err();
    assert!(matches!(err, ImportError::Io { .. }), "{err}");
    assert!(err.to_string().contains("absent.pth"), "{err}");

    for name in ["corrupt.safetensors", "corrupt.pth"] {
        let path = dir.path().join(name);
        std::fs::write(&path, b"this is not a checkpoint at all").unwrap();
        let err = read_state_dict(&path).unwrap_err();
        assert!(matches!(err, ImportError::Format { .. }), "{name}: {err}");
        assert!(err.to_string().contains(name), "{err}");
    }
    // A truncated real file.
    let bytes = std::fs::read(fixtures().join("vit-tiny.safetensors")).unwrap();
    let cut = dir.path().join("cut.safetensors");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(matches!(read_state_dict(&cut), Err(ImportError::Format { .. })));

    let unknown = dir.path().join("weights.h5");
    std::fs::write(&unknown, b"x").unwrap();
    assert!(matches!(read_state_dict(&unknown), Err(ImportError::UnknownFormat { .. })));

    let err = read_state_dict(&fixtures().join("int32.safetensors")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ImportError::UnsupportedDtype { .. }), "{text}");
    assert!(text.contains("conv1.weight") && text.contains("I32"), "{text}");
}
