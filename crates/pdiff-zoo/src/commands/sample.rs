//! `pdiff-zoo sample`: draw N new parameter subsets, splice each into the frozen network and
//! evaluate them next to the trained checkpoints and a noise-added baseline.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::ValueEnum;
use pdiff::Sampler;
use zoo_train::bootstrap::MarginInterval;
use zoo_train::collect::Collection;
use zoo_train::compare::{Comparison, GroupSummary};
use zoo_train::gate::GateReport;

use crate::backend::{RunArgs, device};
use crate::commands::data::{DataArgs, load_for_card};
use crate::fit_choice::generate_best;
use crate::stages::{GenerateSettings, load_model_for};

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
    /// Directory written by `pdiff-zoo fit`. Several (`--fitted a b c`, e.g. fits of one
    /// collection with different `--seed`s): each is sampled, one per core at a time, and the
    /// one with the highest validation margin among those meeting the accuracy floors on
    /// validation is kept — a choice that never reads the test split (docs/METHOD-NOTES.md
    /// §18).
    #[arg(long, required = true, num_args = 1..)]
    fitted: Vec<PathBuf>,
    /// Fits sampled at the same time [default: the number of CPU cores]; the choice and
    /// every figure are the same for any value.
    #[arg(short, long, value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
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
    /// Sampler (DDIM: 20× fewer steps, as accurate, more diverse on the quick zoo;
    /// see docs/METHOD-NOTES.md §7).
    #[arg(long, value_enum, default_value_t = SamplerKind::Ddim)]
    sampler: SamplerKind,
    /// Steps of the DDIM sampler (at least 1).
    #[arg(long, default_value_t = Sampler::DEFAULT_DDIM_STEPS as u64,
          value_parser = clap::value_parser!(u64).range(1..))]
    ddim_steps: u64,
    /// Stochasticity η of the DDIM sampler: 0 is deterministic given x_T, 1 adds
    /// DDPM-like noise at every step.
    #[arg(long, default_value_t = 0.0, value_parser = parse_eta)]
    ddim_eta: f64,
    /// Keep only members whose validation accuracy reaches the trained set's lowest, drawing
    /// again until N pass; every baseline is gated the same way (docs/METHOD-NOTES.md §15).
    #[arg(long)]
    gate: bool,
    #[command(flatten)]
    run: RunArgs,
    /// Output: generated vectors with their scores, as a collection file [default: beside
    /// the fit, `generated.safetensors`]; the comparison report is written beside it as JSON.
    #[arg(short, long)]
    output: Option<PathBuf>,
}

/// `--ddim-eta`: a number in [0, 1].
fn parse_eta(text: &str) -> Result<f64, String> {
    let eta: f64 = text.parse().map_err(|e| format!("`{text}` is not a number: {e}"))?;
    if Sampler::eta_is_valid(eta) {
        Ok(eta)
    } else {
        Err(format!("{eta} is outside [0, 1] (0: deterministic DDIM, 1: DDPM-like noise)"))
    }
}

/// Runs `sample`.
pub fn run(args: Args) -> Result<ExitCode> {
    let device = device(args.run.backend)?;
    let trained = Collection::load(&args.collection)
        .with_context(|| format!("loading collection {}", args.collection.display()))?;
    let (model, card) = load_model_for(&args.model, &trained, &device)?;
    let data = load_for_card(&args.data, &card)?;
    let sampler = match args.sampler {
        SamplerKind::Ddpm => Sampler::Ddpm,
        SamplerKind::Ddim => Sampler::Ddim { steps: args.ddim_steps as usize, eta: args.ddim_eta },
    };
    let settings =
        GenerateSettings { count: args.count, sampler, seed: args.run.seed, gate: args.gate };

    let several = args.fitted.len() > 1;
    let chosen = generate_best(
        &args.fitted,
        &trained,
        &model,
        &data,
        &settings,
        &device,
        args.jobs.map(usize::from).unwrap_or_else(crate::parallel::default_jobs),
        "evaluate",
        &|c| {
            if several {
                eprintln!("{}", c.line());
            }
        },
    )?;
    let selection = chosen.selection();
    let fitted_path = &args.fitted[chosen.index];
    let mut outcome = chosen.generation;

    let output = args.output.clone().unwrap_or_else(|| fitted_path.join("generated.safetensors"));
    let info = &mut outcome.generated.info;
    info["fitted"] = serde_json::json!(fitted_path);
    info["collection"] = serde_json::json!(args.collection);
    info["base_model"] = serde_json::json!(args.model);
    info["sample_seconds"] = serde_json::json!(outcome.sample_seconds);
    if let Some(selection) = &selection {
        info["selection"] = selection.clone();
    }
    outcome.generated.save(&output)?;
    let comparison = &outcome.comparison;
    let report_path = output.with_extension("json");
    let mut report = serde_json::to_value(comparison)?;
    if let Some(selection) = &selection {
        report["selection"] = selection.clone();
    }
    zoo_io::write_json(&report_path, &report)?;
    let chosen_text = match &selection {
        Some(_) => format!("kept {} (highest validation margin)\n", fitted_path.display()),
        None => String::new(),
    };
    eprintln!(
        "{chosen_text}{}\n→ {} and {}",
        comparison_table(comparison),
        output.display(),
        report_path.display()
    );
    let mut summary = report;
    summary.as_object_mut().expect("object").remove("members");
    summary["sample_seconds"] = serde_json::json!(outcome.sample_seconds);
    summary["evaluate_seconds"] = serde_json::json!(outcome.evaluate_seconds);
    println!("{}", serde_json::to_string_pretty(&summary)?);
    Ok(ExitCode::SUCCESS)
}

