//! (c) The p-diff paper's diversity plot: test accuracy against max similarity (IoU of error
//! sets) to the trained checkpoints, one colour and marker per group.

use super::axes::{self, Frame, nice_ticks};
use super::canvas::{Canvas, HAlign, LineStyle, TextStyle, VAlign};
use super::style::{self, INK, SPINE, TICK_SIZE};
use crate::input::{ArchDetail, Group};

/// Margin of the data ranges beyond the outer ticks, as a fraction of the tick range.
const MARGIN: f64 = 0.03;

/// Logical size of the plot.
pub(crate) const DIVERSITY_SIZE: (u32, u32) = (440, 350);

/// The accuracy-vs-similarity scatter of one architecture, as PNG bytes.
pub(crate) fn diversity_plot(detail: &ArchDetail) -> Vec<u8> {
    let (w, h) = DIVERSITY_SIZE;
    let mut c = Canvas::new(w, h);
    axes::title(
        &mut c,
        &format!("{} · accuracy vs similarity", detail.arch),
        Some("similarity: max IoU of test errors to a trained checkpoint"),
    );
    let points: Vec<(Group, f64, f64)> = Group::ALL
        .iter()
        .flat_map(|&g| detail.group(g).iter().map(move |p| (g, p.max_iou_to_trained, p.test)))
        .filter(|(_, x, y)| x.is_finite() && y.is_finite())
        .collect();
    if points.is_empty() {
        super::accuracy::empty(&mut c, "no evaluated members");
        return c.to_png();
    }
    let range = |f: fn(&(Group, f64, f64)) -> f64| {
        let lo = points.iter().map(f).fold(f64::INFINITY, f64::min);
        let hi = points.iter().map(f).fold(f64::NEG_INFINITY, f64::max);
        let pad = ((hi - lo) * 0.06).max(0.005);
        (lo - pad, hi + pad)
    };
    let (xlo, xhi) = range(|p| p.1);
    let (ylo, yhi) = range(|p| p.2);
    let xt = nice_ticks(xlo.max(0.0), xhi.min(1.0), 6);
    let yt = nice_ticks(ylo, yhi.min(100.0), 6);
    let frame = Frame {
        x0: 66.0,
        y0: 56.0,
        x1: w as f32 - 16.0,
        y1: h as f32 - 52.0,
        // A small margin beyond the outer ticks, so markers at the extremes (an IoU of 1)
        // sit inside the frame rather than on its spines.
        xlo: xt.lo - MARGIN * (xt.hi - xt.lo),
        xhi: xt.hi + MARGIN * (xt.hi - xt.lo),
        ylo: yt.lo - MARGIN * (yt.hi - yt.lo),
        yhi: yt.hi + MARGIN * (yt.hi - yt.lo),
    };
    axes::y_axis(&mut c, &frame, &yt, "Test accuracy (%)");
    axes::x_axis(&mut c, &frame, &xt, "Max similarity to trained (IoU)");
    axes::spines(&mut c, &frame);

    let size = if points.len() > 400 { 4.5 } else { 6.5 };
    // Noise first, generated last (on top).
    for group in [Group::NoiseAdded, Group::Trained, Group::Generated] {
        let (color, dark) = (style::color(group), style::dark(group));
        for &(_, x, y) in points.iter().filter(|p| p.0 == group) {
            let fill = color.alpha(0.6);
            c.marker(style::marker(group), frame.x(x), frame.y(y), size, fill, Some((dark, 0.8)));
        }
    }
    legend(&mut c, &frame, detail, &points);
    c.to_png()
}

/// Legend in the corner of the frame with the fewest points.
fn legend(c: &mut Canvas, f: &Frame, detail: &ArchDetail, points: &[(Group, f64, f64)]) {
    let entries: Vec<(Group, String)> = Group::ALL
        .iter()
        .filter(|&&g| !detail.group(g).is_empty())
        .map(|&g| (g, format!("{} (n = {})", g.label(), detail.group(g).len())))
        .collect();
    let line_h = 19.0;
    let text_w = entries
        .iter()
        .map(|(_, s)| c.text_width(s, TICK_SIZE, super::text::Weight::Regular))
        .fold(0.0, f32::max);
    let (bw, bh) = (text_w + 40.0, entries.len() as f32 * line_h + 10.0);
    let corners = [
        (f.x0 + 10.0, f.y0 + 4.0),
        (f.x1 - bw - 6.0, f.y0 + 4.0),
        (f.x0 + 10.0, f.y1 - bh - 8.0),
        (f.x1 - bw - 6.0, f.y1 - bh - 8.0),
    ];
    let inside = |&(x, y): &(f32, f32)| {
        points
            .iter()
            .filter(|p| {
                let (px, py) = (f.x(p.1), f.y(p.2));
                px >= x - 6.0 && px <= x + bw + 6.0 && py >= y - 6.0 && py <= y + bh + 6.0
            })
            .count()
    };
    let &(x, y) = corners.iter().min_by_key(|corner| inside(corner)).expect("four corners");
    c.fill_rect(x, y, bw, bh, super::canvas::Rgba::hex(0xffffff).alpha(0.92));
    c.stroke_rect(x, y, bw, bh, &LineStyle::new(0.8, SPINE));
    for (i, (group, label)) in entries.iter().enumerate() {
        let cy = y + 5.0 + line_h * (i as f32 + 0.5);
        let (color, dark) = (style::color(*group), style::dark(*group));
        c.marker(style::marker(*group), x + 16.0, cy, 8.0, color.alpha(0.8), Some((dark, 0.9)));
        let text = TextStyle::new(TICK_SIZE, INK).align(HAlign::Left, VAlign::Middle);
        c.text(label, x + 30.0, cy, text);
    }
}
