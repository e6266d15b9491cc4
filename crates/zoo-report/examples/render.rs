//! Re-renders a zoo's report from its saved data:
//! `cargo run --release -p zoo-report --example render -- ZOO_DIR` reads
//! `ZOO_DIR/report.json` and writes `ZOO_DIR/report.html` (what `pdiff-zoo report` does).

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: render ZOO_DIR")?);
    let input = zoo_report::ReportInput::read(&dir.join(zoo_report::REPORT_INPUT_FILE))?;
    println!("{}", zoo_report::write_report(&dir, &input)?.display());
    Ok(())
}
