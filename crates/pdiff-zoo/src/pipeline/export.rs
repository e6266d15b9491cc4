//! The export stage: the chosen trained and generated members as ONNX files, each verified in
//! ONNX Runtime on a test batch (logits) and on the whole test split (predictions).

use anyhow::{Result, bail};
use serde::{Deserialize, Serialize};
use sha2::Digest;
use zoo_export::{ExportOptions, Metadata, Source};
use zoo_models::Model;
use zoo_train::collect::Collection;
use zoo_train::compare::Comparison;
use zoo_verify::OrtModel;

use super::arch::ArchRun;
use super::layout::ZooLayout;
use crate::progress;
use crate::stages::{load_model_for, val_max_iou_to_trained};

/// Test images in each member's `test_data_set_0`.
pub const TEST_BATCH: usize = 8;
/// Images per ONNX Runtime call when scoring a split.
pub const ORT_BATCH: usize = 250;

/// One exported member, as recorded by the export stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedMember {
    /// `arch.tag` (`resnet8.g017`: generated member 17; `resnet8.t042`: trained checkpoint 42).
    pub id: String,
    /// Architecture.
    pub arch: String,
    /// Family.
    pub family: String,
    /// `trained` or `generated`.
    pub source: String,
    /// Row in its collection.
    pub index: usize,
    /// ONNX path relative to the zoo folder.
    pub onnx: String,
    /// sha256 of the ONNX file.
    pub sha256: String,
    /// Parameters of the network.
    pub params: u64,
    /// burn's validation accuracy, percent.
    pub val: f64,
    /// burn's test accuracy, percent.
    pub test: f64,
    /// ONNX Runtime's test accuracy, percent.
    pub ort_test: f64,
    /// Largest |Δlogit| between ONNX Runtime and burn on the test batch.
    pub max_abs_diff: f64,
    /// Share of equal argmaxes on the test batch.
    pub argmax_agreement: f64,
    /// Max IoU of test errors to any trained checkpoint (the nearest other one for trained).
    pub max_iou_to_trained: f64,
    /// ONNX Runtime's validation predictions (ensemble selection uses validation only).
    pub val_predictions: Vec<u16>,
    /// ONNX Runtime's test predictions.
    pub test_predictions: Vec<u16>,
}

