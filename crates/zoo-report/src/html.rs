//! `report.html`: one self-contained page (inline CSS, PNG plots as data URIs).

use std::fmt::Write as _;
use std::path::Path;

use base64::Engine as _;

use crate::floors::{BEST_FLOOR_PP, Floors, MEDIAN_FLOOR_PP};
use crate::input::{Group, ReportInput};
use crate::manifest::{ArchSummary, Diversity, Manifest, ManifestError, Source, ZOO_WIDE};
use crate::plots;
use crate::stats::{GroupStats, iou_or_dash};

/// The report's file name inside a zoo folder.
pub const REPORT_FILE: &str = "report.html";

/// Stage order of the pipeline; other stages follow alphabetically.
const STAGE_ORDER: [&str; 9] =
    ["train", "collect", "fit", "sample", "export", "verify", "ensemble", "report", "merge"];

const CSS: &str = include_str!("report.css");

/// Renders the report as one HTML document. Pure: the same input gives the same bytes.
pub fn render(input: &ReportInput) -> String {
    let m = &input.manifest;
    let mut out = String::with_capacity(1 << 20);
    let title = format!("{} · pdiff-zoo report", m.zoo);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"pdiff-zoo {}\">\n<title>{}</title>\n<style>\n{CSS}</style>\n\
         </head>\n<body>\n<main>\n",
        esc(&m.pdiff_zoo_version),
        esc(&title)
    );
    header(&mut out, input);
    overview(&mut out, input);
    for arch in m.archs() {
        arch_section(&mut out, input, &arch);
    }
    ensembles(&mut out, m);
    members(&mut out, m);
    timings(&mut out, m);
    let _ = write!(
        out,
        "<footer>Accuracies are test-split accuracies in percent unless marked <em>val</em>; \
         members are selected on the validation split. IoU is the intersection over union of \
         two members' sets of misclassified test inputs. Made by pdiff-zoo {} \
         (p-diff: Wang et al. 2024, arXiv 2402.13144).</footer>\n</main>\n</body>\n</html>\n",
        esc(&m.pdiff_zoo_version)
    );
    out
}

/// Renders and writes `dir/report.html` atomically; returns its path.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<std::path::PathBuf, ManifestError> {
    let path = dir.join(REPORT_FILE);
    zoo_io::atomic_write(&path, render(input).as_bytes())?;
    Ok(path)
}

fn header(out: &mut String, input: &ReportInput) {
    let m = &input.manifest;
    let trained = m.members.iter().filter(|x| x.source == Source::Trained).count();
    let generated = m.members.len() - trained;
    let floors: Vec<Floors> = m.summary.values().map(Floors::check).collect();
    let passing = floors.iter().filter(|f| f.all()).count();
    let agreement = m.members.iter().map(|x| x.ort.argmax_agreement).fold(f64::INFINITY, f64::min);
    let max_diff = m.members.iter().map(|x| x.ort.max_abs_diff).fold(0.0, f64::max);
    let date = m.created_by.created_at.as_deref().map(|d| d.get(..10).unwrap_or(d));
    let short_hash = m.recipe.sha256.get(..12).unwrap_or(&m.recipe.sha256);
    let _ = write!(
        out,
        "<header>\n<div class=\"kicker\">p-diff model zoo</div>\n<h1>{}</h1>\n<p class=\"meta\">\
         recipe <b>{}</b> <code title=\"sha256 {}\">{}</code> · pdiff-zoo {}{}</p>\n",
        esc(&m.zoo),
        esc(&m.recipe.name),
        esc(&m.recipe.sha256),
        esc(short_hash),
        esc(&m.pdiff_zoo_version),
        date.map(|d| format!(" · {}", esc(d))).unwrap_or_default(),
    );
    out.push_str("<div class=\"cards\">\n");
    let card = |out: &mut String, value: String, label: &str, class: &str| {
        let _ = writeln!(
            out,
            "<div class=\"card {class}\"><div class=\"value\">{value}</div><div class=\"label\">{label}</div></div>"
        );
    };
    card(out, m.archs().len().to_string(), "architectures", "");
    card(out, trained.to_string(), "trained members", "");
    card(out, generated.to_string(), "generated members", "");
    card(out, m.ensembles.len().to_string(), "ensembles", "");
    if !m.members.is_empty() {
        card(out, format!("{agreement:.2}%"), "min ORT arg-max agreement", "");
        card(out, sci(max_diff), "max ORT |Δ logit|", "");
    }
    if !floors.is_empty() {
        let class = if passing == floors.len() { "pass" } else { "fail" };
        card(out, format!("{passing}/{}", floors.len()), "architectures pass all floors", class);
    }
    out.push_str("</div>\n</header>\n");
}

