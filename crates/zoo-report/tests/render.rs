//! report.html: tables, embedded PNG plots that decode, self-containment, atomic writing.

mod common;

use base64::Engine as _;
use common::synthetic::synthetic_input;
use zoo_report::{Floors, REPORT_FILE, ReportInput, render, write_report};

/// Logical plot size × device scale 2.
const PLOT_PIXELS: (u32, u32) = (880, 700);

fn input() -> ReportInput {
    synthetic_input(30, 60, 5, 3)
}

/// Every `data:image/png;base64,` payload of the page, decoded.
fn pngs(html: &str) -> Vec<Vec<u8>> {
    const PREFIX: &str = "data:image/png;base64,";
    html.match_indices(PREFIX)
        .map(|(at, _)| {
            let rest = &html[at + PREFIX.len()..];
            let end = rest.find('"').expect("a closing quote");
            base64::engine::general_purpose::STANDARD.decode(&rest[..end]).expect("valid base64")
        })
        .collect()
}

#[test]
fn report_has_every_table_and_every_id() {
    let input = input();
    let html = render(&input);
    assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
    for heading in
        ["<h1>mnist-quick</h1>", "Overview", "Diversity", "Ensembles", "Members", "Stage timings"]
    {
        assert!(html.contains(heading), "missing {heading}");
    }
    assert!(html.matches("<table").count() >= 6, "tables: {}", html.matches("<table").count());
    for m in &input.manifest.members {
        assert!(html.contains(&format!(">{}<", m.id)), "member {} missing", m.id);
    }
    for e in &input.manifest.ensembles {
        assert!(html.contains(&format!(">{}<", e.id)), "ensemble {} missing", e.id);
    }
    for arch in input.manifest.archs() {
        assert!(html.contains(&format!("id=\"arch-{arch}\"")), "section of {arch} missing");
    }
    assert!(html.contains("mnist-quick") && html.contains("2026-11-25"));
    // The diversity split at trained-level accuracy (synthetic: generated 0.7, no noise).
    assert!(html.contains("at trained-level accuracy") && html.contains("<td>0.700 vs —</td>"));
    // The interpolation baseline's column (synthetic: 0.993).
    assert!(html.contains("max-IoU interpolated") && html.contains("<td>0.993</td>"));
    // The Gaussian baseline's column (synthetic: 0.961).
    assert!(html.contains("max-IoU Gaussian") && html.contains("<td>0.961</td>"));
    for stage in ["train", "collect", "fit", "sample", "export", "verify", "ensemble", "report"] {
        assert!(html.contains(&format!(">{stage}</th>")), "stage {stage} missing");
    }
}

#[test]
fn floors_show_pass_and_fail() {
    let input = input();
    let html = render(&input);
    let all: Vec<Floors> = input.manifest.summary.values().map(Floors::check).collect();
    // The synthetic convnext-micro misses the median floor on purpose.
    assert!(all.iter().any(|f| !f.all()) && all.iter().any(|f| f.all()));
    assert!(html.contains("pill pass") && html.contains("pill fail"));
}

#[test]
fn plots_are_decodable_sized_and_not_blank() {
    let input = input();
    let html = render(&input);
    let images = pngs(&html);
    assert_eq!(images.len(), 3 * input.archs.len());
    for png in images {
        let img =
            image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), PLOT_PIXELS);
        let total = img.pixels().len();
        let inked = img.pixels().filter(|p| p.0.iter().any(|&c| c < 235)).count();
        let colourful = img
            .pixels()
            .filter(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() > 60)
            .count();
        assert!(inked * 50 > total, "a plot is almost blank: {inked} of {total} pixels inked");
        assert!(colourful * 200 > total, "a plot lacks group colours: {colourful}");
    }
}

#[test]
fn report_is_self_contained_and_deterministic() {
    let input = input();
    let html = render(&input);
    for external in ["src=\"http", "href=\"http", "url(", "@import", "<script", "<link"] {
        assert!(!html.contains(external), "fetches or runs something: {external}");
    }
    assert_eq!(render(&input), html);
}

