//! Linear axes: "nice" tick positions, value → pixel mapping, grid, spines, labels.

use super::canvas::{Canvas, HAlign, LineStyle, TextStyle, VAlign};
use super::style::{GRID, INK, LABEL_SIZE, MUTED, SPINE, TICK_SIZE, TITLE_SIZE};
use super::text::Weight;

/// Ticks of a linear axis covering [lo, hi].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    /// The (widened) axis range.
    pub lo: f64,
    pub hi: f64,
    /// Tick values inside [lo, hi].
    pub values: Vec<f64>,
    /// Decimals to print.
    pub decimals: usize,
}

/// About `target` ticks at 1, 2 or 5 × 10^k steps; the range widens to whole steps.
pub(crate) fn nice_ticks(lo: f64, hi: f64, target: usize) -> Ticks {
    let (mut lo, mut hi) = if lo.is_finite() && hi.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    if hi - lo < 1e-9 {
        let pad = if lo.abs() > 1e-9 { lo.abs() * 0.01 } else { 0.5 };
        lo -= pad;
        hi += pad;
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor();
    let last = (hi / step).ceil();
    let values: Vec<f64> =
        (0..=((last - first) as i64)).map(|i| (first + i as f64) * step).collect();
    let mut decimals = if step >= 1.0 { 0 } else { (-step.log10()).ceil() as usize };
    while decimals < 6 && {
        let scaled = step * 10f64.powi(decimals as i32);
        (scaled - scaled.round()).abs() > 1e-6
    } {
        decimals += 1;
    }
    Ticks { lo: first * step, hi: last * step, values, decimals }
}

impl Ticks {
    /// Prints a tick value.
    pub(crate) fn label(&self, v: f64) -> String {
        let s = format!("{:.*}", self.decimals, v);
        // A real minus sign; no "-0".
        if s.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') {
            s.trim_start_matches('-').to_string()
        } else {
            s.replace('-', "−")
        }
    }
}

/// A plot area (logical pixels) with its data ranges.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
    pub xlo: f64,
    pub xhi: f64,
    pub ylo: f64,
    pub yhi: f64,
}

impl Frame {
    pub(crate) fn x(&self, v: f64) -> f32 {
        self.x0 + ((v - self.xlo) / (self.xhi - self.xlo)) as f32 * (self.x1 - self.x0)
    }
    pub(crate) fn y(&self, v: f64) -> f32 {
        self.y1 - ((v - self.ylo) / (self.yhi - self.ylo)) as f32 * (self.y1 - self.y0)
    }
}

/// Draws the title (top left, bold) and an optional subtitle under it.
/// Both shrink to fit the canvas width.
pub(crate) fn title(canvas: &mut Canvas, title: &str, subtitle: Option<&str>) {
    let room = canvas.width() - 28.0;
    let fit = |c: &Canvas, s: &str, size: f32, weight: Weight| {
        let w = c.text_width(s, size, weight);
        if w > room { size * room / w } else { size }
    };
    let size = fit(canvas, title, TITLE_SIZE, Weight::Bold);
    canvas.text(title, 14.0, 22.0, TextStyle::new(size, INK).bold());
    if let Some(sub) = subtitle {
        let size = fit(canvas, sub, TICK_SIZE, Weight::Regular);
        canvas.text(sub, 14.0, 40.0, TextStyle::new(size, MUTED));
    }
}

/// Horizontal grid lines, y tick labels and the y label (rotated).
pub(crate) fn y_axis(canvas: &mut Canvas, f: &Frame, ticks: &Ticks, label: &str) {
    let grid = LineStyle::new(1.0, GRID);
    let mut widest = 0.0f32;
    for &v in &ticks.values {
        if v < f.ylo - 1e-9 || v > f.yhi + 1e-9 {
            continue;
        }
        let y = f.y(v);
        canvas.segment(f.x0, y, f.x1, y, &grid);
        canvas.segment(f.x0 - 4.0, y, f.x0, y, &LineStyle::new(1.0, SPINE));
        let text = ticks.label(v);
        widest = widest.max(canvas.text_width(&text, TICK_SIZE, Weight::Regular));
        canvas.text(
            &text,
            f.x0 - 7.0,
            y,
            TextStyle::new(TICK_SIZE, MUTED).align(HAlign::Right, VAlign::Middle),
        );
    }
    let x = f.x0 - 12.0 - widest - 4.0;
    let style =
        TextStyle::new(LABEL_SIZE, INK).align(HAlign::Center, VAlign::Baseline).rotate(-90.0);
    canvas.text(label, x, (f.y0 + f.y1) / 2.0, style);
}

/// Vertical grid lines, x tick labels and the x label.
pub(crate) fn x_axis(canvas: &mut Canvas, f: &Frame, ticks: &Ticks, label: &str) {
    let grid = LineStyle::new(1.0, GRID);
    for &v in &ticks.values {
        if v < f.xlo - 1e-9 || v > f.xhi + 1e-9 {
            continue;
        }
        let x = f.x(v);
        canvas.segment(x, f.y0, x, f.y1, &grid);
        canvas.segment(x, f.y1, x, f.y1 + 4.0, &LineStyle::new(1.0, SPINE));
        let style = TextStyle::new(TICK_SIZE, MUTED).align(HAlign::Center, VAlign::Top);
        canvas.text(&ticks.label(v), x, f.y1 + 7.0, style);
    }
    let style = TextStyle::new(LABEL_SIZE, INK).align(HAlign::Center, VAlign::Top);
    canvas.text(label, (f.x0 + f.x1) / 2.0, f.y1 + 25.0, style);
}

/// Left and bottom spines.
pub(crate) fn spines(canvas: &mut Canvas, f: &Frame) {
    let spine = LineStyle::new(1.2, SPINE);
    canvas.line(&[(f.x0, f.y0), (f.x0, f.y1), (f.x1, f.y1)], &spine);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_nice() {
        let t = nice_ticks(91.3, 98.7, 6);
        assert_eq!((t.lo, t.hi, t.decimals), (90.0, 100.0, 0));
        assert_eq!(t.values.len(), 6);
        let t = nice_ticks(0.12, 0.87, 5);
        assert_eq!(t.label(0.2), "0.2");
        let t = nice_ticks(0.0, 1.0, 4);
        assert_eq!(t.values, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(t.label(0.25), "0.25");
        assert!(nice_ticks(5.0, 5.0, 5).values.len() > 1);
        assert_eq!(nice_ticks(-2.0, 2.0, 4).label(-2.0), "−2");
        assert_eq!(nice_ticks(0.0, 10.0, 4).label(7.5), "7.5");
    }
}