fn overview(out: &mut String, input: &ReportInput) {
    let m = &input.manifest;
    if m.summary.is_empty() {
        return;
    }
    out.push_str("<section>\n<h2>Overview</h2>\n");
    let _ = writeln!(
        out,
        "<p class=\"note\">Test accuracy (%) per group. Floors of p-diff: generated best ≥ trained \
         best − {BEST_FLOOR_PP}; generated median ≥ trained median − {MEDIAN_FLOOR_PP}; \
         generated members less similar to the trained ones than noise-added members \
         (mean max-IoU).</p>"
    );
    out.push_str(
        "<div class=\"scroll\"><table class=\"overview\">\n<thead><tr><th rowspan=\"2\">arch</th>",
    );
    for g in Group::ALL {
        let _ = write!(
            out,
            "<th colspan=\"5\" class=\"group\" style=\"--c:{}\">{}</th>",
            plots::css_color(g),
            g.label()
        );
    }
    out.push_str("<th colspan=\"3\" class=\"group\">floors</th></tr>\n<tr>");
    for _ in Group::ALL {
        out.push_str("<th>n</th><th>best</th><th>median</th><th>mean</th><th>min</th>");
    }
    out.push_str("<th>best</th><th>median</th><th>diversity</th></tr></thead>\n<tbody>\n");
    for arch in m.archs() {
        let Some(s) = m.summary.get(&arch) else { continue };
        let f = Floors::check(s);
        let _ =
            write!(out, "<tr><th class=\"rowhead\"><a href=\"#arch-{0}\">{0}</a></th>", esc(&arch));
        for stats in [&s.trained, &s.generated, &s.noise_added] {
            stats_cells(out, stats);
        }
        let _ = writeln!(
            out,
            "{}{}{}</tr>",
            pill_cell(f.best, &format!("{:+.2} pp", s.generated.best - s.trained.best)),
            pill_cell(f.median, &format!("{:+.2} pp", s.generated.median - s.trained.median)),
            pill_cell(
                f.diversity,
                &format!(
                    "{:.3} vs {:.3}{}",
                    s.diversity.max_iou_to_trained_mean,
                    s.diversity.noise_max_iou_to_trained_mean,
                    chance_text(s.diversity.margin_interval)
                )
            ),
        );
    }
    out.push_str("</tbody></table></div>\n");

    out.push_str(
        "<h3>Diversity</h3>\n<p class=\"note\">Mean IoU of error sets (lower = more different \
         predictions). Max-IoU columns: each member's highest IoU to any trained checkpoint, \
         averaged over the group. The noise-added members are matched to the generated ones in \
         mean validation accuracy; those at equal L2 sit as far from the trained vectors as the \
         generated ones; the interpolated members blend two trained checkpoints (what a generator \
         that only interpolates its training data makes); the Gaussian members are drawn from a \
         normal distribution with the trained checkpoints' mean and covariance (what a generator \
         that learns only those two moments makes). The margin is noise minus generated max-IoU (positive: generated \
         more different) with its 95 % bootstrap interval over test samples and members; an \
         interval across zero is a tie within chance. The validation margin is the same figure on \
         the validation split (what a choice of fit seed or setting may read; the test margin is \
         evidence only). The last column repeats the max-IoU \
         comparison over only the members whose validation accuracy reaches the lowest trained \
         checkpoint's (generated vs noise).</p>\n<div class=\"scroll\"><table>\n<thead><tr><th>arch</th>\
         <th>trained ↔ trained</th><th>gen. ↔ gen.</th><th>gen. ↔ trained</th>\
         <th>max-IoU gen.</th><th>max-IoU noise</th><th>max-IoU noise, equal L2</th>\
         <th>max-IoU interpolated</th><th>max-IoU Gaussian</th>\
         <th>max-IoU trained (nearest other)</th><th>margin (95 % interval)</th>\
         <th>validation margin</th>\
         <th>at trained-level accuracy: gen. vs noise</th></tr></thead>\n<tbody>\n",
    );
    for arch in m.archs() {
        let Some(ArchSummary { diversity: d, .. }) = m.summary.get(&arch) else { continue };
        let _ = writeln!(
            out,
            "<tr><th class=\"rowhead\">{}</th><td>{:.3}</td><td>{:.3}</td><td>{:.3}</td>\
             <td><b>{:.3}</b></td><td>{:.3}</td>{}{}{}<td>{:.3}</td><td>{}</td>{}\
             <td>{} vs {}</td></tr>",
            esc(&arch),
            d.trained_iou_mean,
            d.generated_iou_mean,
            d.cross_iou_mean,
            d.max_iou_to_trained_mean,
            d.noise_max_iou_to_trained_mean,
            optional_cell(d.noise_equal_l2_max_iou_to_trained_mean),
            optional_cell(d.interpolated_max_iou_to_trained_mean),
            optional_cell(d.gaussian_max_iou_to_trained_mean),
            d.trained_nn_iou_mean,
            margin_text(d),
            d.validation_margin.map_or(NA_CELL.to_string(), |v| {
                format!("<td>{}</td>", interval_text(v.margin, v.low, v.high))
            }),
            iou_or_dash(d.generated_max_iou_at_trained_accuracy),
            iou_or_dash(d.noise_max_iou_at_trained_accuracy),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// `, within chance` when the margin's bootstrap interval spans zero (nothing without one).
fn chance_text(interval: Option<[f64; 2]>) -> &'static str {
    match interval {
        Some([low, high]) if low <= 0.0 && high >= 0.0 => ", within chance",
        _ => "",
    }
}

/// `+0.012 [−0.020, +0.041]`, or the bare margin for manifests written before the interval.
fn margin_text(d: &Diversity) -> String {
    let margin = d.noise_max_iou_to_trained_mean - d.max_iou_to_trained_mean;
    match d.margin_interval {
        Some([low, high]) => interval_text(margin, low, high),
        None => format!("{margin:+.3}"),
    }
}

/// `+0.012 [−0.020, +0.041]`.
fn interval_text(margin: f64, low: f64, high: f64) -> String {
    format!("{margin:+.3} [{low:+.3}, {high:+.3}]")
}

fn stats_cells(out: &mut String, s: &GroupStats) {
    if s.n == 0 {
        out.push_str("<td>0</td><td colspan=\"4\" class=\"na\">—</td>");
    } else {
        let _ = write!(
            out,
            "<td class=\"n\">{}</td><td><b>{:.2}</b></td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td>",
            s.n, s.best, s.median, s.mean, s.min
        );
    }
}

fn pill_cell(ok: bool, detail: &str) -> String {
    let (class, word) = if ok { ("pass", "pass") } else { ("fail", "fail") };
    format!(
        "<td class=\"floor\"><span class=\"pill {class}\">{word}</span><br><span class=\"detail\">{}</span></td>",
        esc(detail)
    )
}

fn arch_section(out: &mut String, input: &ReportInput, arch: &str) {
    let m = &input.manifest;
    let family = m.members.iter().find(|x| x.arch == arch).map(|x| x.family.as_str());
    let _ = write!(out, "<section id=\"arch-{0}\">\n<h2>{0}", esc(arch));
    if let Some(family) = family {
        let _ = write!(out, " <span class=\"family\">{}</span>", esc(family));
    }
    if let Some(s) = m.summary.get(arch) {
        let f = Floors::check(s);
        for (ok, name) in [(f.best, "best"), (f.median, "median"), (f.diversity, "diversity")] {
            let class = if ok { "pass" } else { "fail" };
            let mark = if ok { "✓" } else { "✗" };
            let _ = write!(out, " <span class=\"pill {class}\">{mark} {name}</span>");
        }
    }
    out.push_str("</h2>\n");
    let Some(detail) = input.detail(arch) else {
        out.push_str("<p class=\"note\">No per-member detail was recorded for this architecture.</p>\n</section>\n");
        return;
    };
    out.push_str("<div class=\"plots\">\n");
    figure(
        out,
        &plots::accuracy_plot(detail),
        &format!("{arch}: test accuracy of trained, generated and noise-added members"),
        "Accuracy distributions. Generated members should match the trained ones.",
    );
    figure(
        out,
        &plots::diversity_plot(detail),
        &format!("{arch}: test accuracy against max similarity to the trained checkpoints"),
        "Accuracy vs similarity (the p-diff paper's diversity plot): generated members left of \
         noise-added ones at equal accuracy predict differently from every trained checkpoint.",
    );
    if let Some(sim) = &detail.similarity {
        figure(
            out,
            &plots::similarity_plot(arch, sim),
            &format!("{arch}: IoU similarity matrix of error sets"),
            "Pairwise IoU of misclassified test inputs; blocks are groups.",
        );
    }
    out.push_str("</div>\n</section>\n");
}

fn figure(out: &mut String, png: &[u8], alt: &str, caption: &str) {
    let data = base64::engine::general_purpose::STANDARD.encode(png);
    let _ = writeln!(
        out,
        "<figure><img alt=\"{}\" src=\"data:image/png;base64,{data}\"><figcaption>{}</figcaption></figure>",
        esc(alt),
        esc(caption)
    );
}

fn ensembles(out: &mut String, m: &Manifest) {
    out.push_str("<section>\n<h2>Ensembles</h2>\n");
    if m.ensembles.is_empty() {
        out.push_str("<p class=\"note\">No ensemble in this zoo.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table>\n<thead><tr><th>id</th><th class=\"l\">members</th><th>test</th>\
         <th>best member</th><th>median member</th><th>gain over best</th><th class=\"l\">ONNX</th></tr></thead>\n<tbody>\n",
    );
    for e in &m.ensembles {
        let opt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
        let gain = e
            .accuracy
            .best_member
            .map(|b| {
                let g = e.accuracy.test - b;
                let class = if g >= 0.0 { "up" } else { "down" };
                format!("<span class=\"{class}\">{g:+.2} pp</span>")
            })
            .unwrap_or_else(|| "—".into());
        let names: Vec<String> = e.members.iter().map(|x| esc(x)).collect();
        // Members of one architecture: show their tags only.
        let short: Vec<String> = e
            .members
            .iter()
            .map(|x| esc(x.split_once('.').map_or(x.as_str(), |(_, t)| t)))
            .collect();
        let _ = writeln!(
            out,
            "<tr><th class=\"rowhead\">{}</th><td class=\"list\" title=\"{}\">{} <span class=\"muted\">({})</span></td>\
             <td><b>{:.2}</b></td><td>{}</td><td>{}</td><td>{}</td><td class=\"l\"><code title=\"{}\">{}</code></td></tr>",
            esc(&e.id),
            names.join(", "),
            abbreviate(&short, 3),
            e.members.len(),
            e.accuracy.test,
            opt(e.accuracy.best_member),
            opt(e.accuracy.median_member),
            gain,
            esc(&e.onnx),
            esc(e.onnx.rsplit('/').next().unwrap_or(&e.onnx)),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn abbreviate(names: &[String], keep: usize) -> String {
    if names.len() <= keep + 1 {
        names.join(", ")
    } else {
        format!("{}, …", names[..keep].join(", "))
    }
}

fn members(out: &mut String, m: &Manifest) {
    out.push_str("<section>\n<h2>Members</h2>\n");
    if m.members.is_empty() {
        out.push_str("<p class=\"note\">No member in this zoo.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<p class=\"note\">Every exported network, verified in ONNX Runtime: test accuracy \
         there, the largest logit difference to the pipeline, and arg-max agreement.</p>\n",
    );
    for arch in m.archs() {
        let rows: Vec<_> = m.members.iter().filter(|x| x.arch == arch).collect();
        if rows.is_empty() {
            continue;
        }
        let open = if rows.len() <= 40 { " open" } else { "" };
        let _ = write!(
            out,
            "<details{open}><summary><b>{}</b> — {} members</summary>\n<div class=\"scroll\"><table class=\"members\">\n\
             <thead><tr><th>id</th><th class=\"l\">source</th><th>params</th><th>val</th><th>test</th>\
             <th>ORT test</th><th>max |Δ logit|</th><th>arg-max agree</th><th class=\"l\">ONNX</th><th class=\"l\">sha256</th></tr></thead>\n<tbody>\n",
            esc(&arch),
            rows.len()
        );
        for x in rows {
            let group = match x.source {
                Source::Trained => Group::Trained,
                Source::Generated => Group::Generated,
            };
            let _ = writeln!(
                out,
                "<tr><th class=\"rowhead\">{}</th><td><span class=\"dot\" style=\"--c:{}\"></span>{}</td>\
                 <td>{}</td><td>{:.2}</td><td><b>{:.2}</b></td><td>{:.2}</td><td>{}</td><td>{:.2}%</td>\
                 <td class=\"l\"><code>{}</code></td><td class=\"l\"><code title=\"{}\">{}</code></td></tr>",
                esc(&x.id),
                plots::css_color(group),
                x.source.as_str(),
                thousands(x.params),
                x.accuracy.val,
                x.accuracy.test,
                x.ort.test,
                sci(x.ort.max_abs_diff),
                x.ort.argmax_agreement,
                esc(&x.onnx),
                esc(&x.sha256),
                esc(x.sha256.get(..10).unwrap_or(&x.sha256)),
            );
        }
        out.push_str("</tbody></table></div>\n</details>\n");
    }
    out.push_str("</section>\n");
}

fn timings(out: &mut String, m: &Manifest) {
    if m.timings.values().all(|t| t.is_empty()) {
        return;
    }
    let mut stages: Vec<&str> =
        m.timings.values().flat_map(|t| t.keys().map(String::as_str)).collect();
    stages.sort_by_key(|s| (STAGE_ORDER.iter().position(|x| x == s).unwrap_or(usize::MAX), *s));
    stages.dedup();
    let mut columns: Vec<String> =
        m.archs().into_iter().filter(|a| m.timings.contains_key(a)).collect();
    let others: Vec<String> =
        m.timings.keys().filter(|k| *k != ZOO_WIDE && !columns.contains(k)).cloned().collect();
    columns.extend(others);
    if m.timings.contains_key(ZOO_WIDE) {
        columns.push(ZOO_WIDE.to_string());
    }
    out.push_str("<section>\n<h2>Stage timings</h2>\n<div class=\"scroll\"><table class=\"timings\">\n<thead><tr><th>stage</th>");
    for c in &columns {
        let name = if c == ZOO_WIDE { "whole zoo" } else { c };
        let _ = write!(out, "<th>{}</th>", esc(name));
    }
    out.push_str("<th>total</th><th class=\"l\">share</th></tr></thead>\n<tbody>\n");
    let mut col_totals = vec![0.0; columns.len()];
    let grand: f64 = m.timings.values().flat_map(|t| t.values()).sum();
    for stage in &stages {
        let _ = write!(out, "<tr><th class=\"rowhead\">{}</th>", esc(stage));
        let mut total = 0.0;
        for (k, c) in columns.iter().enumerate() {
            match m.timings.get(c).and_then(|t| t.get(*stage)) {
                Some(&s) => {
                    total += s;
                    col_totals[k] += s;
                    let _ = write!(out, "<td>{}</td>", duration(s));
                }
                None => out.push_str(NA_CELL),
            }
        }
        let share = if grand > 0.0 { 100.0 * total / grand } else { 0.0 };
        let _ = writeln!(
            out,
            "<td><b>{}</b></td><td class=\"l share\"><span class=\"bar\" style=\"width:{:.1}%\"></span>{:.0}%</td></tr>",
            duration(total),
            share * 0.8,
            share
        );
    }
    out.push_str("</tbody>\n<tfoot><tr><th class=\"rowhead\">total</th>");
    for t in &col_totals {
        let _ = write!(out, "<td>{}</td>", duration(*t));
    }
    let _ = writeln!(
        out,
        "<td><b>{}</b></td><td></td></tr></tfoot>",
        duration(col_totals.iter().sum())
    );
    out.push_str("</table></div>\n</section>\n");
}

/// A table cell for a missing figure (a stage not run, a field an older manifest lacks).
const NA_CELL: &str = "<td class=\"na\">—</td>";

/// A table cell with `v` to three decimals, or [`NA_CELL`].
fn optional_cell(v: Option<f64>) -> String {
    v.map_or(NA_CELL.to_string(), |v| format!("<td>{v:.3}</td>"))
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `1.2e-6`-style for small numbers, fixed otherwise.
fn sci(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else if v.abs() < 1e-3 || v.abs() >= 1e4 {
        let s = format!("{v:.1e}");
        s.replace("e-", "e−")
    } else {
        format!("{v:.4}")
    }
}

/// `11,689,512`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `3.2 s`, `4 m 05 s`, `1 h 02 m`.
fn duration(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else if s < 3600.0 {
        format!("{} m {:02} s", (s / 60.0).floor(), (s % 60.0).floor())
    } else {
        format!("{} h {:02} m", (s / 3600.0).floor(), ((s % 3600.0) / 60.0).floor())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(11_689_512), "11,689,512");
        assert_eq!(thousands(512), "512");
        assert_eq!(duration(3.21), "3.2 s");
        assert_eq!(duration(245.0), "4 m 05 s");
        assert_eq!(duration(3725.0), "1 h 02 m");
        assert_eq!(sci(3.2e-6), "3.2e−6");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
