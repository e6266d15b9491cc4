//! `pdiff-zoo export`: one trained model — optionally with a collection row spliced in — as a
//! full ONNX network with its model-zoo test data, verified in ONNX Runtime (a real test
//! batch within 1e-4 of burn, and the same test accuracy) before anything is written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use burn::prelude::Device;
use zoo_data::Dataset;
use zoo_export::{ExportOptions, Metadata, Source};
use zoo_models::Model;
use zoo_train::{Collection, ModelCard, Tensors};

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};

/// Arguments of `export`.
#[derive(clap::Args)]
pub struct Args {
    /// Trained model (`.safetensors` with its `.json` card beside it).
    #[arg(long)]
    model: PathBuf,
    /// Splice row ROW of a collection (trained checkpoints or generated members) into the
    /// model first: `COLLECTION.safetensors:ROW`.
    #[arg(long, value_name = "COLLECTION:ROW")]
    params: Option<String>,
    /// Member id written into the metadata [default: derived from the file names].
    #[arg(long)]
    member: Option<String>,
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    onnx: OnnxArgs,
    /// Skip the ONNX Runtime pass over the whole test split (only the batch is compared).
    #[arg(long)]
    skip_test_split: bool,
    #[command(flatten)]
    run: RunArgs,
    /// Output `.onnx` file; `test_data_set_0/` is written beside it (one model per folder).
    #[arg(short, long)]
    output: PathBuf,
}

/// The ONNX flags `export` and `ensemble` share.
#[derive(clap::Args)]
pub(crate) struct OnnxArgs {
    /// Test images in `test_data_set_0` (the verification batch).
    #[arg(long, default_value_t = 8)]
    pub batch: usize,
    /// ONNX opset of the exported members (help text: [`opset_help`]).
    #[arg(long, help = opset_help())]
    pub opset: Option<u32>,
    /// Recipe hash written into the metadata.
    #[arg(long, default_value = "")]
    pub recipe_hash: String,
}

/// `--opset`'s help, with the supported range and the default from `zoo_onnx` (the field is
/// an `Option`, so clap cannot print the default itself).
fn opset_help() -> String {
    format!(
        "ONNX opset ({}..={}) of the exported members [default: {}]. `ensemble --members` keeps \
         the files' opset and refuses a different one",
        zoo_onnx::MIN_OPSET,
        zoo_onnx::MAX_OPSET,
        zoo_onnx::DEFAULT_OPSET
    )
}

impl OnnxArgs {
    /// Fails on an unsupported opset or an empty verification batch.
    pub fn check(&self) -> Result<()> {
        zoo_export::check_opset(self.opset())?;
        if self.batch == 0 {
            bail!("--batch must be at least 1");
        }
        Ok(())
    }

    /// The opset asked for, or the default.
    pub fn opset(&self) -> u32 {
        self.opset.unwrap_or(zoo_onnx::DEFAULT_OPSET)
    }

    /// The export options these flags give.
    pub fn export_options(&self) -> ExportOptions {
        ExportOptions {
            opset: self.opset(),
            metadata: Metadata { recipe_hash: self.recipe_hash.clone(), ..Metadata::default() },
        }
    }
}

/// A model ready to export: the network (spliced), its card and what the metadata says.
pub(crate) struct Member {
    pub model: Model,
    pub id: String,
    pub source: Source,
}

fn stem(path: &Path) -> String {
    let name = path.file_name().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    name.strip_suffix(".safetensors").unwrap_or(&name).to_string()
}

/// Parses `PATH:ROW`.
pub(crate) fn parse_params(spec: &str) -> Result<(PathBuf, usize)> {
    let Some((path, row)) = spec.rsplit_once(':') else {
        bail!("--params `{spec}`: expected COLLECTION:ROW");
    };
    let row = row.parse().with_context(|| format!("--params `{spec}`: ROW is not a number"))?;
    Ok((PathBuf::from(path), row))
}

/// Loads a collection and checks that it belongs to `card`'s architecture.
pub(crate) fn load_collection(path: &Path, card: &ModelCard) -> Result<Collection> {
    let collection =
        Collection::load(path).with_context(|| format!("loading collection {}", path.display()))?;
    if collection.arch != card.arch.name {
        bail!(
            "collection {} is of `{}` but the model is `{}`",
            path.display(),
            collection.arch,
            card.arch.name
        );
    }
    Ok(collection)
}

/// Splices row `row` of `collection` into a copy of `model`; an unclean splice is an error.
pub(crate) fn splice_row(
    model: &Model,
    card: &ModelCard,
    collection: &Collection,
    collection_path: &Path,
    row: usize,
    model_id: &str,
) -> Result<Member> {
    if row >= collection.len() {
        bail!(
            "row {row} is out of range: {} has {} rows",
            collection_path.display(),
            collection.len()
        );
    }
    let (model, _report) = collection
        .layout
        .splice(&card.arch.name, model.clone(), collection.row(row))
        .with_context(|| format!("splicing row {row} of {}", collection_path.display()))?;
    let generated = collection.info.get("source").and_then(|s| s.as_str()) == Some("generated");
    let (source, tag) = if generated { (Source::Generated, "g") } else { (Source::Trained, "k") };
    Ok(Member { model, id: format!("{model_id}.{}{row:03}", tag), source })
}

