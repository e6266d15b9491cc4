//! `pdiff-zoo report`: re-render `report.html` of a zoo from its `report.json`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use zoo_report::ReportInput;

use crate::pipeline::ZooLayout;

/// Arguments of `report`.
#[derive(clap::Args)]
pub struct Args {
    /// The zoo folder.
    zoo: PathBuf,
}

/// Runs `report`.
pub fn run(args: Args) -> Result<ExitCode> {
    let zoo = ZooLayout::new(&args.zoo);
    let input = ReportInput::read(&zoo.report_data())
        .with_context(|| format!("{} has no report data; run the zoo first", args.zoo.display()))?;
    let path = zoo_report::write_report(zoo.root(), &input)?;
    println!("{}", path.display());
    Ok(ExitCode::SUCCESS)
}
