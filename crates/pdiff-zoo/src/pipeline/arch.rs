//! The stages of one architecture. Each reads its inputs from the zoo folder, so any stage can
//! run after an interruption with exactly the inputs an uninterrupted run would have used.

use std::path::Path;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use std::cell::OnceCell;
use zoo_data::{DataSource, Dataset, LoadOptions};
use zoo_import::ImportOptions;
use zoo_models::{ArchSpec, Model};
use zoo_train::ModelCard;
use zoo_train::collect::Collection;

use super::layout::ZooLayout;
use super::log::RunLog;
use super::state::Stage;
use crate::fit_choice::generate_best;
use crate::parallel::map_parallel;
use crate::progress;
use crate::recipe::{ArchPlan, LoadedRecipe};
use crate::stages::{
    GenerateSettings, collect_checkpoints, fit_collection, load_model_for, train_base,
};

/// The stages of one architecture of a run.
pub struct ArchRun<'a> {
    pub(super) recipe: &'a LoadedRecipe,
    pub(super) plan: &'a ArchPlan,
    pub(super) zoo: &'a ZooLayout,
    pub(super) device: &'a Device,
    pub(super) log: &'a RunLog,
    /// Threads for the candidate fits and their evaluation.
    jobs: usize,
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
        jobs: usize,
    ) -> Self {
        Self { recipe, plan, zoo, device, log, jobs, data: OnceCell::new() }
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

    pub(super) fn seed(&self) -> u64 {
        self.recipe.recipe.seed
    }

    pub(super) fn data(&self) -> Result<&Dataset> {
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
        let bar = progress::bar(0, &format!("{} train", self.plan.name));
        let base = match &self.plan.base {
            Some(path) => Some(self.import_base(&spec, path)?),
            None => None,
        };
        let card = train_base(
            &spec,
            base,
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

    /// The pretrained weights at `path` in `spec` (the dataset's input and classes); a head
    /// for another class count is replaced, any other difference is an error.
    fn import_base(&self, spec: &ArchSpec, path: &Path) -> Result<Model> {
        let dict = zoo_import::read_state_dict(path)?;
        let options = ImportOptions { replace_head: true, seed: self.seed() };
        let (model, report) = zoo_import::import_into(spec, &dict, options, self.device);
        if !report.is_clean() {
            bail!(
                "the weights in {} do not fit {} with input {:?}: {}\n{}",
                path.display(),
                spec.name,
                spec.input,
                report.counts(),
                report.problems().join("\n")
            );
        }
        self.log.line(&format!(
            "{}: imported {} ({})",
            self.plan.name,
            path.display(),
            report.counts()
        ));
        Ok(model)
    }

    fn collect(&mut self) -> Result<serde_json::Value> {
        let (model, card) = self.model()?;
        let bar = progress::bar(0, &format!("{} collect", self.plan.name));
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
            "{}: {} checkpoints, nearest-neighbour IoU of errors {:.3}, linear trend {:.0} % \
             and first principal component {:.0} % of the variance",
            self.plan.name,
            report["checkpoints"],
            report["trained_nn_iou_mean"].as_f64().unwrap_or(f64::NAN),
            100.0 * report["drift"]["trend_fraction"].as_f64().unwrap_or(f64::NAN),
            100.0 * report["drift"]["top_component_fraction"].as_f64().unwrap_or(f64::NAN),
        ));
        Ok(report)
    }

    fn fit(&mut self) -> Result<serde_json::Value> {
        let name = &self.plan.name;
        let collection = Collection::load(&self.zoo.collection(name))?;
        let fits = self.zoo.fits(name, self.plan.candidates);
        let (base_seed, config, device) = (self.seed(), &self.plan.pdiff, self.device);
        // Candidates fit side by side: one fit keeps little more than one core busy.
        let reports = map_parallel(&fits, self.jobs, |c, path| {
            let label = match fits.len() {
                1 => format!("{name} fit"),
                n => format!("{name} fit {}/{n}", c + 1),
            };
            let bar = progress::bar(0, &label);
            let seed = base_seed.wrapping_add(c as u64);
            let fitted = fit_collection(&collection, config, seed, device, path, &bar)?;
            bar.finish_and_clear();
            let report = serde_json::to_value(fitted.report())?;
            Ok(serde_json::json!({
                "seed": seed,
                "ae_seconds": report["ae_seconds"], "ddpm_seconds": report["ddpm_seconds"],
                "reconstruction": report["reconstruction"],
            }))
        })?;
        Ok(match <[_; 1]>::try_from(reports) {
            Ok([one]) => one,
            Err(all) => serde_json::json!({ "candidates": all }),
        })
    }

    fn sample(&mut self) -> Result<serde_json::Value> {
        let name = &self.plan.name;
        let trained = Collection::load(&self.zoo.collection(name))?;
        let (model, _) = load_model_for(&self.zoo.model(name), &trained, self.device)?;
        let settings = GenerateSettings {
            count: self.plan.count,
            sampler: self.plan.sampler,
            seed: self.seed(),
            gate: self.plan.gate,
        };
        let fits = self.zoo.fits(name, self.plan.candidates);
        let log = self.log;
        let chosen = generate_best(
            &fits,
            &trained,
            &model,
            self.data()?,
            &settings,
            self.device,
            self.jobs,
            &format!("{name} evaluate"),
            &|c| {
                if fits.len() > 1 {
                    log.line(&format!("{name} candidate {}", c.line()));
                }
            },
        )?;
        let selection = chosen.selection();
        if selection.is_some() {
            log.line(&format!("{name}: kept {}", fits[chosen.index].display()));
        }
        let outcome = chosen.generation;
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
        if let Some(selection) = selection {
            summary["selection"] = selection;
        }
        Ok(summary)
    }
}
