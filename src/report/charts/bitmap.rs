//! The PNG backend: plotters' `BitMapBackend` with its text and its thick
//! lines drawn here instead.
//!
//! plotters 0.3.7 draws bitmap text through its `ab_glyph` font
//! (`FontDataInternal::draw`), which places each glyph's inked box at the pen
//! position: it drops the glyph's left side bearing (`px_bounds().min.x`)
//! and truncates the pen to whole pixels. Letters with a wide bearing (`i`,
//! `l`, `t`) then sit against their left neighbour and leave a gap on their
//! right, so PNG legends read "throttl e" and "circui t" while the SVGs,
//! laid out by the viewer, are right.
//!
//! [`BitMap`] wraps a `BitMapBackend` and draws text itself: the pen
//! advances by the font's advance widths and kerning in fractional pixels,
//! and each glyph is rasterised at its exact position, at the size and
//! baseline plotters' SVG backend gives the same text. The charts use one
//! face, so the text style's family is not consulted.
//!
//! plotters also strokes a path wider than a pixel as one polygon whose
//! joins are mitred without a limit, so a sharp up-and-down spike in a time
//! series shoots a needle far past the plot. `BitMap` strokes each segment
//! on its own and rounds the joins. Every other shape passes through.

use ab_glyph::{Font, FontRef, Glyph, PxScale, ScaleFont, point};
use plotters::prelude::{BitMapBackend, DrawingBackend};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingErrorKind,
};

/// A bitmap backend whose text follows the font's own metrics and whose
/// thick lines stay where their points are.
pub struct BitMap<'a> {
    inner: BitMapBackend<'a>,
    font: FontRef<'static>,
}

impl<'a> BitMap<'a> {
    pub fn new(inner: BitMapBackend<'a>, font: &'static [u8]) -> Result<Self, String> {
        let font = FontRef::try_from_slice(font).map_err(|e| e.to_string())?;
        Ok(BitMap { inner, font })
    }
}

/// plotters reads a text size of `s` as an em of `s / 1.24` pixels: its SVG
/// backend writes `font-size` so, and its layout boxes are that tall.
const SIZE_PER_EM: f64 = 1.24;

/// A line of text laid out with its pen starting at (0, 0) on the baseline.
pub struct Layout {
    pub glyphs: Vec<Glyph>,
    pub width: f32,
    /// The em and the height of an `x`, in pixels.
    pub em: f32,
    pub ex: f32,
}

/// Each glyph at its pen position: advance widths plus pair kerning, in
/// fractional pixels.
pub fn layout(font: &FontRef<'static>, size: f64, text: &str) -> Layout {
    let em = (size / SIZE_PER_EM) as f32;
    let units_per_em = font.units_per_em().unwrap_or(2048.0);
    // ab_glyph's `PxScale` is the height from descender to ascender.
    let scale = PxScale::from(em * font.height_unscaled() / units_per_em);
    let scaled = font.as_scaled(scale);
    let mut glyphs = Vec::with_capacity(text.len());
    let mut pen = 0.0;
    let mut previous = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(previous) = previous {
            pen += scaled.kern(previous, id);
        }
        glyphs.push(id.with_scale_and_position(scale, point(pen, 0.0)));
        pen += scaled.h_advance(id);
        previous = Some(id);
    }
    // ab_glyph's unscaled bounds are y-up with the top in `min`; take the
    // higher of the two, which is the top of the `x` above the baseline.
    let x_height = font
        .outline(font.glyph_id('x'))
        .map_or(units_per_em / 2.0, |x| x.bounds.min.y.max(x.bounds.max.y));
    Layout {
        glyphs,
        width: pen,
        em,
        ex: em * x_height / units_per_em,
    }
}

/// The advance width of `text` at plotters' text size `size`, in pixels:
/// what the PNG draws, and near enough what an SVG viewer draws.
pub fn text_width(font: &'static [u8], size: f64, text: &str) -> f32 {
    FontRef::try_from_slice(font).map_or(0.0, |font| layout(&font, size, text).width)
}