#[test]
fn text_is_escaped() {
    let mut input = input();
    input.manifest.zoo = "<script>alert(1)</script>".into();
    input.manifest.recipe.name = "a&b\"c".into();
    let html = render(&input);
    assert!(!html.contains("<script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("a&amp;b&quot;c"));
}

#[test]
fn sparse_inputs_render() {
    // No detail for one architecture, an empty group, no similarity matrix, an inconsistent one.
    let mut input = input();
    input.archs.remove(0);
    input.archs[0].noise_added.clear();
    input.archs[0].similarity = None;
    if let Some(sim) = input.archs[1].similarity.as_mut() {
        sim.values.pop();
    }
    let html = render(&input);
    assert!(html.contains("No per-member detail"));
    assert_eq!(pngs(&html).len(), 2 + 3);

    // A manifest with nothing in it.
    let mut empty = input.clone();
    empty.archs.clear();
    empty.manifest.members.clear();
    empty.manifest.ensembles.clear();
    empty.manifest.summary.clear();
    empty.manifest.timings.clear();
    let html = render(&empty);
    assert!(html.contains("No ensemble") && html.contains("No member"));
    assert!(pngs(&html).is_empty());

    // Every point of a group equal, and NaN accuracies.
    let mut flat = input.clone();
    for p in flat.archs[0].trained.iter_mut() {
        p.test = 97.0;
        p.max_iou_to_trained = 0.5;
    }
    flat.archs[0].generated[0].test = f64::NAN;
    assert_eq!(pngs(&render(&flat)).len(), 5);

    // A manifest from before the interpolation and Gaussian baselines: two marked empty cells
    // per arch more.
    let na = |html: &str| html.matches("<td class=\"na\">—</td>").count();
    let mut old = input.clone();
    for s in old.manifest.summary.values_mut() {
        s.diversity.interpolated_max_iou_to_trained_mean = None;
        s.diversity.gaussian_max_iou_to_trained_mean = None;
    }
    assert_eq!(na(&render(&old)), na(&render(&input)) + 2 * input.manifest.summary.len());

    // The margin cell: noise minus generated max-IoU, with the interval when the manifest has
    // one and bare without.
    let html = render(&input);
    let d = &input.manifest.summary.values().next().unwrap().diversity;
    let margin = format!("{:+.3}", d.noise_max_iou_to_trained_mean - d.max_iou_to_trained_mean);
    assert!(html.contains(&format!("<td>{margin} [-0.020, +0.050]</td>")), "{margin}");
    let pills = |html: &str| html.matches(", within chance</span>").count();
    assert_eq!(pills(&html), input.manifest.summary.len(), "the floor pill says it is a tie");
    for s in old.manifest.summary.values_mut() {
        s.diversity.margin_interval = None;
    }
    assert!(render(&old).contains(&format!("<td>{margin}</td>")));
    assert_eq!(pills(&render(&old)), 0);

    // The validation margin: its own cell, a marked empty one when the manifest has none.
    assert!(html.contains("<td>+0.010 [-0.030, +0.060]</td>"));
    let with_validation = na(&render(&old));
    for s in old.manifest.summary.values_mut() {
        s.diversity.validation_margin = None;
    }
    assert_eq!(na(&render(&old)), with_validation + old.manifest.summary.len());
}

#[test]
fn write_report_is_atomic_and_complete() {
    let input = input();
    let dir = tempfile::tempdir().unwrap();
    let zoo = dir.path().join("exports").join("mnist-quick");
    let path = write_report(&zoo, &input).unwrap();
    assert_eq!(path, zoo.join(REPORT_FILE));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), render(&input));
    // Overwriting leaves exactly the new file, no temporary beside it.
    std::fs::write(&path, "old and longer ".repeat(100_000)).unwrap();
    write_report(&zoo, &input).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), render(&input));
    let names: Vec<String> = std::fs::read_dir(&zoo)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, [REPORT_FILE]);
    // A folder that cannot be made is an error naming the path, and leaves nothing.
    let blocked = dir.path().join("file");
    std::fs::write(&blocked, "x").unwrap();
    let err = write_report(&blocked.join("zoo"), &input).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn report_input_round_trips_as_json() {
    let input = input();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report_input.json");
    input.write(&path).unwrap();
    let back = ReportInput::read(&path).unwrap();
    assert!(common::close(&back, &input));
    assert!(pngs(&render(&back)).len() == 9);
}
