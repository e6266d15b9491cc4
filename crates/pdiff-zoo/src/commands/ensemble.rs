//! `pdiff-zoo ensemble`: one ONNX graph that runs K members and outputs the mean of their
//! softmax probabilities, verified in ONNX Runtime against the mean computed in Rust, with its
//! test accuracy reported next to the best and median member's.
//!
//! Members come either from exported files (`--members A.onnx,B.onnx`) or from a model and a
//! collection (`--model M --collection C`, each chosen row spliced and exported). Either way
//! they can be listed (`--members` / `--rows`) or chosen on the validation split:
//! `--top-k K` (most accurate) or `--diverse K --min-accuracy A` (greedy lowest IoU of errors).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use zoo_data::{DataSource, Dataset, LoadOptions};
use zoo_export::EnsembleOptions;
use zoo_onnx::TensorData;
use zoo_train::Tensors;
use zoo_train::metrics::Summary;
use zoo_verify::{LOGIT_TOLERANCE, OrtModel};

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};
use crate::commands::export::{OnnxArgs, export_member, load_collection, splice_row, test_batch};

/// Arguments of `ensemble`.
#[derive(clap::Args)]
pub struct Args {
    /// Exported member files (comma-separated); candidates when --top-k/--diverse is given.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["model", "collection"])]
    members: Vec<PathBuf>,
    /// Trained model whose collection rows are the candidates.
    #[arg(long, requires = "collection")]
    model: Option<PathBuf>,
    /// Collection (trained checkpoints or generated members) of `--model`.
    #[arg(long, requires = "model")]
    collection: Option<PathBuf>,
    /// Collection rows to use (comma-separated) instead of a selection.
    #[arg(long, value_delimiter = ',', conflicts_with_all = ["top_k", "diverse"])]
    rows: Vec<usize>,
    /// Choose the K most accurate candidates on the validation split.
    #[arg(long, value_name = "K", conflicts_with = "diverse")]
    top_k: Option<usize>,
    /// Choose K candidates greedily for the lowest IoU of validation errors.
    #[arg(long, value_name = "K")]
    diverse: Option<usize>,
    /// Minimum validation accuracy (percent) of a --diverse candidate.
    #[arg(long, default_value_t = 0.0)]
    min_accuracy: f64,
    /// Also output every member's logits (`member_logits` [batch, K, classes]).
    #[arg(long)]
    member_logits: bool,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    onnx: OnnxArgs,
    #[command(flatten)]
    run: RunArgs,
    /// Output `.onnx` file; `test_data_set_0/` is written beside it.
    #[arg(short, long)]
    output: PathBuf,
}

/// A member ready to join: its graph, id, test accuracy and logits on the test batch.
struct Ready {
    model: zoo_onnx::Model,
    id: String,
    test_accuracy: f64,
    batch_logits: Vec<f32>,
}

fn choose(
    args: &Args,
    val_accuracy: &[f64],
    val_predictions: Option<&[Vec<u16>]>,
    labels: &[u16],
) -> Result<Vec<usize>> {
    Ok(match (args.top_k, args.diverse) {
        (Some(k), _) => zoo_export::top_k(val_accuracy, k)?,
        (None, Some(k)) => {
            let predictions = val_predictions.expect("validation predictions for --diverse");
            zoo_export::diverse(val_accuracy, predictions, labels, k, args.min_accuracy)?
        }
        (None, None) => (0..val_accuracy.len()).collect(),
    })
}

