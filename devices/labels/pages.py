"""Paper pages as images, the text helpers documents share, and pages to PDF or PNG.

Pages are drawn in 8-bit grey and turned into 1-bit at save time: Pillow then stores
them in the PDF with CCITT G4, which is lossless (JPEG would smear bar edges) and small.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

from devices.labels.fonts import Face, font, text_width
from devices.labels.model import LabelSize
from devices.labels.symbol import px

BLACK = 0
WHITE = 255
_ELLIPSIS = "…"


def new_page(paper: LabelSize, dpi: int) -> Image.Image:
    page = Image.new("L", (px(paper.width_mm, dpi), px(paper.height_mm, dpi)), WHITE)
    page.info["dpi"] = (dpi, dpi)
    return page


def fit_line(text: str, face: Face, size: int, max_width: int) -> tuple[int, str]:
    """A size (down to 70%) and text (then cut with an ellipsis) that fit `max_width`."""
    text = " ".join(text.split())
    smallest = max(6, round(size * 0.7))
    while size > smallest and text_width(face, size, text) > max_width:
        size -= 1
    if text_width(face, size, text) > max_width:
        while text and text_width(face, size, text + _ELLIPSIS) > max_width:
            text = text[:-1]
        text = text.rstrip() + _ELLIPSIS
    return size, text


def wrap_lines(text: str, face: Face, size: int, max_width: int, max_lines: int) -> list[str]:
    """Word-wrap into at most `max_lines`, the last cut with an ellipsis if needed."""
    words = text.split()
    lines: list[str] = []
    current = ""
    while words:
        word = words[0]
        candidate = f"{current} {word}" if current else word
        if text_width(face, size, candidate) <= max_width or not current:
            current = candidate
            words.pop(0)
        else:
            lines.append(current)
            current = ""
        if len(lines) == max_lines - 1 and not current and words:
            # The last line takes the rest and gets cut.
            lines.append(fit_line(" ".join(words), face, size, max_width)[1])
            words = []
    if current:
        lines.append(fit_line(current, face, size, max_width)[1])
    return lines[:max_lines]


def draw_line(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    face: Face,
    size: int,
    max_width: int,
    anchor: str = "ls",
) -> None:
    """One line of text at `xy` (Pillow anchor), shrunk or cut to `max_width`."""
    size, text = fit_line(text, face, size, max_width)
    draw.text(xy, text, fill=BLACK, font=font(face, size), anchor=anchor)


def to_bilevel(page: Image.Image) -> Image.Image:
    # A plain threshold, not dithering: bar edges stay where they were drawn.
    return page.point(lambda v: 255 if v >= 128 else 0, mode="1")


def pages_pdf(pages: Sequence[Image.Image], dpi: int, title: str) -> bytes:
    """The pages as one PDF, each page exactly its paper size at `dpi`."""
    if not pages:
        raise ValueError("a PDF needs at least one page")
    bilevel = [to_bilevel(p) for p in pages]
    out = io.BytesIO()
    bilevel[0].save(
        out,
        "PDF",
        save_all=True,
        append_images=bilevel[1:],
        resolution=float(dpi),
        title=title,
        producer="shopfloor",
    )
    return out.getvalue()


def image_png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    dpi = image.info.get("dpi", (72, 72))
    image.save(out, "PNG", dpi=dpi, compress_level=1)
    return out.getvalue()
