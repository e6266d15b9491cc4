//! The report's PNG plots, drawn on a small canvas (see [`canvas`]).
//!
//! Each function returns PNG bytes at twice the logical size given by its `*_SIZE` constant.

mod accuracy;
mod axes;
mod canvas;
mod diversity;
mod similarity;
mod style;
mod text;

pub(crate) use accuracy::accuracy_plot;
pub(crate) use diversity::diversity_plot;
pub(crate) use similarity::similarity_plot;

/// Hex colour (`#rrggbb`) of a group, for the HTML around the plots.
pub(crate) fn css_color(group: crate::input::Group) -> String {
    let c = style::color(group);
    format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)
}

/// Deterministic jitter in [-0.5, 0.5) for the i-th point (golden-ratio sequence).
fn jitter(i: usize) -> f64 {
    ((i as f64 + 1.0) * 0.618_033_988_749_895).fract() - 0.5
}