fn from_collection(
    args: &Args,
    model_path: &Path,
    collection_path: &Path,
) -> Result<(Vec<Ready>, Dataset)> {
    let device = device(args.run.backend)?;
    let (model, card) = zoo_train::load_model(model_path, &device)
        .with_context(|| format!("loading model {}", model_path.display()))?;
    let collection = load_collection(collection_path, &card)?;
    let data = load_for_card(&args.data, &card)?;
    let (val, test) = (Tensors::new(&data.val, &data.info), Tensors::new(&data.test, &data.info));
    let model_id = model_path
        .file_name()
        .map(|s| s.to_string_lossy().trim_end_matches(".safetensors").to_string())
        .unwrap_or_default();
    let rows = if !args.rows.is_empty() {
        args.rows.clone()
    } else if args.top_k.is_none() && args.diverse.is_none() {
        bail!("give --rows, --top-k or --diverse to choose collection rows");
    } else {
        let predictions = match args.diverse {
            Some(_) => {
                eprintln!("evaluating {} candidates on the validation split…", collection.len());
                let mut all = Vec::new();
                for row in 0..collection.len() {
                    if collection.val_accuracy[row] < args.min_accuracy {
                        all.push(vec![u16::MAX; val.len()]); // never chosen: below the floor
                        continue;
                    }
                    let m =
                        splice_row(&model, &card, &collection, collection_path, row, &model_id)?;
                    all.push(zoo_train::evaluate(&m.model, &val, &device).predictions);
                }
                Some(all)
            }
            None => None,
        };
        choose(args, &collection.val_accuracy, predictions.as_deref(), &val.labels)?
    };
    let (images, shape) = test_batch(&data, args.onnx.batch)?;
    let mut ready = Vec::new();
    for &row in &rows {
        let member = splice_row(&model, &card, &collection, collection_path, row, &model_id)?;
        let opts = args.onnx.export_options();
        let (verified, accuracy, _) =
            export_member(&card, &member, (&images, shape), &test, opts, false, &device)?;
        let batch_logits = zoo_export::burn_logits(&member.model, &images, shape, &device);
        eprintln!(
            "member {} (row {row}): test {accuracy:.2}%, max |Δlogit| {:.2e}",
            member.id, verified.agreement.max_abs_diff
        );
        ready.push(Ready {
            model: verified.model,
            id: member.id,
            test_accuracy: accuracy,
            batch_logits,
        });
    }
    Ok((ready, data))
}

fn from_files(args: &Args) -> Result<(Vec<Ready>, Dataset)> {
    let models: Vec<zoo_onnx::Model> = args
        .members
        .iter()
        .map(|p| zoo_onnx::Model::read(p).with_context(|| format!("reading {}", p.display())))
        .collect::<Result<_>>()?;
    if let Some(asked) = args.onnx.opset
        && let Some((path, found)) = args
            .members
            .iter()
            .zip(&models)
            .map(|(p, m)| (p, m.opset()))
            .find(|(_, o)| *o != Some(asked))
    {
        bail!(
            "{} has opset {}, but --opset {asked} was asked\nhint: drop --opset (the ensemble keeps the members' opset) or re-export the members",
            path.display(),
            found.map_or("none".to_string(), |o| o.to_string())
        );
    }
    let meta: std::collections::BTreeMap<String, String> =
        models[0].metadata().into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let mut sessions: Vec<OrtModel> =
        args.members.iter().map(OrtModel::load).collect::<Result<_, _>>()?;
    let input = sessions[0].inputs().first().cloned().context("member 0 has no input")?;
    let [c, h, w] = match input.dims.as_slice() {
        [
            _,
            zoo_verify::SigDim::Fixed(c),
            zoo_verify::SigDim::Fixed(h),
            zoo_verify::SigDim::Fixed(w),
        ] => [*c, *h, *w],
        _ => bail!(
            "{}: input {} is not [batch, C, H, W]",
            args.members[0].display(),
            input.shape_text()
        ),
    };
    let seed = meta.get("seed").and_then(|s| s.parse().ok()).unwrap_or(0);
    let source = DataSource::parse(&args.data.dataset)?;
    let options = LoadOptions { seed, image_size: Some((h, w)), ..Default::default() };
    let data = zoo_data::load(&source, &options)
        .with_context(|| format!("loading dataset `{}`", args.data.dataset))?;
    if data.info.channels != c {
        bail!(
            "dataset `{}` has {} channels, the members take {c}",
            args.data.dataset,
            data.info.channels
        );
    }
    if let Some(labels) = meta.get("labels")
        && *labels != data.info.labels.join(",")
    {
        bail!(
            "dataset `{}` does not have the members' labels ({labels})\nhint: pass --dataset with the training data",
            args.data.dataset
        );
    }
    let (val, test) = (Tensors::new(&data.val, &data.info), Tensors::new(&data.test, &data.info));
    let predict = |s: &mut OrtModel, t: &Tensors| {
        zoo_export::ort_predictions(s, &t.images, t.dims, zoo_export::LOGITS_NAME, 256)
    };
    let chosen = if args.top_k.is_some() || args.diverse.is_some() {
        let mut val_predictions = Vec::new();
        for s in sessions.iter_mut() {
            val_predictions.push(predict(s, &val)?);
        }
        let val_accuracy: Vec<f64> =
            val_predictions.iter().map(|p| zoo_export::accuracy_percent(p, &val.labels)).collect();
        choose(args, &val_accuracy, Some(&val_predictions), &val.labels)?
    } else {
        (0..models.len()).collect()
    };
    let (images, shape) = test_batch(&data, args.onnx.batch)?;
    let mut ready = Vec::new();
    for i in chosen {
        let s = &mut sessions[i];
        let test_accuracy = zoo_export::accuracy_percent(&predict(s, &test)?, &test.labels);
        let batch_logits = s.run(&images, shape)?;
        let id = s
            .metadata()
            .get("member")
            .cloned()
            .unwrap_or_else(|| args.members[i].display().to_string());
        ready.push(Ready { model: models[i].clone(), id, test_accuracy, batch_logits });
    }
    Ok((ready, data))
}

