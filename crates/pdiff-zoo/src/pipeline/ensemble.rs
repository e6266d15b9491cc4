//! The ensemble stage: one ONNX graph per strategy over the exported generated members,
//! verified against the mean of the members' softmax and scored on the test split.

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use zoo_export::EnsembleOptions;
use zoo_verify::OrtModel;

use super::arch::ArchRun;
use super::export::{ExportedMember, ORT_BATCH, TEST_BATCH};
use super::layout::ZooLayout;
use crate::recipe::EnsembleStrategy;

/// One ensemble, as recorded by the ensemble stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedEnsemble {
    /// `arch.ens-<strategy><k>`.
    pub id: String,
    /// Architecture.
    pub arch: String,
    /// Strategy that chose the members.
    pub strategy: EnsembleStrategy,
    /// ONNX path relative to the zoo folder.
    pub onnx: String,
    /// sha256 of the ONNX file.
    pub sha256: String,
    /// Member ids.
    pub members: Vec<String>,
    /// ONNX Runtime test accuracy, percent.
    pub test: f64,
    /// Best member test accuracy.
    pub best_member: f64,
    /// Median member test accuracy.
    pub median_member: f64,
    /// Largest |Δ| between ONNX Runtime's probabilities and the mean of the members' softmax.
    pub max_abs_diff: f64,
}

impl ArchRun<'_> {
    /// Runs the ensemble stage.
    pub(super) fn ensemble(&mut self) -> Result<serde_json::Value> {
        let name = self.plan.name.clone();
        let settings = &self.recipe.recipe.ensembles;
        if settings.size == 0 || settings.strategies.is_empty() {
            zoo_io::write_json(&self.zoo.ensembles_record(&name), &Vec::<ExportedEnsemble>::new())?;
            return Ok(serde_json::json!({ "ensembles": 0 }));
        }
        let exported: Vec<ExportedMember> = zoo_io::read_json(&self.zoo.exported(&name))?;
        let candidates: Vec<&ExportedMember> =
            exported.iter().filter(|m| m.source == "generated").collect();
        let data = self.data()?;
        let val_labels = &data.val.labels;
        let val_accuracy: Vec<f64> = candidates.iter().map(|m| m.val).collect();
        let k = settings.size.min(candidates.len());
        let mut records = Vec::new();
        for &strategy in &settings.strategies {
            let picks = match strategy {
                EnsembleStrategy::TopK => zoo_export::top_k(&val_accuracy, k)?,
                EnsembleStrategy::Diverse => {
                    let floor = settings.min_val_accuracy.unwrap_or_else(|| median(&val_accuracy));
                    let predictions: Vec<Vec<u16>> =
                        candidates.iter().map(|m| m.val_predictions.clone()).collect();
                    zoo_export::diverse(&val_accuracy, &predictions, val_labels, k, floor)?
                }
            };
            let members: Vec<&ExportedMember> = picks.iter().map(|&i| candidates[i]).collect();
            let label = match strategy {
                EnsembleStrategy::TopK => "top",
                EnsembleStrategy::Diverse => "diverse",
            };
            let id = format!("{name}.ens-{label}{}", members.len());
            records.push(self.build_ensemble(&id, strategy, &members)?);
        }
        zoo_io::write_json(&self.zoo.ensembles_record(&name), &records)?;
        for r in &records {
            self.log.line(&format!(
                "{}: test {:.2} % (best member {:.2} %, median {:.2} %)",
                r.id, r.test, r.best_member, r.median_member
            ));
        }
        Ok(serde_json::to_value(
            records
                .iter()
                .map(|r| (r.id.clone(), r.test))
                .collect::<std::collections::BTreeMap<_, _>>(),
        )?)
    }

    fn build_ensemble(
        &self,
        id: &str,
        strategy: EnsembleStrategy,
        members: &[&ExportedMember],
    ) -> Result<ExportedEnsemble> {
        let root = self.zoo.root();
        let models = members
            .iter()
            .map(|m| zoo_onnx::Model::read(root.join(&m.onnx)).map_err(anyhow::Error::from))
            .collect::<Result<Vec<_>>>()?;
        let data = self.data()?;
        let info = &data.info;
        let test_indices: Vec<usize> = (0..data.test.len()).collect();
        let test_images = data.test.normalized(info, &test_indices);
        let image = [info.channels, info.height, info.width];
        let classes = info.num_classes();
        let options = EnsembleOptions {
            member_logits: false,
            accuracy: None,
            recipe_hash: Some(self.recipe.hash.clone()),
            id: Some(id.to_string()),
        };
        // Reference on the test batch: mean softmax of the members' burn logits.
        let rows = TEST_BATCH.min(data.test.len());
        let batch = &test_images[..rows * info.image_len()];
        let member_logits = members
            .iter()
            .map(|m| {
                let dir = zoo_export::test_data_dir(&root.join(&m.onnx));
                let set = zoo_onnx::test_data::read_test_data_set(&dir)?;
                Ok(set.outputs[0].data.as_f32().context("member test data")?.to_vec())
            })
            .collect::<Result<Vec<_>>>()?;
        let expected = zoo_export::mean_softmax(&member_logits, classes)?;
        let graph = zoo_export::ensemble(&models, &options)?;
        let mut ort = OrtModel::from_model(&graph, id)?;
        let got = ort.run_output(
            batch,
            [rows, image[0], image[1], image[2]],
            zoo_export::PROBABILITIES_NAME,
        )?;
        let agreement = zoo_verify::compare_logits(&got, &expected, classes)?;
        if !agreement.within(zoo_verify::LOGIT_TOLERANCE) || agreement.argmax_agreement < 1.0 {
            bail!(
                "{id}: ONNX Runtime's probabilities differ from the mean of the members' softmax \
                 (max |Δ| {:.2e}, argmax agreement {:.1} %)",
                agreement.max_abs_diff,
                100.0 * agreement.argmax_agreement
            );
        }
        let predictions = zoo_export::ort_predictions(
            &mut ort,
            &test_images,
            image,
            zoo_export::PROBABILITIES_NAME,
            ORT_BATCH,
        )?;
        let test = zoo_export::accuracy_percent(&predictions, &data.test.labels);
        let options = EnsembleOptions { accuracy: Some(test), ..options };
        let graph = zoo_export::ensemble(&models, &options)?;
        let relative = ZooLayout::ensemble_onnx(id);
        let path = root.join(&relative);
        let input =
            zoo_onnx::TensorData::f32([rows, image[0], image[1], image[2]], batch.to_vec())?;
        let output = zoo_onnx::TensorData::f32([rows, classes], expected.clone())?;
        zoo_export::write_with_test_data(
            &graph,
            &path,
            &input,
            &[(zoo_export::PROBABILITIES_NAME, &output)],
        )?;
        let tests: Vec<f64> = members.iter().map(|m| m.test).collect();
        Ok(ExportedEnsemble {
            id: id.to_string(),
            arch: self.plan.name.clone(),
            strategy,
            onnx: relative,
            sha256: crate::recipe::hex(&sha2::Sha256::digest(&graph.to_bytes()?)),
            members: members.iter().map(|m| m.id.clone()).collect(),
            test,
            best_member: tests.iter().copied().fold(f64::MIN, f64::max),
            median_member: median(&tests),
            max_abs_diff: agreement.max_abs_diff as f64,
        })
    }
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}
