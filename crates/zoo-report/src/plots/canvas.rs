//! A drawing surface in logical (CSS) pixels over a `tiny-skia` pixmap at a higher device
//! scale, with anti-aliased shapes and text from the embedded fonts; encodes to PNG.

use tiny_skia::{
    Color, FillRule, LineCap, LineJoin, Paint, Path, PathBuilder, Pixmap, Rect, Stroke, StrokeDash,
    Transform,
};

use super::text::{self, Weight};

/// Device pixels per logical pixel: plots stay sharp on high-density screens and slides.
pub(crate) const SCALE: f32 = 2.0;

/// An sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Rgba(pub u8, pub u8, pub u8, pub u8);

impl Rgba {
    /// Opaque colour from `0xRRGGBB`.
    pub(crate) const fn hex(rgb: u32) -> Self {
        Rgba((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8, 255)
    }

    /// The same colour with alpha `a` in [0, 1].
    pub(crate) fn alpha(self, a: f32) -> Self {
        Rgba(self.0, self.1, self.2, (a.clamp(0.0, 1.0) * 255.0).round() as u8)
    }

    fn paint(self) -> Paint<'static> {
        let mut paint = Paint::default();
        paint.set_color(Color::from_rgba8(self.0, self.1, self.2, self.3));
        paint.anti_alias = true;
        paint
    }
}

/// Horizontal anchor of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HAlign {
    Left,
    Center,
    Right,
}

/// Vertical anchor of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum VAlign {
    Top,
    Middle,
    Baseline,
}

/// Text style.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TextStyle {
    pub size: f32,
    pub color: Rgba,
    pub weight: Weight,
    pub h: HAlign,
    pub v: VAlign,
    /// Rotation in degrees, clockwise, around the anchor.
    pub rotate: f32,
}

impl TextStyle {
    pub(crate) fn new(size: f32, color: Rgba) -> Self {
        TextStyle {
            size,
            color,
            weight: Weight::Regular,
            h: HAlign::Left,
            v: VAlign::Baseline,
            rotate: 0.0,
        }
    }
    pub(crate) fn bold(mut self) -> Self {
        self.weight = Weight::Bold;
        self
    }
    pub(crate) fn align(mut self, h: HAlign, v: VAlign) -> Self {
        self.h = h;
        self.v = v;
        self
    }
    pub(crate) fn rotate(mut self, degrees: f32) -> Self {
        self.rotate = degrees;
        self
    }
}

/// Line style.
#[derive(Debug, Clone)]
pub(crate) struct LineStyle {
    pub width: f32,
    pub color: Rgba,
    pub dash: Option<Vec<f32>>,
}

impl LineStyle {
    pub(crate) fn new(width: f32, color: Rgba) -> Self {
        LineStyle { width, color, dash: None }
    }
    pub(crate) fn dashed(mut self, on: f32, off: f32) -> Self {
        self.dash = Some(vec![on, off]);
        self
    }
    fn stroke(&self) -> Stroke {
        Stroke {
            width: self.width,
            line_cap: LineCap::Butt,
            line_join: LineJoin::Miter,
            dash: self.dash.clone().and_then(|d| StrokeDash::new(d, 0.0)),
            ..Stroke::default()
        }
    }
}

/// Marker shapes of scatter and strip plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Circle,
    Triangle,
    Square,
}

/// The drawing surface.
pub(crate) struct Canvas {
    pixmap: Pixmap,
    width: f32,
    height: f32,
}

impl Canvas {
    /// A white canvas of `width` × `height` logical pixels.
    pub(crate) fn new(width: u32, height: u32) -> Self {
        let mut pixmap = Pixmap::new(
            (width as f32 * SCALE).round() as u32,
            (height as f32 * SCALE).round() as u32,
        )
        .expect("plot sizes are small and non-zero");
        pixmap.fill(Color::WHITE);
        Canvas { pixmap, width: width as f32, height: height as f32 }
    }

    pub(crate) fn width(&self) -> f32 {
        self.width
    }

    pub(crate) fn height(&self) -> f32 {
        self.height
    }

    fn base() -> Transform {
        Transform::from_scale(SCALE, SCALE)
    }

    /// Fills a rectangle.
    pub(crate) fn fill_rect(&mut self, x: f32, y: f32, w: f32, h: f32, color: Rgba) {
        if let Some(rect) = Rect::from_xywh(x, y, w.max(0.01), h.max(0.01)) {
            self.pixmap.fill_rect(rect, &color.paint(), Self::base(), None);
        }
    }

