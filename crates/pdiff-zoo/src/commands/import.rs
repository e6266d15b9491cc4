//! `pdiff-zoo import`: a torchvision- / timm-named PyTorch state dict (`.pth`, `.pt`,
//! `.safetensors`) into a registered variant, saved as a model file (safetensors + JSON card,
//! the format `train` writes) that `collect` and `export --model` accept.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use zoo_data::{DataSource, DatasetInfo, LoadOptions};
use zoo_import::{ImportOptions, ImportReport, StateDict};
use zoo_models::{ArchSpec, Family};
use zoo_train::ModelCard;

use crate::backend::{RunArgs, device};

/// ImageNet normalization of torchvision and timm's standard models.
const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Arguments of `import`.
#[derive(clap::Args)]
pub struct Args {
    /// Architecture name (see `pdiff-zoo list`); the file must use its torchvision (ResNet)
    /// or timm (ViT, ConvNeXt; torchvision ConvNeXt names are mapped) state-dict keys.
    #[arg(long)]
    arch: String,
    /// The state dict: `.safetensors`, or a PyTorch checkpoint `.pth` / `.pt` / `.bin` /
    /// `.ckpt` (a `state_dict` / `model` / `state_dict_ema` wrapper and `module.` prefixes
    /// are stripped).
    file: PathBuf,
    /// Classes of the new model [default: the variant's]; another count than the file's
    /// replaces the classifier head with a freshly initialized one.
    #[arg(long)]
    num_classes: Option<usize>,
    /// Input `CxHxW` [default: the variant's]. ViTs must keep the file's patch grid.
    #[arg(long, value_parser = parse_input)]
    input: Option<[usize; 3]>,
    /// Take input shape, classes and normalization from a dataset (`mnist` or a path, as
    /// for `train`), so `collect` / `export --dataset` accept the model.
    #[arg(long, conflicts_with_all = ["num_classes", "input"])]
    dataset: Option<String>,
    /// Write the model even if tensors are missing, unused or mismatched.
    #[arg(long)]
    allow_partial: bool,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    run: RunArgs,
    /// Output weights file [default: exports/models/ARCH.DATASET_imported.safetensors]; the
    /// card is written beside it as .json.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

fn parse_input(text: &str) -> Result<[usize; 3], String> {
    let parts: Vec<&str> = text.split('x').collect();
    let [c, h, w] = parts.as_slice() else {
        return Err("expected CxHxW, e.g. 3x224x224".into());
    };
    let parse = |v: &str| v.trim().parse::<usize>().map_err(|e| format!("`{v}`: {e}"));
    Ok([parse(c)?, parse(h)?, parse(w)?])
}

/// Dataset description for the card when no dataset is named.
fn default_info(spec: &ArchSpec, replaced_head: bool) -> DatasetInfo {
    let [channels, height, width] = spec.input;
    let imagenet = spec.num_classes == 1000 && !replaced_head;
    let (mean, std) = if channels == 3 {
        (IMAGENET_MEAN.to_vec(), IMAGENET_STD.to_vec())
    } else {
        (vec![0.5; channels], vec![0.5; channels])
    };
    DatasetInfo {
        name: if imagenet { "imagenet" } else { "imported" }.to_string(),
        channels,
        height,
        width,
        labels: (0..spec.num_classes).map(|i| format!("class_{i}")).collect(),
        mean,
        std,
    }
}

/// A hint for mismatches that have a known cause.
fn hints(report: &ImportReport, family: Family) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((_, expected, given)) = report.mismatched.iter().find(|m| m.0 == "pos_embed")
        && family == Family::Vit
    {
        out.push(format!(
            "pos_embed: the model has {} tokens, the file {}; the ViT patch grid follows --input \
             and position embeddings are not resized: import at the file's input size",
            expected.get(1).copied().unwrap_or(0),
            given.get(1).copied().unwrap_or(0)
        ));
    }
    let head = family.head();
    if report.mismatched.iter().any(|m| head.contains(&m.0.as_str())) {
        out.push(format!(
            "the classifier ({}) differs: pass --num-classes to replace the head",
            head.join(", ")
        ));
    }
    out
}

