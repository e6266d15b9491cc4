//! `pdiff-zoo`: generate verified ONNX model zoos by neural-network parameter diffusion.
//!
//! The binary is glue: parse, resolve and validate settings, run a stage, map the outcome to
//! an exit code (0 ok, 1 verification failed, 2 error). stdout carries data (tables, JSON),
//! stderr progress and logs.

mod backend;
mod commands;
mod fit_choice;
mod parallel;
mod pipeline;
mod progress;
mod recipe;
mod stages;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of the system allocator: burn allocates a fresh buffer for every tensor op,
/// and glibc maps and unmaps each one above its threshold, so a long fit spent a quarter of its
/// time in the kernel (docs/PERFORMANCE.md, 2026-12-07). The outputs compared were byte-identical.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Generate model zoos by neural-network parameter diffusion (p-diff) and export them as
/// verified ONNX.
#[derive(Parser)]
#[command(name = "pdiff-zoo", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List registered architectures (name, family, input, classes, parameters, norm layers).
    List(commands::list::Args),
    /// Train a base model on a dataset and save it (safetensors + JSON card).
    Train(commands::train::Args),
    /// Read a torchvision / timm PyTorch state dict (.pth, .pt, .safetensors) into a
    /// registered variant and save it as a model file.
    Import(commands::import::Args),
    /// Keep training only the selected parameters of a trained model; save K checkpoints.
    Collect(commands::collect::Args),
    /// Fit the p-diff autoencoder and latent DDPM to a collection.
    Fit(commands::fit::Args),
    /// Generate N members, splice and evaluate them against the trained checkpoints.
    Sample(commands::sample::Args),
    /// Run a recipe end to end: train → collect → fit → sample → export → verify → ensemble
    /// → manifest and report.
    Run(commands::run::Args),
    /// Join the folders of sharded runs into one zoo.
    Merge(commands::merge::Args),
    /// Re-render a zoo's report.html from its report.json.
    Report(commands::report::Args),
    /// Export a trained model (optionally with a collection row spliced in) as ONNX with
    /// model-zoo test data, verified in ONNX Runtime.
    Export(commands::export::Args),
    /// Re-run .onnx files on their test_data_set_0 in ONNX Runtime (exit 1 on mismatch).
    Verify(commands::verify::Args),
    /// Build one ONNX graph averaging the softmax of K members; report its accuracy.
    Ensemble(commands::ensemble::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => commands::list::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Import(args) => commands::import::run(args),
        Command::Collect(args) => commands::collect::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Sample(args) => commands::sample::run(args),
        Command::Run(args) => commands::run::run(args),
        Command::Merge(args) => commands::merge::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Export(args) => commands::export::run(args),
        Command::Verify(args) => commands::verify::run(args),
        Command::Ensemble(args) => commands::ensemble::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