    /// Strokes a rectangle's outline.
    pub(crate) fn stroke_rect(&mut self, x: f32, y: f32, w: f32, h: f32, line: &LineStyle) {
        if let Some(rect) = Rect::from_xywh(x, y, w, h) {
            self.stroke(&PathBuilder::from_rect(rect), line);
        }
    }

    /// Draws a polyline.
    pub(crate) fn line(&mut self, points: &[(f32, f32)], line: &LineStyle) {
        let mut pb = PathBuilder::new();
        for (i, &(x, y)) in points.iter().enumerate() {
            if i == 0 {
                pb.move_to(x, y);
            } else {
                pb.line_to(x, y);
            }
        }
        if let Some(path) = pb.finish() {
            self.stroke(&path, line);
        }
    }

    /// A straight segment.
    pub(crate) fn segment(&mut self, x0: f32, y0: f32, x1: f32, y1: f32, line: &LineStyle) {
        self.line(&[(x0, y0), (x1, y1)], line);
    }

    fn stroke(&mut self, path: &Path, line: &LineStyle) {
        self.pixmap.stroke_path(path, &line.color.paint(), &line.stroke(), Self::base(), None);
    }

    /// A marker of `size` (diameter) at (x, y), filled, with an optional edge.
    pub(crate) fn marker(
        &mut self,
        shape: Marker,
        x: f32,
        y: f32,
        size: f32,
        fill: Rgba,
        edge: Option<(Rgba, f32)>,
    ) {
        let r = size / 2.0;
        let path = match shape {
            Marker::Circle => PathBuilder::from_circle(x, y, r),
            Marker::Square => {
                let s = r * 0.89;
                Rect::from_xywh(x - s, y - s, 2.0 * s, 2.0 * s).map(PathBuilder::from_rect)
            }
            Marker::Triangle => {
                let r = r * 1.2;
                let mut pb = PathBuilder::new();
                pb.move_to(x, y - r);
                pb.line_to(x + r * 0.866, y + r * 0.5);
                pb.line_to(x - r * 0.866, y + r * 0.5);
                pb.close();
                pb.finish()
            }
        };
        let Some(path) = path else { return };
        self.pixmap.fill_path(&path, &fill.paint(), FillRule::Winding, Self::base(), None);
        if let Some((color, width)) = edge {
            self.stroke(&path, &LineStyle::new(width, color));
        }
    }

    /// Width of `s` in logical pixels.
    pub(crate) fn text_width(&self, s: &str, size: f32, weight: Weight) -> f32 {
        text::width(s, size, weight)
    }

    /// Draws `s` anchored at (x, y).
    pub(crate) fn text(&mut self, s: &str, x: f32, y: f32, style: TextStyle) {
        let Some((path, width)) = text::path(s, style.size, style.weight) else { return };
        let dx = match style.h {
            HAlign::Left => 0.0,
            HAlign::Center => -width / 2.0,
            HAlign::Right => -width,
        };
        let dy = match style.v {
            VAlign::Baseline => 0.0,
            VAlign::Middle => text::cap_height(style.size) / 2.0,
            VAlign::Top => text::ascent(style.size),
        };
        let transform = Self::base()
            .pre_translate(x, y)
            .pre_concat(Transform::from_rotate(style.rotate))
            .pre_translate(dx, dy);
        self.pixmap.fill_path(&path, &style.color.paint(), FillRule::Winding, transform, None);
    }

    /// Encodes as an RGB PNG.
    pub(crate) fn to_png(&self) -> Vec<u8> {
        // Every pixel is opaque (white background), so premultiplied RGBA equals straight RGBA.
        let rgb: Vec<u8> =
            self.pixmap.data().chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
        let mut out = Vec::new();
        let encoder = image::codecs::png::PngEncoder::new_with_quality(
            &mut out,
            image::codecs::png::CompressionType::Best,
            image::codecs::png::FilterType::Adaptive,
        );
        image::ImageEncoder::write_image(
            encoder,
            &rgb,
            self.pixmap.width(),
            self.pixmap.height(),
            image::ExtendedColorType::Rgb8,
        )
        .expect("encoding a PNG into memory cannot fail");
        out
    }
}