fn print_report(dict: &StateDict, report: &ImportReport, limit: usize) {
    eprintln!("{} ({}): {}", dict.path.display(), dict.format, report.counts());
    for rename in &report.renames {
        eprintln!("  {rename}");
    }
    let problems = report.problems();
    for line in problems.iter().take(limit) {
        eprintln!("  {line}");
    }
    if problems.len() > limit {
        eprintln!("  … {} more (--json lists all)", problems.len() - limit);
    }
    if !report.ignored.is_empty() {
        let shown: Vec<&str> = report.ignored.iter().take(3).map(String::as_str).collect();
        eprintln!(
            "  ignored: {}{}",
            shown.join(", "),
            if report.ignored.len() > 3 { ", …" } else { "" }
        );
    }
    if !report.head_replaced.is_empty() {
        eprintln!("  head replaced (freshly initialized): {}", report.head_replaced.join(", "));
    }
}

/// Runs `import`.
pub fn run(args: Args) -> Result<ExitCode> {
    let start = Instant::now();
    let variant = zoo_models::find(&args.arch)?;
    let base = variant.spec.clone();
    let info = match &args.dataset {
        Some(name) => {
            let source = DataSource::parse(name)?;
            let options = LoadOptions { seed: args.run.seed, ..Default::default() };
            let data = zoo_data::load(&source, &options)
                .with_context(|| format!("loading dataset `{name}`"))?;
            Some(data.info)
        }
        None => None,
    };
    let (input, num_classes) = match &info {
        Some(i) => ([i.channels, i.height, i.width], i.num_classes()),
        None => (args.input.unwrap_or(base.input), args.num_classes.unwrap_or(base.num_classes)),
    };
    if num_classes == 0 {
        bail!("--num-classes must be at least 1");
    }
    let spec = base.clone().with_io(input, num_classes);
    let replace_head = num_classes != base.num_classes || args.num_classes.is_some();
    let dict = zoo_import::read_state_dict(&args.file)?;
    let device = device(args.run.backend)?;
    let options = ImportOptions { replace_head, seed: args.run.seed };
    let (model, report) = zoo_import::import_into(&spec, &dict, options, &device);
    let info = info.unwrap_or_else(|| default_info(&spec, !report.head_replaced.is_empty()));
    let output = args.output.clone().unwrap_or_else(|| {
        PathBuf::from(format!("exports/models/{}.{}_imported.safetensors", spec.name, info.name))
    });
    print_report(&dict, &report, 20);
    let write = report.is_clean() || args.allow_partial;
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "arch": spec.name, "file": dict.path, "format": dict.format,
                "input": spec.input, "num_classes": spec.num_classes, "clean": report.is_clean(),
                "weights": write.then_some(&output),
                "card": write.then(|| zoo_train::store::card_path(&output)),
                "report": report,
            })
        );
    }
    if !write {
        let mut message = format!(
            "{} does not fit `{}` ({}); nothing written",
            args.file.display(),
            spec.name,
            report.counts()
        );
        for hint in hints(&report, spec.family()) {
            message += &format!("\nhint: {hint}");
        }
        message += "\nhint: --allow-partial writes the model anyway (unmatched tensors stay freshly initialized)";
        bail!(message);
    }
    let card = ModelCard {
        schema: zoo_train::store::CARD_SCHEMA,
        arch: spec.clone(),
        dataset: info,
        val_accuracy: 0.0,
        test_accuracy: 0.0,
        seed: args.run.seed,
        training: serde_json::json!({
            "imported": {
                "file": dict.path, "format": dict.format, "clean": report.is_clean(),
                "applied": report.applied.len(), "missing": report.missing,
                "unused": report.unused, "mismatched": report.mismatched,
                "head_replaced": report.head_replaced, "renames": report.renames,
            },
            "accuracy": "not measured (val_accuracy and test_accuracy are 0)",
        }),
        seconds: start.elapsed().as_secs_f64(),
        pdiff_zoo_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    zoo_train::store::save_model(&output, &model, &card)?;
    eprintln!("{} → {}", spec.name, output.display());
    Ok(ExitCode::SUCCESS)
}