impl ArchRun<'_> {
    /// The generated members to export: those passing the recipe's filters, best validation
    /// accuracy first. Both filters read the validation split only: `max_iou_to_trained` is
    /// measured on validation errors here, not taken from the comparison's test-split figures.
    fn chosen_generated(
        &self,
        trained: &Collection,
        generated: &Collection,
        model: &Model,
    ) -> Result<Vec<usize>> {
        // Each member's validation max-IoU, with the threshold it must stay under.
        let similarity = match self.plan.max_iou_to_trained {
            Some(limit) => Some((
                limit,
                val_max_iou_to_trained(trained, generated, model, self.data()?, self.device)?,
            )),
            None => None,
        };
        let keep: Vec<usize> = (0..generated.len())
            .filter(|&i| self.plan.min_val_accuracy.is_none_or(|v| generated.val_accuracy[i] >= v))
            .filter(|&i| similarity.as_ref().is_none_or(|(limit, iou)| iou[i] <= *limit))
            .collect();
        if keep.is_empty() {
            bail!(
                "no generated member passes generate.min_val_accuracy / max_iou_to_trained\n\
                 hint: loosen them in the recipe"
            );
        }
        let mut order = keep;
        order.sort_by(|&a, &b| {
            generated.val_accuracy[b].total_cmp(&generated.val_accuracy[a]).then(a.cmp(&b))
        });
        order.truncate(self.recipe.recipe.export.generated);
        Ok(order)
    }

    /// Runs the export stage.
    pub(super) fn export(&mut self) -> Result<serde_json::Value> {
        let name = self.plan.name.clone();
        let trained = Collection::load(&self.zoo.collection(&name))?;
        let generated = Collection::load(&self.zoo.generated(&name))?;
        let comparison: Comparison = zoo_io::read_json(&self.zoo.comparison(&name))?;
        let (model, card) = load_model_for(&self.zoo.model(&name), &trained, self.device)?;
        let data = self.data()?;
        let mut chosen: Vec<(Source, usize)> = Vec::new();
        let mut trained_order: Vec<usize> = (0..trained.len()).collect();
        trained_order.sort_by(|&a, &b| {
            trained.val_accuracy[b].total_cmp(&trained.val_accuracy[a]).then(a.cmp(&b))
        });
        trained_order.truncate(self.recipe.recipe.export.trained);
        chosen.extend(trained_order.into_iter().map(|i| (Source::Trained, i)));
        chosen.extend(
            self.chosen_generated(&trained, &generated, &model)?
                .into_iter()
                .map(|i| (Source::Generated, i)),
        );
        let row_of = |source: Source, index: usize| {
            let source_name = source.as_str();
            comparison.members.iter().find(|m| m.source == source_name && m.index == index)
        };
        let info = &data.info;
        let test_indices: Vec<usize> = (0..data.test.len()).collect();
        let val_indices: Vec<usize> = (0..data.val.len()).collect();
        let test_images = data.test.normalized(info, &test_indices);
        let val_images = data.val.normalized(info, &val_indices);
        let image = [info.channels, info.height, info.width];
        let batch_len = TEST_BATCH.min(data.test.len()) * info.image_len();
        let shape = [batch_len / info.image_len(), image[0], image[1], image[2]];
        let bar = progress::bar(chosen.len() as u64, &format!("{} export", self.plan.name));
        let mut records = Vec::new();
        let mut member = model.clone();
        for (source, index) in chosen {
            let (collection, tag) = match source {
                Source::Generated => (&generated, 'g'),
                _ => (&trained, 't'),
            };
            let id = format!("{name}.{tag}{index:03}");
            let (spliced, _) = collection.layout.splice(&name, member, collection.row(index))?;
            member = spliced;
            let metadata = Metadata {
                dataset: info.name.clone(),
                labels: info.labels.clone(),
                input_mean: info.mean.clone(),
                input_std: info.std.clone(),
                source,
                member: id.clone(),
                accuracy: Some(collection.test_accuracy[index]),
                recipe_hash: self.recipe.hash.clone(),
                extra: vec![("zoo".into(), self.recipe.recipe.name.clone())],
            };
            let options = ExportOptions {
                opset: self.recipe.recipe.export.opset as u32,
                ..ExportOptions::with_metadata(metadata)
            };
            let verified = zoo_export::export_verified(
                &member,
                &card.arch,
                &options,
                &test_images[..batch_len],
                shape,
                self.device,
            )?;
            let relative = ZooLayout::member_onnx(&id);
            let path = self.zoo.root().join(&relative);
            verified.write(&path)?;
            let bytes = verified.model.to_bytes()?;
            let mut ort = OrtModel::from_model(&verified.model, &id)?;
            let test_predictions = zoo_export::ort_predictions(
                &mut ort,
                &test_images,
                image,
                zoo_export::LOGITS_NAME,
                ORT_BATCH,
            )?;
            let val_predictions = zoo_export::ort_predictions(
                &mut ort,
                &val_images,
                image,
                zoo_export::LOGITS_NAME,
                ORT_BATCH,
            )?;
            let ort_test = zoo_export::accuracy_percent(&test_predictions, &data.test.labels);
            if test_predictions != collection.test_predictions[index] {
                bail!(
                    "{id}: ONNX Runtime's test predictions differ from burn's ({ort_test:.2} % vs \
                     {:.2} %)",
                    collection.test_accuracy[index]
                );
            }
            records.push(ExportedMember {
                id: id.clone(),
                arch: name.clone(),
                family: card.arch.family().as_str().into(),
                source: source.as_str().into(),
                index,
                onnx: relative,
                sha256: crate::recipe::hex(&sha2::Sha256::digest(&bytes)),
                params: zoo_models::count_params(&member) as u64,
                val: collection.val_accuracy[index],
                test: collection.test_accuracy[index],
                ort_test,
                max_abs_diff: verified.agreement.max_abs_diff as f64,
                argmax_agreement: verified.agreement.argmax_agreement,
                max_iou_to_trained: row_of(source, index)
                    .map_or(f64::NAN, |r| r.max_iou_to_trained),
                val_predictions,
                test_predictions,
            });
            bar.inc(1);
        }
        bar.finish_and_clear();
        zoo_io::write_json(&self.zoo.exported(&name), &records)?;
        let worst = records.iter().map(|r| r.max_abs_diff).fold(0.0, f64::max);
        self.log.line(&format!(
            "{name}: exported {} members, verified in ONNX Runtime (max |Δlogit| {worst:.2e}, \
             test accuracy equal to burn's)",
            records.len()
        ));
        Ok(serde_json::json!({ "members": records.len(), "max_abs_diff": worst }))
    }
}
