//! Colours and sizes shared by every plot, so the three plots of a report read as one set.

use super::canvas::{Marker, Rgba};
use crate::input::Group;

pub(crate) const INK: Rgba = Rgba::hex(0x1f2328);
pub(crate) const MUTED: Rgba = Rgba::hex(0x57606a);
pub(crate) const SPINE: Rgba = Rgba::hex(0x8c959f);
pub(crate) const GRID: Rgba = Rgba::hex(0xe6e9ed);

pub(crate) const TITLE_SIZE: f32 = 14.5;
pub(crate) const LABEL_SIZE: f32 = 13.0;
pub(crate) const TICK_SIZE: f32 = 11.5;

/// Colour of a group: trained blue, generated orange, noise-added grey.
pub(crate) fn color(group: Group) -> Rgba {
    match group {
        Group::Trained => Rgba::hex(0x2f6db5),
        Group::Generated => Rgba::hex(0xe8702a),
        Group::NoiseAdded => Rgba::hex(0x8a8f96),
    }
}

/// A darker shade of a group's colour, for marker edges and medians.
pub(crate) fn dark(group: Group) -> Rgba {
    match group {
        Group::Trained => Rgba::hex(0x1d4a80),
        Group::Generated => Rgba::hex(0xa84a12),
        Group::NoiseAdded => Rgba::hex(0x555a60),
    }
}

/// Marker of a group (shape as well as colour, for colour-blind readers and print).
pub(crate) fn marker(group: Group) -> Marker {
    match group {
        Group::Trained => Marker::Circle,
        Group::Generated => Marker::Triangle,
        Group::NoiseAdded => Marker::Square,
    }
}

/// Viridis colour map at `t` in [0, 1] (matplotlib's, 9 control points, linear in between).
pub(crate) fn viridis(t: f64) -> Rgba {
    const STOPS: [(u8, u8, u8); 9] = [
        (68, 1, 84),
        (71, 44, 122),
        (59, 81, 139),
        (44, 113, 142),
        (33, 144, 141),
        (39, 173, 129),
        (92, 200, 99),
        (170, 220, 50),
        (253, 231, 37),
    ];
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let pos = t * (STOPS.len() - 1) as f64;
    let i = (pos.floor() as usize).min(STOPS.len() - 2);
    let f = pos - i as f64;
    let mix = |a: u8, b: u8| (a as f64 + (b as f64 - a as f64) * f).round() as u8;
    let (a, b) = (STOPS[i], STOPS[i + 1]);
    Rgba(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2), 255)
}
