//! Proving an export: burn's logits vs ONNX Runtime's on a batch (≤ [`LOGIT_TOLERANCE`],
//! 100% argmax), accuracy in ORT on a whole split, files with their model-zoo test data
//! (`test_data_set_0/` beside the `.onnx`), and re-checking such files later.

use std::path::{Path, PathBuf};

use burn::prelude::*;
use zoo_models::{ArchSpec, Model};
use zoo_onnx::TensorData;
use zoo_verify::{Agreement, LOGIT_TOLERANCE, OrtModel, compare_logits, predictions};

use crate::error::{ExportError, Result};
use crate::export::{ExportOptions, export_model};

/// burn's logits of `model` (inference form, on `device`) for an NCHW batch, row-major.
pub fn burn_logits(model: &Model, images: &[f32], shape: [usize; 4], device: &Device) -> Vec<f32> {
    let data = burn::tensor::TensorData::new(images.to_vec(), shape);
    let x = Tensor::<4>::from_data(data, device);
    model.forward(x).into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 logits")
}

fn require_agreement(label: &str, a: Agreement) -> Result<Agreement> {
    if a.within(LOGIT_TOLERANCE) && a.argmax_agreement == 1.0 {
        Ok(a)
    } else {
        Err(ExportError::Mismatch {
            model: label.to_string(),
            max_abs_diff: a.max_abs_diff,
            argmax_agreement: a.argmax_agreement,
            tolerance: LOGIT_TOLERANCE,
        })
    }
}

/// Runs `ort` on a batch and compares its first output with `expected` (`[rows, classes]`):
/// an error unless max |Δ| ≤ [`LOGIT_TOLERANCE`] and every argmax agrees.
pub fn check_batch(
    ort: &mut OrtModel,
    images: &[f32],
    shape: [usize; 4],
    expected: &[f32],
    classes: usize,
) -> Result<Agreement> {
    let got = ort.run(images, shape)?;
    let agreement = compare_logits(&got, expected, classes)?;
    require_agreement(ort.label(), agreement)
}

/// Predicted classes of `ort` (output `output`) for `images` (`count × C × H × W` values),
/// run `batch` images at a time.
pub fn ort_predictions(
    ort: &mut OrtModel,
    images: &[f32],
    image: [usize; 3],
    output: &str,
    batch: usize,
) -> Result<Vec<u16>> {
    let per = image.iter().product::<usize>();
    if per == 0 || !images.len().is_multiple_of(per) {
        return Err(ExportError::InputShape {
            arch: ort.label().to_string(),
            got: image.to_vec(),
            reason: format!("{} values are not whole images", images.len()),
        });
    }
    let mut out = Vec::with_capacity(images.len() / per);
    for chunk in images.chunks(per * batch.max(1)) {
        let n = chunk.len() / per;
        let values = ort.run_output(chunk, [n, image[0], image[1], image[2]], output)?;
        let classes = values.len() / n.max(1);
        out.extend(predictions(&values, classes)?.into_iter().map(|p| p as u16));
    }
    Ok(out)
}

/// Accuracy in percent of predictions against labels.
pub fn accuracy_percent(predictions: &[u16], labels: &[u16]) -> f64 {
    let correct = predictions.iter().zip(labels).filter(|(p, l)| p == l).count();
    100.0 * correct as f64 / labels.len().max(1) as f64
}

/// An exported network with the batch it was verified on.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The ONNX model.
    pub model: zoo_onnx::Model,
    /// The batch (`input_0.pb`).
    pub input: TensorData,
    /// burn's logits for it (`output_0.pb`).
    pub expected: TensorData,
    /// How ONNX Runtime agreed with burn on it.
    pub agreement: Agreement,
}

impl Verified {
    /// Writes the model to `path` with its test data in `test_data_set_0/` beside it
    /// ([`write_with_test_data`]).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_with_test_data(
            &self.model,
            path,
            &self.input,
            &[(crate::LOGITS_NAME, &self.expected)],
        )
    }
}

/// Exports `model` ([`export_model`]), runs burn and ONNX Runtime on `images` (`shape`,
/// normalized NCHW) and fails with [`ExportError::Mismatch`] unless they agree within
/// [`LOGIT_TOLERANCE`] with 100% argmax agreement. Nothing is written.
pub fn export_verified(
    model: &Model,
    spec: &ArchSpec,
    opts: &ExportOptions,
    images: &[f32],
    shape: [usize; 4],
    device: &Device,
) -> Result<Verified> {
    let [_, c, h, w] = shape;
    if [c, h, w] != spec.input || images.len() != shape.iter().product::<usize>() {
        return Err(ExportError::InputShape {
            arch: spec.name.clone(),
            got: shape.to_vec(),
            reason: format!(
                "the network takes [N, {}, {}, {}] and {} values were given",
                spec.input[0],
                spec.input[1],
                spec.input[2],
                images.len()
            ),
        });
    }
    let onnx = export_model(model, spec, opts)?;
    let expected = burn_logits(model, images, shape, device);
    let mut ort = OrtModel::from_model(&onnx, &spec.name)?;
    let agreement = check_batch(&mut ort, images, shape, &expected, spec.num_classes)?;
    Ok(Verified {
        model: onnx,
        input: TensorData::f32(shape, images)?,
        expected: TensorData::f32([shape[0], spec.num_classes], expected)?,
        agreement,
    })
}