/// Where the pen starts relative to the anchor point, placed as plotters'
/// SVG backend places it (`text-anchor`, and `dy` of 0.76em, 0.5ex or
/// −0.5ex), so the PNG puts text where the SVG does.
fn pen_start(style: &impl BackendTextStyle, layout: &Layout) -> (f32, f32) {
    let anchor = style.anchor();
    let x = match anchor.h_pos {
        HPos::Left => 0.0,
        HPos::Center => -layout.width / 2.0,
        HPos::Right => -layout.width,
    };
    let baseline = match anchor.v_pos {
        VPos::Top => 0.76 * layout.em,
        VPos::Center => 0.5 * layout.ex,
        VPos::Bottom => -0.5 * layout.ex,
    };
    (x, baseline)
}

impl<'a> BitMap<'a> {
    /// The covered pixels of `text`, relative to the anchor before rotation.
    fn coverage(&self, text: &str, style: &impl BackendTextStyle) -> Vec<(i32, i32, f32)> {
        let layout = layout(&self.font, style.size(), text);
        let (dx, dy) = pen_start(style, &layout);
        let mut pixels = Vec::new();
        for mut glyph in layout.glyphs {
            glyph.position = point(glyph.position.x + dx, glyph.position.y + dy);
            let Some(outline) = self.font.outline_glyph(glyph) else {
                continue; // a space
            };
            let bounds = outline.px_bounds();
            let (left, top) = (bounds.min.x as i32, bounds.min.y as i32);
            outline.draw(|x, y, covered| {
                if covered > 0.0 {
                    pixels.push((left + x as i32, top + y as i32, covered.min(1.0)));
                }
            });
        }
        pixels
    }
}