/// Runs `ensemble`.
pub fn run(args: Args) -> Result<ExitCode> {
    args.onnx.check()?;
    let (members, data) = match (&args.model, &args.collection) {
        (Some(m), Some(c)) => from_collection(&args, m, c)?,
        _ if !args.members.is_empty() => from_files(&args)?,
        _ => bail!("give --members FILES or --model with --collection"),
    };
    let test = Tensors::new(&data.test, &data.info);
    let classes = data.info.num_classes();
    let opts = EnsembleOptions {
        member_logits: args.member_logits,
        accuracy: None,
        recipe_hash: (!args.onnx.recipe_hash.is_empty()).then(|| args.onnx.recipe_hash.clone()),
        id: None,
    };
    let models: Vec<_> = members.iter().map(|m| m.model.clone()).collect();
    let graph = zoo_export::ensemble(&models, &opts)?;
    let mut ort = OrtModel::from_model(&graph, "ensemble")?;
    let predictions = zoo_export::ort_predictions(
        &mut ort,
        &test.images,
        test.dims,
        zoo_export::PROBABILITIES_NAME,
        256,
    )?;
    let accuracy = zoo_export::accuracy_percent(&predictions, &test.labels);

    // Verify on the test batch against the Rust mean of softmaxes of the members' logits.
    let (images, shape) = test_batch(&data, args.onnx.batch)?;
    let logits: Vec<Vec<f32>> = members.iter().map(|m| m.batch_logits.clone()).collect();
    let expected = zoo_export::mean_softmax(&logits, classes)?;
    let graph =
        zoo_export::ensemble(&models, &EnsembleOptions { accuracy: Some(accuracy), ..opts })?;
    let mut ort = OrtModel::from_model(&graph, "ensemble")?;
    let got = ort.run_output(&images, shape, zoo_export::PROBABILITIES_NAME)?;
    let agreement = zoo_verify::compare_logits(&got, &expected, classes)?;
    if !agreement.within(LOGIT_TOLERANCE) || agreement.argmax_agreement < 1.0 {
        eprintln!(
            "error: the ensemble graph disagrees with the mean of member softmaxes: max |Δ| {:.2e}, argmax {:.1}%",
            agreement.max_abs_diff,
            100.0 * agreement.argmax_agreement
        );
        return Ok(ExitCode::from(1));
    }
    let input = TensorData::f32(shape, images)?;
    let probabilities = TensorData::f32([shape[0], classes], expected)?;
    let stacked;
    let mut outputs = vec![(zoo_export::PROBABILITIES_NAME, &probabilities)];
    if args.member_logits {
        let mut values = Vec::new();
        for row in 0..shape[0] {
            for l in &logits {
                values.extend_from_slice(&l[row * classes..(row + 1) * classes]);
            }
        }
        stacked = TensorData::f32([shape[0], logits.len(), classes], values)?;
        outputs.push((zoo_export::MEMBER_LOGITS_NAME, &stacked));
    }
    zoo_export::write_with_test_data(&graph, &args.output, &input, &outputs)?;

    let member_acc: Vec<f64> = members.iter().map(|m| m.test_accuracy).collect();
    let summary = Summary::of(&member_acc);
    eprintln!(
        "ensemble of {} → {}: test {accuracy:.2}% (best member {:.2}%, median {:.2}%); max |Δ| {:.2e} on {} images",
        members.len(),
        args.output.display(),
        summary.best,
        summary.median,
        agreement.max_abs_diff,
        agreement.rows
    );
    let report = serde_json::json!({
        "file": args.output,
        "members": members.iter().map(|m| serde_json::json!({"id": m.id, "test_accuracy": m.test_accuracy})).collect::<Vec<_>>(),
        "ensemble_test_accuracy": accuracy,
        "best_member_test_accuracy": summary.best,
        "median_member_test_accuracy": summary.median,
        "max_abs_diff": agreement.max_abs_diff,
        "batch_rows": agreement.rows,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
