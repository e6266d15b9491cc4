//! `pdiff-zoo verify FILE|DIR…`: re-run every `.onnx` on the `test_data_set_0/` beside it in
//! ONNX Runtime and compare with the stored outputs. Exit 0 when all pass, 1 on any
//! mismatch, 2 on any error (unreadable or corrupt model, missing test data).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use zoo_verify::LOGIT_TOLERANCE;

/// Arguments of `verify`.
#[derive(clap::Args)]
pub struct Args {
    /// `.onnx` files, or folders searched recursively for them.
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

fn find_models(path: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
    if path.is_dir() {
        let mut entries: Vec<PathBuf> =
            std::fs::read_dir(path)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for entry in entries {
            if entry.is_dir() || entry.extension().and_then(|e| e.to_str()) == Some("onnx") {
                find_models(&entry, out)?;
            }
        }
    } else if path.exists() {
        out.push(path.to_path_buf());
    } else {
        bail!("{}: no such file or folder", path.display());
    }
    Ok(())
}

/// Runs `verify`.
pub fn run(args: Args) -> Result<ExitCode> {
    let mut files = Vec::new();
    for path in &args.paths {
        find_models(path, &mut files)?;
    }
    if files.is_empty() {
        bail!(
            "no .onnx files under {}",
            args.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
        );
    }
    let (mut mismatches, mut errors) = (0, 0);
    let mut rows = Vec::new();
    for file in &files {
        let row = match zoo_export::verify_file(file) {
            Ok(check) => {
                let status = if check.passed() { "ok" } else { "MISMATCH" };
                mismatches += usize::from(!check.passed());
                serde_json::json!({
                    "file": file, "arch": check.arch, "source": check.source, "rows": check.rows,
                    "max_abs_diff": check.max_abs_diff, "argmax_agreement": check.argmax_agreement,
                    "status": status,
                })
            }
            Err(e) => {
                errors += 1;
                eprintln!("error: {e}");
                serde_json::json!({ "file": file, "status": "ERROR", "error": e.to_string() })
            }
        };
        rows.push(row);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        println!(
            "{:<50} {:<16} {:<10} {:>5} {:>10} {:>7}  status",
            "file", "arch", "source", "rows", "max|Δ|", "argmax"
        );
        for r in &rows {
            let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            let diff = r["max_abs_diff"].as_f64().map(|d| format!("{d:.2e}")).unwrap_or("-".into());
            let argmax = r["argmax_agreement"]
                .as_f64()
                .map(|a| format!("{:.1}%", 100.0 * a))
                .unwrap_or("-".into());
            let rows = r["rows"].as_u64().map(|n| n.to_string()).unwrap_or("-".into());
            println!(
                "{:<50} {:<16} {:<10} {:>5} {:>10} {:>7}  {}",
                s("file"),
                s("arch"),
                s("source"),
                rows,
                diff,
                argmax,
                s("status")
            );
        }
    }
    eprintln!(
        "{} file(s): {} ok, {mismatches} mismatch(es) (tolerance {LOGIT_TOLERANCE:e}), {errors} error(s)",
        files.len(),
        files.len() - mismatches - errors
    );
    Ok(if errors > 0 {
        ExitCode::from(2)
    } else if mismatches > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
