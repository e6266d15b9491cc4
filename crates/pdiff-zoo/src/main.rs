//! `pdiff-zoo`: generate verified ONNX model zoos by neural-network parameter diffusion.
//!
//! The binary is glue: parse, resolve and validate settings, run a stage, map the outcome to
//! an exit code (0 ok, 1 verification failed, 2 error). stdout carries data (tables, JSON),
//! stderr progress and logs.

mod backend;
mod commands;
mod progress;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Keep training only the selected parameters of a trained model; save K checkpoints.
    Collect(commands::collect::Args),
    /// Fit the p-diff autoencoder and latent DDPM to a collection.
    Fit(commands::fit::Args),
    /// Generate N members, splice and evaluate them against the trained checkpoints.
    Sample(commands::sample::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(args) => commands::list::run(args),
        Command::Train(args) => commands::train::run(args),
        Command::Collect(args) => commands::collect::run(args),
        Command::Fit(args) => commands::fit::run(args),
        Command::Sample(args) => commands::sample::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
