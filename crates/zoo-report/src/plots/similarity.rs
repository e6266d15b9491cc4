//! (b) Heat map of the IoU similarity matrix, with group bands and a colour bar.

use super::axes::{self, nice_ticks};
use super::canvas::{Canvas, HAlign, LineStyle, Rgba, TextStyle, VAlign};
use super::style::{self, INK, LABEL_SIZE, MUTED, SPINE, TICK_SIZE};
use super::text::Weight;
use crate::input::{Group, SimilarityMatrix};

/// Logical size of the plot.
pub(crate) const SIMILARITY_SIZE: (u32, u32) = (440, 350);

/// Rows up to which each row gets its own label.
const ROW_LABELS_MAX: usize = 24;

/// The similarity heat map of one architecture, as PNG bytes.
pub(crate) fn similarity_plot(arch: &str, m: &SimilarityMatrix) -> Vec<u8> {
    let (w, h) = SIMILARITY_SIZE;
    let mut c = Canvas::new(w, h);
    let counts: Vec<String> = Group::ALL
        .iter()
        .map(|&g| (g, m.groups.iter().filter(|&&x| x == g).count()))
        .filter(|(_, n)| *n > 0)
        .map(|(g, n)| format!("{n} {}", g.label()))
        .collect();
    axes::title(&mut c, &format!("{arch} · error similarity (IoU)"), Some(&counts.join(" · ")));
    if m.is_empty() || !m.is_consistent() {
        super::accuracy::empty(&mut c, "no similarity matrix");
        return c.to_png();
    }
    let n = m.len();
    let row_labels = n <= ROW_LABELS_MAX;
    // `resnet8.g017` → `g017`: the architecture is in the title.
    let prefix = format!("{arch}.");
    let labels: Vec<&str> =
        m.labels.iter().map(|l| l.strip_prefix(prefix.as_str()).unwrap_or(l)).collect();
    let label_w = if row_labels {
        labels.iter().map(|l| c.text_width(l, 9.0, Weight::Regular)).fold(0.0, f32::max).min(110.0)
    } else {
        0.0
    };
    // Layout: group labels | row labels | band | matrix | colour bar.
    let left = 40.0 + label_w + if row_labels { 6.0 } else { 0.0 };
    let top = 56.0;
    let side = (h as f32 - top - 32.0).min(w as f32 - left - 100.0);
    // Centre the block (labels, matrix, colour bar) horizontally.
    let extra = (w as f32 - (left + 10.0 + side + 96.0)).max(0.0);
    let (x0, y0) = (left + 10.0 + extra / 2.0, top + 10.0);
    let cell = side / n as f32;

    // Colour range: from the smallest value to the largest off-diagonal one.
    let off: Vec<f64> = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| m.values[i][j])
        .filter(|v| v.is_finite())
        .collect();
    let vmin = off.iter().copied().fold(f64::INFINITY, f64::min);
    let vmax = off.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let ticks = if off.is_empty() { nice_ticks(0.0, 1.0, 5) } else { nice_ticks(vmin, vmax, 5) };
    let (lo, hi) = (ticks.lo.max(0.0), ticks.hi.min(1.0).max(ticks.lo.max(0.0) + 1e-9));
    let norm = |v: f64| (v - lo) / (hi - lo);

    for i in 0..n {
        for j in 0..n {
            let color = style::viridis(norm(m.values[i][j]));
            // Overlap by a hair so anti-aliasing leaves no seams between cells.
            let (x, y) = (x0 + j as f32 * cell, y0 + i as f32 * cell);
            c.fill_rect(x, y, cell + 0.35, cell + 0.35, color);
        }
    }
    // Group bands (left and top) and separators between groups.
    let spans = group_spans(&m.groups);
    let band = 7.0;
    for &(g, start, end) in &spans {
        let (a, len) = (start as f32 * cell, (end - start) as f32 * cell);
        c.fill_rect(x0 - band - 3.0, y0 + a, band, len, style::color(g));
        c.fill_rect(x0 + a, y0 - band - 3.0, len, band, style::color(g));
        if start > 0 {
            let white = LineStyle::new(1.6, Rgba::hex(0xffffff));
            c.segment(x0, y0 + a, x0 + side, y0 + a, &white);
            c.segment(x0 + a, y0, x0 + a, y0 + side, &white);
        }
        let mid = a + len / 2.0;
        let text = g.label();
        let size = TICK_SIZE;
        if c.text_width(text, size, Weight::Bold) < len + 30.0 || spans.len() == 1 {
            let x = x0 - band - 14.0 - label_w - if row_labels { 6.0 } else { 0.0 };
            let style = TextStyle::new(size, style::dark(g))
                .bold()
                .align(HAlign::Center, VAlign::Baseline)
                .rotate(-90.0);
            c.text(text, x, y0 + mid, style);
        }
    }
    if row_labels {
        let size = if cell < 11.0 { 8.0 } else { 9.0 };
        for (i, label) in labels.iter().enumerate() {
            let y = y0 + (i as f32 + 0.5) * cell;
            let style = TextStyle::new(size, MUTED).align(HAlign::Right, VAlign::Middle);
            c.text(label, x0 - band - 6.0, y, style);
        }
    }
    c.stroke_rect(x0, y0, side, side, &LineStyle::new(0.8, SPINE));
    c.text(
        "members (same order in rows and columns)",
        x0 + side / 2.0,
        y0 + side + 8.0,
        TextStyle::new(TICK_SIZE - 0.5, MUTED).align(HAlign::Center, VAlign::Top),
    );
    colour_bar(&mut c, x0 + side + 22.0, y0, side, &ticks, lo, hi);
    c.to_png()
}

/// Runs of equal groups: (group, first row, one past the last row).
fn group_spans(groups: &[Group]) -> Vec<(Group, usize, usize)> {
    let mut spans: Vec<(Group, usize, usize)> = Vec::new();
    for (i, &g) in groups.iter().enumerate() {
        match spans.last_mut() {
            Some(last) if last.0 == g => last.2 = i + 1,
            _ => spans.push((g, i, i + 1)),
        }
    }
    spans
}

fn colour_bar(c: &mut Canvas, x: f32, y: f32, height: f32, ticks: &axes::Ticks, lo: f64, hi: f64) {
    let width = 14.0;
    let steps = 128;
    for k in 0..steps {
        let t = 1.0 - (k as f64 + 0.5) / steps as f64;
        let yk = y + k as f32 * height / steps as f32;
        c.fill_rect(x, yk, width, height / steps as f32 + 0.4, style::viridis(t));
    }
    c.stroke_rect(x, y, width, height, &LineStyle::new(0.8, SPINE));
    let to_y = |v: f64| y + height - ((v - lo) / (hi - lo)) as f32 * height;
    for &v in ticks.values.iter().filter(|&&v| v >= lo - 1e-9 && v <= hi + 1e-9) {
        let ty = to_y(v);
        c.segment(x + width, ty, x + width + 4.0, ty, &LineStyle::new(1.0, SPINE));
        let style = TextStyle::new(TICK_SIZE, MUTED).align(HAlign::Left, VAlign::Middle);
        c.text(&ticks.label(v), x + width + 7.0, ty, style);
    }
    let style =
        TextStyle::new(LABEL_SIZE, INK).align(HAlign::Center, VAlign::Baseline).rotate(-90.0);
    c.text("IoU of error sets", x + width + 47.0, y + height / 2.0, style);
}
