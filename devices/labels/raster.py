"""Single labels as pictures: a 1-bit Pillow image, PNG bytes, or an SVG document.

Bars are drawn as whole dots from the layout (never resampled), so what zbar reads
from the PNG is what the thermal printer burns; the SVG is the same geometry in the
same dot units, scaled to millimetres.
"""

from __future__ import annotations

import io
from xml.sax.saxutils import escape, quoteattr

from PIL import Image, ImageDraw

from devices.labels.fonts import Face, font, text_width
from devices.labels.layout import Bars, FittedText, LabelLayout, fit_text, layout
from devices.labels.model import Label, LabelSize

BLACK = 0
WHITE = 255


def draw_bars(draw: ImageDraw.ImageDraw, bars: Bars) -> None:
    for x, w in bars.runs():
        draw.rectangle((x, bars.y, x + w - 1, bars.y + bars.height - 1), fill=BLACK)


def draw_text(draw: ImageDraw.ImageDraw, fitted: FittedText) -> None:
    f = font(fitted.face, fitted.size)
    for line, (cx, cy) in zip(fitted.lines, fitted.centers, strict=True):
        draw.text((cx, cy), line, fill=BLACK, font=f, anchor="mm")


def fitted_texts(lay: LabelLayout) -> list[FittedText]:
    return [fit_text(box, text_width) for box in lay.texts]


def render_image_from_layout(lay: LabelLayout) -> Image.Image:
    image = Image.new("1", (lay.width, lay.height), WHITE)
    draw = ImageDraw.Draw(image)
    draw_bars(draw, lay.bars)
    for fitted in fitted_texts(lay):
        draw_text(draw, fitted)
    image.info["dpi"] = (lay.dpi, lay.dpi)
    return image


def render_image(label: Label, size: LabelSize, dpi: int = 203) -> Image.Image:
    """The label as a 1-bit image at `dpi`, one pixel per printer dot.

    Bilevel because a thermal printer is: no grey text edges for a driver to dither
    into fuzz, and what you see in the PNG is what burns.
    """
    return render_image_from_layout(layout(label, size, dpi))


def render_png(label: Label, size: LabelSize, dpi: int = 203) -> bytes:
    """The label as PNG bytes, with its dpi recorded so print dialogs keep the size."""
    image = render_image(label, size, dpi)
    out = io.BytesIO()
    image.save(out, "PNG", dpi=(dpi, dpi))
    return out.getvalue()


_FAMILY = {
    Face.SANS: ("'DejaVu Sans', Arial, sans-serif", "normal"),
    Face.BOLD: ("'DejaVu Sans', Arial, sans-serif", "bold"),
    Face.MONO: ("'DejaVu Sans Mono', 'Courier New', monospace", "normal"),
    Face.MONO_BOLD: ("'DejaVu Sans Mono', 'Courier New', monospace", "bold"),
}


def render_svg(label: Label, size: LabelSize, dpi: int = 203) -> str:
    """The label as a standalone SVG document, sized in millimetres.

    Coordinates are printer dots at `dpi` (default a 203 dpi thermal printer's), so
    every bar is a whole number of dots wide there.
    """
    lay = layout(label, size, dpi)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
        f'width="{size.width_mm:g}mm" height="{size.height_mm:g}mm" '
        f'viewBox="0 0 {lay.width} {lay.height}">',
        f"<title>{escape(label.title or lay.symbol.text)}</title>",
        f'<rect x="0" y="0" width="{lay.width}" height="{lay.height}" fill="#fff"/>',
        f'<g id="bars" fill="#000" shape-rendering="crispEdges" '
        f"data-value={quoteattr(lay.symbol.data)}>",
    ]
    bars = lay.bars
    for x, w in bars.runs():
        out.append(f'<rect x="{x}" y="{bars.y}" width="{w}" height="{bars.height}"/>')
    out.append("</g>")
    for box, fitted in zip(lay.texts, fitted_texts(lay), strict=True):
        family, weight = _FAMILY[fitted.face]
        for line, (cx, cy) in zip(fitted.lines, fitted.centers, strict=True):
            out.append(
                f'<text class="{box.role}" x="{cx}" y="{cy}" font-family="{family}" '
                f'font-weight="{weight}" font-size="{fitted.size}" text-anchor="middle" '
                f'dominant-baseline="central" fill="#000">{escape(line)}</text>'
            )
    out.append("</svg>")
    return "\n".join(out) + "\n"
