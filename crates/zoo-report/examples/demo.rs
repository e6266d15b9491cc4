//! Renders a realistic synthetic report (three architectures, simulated members):
//! `cargo run --release -p zoo-report --example demo -- OUT_DIR`.
//!
//! Writes `OUT_DIR/report.html`, `OUT_DIR/manifest.json` and `OUT_DIR/report_input.json`.

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "zoo-report-demo".into()));
    let started = std::time::Instant::now();
    let input = synthetic::synthetic_input(50, 100, 8, 7);
    input.manifest.write(&dir.join(zoo_report::MANIFEST_FILE))?;
    input.write(&dir.join(zoo_report::REPORT_INPUT_FILE))?;
    let path = zoo_report::write_report(&dir, &input)?;
    eprintln!("rendered in {:.2} s", started.elapsed().as_secs_f64());
    println!("{}", path.display());
    Ok(())
}