/// Trained vs generated vs noise-added test accuracy and the diversity figures, as text.
pub fn comparison_table(comparison: &Comparison) -> String {
    let (t, g, n) =
        (&comparison.trained.test, &comparison.generated.test, &comparison.noise_added.test);
    let d = &comparison.diversity;
    let c = &comparison.noise_calibration;
    let band = &d.at_trained_accuracy;
    format!(
        "test accuracy  best / median / min\n  trained     {:6.2} {:6.2} {:6.2}  (K = {})\n  \
         generated   {:6.2} {:6.2} {:6.2}  (N = {})\n  noise-added {:6.2} {:6.2} {:6.2}  \
         (σ = {:.4}, matched to the generated mean val accuracy {:.2} in {} probes)\n\
         max IoU to trained: generated {:.3}, noise-added {:.3}, noise at equal L2 (σ = {:.4}) \
         {:.3}; trained nearest-neighbour {:.3}\n\
         at trained-level val accuracy (≥ {:.2}): generated {} ({}), noise-added {} ({})\n\
         interpolations of two trained checkpoints: max IoU to trained {}, test best / median / \
         min {}\n\
         Gaussian with the checkpoints' mean and covariance: max IoU to trained {}, test best / \
         median / min {}{}{}{}",
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
        c.target_val_mean,
        c.probes.len(),
        d.max_iou_to_trained_mean,
        d.noise_max_iou_to_trained_mean,
        c.equal_l2_sigma,
        d.noise_equal_l2_max_iou_to_trained_mean,
        d.trained_nn_iou_mean,
        band.min_val,
        zoo_report::iou_or_dash(band.generated_max_iou_mean),
        band.generated,
        zoo_report::iou_or_dash(band.noise_max_iou_mean),
        band.noise_added,
        zoo_report::iou_or_dash(d.interpolated_max_iou_to_trained_mean),
        test_text(comparison.interpolated.as_ref()),
        zoo_report::iou_or_dash(d.gaussian_max_iou_to_trained_mean),
        test_text(comparison.gaussian.as_ref()),
        margin_text(d.margin.as_ref(), "test"),
        margin_text(d.validation_margin.as_ref(), "validation"),
        gate_text(comparison),
    )
}

/// The diversity margin on `split` with its bootstrap interval, as a line (empty for files
/// before it).
fn margin_text(margin: Option<&MarginInterval>, split: &str) -> String {
    let Some(m) = margin else { return String::new() };
    let verdict = if m.resolved() {
        if m.low > 0.0 {
            "generated more different beyond chance"
        } else {
            "noise more different beyond chance"
        }
    } else {
        "within chance: a tie at this split size"
    };
    format!(
        "\n{split} margin noise − generated max IoU {:+.3}, 95 % bootstrap interval [{:+.3}, \
         {:+.3}] ({} replicates over samples and members): {verdict}",
        m.margin, m.low, m.high, m.replicates,
    )
}

/// The validation gate's draws per group, as a line (empty when ungated).
fn gate_text(comparison: &Comparison) -> String {
    let Some(g) = &comparison.gate else { return String::new() };
    let group = |name: &str, r: &GateReport| {
        let filled = if r.filled_below > 0 {
            format!(", {} filled from below", r.filled_below)
        } else {
            String::new()
        };
        format!("{name} {} drawn / {} rejected{filled}", r.drawn, r.rejected)
    };
    format!(
        "\nvalidation gate at ≥ {:.2} (every group): {}; {}; {}; {}",
        g.min_val,
        group("generated", &g.generated),
        group("noise-added", &g.noise_added),
        group("interpolations", &g.interpolated),
        group("Gaussian", &g.gaussian),
    )
}

/// A baseline's test best / median / min, or "—" for files written before it existed.
fn test_text(group: Option<&GroupSummary>) -> String {
    group.map_or("—".to_string(), |g| {
        format!("{:.2} {:.2} {:.2}", g.test.best, g.test.median, g.test.min)
    })
}