/// The metadata of a member of `card`'s model.
pub(crate) fn metadata(
    card: &ModelCard,
    member: &Member,
    accuracy: f64,
    recipe_hash: &str,
) -> Metadata {
    Metadata {
        dataset: card.dataset.name.clone(),
        labels: card.dataset.labels.clone(),
        input_mean: card.dataset.mean.clone(),
        input_std: card.dataset.std.clone(),
        source: member.source,
        member: member.id.clone(),
        accuracy: Some(accuracy),
        recipe_hash: recipe_hash.to_string(),
        extra: vec![("seed".into(), card.seed.to_string())],
    }
}

/// The first `n` test images, normalized, with their shape.
pub(crate) fn test_batch(data: &Dataset, n: usize) -> Result<(Vec<f32>, [usize; 4])> {
    let n = n.min(data.test.len());
    if n == 0 {
        bail!("the test split is empty");
    }
    let indices: Vec<usize> = (0..n).collect();
    let info = &data.info;
    Ok((data.test.normalized(info, &indices), [n, info.channels, info.height, info.width]))
}

/// Exports `member`, verifies it on the test batch `(images, shape)` and (unless skipped) on the whole test split,
/// and returns the verified export with burn's and ORT's test accuracy.
pub(crate) fn export_member(
    card: &ModelCard,
    member: &Member,
    (images, shape): (&[f32], [usize; 4]),
    test: &Tensors,
    opts: ExportOptions,
    full_split: bool,
    device: &Device,
) -> Result<(zoo_export::Verified, f64, Option<f64>)> {
    let burn_eval = zoo_train::evaluate(&member.model, test, device);
    let mut opts = opts;
    opts.metadata = metadata(card, member, burn_eval.accuracy, &opts.metadata.recipe_hash);
    let verified =
        zoo_export::export_verified(&member.model, &card.arch, &opts, images, shape, device)?;
    let ort_accuracy = if full_split {
        let mut ort = zoo_verify::OrtModel::from_model(&verified.model, &member.id)?;
        let predictions = zoo_export::ort_predictions(
            &mut ort,
            &test.images,
            test.dims,
            zoo_export::LOGITS_NAME,
            256,
        )?;
        let differing =
            predictions.iter().zip(&burn_eval.predictions).filter(|(a, b)| a != b).count();
        let accuracy = zoo_export::accuracy_percent(&predictions, &test.labels);
        if differing > 0 || accuracy != burn_eval.accuracy {
            bail!(
                "{}: ONNX Runtime's test accuracy {accuracy:.2}% differs from burn's {:.2}% \
                 ({differing} of {} predictions differ)",
                member.id,
                burn_eval.accuracy,
                test.len()
            );
        }
        Some(accuracy)
    } else {
        None
    };
    Ok((verified, burn_eval.accuracy, ort_accuracy))
}

/// Runs `export`.
pub fn run(args: Args) -> Result<ExitCode> {
    args.onnx.check()?;
    let device = device(args.run.backend)?;
    let (model, card) = zoo_train::load_model(&args.model, &device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let model_id = stem(&args.model);
    let mut member = match &args.params {
        Some(spec) => {
            let (path, row) = parse_params(spec)?;
            let collection = load_collection(&path, &card)?;
            splice_row(&model, &card, &collection, &path, row, &model_id)?
        }
        None => Member { model, id: model_id, source: Source::Trained },
    };
    if let Some(id) = &args.member {
        member.id = id.clone();
    }
    let data = load_for_card(&args.data, &card)?;
    let test = Tensors::new(&data.test, &data.info);
    let opts = args.onnx.export_options();
    let started = std::time::Instant::now();
    let (images, shape) = test_batch(&data, args.onnx.batch)?;
    let (verified, burn_accuracy, ort_accuracy) = export_member(
        &card,
        &member,
        (&images, shape),
        &test,
        opts,
        !args.skip_test_split,
        &device,
    )?;
    verified.write(&args.output)?;
    let a = verified.agreement;
    eprintln!(
        "{} → {} (max |Δlogit| {:.2e} on {} test images, argmax agreement {:.0}%)",
        member.id,
        args.output.display(),
        a.max_abs_diff,
        a.rows,
        100.0 * a.argmax_agreement
    );
    let summary = serde_json::json!({
        "file": args.output,
        "member": member.id,
        "arch": card.arch.name,
        "source": member.source.as_str(),
        "opset": args.onnx.opset(),
        "batch_rows": a.rows,
        "max_abs_diff": a.max_abs_diff,
        "argmax_agreement": a.argmax_agreement,
        "burn_test_accuracy": burn_accuracy,
        "ort_test_accuracy": ort_accuracy,
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}
