//! The stages of one architecture. Each reads its inputs from the zoo folder, so any stage can
//! run after an interruption with exactly the inputs an uninterrupted run would have used.

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use pdiff::FittedPdiff;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::cell::OnceCell;
use zoo_data::{DataSource, Dataset, LoadOptions};
use zoo_export::{EnsembleOptions, ExportOptions, Metadata, Source};
use zoo_models::Model;
use zoo_train::ModelCard;
use zoo_train::collect::Collection;
use zoo_train::compare::Comparison;
use zoo_verify::OrtModel;

use super::layout::ZooLayout;
use super::log::RunLog;
use super::state::Stage;
use crate::progress;
use crate::recipe::{ArchPlan, EnsembleStrategy, LoadedRecipe};
use crate::stages::{
    GenerateSettings, collect_checkpoints, fit_collection, generate, load_model_for, train_base,
};

/// Test images in each member's `test_data_set_0`.
const TEST_BATCH: usize = 8;
/// Images per ONNX Runtime call when scoring a split.
const ORT_BATCH: usize = 250;

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

/// The stages of one architecture of a run.
pub struct ArchRun<'a> {
    recipe: &'a LoadedRecipe,
    plan: &'a ArchPlan,
    zoo: &'a ZooLayout,
    device: &'a Device,
    log: &'a RunLog,
    data: OnceCell<Dataset>,
}

impl<'a> ArchRun<'a> {
    /// Stages of `plan` inside `zoo`.
    pub fn new(
        recipe: &'a LoadedRecipe,
        plan: &'a ArchPlan,
        zoo: &'a ZooLayout,
        device: &'a Device,
        log: &'a RunLog,
    ) -> Self {
        Self { recipe, plan, zoo, device, log, data: OnceCell::new() }
    }

    /// Runs one stage; returns its summary for the completion record.
    pub fn run(&mut self, stage: Stage) -> Result<serde_json::Value> {
        self.log.line(&format!("{} {}: started", self.plan.name, stage.as_str()));
        let result = match stage {
            Stage::Train => self.train(),
            Stage::Collect => self.collect(),
            Stage::Fit => self.fit(),
            Stage::Sample => self.sample(),
            Stage::Export => self.export(),
            Stage::Ensemble => self.ensemble(),
        };
        result.with_context(|| format!("{} {}", self.plan.name, stage.as_str()))
    }

    fn seed(&self) -> u64 {
        self.recipe.recipe.seed
    }

    fn data(&self) -> Result<&Dataset> {
        if let Some(data) = self.data.get() {
            return Ok(data);
        }
        let d = &self.recipe.recipe.dataset;
        let source = DataSource::parse(&d.source)?;
        let options = LoadOptions {
            seed: self.seed(),
            image_size: d.image_size.map(|[h, w]| (h, w)),
            val_fraction: d.val_fraction.unwrap_or(0.1),
            limit: d.limit,
            ..Default::default()
        };
        let data = zoo_data::load(&source, &options).with_context(|| {
            format!("loading dataset `{}` (recipe key dataset.source)", d.source)
        })?;
        Ok(self.data.get_or_init(|| data))
    }

    fn model(&self) -> Result<(Model, ModelCard)> {
        let path = self.zoo.model(&self.plan.name);
        zoo_train::load_model(&path, self.device)
            .with_context(|| format!("loading model {}", path.display()))
    }

    fn train(&mut self) -> Result<serde_json::Value> {
        let data = self.data()?;
        let info = &data.info;
        let variant = zoo_models::find(&self.plan.name)?;
        let spec =
            variant.spec.with_io([info.channels, info.height, info.width], info.num_classes());
        let bar = progress::bar(0, &self.plan.name);
        let card = train_base(
            &spec,
            data,
            &self.plan.train,
            self.seed(),
            self.device,
            &self.zoo.model(&self.plan.name),
            &bar,
        )?;
        bar.finish_and_clear();
        self.log.line(&format!(
            "{}: val {:.2} %, test {:.2} %",
            self.plan.name, card.val_accuracy, card.test_accuracy
        ));
        Ok(serde_json::json!({ "val": card.val_accuracy, "test": card.test_accuracy }))
    }

    fn collect(&mut self) -> Result<serde_json::Value> {
        let (model, card) = self.model()?;
        let bar = progress::bar(0, "collect");
        let (_, report) = collect_checkpoints(
            &self.zoo.model(&self.plan.name),
            &model,
            &card,
            self.data()?,
            &self.plan.collect,
            self.seed(),
            self.device,
            &self.zoo.collection(&self.plan.name),
            &bar,
        )?;
        bar.finish_and_clear();
        self.log.line(&format!(
            "{}: {} checkpoints, nearest-neighbour IoU of errors {:.3}",
            self.plan.name,
            report["checkpoints"],
            report["trained_nn_iou_mean"].as_f64().unwrap_or(f64::NAN)
        ));
        Ok(report)
    }