impl<'a> DrawingBackend for BitMap<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.inner.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        if style.stroke_width() <= 1 {
            return self.inner.draw_path(path, style);
        }
        let points: Vec<BackendCoord> = path.into_iter().collect();
        for segment in points.windows(2) {
            self.inner.draw_line(segment[0], segment[1], style)?;
        }
        let radius = style.stroke_width() / 2;
        let joins = points.iter().skip(1).take(points.len().saturating_sub(2));
        for &join in joins {
            self.inner.draw_circle(join, radius, &style.color(), true)?;
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vertices: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.fill_polygon(vertices, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.inner.blit_bitmap(pos, size, src)
    }

    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let rotation = style.transform();
        for (x, y, covered) in self.coverage(text, style) {
            let (x, y) = rotation.transform(x, y);
            let ink = BackendColor {
                alpha: color.alpha * f64::from(covered),
                rgb: color.rgb,
            };
            self.inner.draw_pixel((pos.0 + x, pos.1 + y), ink)?;
        }
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        let layout = layout(&self.font, style.size(), text);
        Ok((layout.width.ceil() as u32, layout.em as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plotters::prelude::*;

    const SIZE: (u32, u32) = (900, 80);
    const ORIGIN: (i32, i32) = (10, 10);
    const TEXT: &str = "clients offered throttle circuit";
    const FONT_PX: f64 = 40.0;

    /// `TEXT` in black on white, its box's top-left at `ORIGIN`.
    fn render_text() -> Vec<u8> {
        super::super::register_font();
        let mut pixels = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        {
            let backend = BitMapBackend::with_buffer(&mut pixels, SIZE);
            let root = BitMap::new(backend, super::super::FONT)
                .unwrap()
                .into_drawing_area();
            let style = ("sans-serif", FONT_PX).into_font().color(&BLACK);
            root.draw_text(TEXT, &style, ORIGIN).unwrap();
            root.present().unwrap();
        }
        pixels
    }

    /// Whether any pixel of column `x` is more than half inked.
    fn inked_columns(pixels: &[u8]) -> Vec<bool> {
        (0..SIZE.0 as usize)
            .map(|x| (0..SIZE.1 as usize).any(|y| pixels[(y * SIZE.0 as usize + x) * 3] < 128))
            .collect()
    }

    /// Each glyph's inked span (left, right) in pixels, from the font's own
    /// numbers in font units: advance widths, kerning and outline bounds.
    fn expected_spans() -> Vec<(f32, f32)> {
        let font = FontRef::try_from_slice(super::super::FONT).unwrap();
        let px_per_unit = (FONT_PX / SIZE_PER_EM) as f32 / font.units_per_em().unwrap();
        let mut pen = 0.0;
        let mut previous = None;
        let mut spans = Vec::new();
        for c in TEXT.chars() {
            let id = font.glyph_id(c);
            if let Some(previous) = previous {
                pen += font.kern_unscaled(previous, id);
            }
            if let Some(outline) = font.outline(id) {
                let left = ORIGIN.0 as f32 + (pen + outline.bounds.min.x) * px_per_unit;
                let right = ORIGIN.0 as f32 + (pen + outline.bounds.max.x) * px_per_unit;
                spans.push((left, right));
            }
            pen += font.h_advance_unscaled(id);
            previous = Some(id);
        }
        spans
    }

    /// Every gap of two pixels or more between neighbouring glyphs, as the
    /// font lays them out, is in the picture within a pixel: ink stops at
    /// the left glyph's right edge and starts again at the next one's left.
    /// plotters' own path drew `i`, `l` and `t` up to 4px off at this size.
    #[test]
    fn glyphs_sit_where_the_font_metrics_put_them() {
        let inked = inked_columns(&render_text());
        let starts: Vec<f32> = (1..inked.len())
            .filter(|&x| inked[x] && !inked[x - 1])
            .map(|x| x as f32)
            .collect();
        let ends: Vec<f32> = (0..inked.len() - 1)
            .filter(|&x| inked[x] && !inked[x + 1])
            .map(|x| x as f32 + 1.0)
            .collect();
        let spans = expected_spans();
        let near = |edges: &[f32], at: f32| edges.iter().any(|e| (e - at).abs() <= 1.0);
        let mut gaps = 0;
        for pair in spans.windows(2) {
            let ((_, right), (left, _)) = (pair[0], pair[1]);
            if left - right >= 2.0 {
                gaps += 1;
                assert!(near(&ends, right), "ink should end near {right}: {ends:?}");
                assert!(
                    near(&starts, left),
                    "ink should start near {left}: {starts:?}"
                );
            }
        }
        assert!(gaps >= 20, "only {gaps} gaps checked");
        let (first, last) = (spans[0].0, spans[spans.len() - 1].1);
        assert!(near(&starts, first) && near(&ends, last));
        assert_eq!(starts.len(), ends.len());
    }
    /// A one-interval spike in a time series (up and straight back down a
    /// pixel to the right), stroked two pixels wide, inks no more than a
    /// pixel or two beyond its points. plotters' own mitred polygon drew a
    /// needle down to row 70 here, and off the plot in the charts.
    #[test]
    fn thick_lines_stay_near_their_points() {
        let mut pixels = vec![255u8; (SIZE.0 * SIZE.1 * 3) as usize];
        let spike = [(100, 40), (100, 10), (101, 40)];
        {
            let backend = BitMapBackend::with_buffer(&mut pixels, SIZE);
            let mut bitmap = BitMap::new(backend, super::super::FONT).unwrap();
            let style = Color::stroke_width(&BLACK, 2);
            bitmap.draw_path(spike, &style).unwrap();
        }
        let inked_rows: Vec<usize> = (0..SIZE.1 as usize)
            .filter(|&y| (0..SIZE.0 as usize).any(|x| pixels[(y * SIZE.0 as usize + x) * 3] < 128))
            .collect();
        let (top, bottom) = (inked_rows[0], inked_rows[inked_rows.len() - 1]);
        assert!(top >= 8 && bottom <= 42, "ink from row {top} to {bottom}");
    }
}
