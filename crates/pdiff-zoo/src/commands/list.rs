//! `pdiff-zoo list`: the registry as a table or JSON.

use std::process::ExitCode;

use anyhow::Result;
use burn::prelude::Device;
use serde::Serialize;
use zoo_models::{Selection, count_params, matching, tensor_infos};

/// Arguments of `list`.
#[derive(clap::Args)]
pub struct Args {
    /// Glob over variant names (`resnet*`, `vit-*`); all variants when omitted.
    pattern: Option<String>,
    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Also print every parameter name and shape (and mark the default p-diff selection).
    #[arg(long)]
    params: bool,
}

#[derive(Serialize)]
struct Row {
    name: String,
    family: String,
    input: [usize; 3],
    classes: usize,
    params: usize,
    default_small: bool,
    description: String,
    norm_layers: Vec<String>,
    pdiff_default_params: Vec<String>,
    pdiff_default_len: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    tensors: Option<Vec<zoo_models::TensorInfo>>,
}

/// Runs `list`.
pub fn run(args: Args) -> Result<ExitCode> {
    // Parameters are created lazily: listing reads shapes without allocating weights.
    let device = Device::flex();
    let mut rows = Vec::new();
    for variant in matching(args.pattern.as_deref())? {
        let model = variant.spec.init(&device);
        let layout = Selection::LastNorms.resolve(variant.name, &model)?;
        rows.push(Row {
            name: variant.name.to_string(),
            family: variant.family().to_string(),
            input: variant.spec.input,
            classes: variant.spec.num_classes,
            params: count_params(&model),
            default_small: variant.family_default,
            description: variant.description.to_string(),
            norm_layers: model.norm_layers(),
            pdiff_default_params: layout.names(),
            pdiff_default_len: layout.len(),
            tensors: args.params.then(|| tensor_infos(&model)),
        });
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:<16} {:<9} {:<12} {:>7} {:>12}  {:<5}  last norm layers (p-diff default, values)",
        "name", "family", "input", "classes", "params", "small"
    );
    for row in &rows {
        let [c, h, w] = row.input;
        let norms = row.norm_layers.len();
        let last: Vec<_> = row.norm_layers[norms.saturating_sub(2)..].to_vec();
        println!(
            "{:<16} {:<9} {:<12} {:>7} {:>12}  {:<5}  {} ({}) of {norms} norm layers",
            row.name,
            row.family,
            format!("{c}x{h}x{w}"),
            row.classes,
            row.params,
            if row.default_small { "yes" } else { "" },
            last.join(", "),
            row.pdiff_default_len,
        );
        if let Some(tensors) = &row.tensors {
            for t in tensors {
                let mark = if row.pdiff_default_params.contains(&t.name) { "*" } else { " " };
                println!("    {mark} {:<48} {:?} {:?}", t.name, t.shape, t.kind);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