/// `test_data_set_0/` beside the model file.
pub fn test_data_dir(model_path: &Path) -> PathBuf {
    zoo_onnx::test_data::test_data_set_dir(model_path.parent().unwrap_or(Path::new(".")), 0)
}

/// Writes `model` to `path` (must end in `.onnx`) in the model-zoo layout: first
/// `test_data_set_0/input_0.pb` and `output_{i}.pb`, then the model, each file atomically,
/// so a present `.onnx` always has its test data. Refuses a folder that already holds another
/// `.onnx` (its test data would be overwritten: one model per folder). On error nothing new
/// is left behind.
pub fn write_with_test_data(
    model: &zoo_onnx::Model,
    path: &Path,
    input: &TensorData,
    outputs: &[(&str, &TensorData)],
) -> Result<()> {
    let layout = |reason: String| ExportError::Layout { path: path.to_path_buf(), reason };
    if path.extension().and_then(|e| e.to_str()) != Some("onnx") {
        return Err(layout("the output file must end in .onnx".into()));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let other = entry.path();
            if other.extension().and_then(|e| e.to_str()) == Some("onnx")
                && other.file_name() != path.file_name()
            {
                return Err(layout(format!(
                    "{} already holds {}; test_data_set_0 belongs to one model per folder\n\
                     hint: write each model into its own folder (model-zoo layout)",
                    dir.display(),
                    other.display()
                )));
            }
        }
    }
    let bytes = model.to_bytes()?;
    let data_dir = test_data_dir(path);
    let existed = data_dir.exists();
    let result = (|| -> Result<()> {
        zoo_onnx::test_data::write_test_data_set(
            &data_dir,
            &[(crate::INPUT_NAME, input)],
            outputs,
        )?;
        zoo_io::atomic_write(path, &bytes)?;
        Ok(())
    })();
    if result.is_err() && !existed {
        let _ = std::fs::remove_dir_all(&data_dir);
    }
    result
}

/// The outcome of re-checking one `.onnx` file against its `test_data_set_0`.
#[derive(Clone, Debug, PartialEq)]
pub struct FileCheck {
    /// The file.
    pub path: PathBuf,
    /// `arch` metadata (empty if absent).
    pub arch: String,
    /// `source` metadata (empty if absent).
    pub source: String,
    /// Rows of the test batch.
    pub rows: usize,
    /// Largest |Δ| over every stored output.
    pub max_abs_diff: f32,
    /// Argmax agreement of the first output.
    pub argmax_agreement: f64,
}

impl FileCheck {
    /// Within [`LOGIT_TOLERANCE`] with 100% argmax agreement.
    pub fn passed(&self) -> bool {
        self.max_abs_diff <= LOGIT_TOLERANCE && self.argmax_agreement == 1.0
    }
}

/// Loads `path` in ONNX Runtime, runs the inputs of `test_data_set_0/` beside it and compares
/// every stored output. Errors (unreadable or corrupt model, missing or unreadable test data,
/// shape or count mismatch) are `Err`; numeric disagreement is a [`FileCheck`] that did not
/// pass.
pub fn verify_file(path: &Path) -> Result<FileCheck> {
    let mut ort = OrtModel::load(path)?;
    let set = zoo_onnx::test_data::read_test_data_set(&test_data_dir(path))?;
    let inputs: Vec<_> = set.inputs.iter().map(|t| &t.data).collect();
    let got = ort.run_tensors(&inputs)?;
    if set.outputs.is_empty() || got.len() < set.outputs.len() {
        return Err(zoo_verify::VerifyError::Compare(format!(
            "{}: {} stored outputs, the model has {}",
            path.display(),
            set.outputs.len(),
            got.len()
        ))
        .into());
    }
    let mut max_abs_diff = 0f32;
    let mut argmax_agreement = 1.0;
    let mut rows = 0;
    for (i, (want, have)) in set.outputs.iter().zip(&got).enumerate() {
        let (Some(w), Some(h)) = (want.data.as_f32(), have.data.as_f32()) else {
            return Err(zoo_verify::VerifyError::Compare(format!("output {i} is not f32")).into());
        };
        if want.data.dims() != have.data.dims() {
            return Err(zoo_verify::VerifyError::Compare(format!(
                "{}: output_{i}.pb has shape {:?}, the model gives {:?}",
                path.display(),
                want.data.dims(),
                have.data.dims()
            ))
            .into());
        }
        let classes = *want.data.dims().last().unwrap_or(&1);
        let a = compare_logits(h, w, classes.max(1))?;
        if a.max_abs_diff.is_nan() || max_abs_diff.is_nan() {
            max_abs_diff = f32::NAN;
        } else {
            max_abs_diff = max_abs_diff.max(a.max_abs_diff);
        }
        if i == 0 {
            argmax_agreement = a.argmax_agreement;
            rows = want.data.dims().first().copied().unwrap_or(0);
        }
    }
    let meta = ort.metadata();
    Ok(FileCheck {
        path: path.to_path_buf(),
        arch: meta.get("arch").cloned().unwrap_or_default(),
        source: meta.get("source").cloned().unwrap_or_default(),
        rows,
        max_abs_diff,
        argmax_agreement,
    })
}
