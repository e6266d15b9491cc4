//! The zoo's outputs from the stage files: `manifest.json`, `report.json` and `report.html`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use zoo_report::{
    Accuracy, ArchDetail, ArchSummary, CreatedBy, Diversity, Ensemble, EnsembleAccuracy, Group,
    GroupStats, Manifest, Margin, Member, OrtCheck, Point, RecipeRef, ReportInput,
    SimilarityMatrix, Source,
};
use zoo_train::collect::Collection;
use zoo_train::compare::{Comparison, GroupSummary};
use zoo_train::metrics::ErrorSet;

use super::ensemble::ExportedEnsemble;
use super::export::ExportedMember;
use super::layout::ZooLayout;
use super::state::{Stage, StateDir};
use crate::recipe::LoadedRecipe;

/// Members of each group shown in the similarity matrix.
const MATRIX_PER_GROUP: usize = 12;

/// Builds the manifest and the report data of the architectures `archs` of a zoo.
pub fn zoo_outputs(recipe: &LoadedRecipe, zoo: &ZooLayout, archs: &[&str]) -> Result<ReportInput> {
    let mut manifest = Manifest::new(
        recipe.recipe.name.clone(),
        RecipeRef { name: recipe.recipe.name.clone(), sha256: recipe.hash.clone() },
        CreatedBy {
            tool: format!("pdiff-zoo {}", env!("CARGO_PKG_VERSION")),
            command: "run".into(),
            created_at: None,
        },
    );
    let state = StateDir::new(zoo.root());
    let mut details = Vec::new();
    for &arch in archs {
        let exported: Vec<ExportedMember> = zoo_io::read_json(&zoo.exported(arch))?;
        let ensembles: Vec<ExportedEnsemble> = zoo_io::read_json(&zoo.ensembles_record(arch))?;
        let comparison: Comparison = zoo_io::read_json(&zoo.comparison(arch))?;
        for m in &exported {
            manifest.members.push(Member {
                id: m.id.clone(),
                arch: m.arch.clone(),
                family: m.family.clone(),
                source: if m.source == "generated" { Source::Generated } else { Source::Trained },
                onnx: m.onnx.clone(),
                sha256: m.sha256.clone(),
                params: m.params,
                accuracy: Accuracy { val: m.val, test: m.test },
                ort: OrtCheck {
                    test: m.ort_test,
                    max_abs_diff: m.max_abs_diff,
                    argmax_agreement: 100.0 * m.argmax_agreement,
                },
            });
        }
        for e in &ensembles {
            manifest.ensembles.push(Ensemble {
                id: e.id.clone(),
                onnx: e.onnx.clone(),
                sha256: Some(e.sha256.clone()),
                members: e.members.clone(),
                accuracy: EnsembleAccuracy {
                    test: e.test,
                    best_member: Some(e.best_member),
                    median_member: Some(e.median_member),
                },
            });
        }
        let stats = |g: &GroupSummary| GroupStats {
            best: g.test.best,
            mean: g.test.mean,
            median: g.test.median,
            min: g.test.min,
            n: g.test.n,
        };
        let d = &comparison.diversity;
        manifest.summary.insert(
            arch.to_string(),
            ArchSummary {
                trained: stats(&comparison.trained),
                generated: stats(&comparison.generated),
                noise_added: stats(&comparison.noise_added),
                diversity: Diversity {
                    trained_iou_mean: d.trained_iou_mean,
                    generated_iou_mean: d.generated_iou_mean,
                    cross_iou_mean: d.cross_iou_mean,
                    max_iou_to_trained_mean: d.max_iou_to_trained_mean,
                    noise_max_iou_to_trained_mean: d.noise_max_iou_to_trained_mean,
                    trained_nn_iou_mean: d.trained_nn_iou_mean,
                    noise_equal_l2_max_iou_to_trained_mean: Some(
                        d.noise_equal_l2_max_iou_to_trained_mean,
                    ),
                    generated_max_iou_at_trained_accuracy: d
                        .at_trained_accuracy
                        .generated_max_iou_mean,
                    noise_max_iou_at_trained_accuracy: d.at_trained_accuracy.noise_max_iou_mean,
                    interpolated_max_iou_to_trained_mean: d.interpolated_max_iou_to_trained_mean,
                    gaussian_max_iou_to_trained_mean: d.gaussian_max_iou_to_trained_mean,
                    margin_interval: d.margin.map(|m| [m.low, m.high]),
                    validation_margin: d.validation_margin.map(|m| Margin {
                        margin: m.margin,
                        low: m.low,
                        high: m.high,
                    }),
                },
                gate_min_val: comparison.gate.map(|g| g.min_val),
            },
        );
        let mut times = BTreeMap::new();
        for stage in Stage::ALL {
            if let Some(record) = state.get(arch, stage)? {
                times.insert(stage.as_str().to_string(), record.seconds);
            }
        }
        manifest.timings.insert(arch.to_string(), times);
        details.push(detail(zoo, arch, &comparison)?);
    }
    manifest.validate().context("the manifest is inconsistent")?;
    Ok(ReportInput { manifest, archs: details })
}

/// Per-architecture plot data: every member's accuracies and similarity, and a similarity
/// matrix over the best trained, generated and noise-added members.
fn detail(zoo: &ZooLayout, arch: &str, comparison: &Comparison) -> Result<ArchDetail> {
    let points = |source: &str, tag: &str| -> Vec<Point> {
        comparison
            .members
            .iter()
            .filter(|m| m.source == source)
            .map(|m| Point {
                id: format!("{arch}.{tag}{:03}", m.index),
                val: m.val,
                test: m.test,
                max_iou_to_trained: m.max_iou_to_trained,
            })
            .collect()
    };
    let similarity: SimilarityMatrix = zoo_io::read_json(&zoo.similarity(arch))?;
    Ok(ArchDetail {
        arch: arch.to_string(),
        trained: points("trained", "t"),
        generated: points("generated", "g"),
        noise_added: points("noise_added", "n"),
        similarity: Some(similarity),
    })
}

/// The similarity matrix (IoU of test errors) over the best trained, generated and
/// noise-added members by validation accuracy.
pub fn similarity(groups: [(&Collection, Group, &str); 3], labels: &[u16]) -> SimilarityMatrix {
    let mut names = Vec::new();
    let mut group_of = Vec::new();
    let mut sets = Vec::new();
    for (collection, group, tag) in groups {
        let mut order: Vec<usize> = (0..collection.len()).collect();
        order.sort_by(|&a, &b| {
            collection.val_accuracy[b].total_cmp(&collection.val_accuracy[a]).then(a.cmp(&b))
        });
        for &i in order.iter().take(MATRIX_PER_GROUP) {
            names.push(format!("{tag}{i:03}"));
            group_of.push(group);
            sets.push(ErrorSet::new(&collection.test_predictions[i], labels));
        }
    }
    let values = sets.iter().map(|a| sets.iter().map(|b| a.iou(b)).collect::<Vec<f64>>()).collect();
    SimilarityMatrix { labels: names, groups: group_of, values }
}

/// Writes `manifest.json`, `report.json` and `report.html` for `archs`.
pub fn write_outputs(recipe: &LoadedRecipe, zoo: &ZooLayout, archs: &[&str]) -> Result<()> {
    let input = zoo_outputs(recipe, zoo, archs)?;
    input.manifest.write(&zoo.manifest())?;
    input.write(&zoo.report_data())?;
    zoo_report::write_report(zoo.root(), &input)?;
    Ok(())
}