    fn fit(&mut self) -> Result<serde_json::Value> {
        let collection = Collection::load(&self.zoo.collection(&self.plan.name))?;
        let bar = progress::bar(0, "fit");
        let fitted = fit_collection(
            &collection,
            &self.plan.pdiff,
            self.seed(),
            self.device,
            &self.zoo.fitted(&self.plan.name),
            &bar,
        )?;
        bar.finish_and_clear();
        let report = serde_json::to_value(fitted.report())?;
        Ok(serde_json::json!({
            "ae_seconds": report["ae_seconds"], "ddpm_seconds": report["ddpm_seconds"],
            "reconstruction": report["reconstruction"],
        }))
    }

    fn sample(&mut self) -> Result<serde_json::Value> {
        let name = &self.plan.name;
        let trained = Collection::load(&self.zoo.collection(name))?;
        let (model, _) = load_model_for(&self.zoo.model(name), &trained, self.device)?;
        let fitted = FittedPdiff::load(&self.zoo.fitted(name), self.device)?;
        let settings = GenerateSettings {
            count: self.plan.count,
            sampler: self.plan.sampler,
            seed: self.seed(),
        };
        let bar = progress::bar(0, "evaluate");
        let outcome =
            generate(&fitted, &trained, &model, self.data()?, &settings, self.device, &bar)?;
        bar.finish_and_clear();
        outcome.generated.save(&self.zoo.generated(name))?;
        outcome.noise.save(&self.zoo.noise(name))?;
        zoo_io::write_json(&self.zoo.comparison(name), &outcome.comparison)?;
        let matrix = super::summary::similarity(
            [
                (&trained, zoo_report::Group::Trained, "t"),
                (&outcome.generated, zoo_report::Group::Generated, "g"),
                (&outcome.noise, zoo_report::Group::NoiseAdded, "n"),
            ],
            &self.data()?.test.labels,
        );
        zoo_io::write_json(&self.zoo.similarity(name), &matrix)?;
        self.log.line(&format!(
            "{name}:\n{}",
            crate::commands::sample::comparison_table(&outcome.comparison)
        ));
        let mut summary = serde_json::to_value(&outcome.comparison)?;
        summary.as_object_mut().expect("object").remove("members");
        summary["sample_seconds"] = serde_json::json!(outcome.sample_seconds);
        summary["evaluate_seconds"] = serde_json::json!(outcome.evaluate_seconds);
        Ok(summary)
    }

    /// The generated members to export: those passing the recipe's filters, best validation
    /// accuracy first.
    fn chosen_generated(
        &self,
        generated: &Collection,
        comparison: &Comparison,
    ) -> Result<Vec<usize>> {
        let max_iou: Vec<f64> = comparison
            .members
            .iter()
            .filter(|m| m.source == "generated")
            .map(|m| m.max_iou_to_trained)
            .collect();
        let keep: Vec<usize> = (0..generated.len())
            .filter(|&i| self.plan.min_val_accuracy.is_none_or(|v| generated.val_accuracy[i] >= v))
            .filter(|&i| self.plan.max_iou_to_trained.is_none_or(|v| max_iou[i] <= v))
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

    fn export(&mut self) -> Result<serde_json::Value> {
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
            self.chosen_generated(&generated, &comparison)?
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
        let bar = progress::bar(chosen.len() as u64, "export");
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

    fn ensemble(&mut self) -> Result<serde_json::Value> {
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
            .map(|m| zoo_onnx::Model::read(&root.join(&m.onnx)).map_err(anyhow::Error::from))
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
        let mut expected = vec![0f32; rows * classes];
        for m in members {
            let set = zoo_onnx::test_data::read_test_data_set(&zoo_export::test_data_dir(
                &root.join(&m.onnx),
            ))?;
            let logits = set.outputs[0].data.as_f32().context("member test data")?;
            for (row, out) in logits.chunks(classes).zip(expected.chunks_mut(classes)) {
                for (o, p) in out.iter_mut().zip(softmax(row)) {
                    *o += p / members.len() as f32;
                }
            }
        }
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

fn softmax(row: &[f32]) -> Vec<f32> {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exp: Vec<f32> = row.iter().map(|v| (v - max).exp()).collect();
    let sum: f32 = exp.iter().sum();
    exp.into_iter().map(|e| e / sum).collect()
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
