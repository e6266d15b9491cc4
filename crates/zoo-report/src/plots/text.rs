//! Text as filled glyph outlines from the embedded DejaVu Sans (no system font lookup):
//! `ab_glyph` reads the outlines, `tiny-skia` fills them, so text is anti-aliased and can be
//! rotated like any other path.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve};
use tiny_skia::{Path, PathBuilder};

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/DejaVuSans-Bold.ttf");

/// Font weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

fn font(weight: Weight) -> &'static FontRef<'static> {
    static REGULAR: OnceLock<FontRef<'static>> = OnceLock::new();
    static BOLD: OnceLock<FontRef<'static>> = OnceLock::new();
    let (cell, bytes) = match weight {
        Weight::Regular => (&REGULAR, REGULAR_TTF),
        Weight::Bold => (&BOLD, BOLD_TTF),
    };
    cell.get_or_init(|| FontRef::try_from_slice(bytes).expect("the embedded font is valid"))
}

/// Font units → logical pixels for a font size (em) of `size`.
fn factor(f: &FontRef<'_>, size: f32) -> f32 {
    size / f.units_per_em().unwrap_or(2048.0)
}

fn glyphs(f: &FontRef<'_>, s: &str) -> Vec<GlyphId> {
    s.chars().map(|c| f.glyph_id(c)).collect()
}

/// Advance width of `s`.
pub(crate) fn width(s: &str, size: f32, weight: Weight) -> f32 {
    let f = font(weight);
    let ids = glyphs(f, s);
    let mut units = 0.0;
    for (i, &id) in ids.iter().enumerate() {
        units += f.h_advance_unscaled(id);
        if let Some(&next) = ids.get(i + 1) {
            units += f.kern_unscaled(id, next);
        }
    }
    units * factor(f, size)
}

/// Height of capitals above the baseline (for vertical centring).
pub(crate) fn cap_height(size: f32) -> f32 {
    0.729 * size
}

/// The font's ascent above the baseline.
pub(crate) fn ascent(size: f32) -> f32 {
    let f = font(Weight::Regular);
    f.ascent_unscaled() * factor(f, size)
}

/// The outline of `s` with its baseline at y = 0 starting at x = 0, and its advance width.
pub(crate) fn path(s: &str, size: f32, weight: Weight) -> Option<(Path, f32)> {
    let f = font(weight);
    let k = factor(f, size);
    let ids = glyphs(f, s);
    let mut pb = PathBuilder::new();
    let mut pen = 0.0f32;
    for (i, &id) in ids.iter().enumerate() {
        if let Some(outline) = f.outline(id) {
            let map = |p: ab_glyph::Point| (pen + p.x * k, -p.y * k);
            let mut last: Option<ab_glyph::Point> = None;
            for curve in &outline.curves {
                let start = match curve {
                    OutlineCurve::Line(a, _)
                    | OutlineCurve::Quad(a, _, _)
                    | OutlineCurve::Cubic(a, _, _, _) => *a,
                };
                if last != Some(start) {
                    if last.is_some() {
                        pb.close();
                    }
                    let (x, y) = map(start);
                    pb.move_to(x, y);
                }
                last = Some(match curve {
                    OutlineCurve::Line(_, b) => {
                        let (x, y) = map(*b);
                        pb.line_to(x, y);
                        *b
                    }
                    OutlineCurve::Quad(_, c, b) => {
                        let ((cx, cy), (x, y)) = (map(*c), map(*b));
                        pb.quad_to(cx, cy, x, y);
                        *b
                    }
                    OutlineCurve::Cubic(_, c1, c2, b) => {
                        let ((c1x, c1y), (c2x, c2y), (x, y)) = (map(*c1), map(*c2), map(*b));
                        pb.cubic_to(c1x, c1y, c2x, c2y, x, y);
                        *b
                    }
                });
            }
            if last.is_some() {
                pb.close();
            }
        }
        pen += f.h_advance_unscaled(id) * k;
        if let Some(&next) = ids.get(i + 1) {
            pen += f.kern_unscaled(id, next) * k;
        }
    }
    pb.finish().map(|p| (p, pen))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_has_width_and_outline() {
        let w = width("Test accuracy (%)", 12.0, Weight::Regular);
        assert!(w > 60.0 && w < 140.0, "{w}");
        assert!(width("W", 12.0, Weight::Bold) > width("W", 12.0, Weight::Regular) * 0.9);
        assert!(path("−≥σ×", 12.0, Weight::Regular).is_some());
        assert!(path(" ", 12.0, Weight::Regular).is_none());
    }
}
