//! `pdiff-zoo sample`: draw N new parameter subsets, splice each into the frozen network and
//! evaluate them next to the trained checkpoints and a noise-added baseline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::ValueEnum;
use pdiff::{FittedPdiff, Sampler};
use zoo_train::collect::{Collection, SplitCaches};
use zoo_train::compare::{compare, matched_noise_sigma, noise_added};
use zoo_train::members::score_members;
use zoo_train::prefix::cut_for;

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};
use crate::progress;

/// Sampler choice.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SamplerKind {
    /// Ancestral DDPM over all T = 1000 steps.
    Ddpm,
    /// Deterministic DDIM over `--ddim-steps` steps.
    Ddim,
}

/// Arguments of `sample`.
#[derive(clap::Args)]
pub struct Args {
    /// Directory written by `pdiff-zoo fit`.
    #[arg(long)]
    fitted: PathBuf,
    /// The collection the fit was made on.
    #[arg(long)]
    collection: PathBuf,
    /// The trained model the collection came from.
    #[arg(long)]
    model: PathBuf,
    #[command(flatten)]
    data: DataArgs,
    /// Number of members to generate.
    #[arg(short = 'n', long, default_value_t = 100)]
    count: usize,
    /// Sampler.
    #[arg(long, value_enum, default_value_t = SamplerKind::Ddpm)]
    sampler: SamplerKind,
    /// Steps of the DDIM sampler.
    #[arg(long, default_value_t = 50)]
    ddim_steps: usize,
    #[command(flatten)]
    run: RunArgs,
    /// Output: generated vectors with their scores, as a collection file [default: beside
    /// the fit, `generated.safetensors`]; the comparison report is written beside it as JSON.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// Runs `sample`.
pub fn run(args: Args) -> Result<ExitCode> {
    if args.count == 0 {
        bail!("-n must be at least 1");
    }
    let device = device(args.run.backend)?;
    let (model, card) = zoo_train::load_model(&args.model, &device)
        .with_context(|| format!("loading model {}", args.model.display()))?;
    let trained = Collection::load(&args.collection)
        .with_context(|| format!("loading collection {}", args.collection.display()))?;
    if trained.arch != card.arch.name {
        bail!(
            "collection {} is of `{}` but the model {} is `{}`",
            args.collection.display(),
            trained.arch,
            args.model.display(),
            card.arch.name
        );
    }
    let fitted = FittedPdiff::load(&args.fitted, &device)
        .with_context(|| format!("loading fit {}", args.fitted.display()))?;
    if fitted.layout().len() != trained.layout.len() {
        bail!(
            "fit {} is for vectors of {} values, the collection has {}",
            args.fitted.display(),
            fitted.layout().len(),
            trained.layout.len()
        );
    }
    let data = load_for_card(&args.data, &card)?;
    let sampler = match args.sampler {
        SamplerKind::Ddpm => Sampler::Ddpm,
        SamplerKind::Ddim => Sampler::ddim(args.ddim_steps),
    };
    let started = std::time::Instant::now();
    let generated = fitted.sample(args.count, sampler, args.run.seed)?;
    let sample_seconds = started.elapsed().as_secs_f64();

    let cut = cut_for(&model, &trained.layout, &trained.arch)?;
    let caches = SplitCaches::new(&model, &data, cut, &device);
    let bar = progress::bar(2 * args.count as u64, "evaluate");
    let scores = score_members(
        &trained.arch,
        &model,
        &trained.layout,
        &generated,
        &caches.val,
        &caches.test,
        |i| bar.set_position(i as u64),
    )?;
    let sigma = matched_noise_sigma(&trained, &generated);
    let noise = noise_added(&trained, sigma, args.count, args.run.seed.wrapping_add(1));
    let noise_scores = score_members(
        &trained.arch,
        &model,
        &trained.layout,
        &noise,
        &caches.val,
        &caches.test,
        |i| bar.set_position((args.count + i) as u64),
    )?;
    bar.finish_and_clear();
    let labels = &data.test.labels;
    let comparison = compare(&trained, labels, &generated, &scores, &noise, &noise_scores, sigma);

    let output = args.output.clone().unwrap_or_else(|| args.fitted.join("generated.safetensors"));
    let generated_collection = Collection {
        arch: trained.arch.clone(),
        layout: trained.layout.clone(),
        params: generated,
        val_accuracy: scores.iter().map(|s| s.val).collect(),
        test_accuracy: scores.iter().map(|s| s.test).collect(),
        test_predictions: scores.into_iter().map(|s| s.test_predictions).collect(),
        info: serde_json::json!({
            "source": "generated", "sampler": format!("{sampler:?}"), "seed": args.run.seed,
            "fitted": args.fitted, "collection": args.collection, "base_model": args.model,
            "sample_seconds": sample_seconds,
        }),
    };
    generated_collection.save(&output)?;
    let report_path = output.with_extension("json");
    zoo_io::write_json(&report_path, &comparison)?;
    let (t, g, n) =
        (&comparison.trained.test, &comparison.generated.test, &comparison.noise_added.test);
    eprintln!(
        "test accuracy  best / median / min\n  trained     {:6.2} {:6.2} {:6.2}  (K = {})\n  \
         generated   {:6.2} {:6.2} {:6.2}  (N = {})\n  noise-added {:6.2} {:6.2} {:6.2}  (σ = {:.4})\n\
         max IoU to trained: generated {:.3}, noise-added {:.3}; trained nearest-neighbour {:.3}\n\
         → {} and {}",
        t.best,
        t.median,
        t.min,
        t.n,
        g.best,
        g.median,
        g.min,
        g.n,
        n.best,
        n.median,
        n.min,
        comparison.noise_sigma,
        comparison.diversity.max_iou_to_trained_mean,
        comparison.diversity.noise_max_iou_to_trained_mean,
        comparison.diversity.trained_nn_iou_mean,
        output.display(),
        report_path.display()
    );
    let mut summary = serde_json::to_value(&comparison)?;
    summary.as_object_mut().expect("object").remove("members");
    summary["sample_seconds"] = serde_json::json!(sample_seconds);
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}
