//! (a) Test accuracy of trained vs generated vs noise-added members: box (quartiles, median,
//! min–max whiskers) with every member as a jittered point.

use super::axes::{self, Frame, nice_ticks};
use super::canvas::{Canvas, HAlign, LineStyle, Rgba, TextStyle, VAlign};
use super::style::{self, INK, LABEL_SIZE, MUTED, TICK_SIZE};
use super::text::Weight;
use crate::input::{ArchDetail, Group};
use crate::stats::{quantile_sorted, sorted};

/// Logical size of the plot.
pub(crate) const ACCURACY_SIZE: (u32, u32) = (440, 350);

/// The accuracy-distribution plot of one architecture, as PNG bytes.
pub(crate) fn accuracy_plot(detail: &ArchDetail) -> Vec<u8> {
    let (w, h) = ACCURACY_SIZE;
    let mut c = Canvas::new(w, h);
    axes::title(
        &mut c,
        &format!("{} · accuracy by group", detail.arch),
        Some("box: quartiles · whiskers: min–max · dashed: trained median"),
    );

    let groups: Vec<(Group, Vec<f64>)> =
        Group::ALL.iter().map(|&g| (g, sorted(detail.group(g).iter().map(|p| p.test)))).collect();
    let all: Vec<f64> = groups.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    if all.is_empty() {
        empty(&mut c, "no evaluated members");
        return c.to_png();
    }
    let min_all = all.iter().copied().fold(f64::INFINITY, f64::min);
    let max_all = all.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    // Keep trained and generated readable when the noise-added baseline falls far below them:
    // clip the axis and mark what lies under it.
    let main: Vec<f64> = groups
        .iter()
        .filter(|(g, _)| *g != Group::NoiseAdded)
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    let mut lo = min_all;
    if let (Some(main_lo), Some(main_hi)) =
        (main.iter().copied().reduce(f64::min), main.iter().copied().reduce(f64::max))
    {
        let span = (main_hi - main_lo).max(0.5);
        if main_lo - min_all > 4.0 * span {
            lo = main_lo - 1.5 * span;
        }
    }
    let pad = ((max_all - lo) * 0.06).max(0.05);
    let ticks = nice_ticks(lo - pad, (max_all + pad).min(100.0), 6);
    let clipped = lo > min_all;
    let frame = Frame {
        x0: 66.0,
        y0: 56.0,
        x1: w as f32 - 16.0,
        y1: h as f32 - 54.0,
        xlo: 0.0,
        xhi: 3.0,
        ylo: if clipped { lo - pad } else { ticks.lo },
        yhi: ticks.hi,
    };
    axes::y_axis(&mut c, &frame, &ticks, "Test accuracy (%)");
    axes::spines(&mut c, &frame);

    // Reference: the trained median across all columns.
    if let Some(trained) = groups.first().map(|(_, v)| v).filter(|v| !v.is_empty()) {
        let med = quantile_sorted(trained, 0.5);
        let y = frame.y(med);
        let dark = style::dark(Group::Trained);
        c.segment(
            frame.x0,
            y,
            frame.x1,
            y,
            &LineStyle::new(1.0, dark.alpha(0.55)).dashed(5.0, 4.0),
        );
    }
    let col_w = frame.x(1.0) - frame.x(0.0);
    for (slot, (group, values)) in groups.iter().enumerate() {
        let cx = frame.x(slot as f64 + 0.5);
        let color = style::color(*group);
        let dark = style::dark(*group);
        // Category label and count under the axis.
        let label_style =
            TextStyle::new(LABEL_SIZE, color).bold().align(HAlign::Center, VAlign::Top);
        c.text(group.label(), cx, frame.y1 + 9.0, label_style);
        let n_style = TextStyle::new(TICK_SIZE, MUTED).align(HAlign::Center, VAlign::Top);
        c.text(&format!("n = {}", values.len()), cx, frame.y1 + 27.0, n_style);
        if values.is_empty() {
            continue;
        }
        let y = |v: f64| frame.y(v.max(frame.ylo));
        let (q1, med, q3) = (
            quantile_sorted(values, 0.25),
            quantile_sorted(values, 0.5),
            quantile_sorted(values, 0.75),
        );
        let (vmin, vmax) = (values[0], values[values.len() - 1]);
        let bw = col_w * 0.38;
        // Whiskers and caps.
        let whisker = LineStyle::new(1.4, dark);
        c.segment(cx, y(vmin), cx, y(q1), &whisker);
        c.segment(cx, y(q3), cx, y(vmax), &whisker);
        for v in [vmin, vmax] {
            if v >= frame.ylo {
                c.segment(cx - bw * 0.22, y(v), cx + bw * 0.22, y(v), &whisker);
            }
        }
        // Box.
        let (top, bottom) = (y(q3), y(q1));
        c.fill_rect(cx - bw / 2.0, top, bw, (bottom - top).max(1.0), color.alpha(0.16));
        c.stroke_rect(cx - bw / 2.0, top, bw, (bottom - top).max(1.0), &LineStyle::new(1.4, dark));
        // Members.
        let shape = style::marker(*group);
        let size = if values.len() > 150 { 4.5 } else { 6.0 };
        let mut below = 0usize;
        let tests = detail.group(*group).iter().map(|p| p.test).enumerate();
        for (i, v) in tests.filter(|(_, v)| !v.is_nan()) {
            if v < frame.ylo {
                below += 1;
                continue;
            }
            let x = cx + (super::jitter(i) * f64::from(bw) * 0.8) as f32;
            c.marker(shape, x, y(v), size, color.alpha(0.55), Some((dark.alpha(0.8), 0.7)));
        }
        // Median on top.
        c.segment(cx - bw / 2.0, y(med), cx + bw / 2.0, y(med), &LineStyle::new(2.6, dark));
        let med_style = TextStyle::new(TICK_SIZE, dark).bold().align(HAlign::Left, VAlign::Middle);
        // On a white plate, so the dashed reference line does not strike it through.
        let label = format!("{med:.2}");
        let (lx, ly) = (cx + bw / 2.0 + 5.0, y(med));
        let lw = c.text_width(&label, TICK_SIZE, Weight::Bold);
        c.fill_rect(lx - 2.0, ly - 8.0, lw + 4.0, 16.0, Rgba::hex(0xffffff).alpha(0.9));
        c.text(&label, lx, ly, med_style);
        if below > 0 {
            let note = format!("▼ {below} below (min {vmin:.1})");
            let style =
                TextStyle::new(TICK_SIZE - 1.0, dark).align(HAlign::Center, VAlign::Baseline);
            c.text(&note, cx, frame.y1 - 5.0, style);
        }
    }
    if clipped {
        c.text(
            "axis clipped",
            frame.x1,
            frame.y0 - 6.0,
            TextStyle::new(TICK_SIZE - 1.0, MUTED).align(HAlign::Right, VAlign::Baseline),
        );
    }
    c.to_png()
}

/// A centred note on an otherwise empty plot.
pub(super) fn empty(c: &mut Canvas, note: &str) {
    let (x, y) = (c.width() / 2.0, c.height() / 2.0);
    c.text(note, x, y, TextStyle::new(LABEL_SIZE, INK).align(HAlign::Center, VAlign::Middle));
}
