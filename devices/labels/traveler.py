"""The work-order traveler: the paper that goes with an order from stage to stage.

Page one carries the order's barcode, product, quantity, due date and priority, the
stages in routing order with boxes to write in, and the components to issue, each
with a `QTY:` barcode of what is still to issue beside its own barcode: issuing a line
is two scans, the quantity then the item. Long orders flow onto further pages; every
page repeats the order's barcode, so any page scanned sets the work order.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from devices.labels.fonts import Face, font
from devices.labels.layout import Bars, place_bars
from devices.labels.model import Traveler, TravelerPick, TravelerStage, paper_size
from devices.labels.pages import (
    BLACK,
    draw_line,
    image_png,
    new_page,
    pages_pdf,
    to_bilevel,
    wrap_lines,
)
from devices.labels.raster import draw_bars
from devices.labels.symbol import code128, px

MARGIN_MM = 12.0
FOOTER_MM = 10.0
HEADER_MM = 62.0  # first page: title, number, barcode, the order's facts
CONT_HEADER_MM = 30.0  # later pages: number and barcode again
SECTION_MM = 11.0
TABLE_HEAD_MM = 7.0
STAGE_ROW_MM = 12.0
PICK_ROW_MM = 24.0
# Printed on a laser at arm's length: never thinner than 0.25 mm, never wider than 0.4.
_ORDER_BARS = (0.25, 0.4)
_PICK_BARS = (0.125, 0.34)


@dataclass(frozen=True)
class _Block:
    """One row of the document flow, drawn at a y (mm) on some page."""

    height_mm: float
    draw: Callable[[ImageDraw.ImageDraw, float], None]
    keep_with_next: bool = False


class _Pen:
    """Drawing in millimetres on one page at one dpi."""

    def __init__(self, dpi: int, width_mm: float) -> None:
        self.dpi = dpi
        self.left = MARGIN_MM
        self.right = width_mm - MARGIN_MM

    def px(self, mm: float) -> int:
        return px(mm, self.dpi)

    def text(
        self,
        draw: ImageDraw.ImageDraw,
        x: float,
        y: float,
        text: str,
        face: Face,
        size_mm: float,
        max_mm: float,
        anchor: str = "ls",
    ) -> None:
        draw_line(
            draw, (self.px(x), self.px(y)), text, face, self.px(size_mm), self.px(max_mm), anchor
        )

    def rule(self, draw: ImageDraw.ImageDraw, y: float, width: float = 0.3) -> None:
        draw.line(
            (self.px(self.left), self.px(y), self.px(self.right), self.px(y)),
            fill=BLACK,
            width=max(1, self.px(width)),
        )

    def box(self, draw: ImageDraw.ImageDraw, x0: float, y0: float, x1: float, y1: float) -> None:
        draw.rectangle(
            (self.px(x0), self.px(y0), self.px(x1), self.px(y1)),
            outline=BLACK,
            width=max(1, self.px(0.25)),
        )

    def barcode(
        self,
        draw: ImageDraw.ImageDraw,
        value: str,
        x: float,
        y: float,
        width: float,
        height: float,
        limits: tuple[float, float],
        where: str,
        hri_mm: float,
    ) -> Bars:
        """Bars centred in [x, x+width] with the value printed under them."""
        bars = place_bars(
            code128(value),
            self.px(x),
            self.px(y),
            self.px(width),
            self.px(height),
            self.dpi,
            where=where,
            min_mm=limits[0],
            max_mm=limits[1],
        )
        draw_bars(draw, bars)
        draw.text(
            (bars.x + bars.width // 2, self.px(y + height + 0.8)),
            value,
            fill=BLACK,
            font=font(Face.MONO, self.px(hri_mm)),
            anchor="mt",
        )
        return bars


def _header(pen: _Pen, t: Traveler) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        left, right = pen.left, pen.right
        half = (right - left) / 2
        pen.text(d, left, y + 5, "WORK ORDER TRAVELER", Face.BOLD, 4.0, half)
        pen.text(d, left, y + 18, t.number, Face.BOLD, 12.0, half - 4)
        pen.text(d, left, y + 26, t.product, Face.BOLD, 6.0, half - 4)
        pen.barcode(
            d, t.barcode, left + half, y, half, 17.0, _ORDER_BARS, "the traveler header", 4.5
        )
        # The order's facts in a row of boxes: labels small, values large.
        top, bottom = y + 32, y + 58
        pen.box(d, left, top, right, bottom)
        facts = [("Product", t.description, 0.46), ("Quantity", t.quantity, 0.18)]
        facts += [("Due", t.due, 0.22), ("Priority", str(t.priority), 0.14)]
        x = left
        for i, (name, value, share) in enumerate(facts):
            w = (right - left) * share
            if i:
                d.line(
                    (pen.px(x), pen.px(top), pen.px(x), pen.px(bottom)),
                    fill=BLACK,
                    width=max(1, pen.px(0.25)),
                )
            pen.text(d, x + 2.5, top + 6, name.upper(), Face.SANS, 3.2, w - 5)
            if name == "Product":
                lines = wrap_lines(value, Face.BOLD, pen.px(5.0), pen.px(w - 5), 2)
                for j, line in enumerate(lines):
                    pen.text(d, x + 2.5, top + 14 + j * 7, line, Face.BOLD, 5.0, w - 5)
            else:
                pen.text(d, x + 2.5, top + 18, value, Face.BOLD, 8.0, w - 5)
            x += w

    return draw


def _cont_header(pen: _Pen, t: Traveler) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        half = (pen.right - pen.left) / 2
        pen.text(d, pen.left, y + 5, "WORK ORDER TRAVELER (continued)", Face.BOLD, 4.0, half)
        pen.text(d, pen.left, y + 17, t.number, Face.BOLD, 9.0, half - 4)
        pen.barcode(
            d, t.barcode, pen.left + half, y, half, 14.0, _ORDER_BARS, "the traveler header", 4.0
        )
        pen.rule(d, y + CONT_HEADER_MM - 3, 0.4)

    return draw


def _section(pen: _Pen, title: str) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        pen.text(d, pen.left, y + 8, title, Face.BOLD, 6.0, pen.right - pen.left)

    return draw


# Column left edges as fractions of the text width.
_STAGE_COLS: tuple[tuple[str, float], ...] = (
    ("Seq", 0.0),
    ("Stage", 0.07),
    ("Name", 0.22),
    ("Done", 0.52),
    ("Scrap", 0.63),
    ("Operator", 0.74),
    ("Date", 0.89),
)
_PICK_COLS: tuple[tuple[str, float], ...] = (
    ("1 · Scan qty", 0.0),
    ("2 · Then the item", 0.28),
    ("Component", 0.69),
    ("Qty · stage", 0.86),
)


def _col(pen: _Pen, share: float) -> float:
    return pen.left + (pen.right - pen.left) * share


def _table_head(
    pen: _Pen, cols: tuple[tuple[str, float], ...]
) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        for i, (name, share) in enumerate(cols):
            end = cols[i + 1][1] if i + 1 < len(cols) else 1.0
            width = (end - share) * (pen.right - pen.left) - 1.5
            pen.text(d, _col(pen, share), y + 5, name.upper(), Face.BOLD, 3.2, width)
        pen.rule(d, y + TABLE_HEAD_MM - 0.5, 0.4)

    return draw


def _stage_row(pen: _Pen, stage: TravelerStage) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        base = y + 7.5
        span = pen.right - pen.left
        pen.text(d, _col(pen, 0.0), base, str(stage.seq), Face.BOLD, 5.0, 0.06 * span)
        pen.text(d, _col(pen, 0.07), base, stage.code, Face.BOLD, 4.5, 0.14 * span)
        pen.text(d, _col(pen, 0.22), base, stage.name, Face.SANS, 4.5, 0.29 * span)
        # Write-in boxes: done, scrap, operator, date.
        edges = (0.52, 0.63, 0.74, 0.89, 1.0)
        for a, b in zip(edges, edges[1:], strict=False):
            pen.box(d, _col(pen, a), y + 1.5, _col(pen, b) - 1.5, y + STAGE_ROW_MM - 1.5)
        pen.rule(d, y + STAGE_ROW_MM, 0.15)

    return draw


def _pick_row(pen: _Pen, pick: TravelerPick) -> Callable[[ImageDraw.ImageDraw, float], None]:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        span = pen.right - pen.left
        where = f"the traveler's pick list (component {pick.sku})"
        if pick.issue_barcode is None:
            pen.text(d, _col(pen, 0.0), y + 10, "all issued", Face.BOLD, 4.5, 0.27 * span)
        else:
            pen.barcode(
                d, pick.issue_barcode, _col(pen, 0.0), y + 2.0, 0.27 * span, 13.0, _PICK_BARS,
                where, 3.6,
            )  # fmt: skip
        pen.barcode(
            d, pick.barcode, _col(pen, 0.28), y + 2.0, 0.4 * span, 13.0, _PICK_BARS, where, 3.6
        )
        # Both barcodes keep two dots a module at 200 dpi (a 20-character sku, a
        # QTY:16.25): the words get what is left.
        x = _col(pen, 0.69)
        width = 0.16 * span
        pen.text(d, x, y + 7, pick.sku, Face.BOLD, 4.8, width)
        lines = wrap_lines(pick.description, Face.SANS, pen.px(3.4), pen.px(width), 2)
        for j, line in enumerate(lines):
            pen.text(d, x, y + 13 + j * 5, line, Face.SANS, 3.4, width)
        # The unit goes under the number: "48 sheet" in one line would be cut to "48 sh…".
        x, width = _col(pen, 0.86), 0.14 * span
        pen.text(d, x, y + 8, pick.quantity, Face.BOLD, 5.5, width)
        pen.text(d, x, y + 14, pick.uom, Face.SANS, 3.8, width)
        pen.text(d, x, y + 20, f"at {pick.stage}" if pick.stage else "—", Face.SANS, 3.8, width)
        pen.rule(d, y + PICK_ROW_MM, 0.15)

    return draw


def _footer(
    pen: _Pen, t: Traveler, page_no: int, pages: int, height_mm: float
) -> Callable[[ImageDraw.ImageDraw], None]:
    def draw(d: ImageDraw.ImageDraw) -> None:
        y = height_mm - MARGIN_MM
        pen.rule(d, y - 5.5, 0.2)
        span = pen.right - pen.left
        pen.text(d, pen.left, y, f"{t.number}  ·  {t.product}", Face.SANS, 3.5, span * 0.7)
        pen.text(d, pen.right, y, f"page {page_no} of {pages}", Face.SANS, 3.5, span * 0.3, "rs")

    return draw


def _blocks(pen: _Pen, t: Traveler) -> list[_Block]:
    blocks: list[_Block] = []
    title = f"Stages ({len(t.stages)})"
    blocks.append(_Block(SECTION_MM, _section(pen, title), keep_with_next=True))
    blocks.append(_Block(TABLE_HEAD_MM, _table_head(pen, _STAGE_COLS), keep_with_next=True))
    for stage in sorted(t.stages, key=lambda s: s.seq):
        blocks.append(_Block(STAGE_ROW_MM, _stage_row(pen, stage)))
    if t.picks:
        title = f"Materials to issue ({len(t.picks)})"
        blocks.append(_Block(SECTION_MM + 3, _section(pen, title), keep_with_next=True))
        blocks.append(_Block(TABLE_HEAD_MM, _table_head(pen, _PICK_COLS), keep_with_next=True))
        for pick in t.picks:
            blocks.append(_Block(PICK_ROW_MM, _pick_row(pen, pick)))
    return blocks


def _paginate(blocks: list[_Block], first: float, later: float) -> list[list[_Block]]:
    """Blocks per page; a heading never ends a page without the row it heads."""
    pages: list[list[_Block]] = [[]]
    room = first
    i = 0
    while i < len(blocks):
        # A run of keep-with-next blocks moves as one with the block after it.
        j = i
        while j < len(blocks) - 1 and blocks[j].keep_with_next:
            j += 1
        group = blocks[i : j + 1]
        need = sum(b.height_mm for b in group)
        if need > room and pages[-1]:
            pages.append([])
            room = later
        pages[-1].extend(group)
        room -= need
        i = j + 1
    return pages


def traveler_pages(t: Traveler, paper: str = "A4", dpi: int = 200) -> list[Image.Image]:
    """The traveler as page images (8-bit grey), as many pages as the order needs."""
    sheet = paper_size(paper)
    pen = _Pen(dpi, sheet.width_mm)
    body_bottom = sheet.height_mm - MARGIN_MM - FOOTER_MM
    first_room = body_bottom - MARGIN_MM - HEADER_MM
    later_room = body_bottom - MARGIN_MM - CONT_HEADER_MM
    flow = _paginate(_blocks(pen, t), first_room, later_room)
    images: list[Image.Image] = []
    for n, blocks in enumerate(flow, start=1):
        page = new_page(sheet, dpi)
        draw = ImageDraw.Draw(page)
        if n == 1:
            _header(pen, t)(draw, MARGIN_MM)
            y = MARGIN_MM + HEADER_MM
        else:
            _cont_header(pen, t)(draw, MARGIN_MM)
            y = MARGIN_MM + CONT_HEADER_MM
        for block in blocks:
            block.draw(draw, y)
            y += block.height_mm
        _footer(pen, t, n, len(flow), sheet.height_mm)(draw)
        images.append(page)
    return images


def traveler_pdf(t: Traveler, paper: str = "A4", dpi: int = 200) -> bytes:
    """The traveler as a PDF, one or more pages."""
    return pages_pdf(traveler_pages(t, paper, dpi), dpi, f"Traveler {t.number}")


def traveler_png(t: Traveler, paper: str = "A4", dpi: int = 200) -> bytes:
    """The traveler's first page as PNG (a preview, or a one-page order)."""
    return image_png(traveler_pages(t, paper, dpi)[0])


def travelers_pdf(items: Sequence[Traveler], paper: str, dpi: int = 200) -> tuple[bytes, int]:
    """The travelers one after another in one PDF, and its page count.

    Pages are appended to the file order by order, so a plant's worth of travelers
    never holds more than one order's page images at a time.
    """
    if len(items) == 1:
        one = traveler_pages(items[0], paper, dpi)
        return pages_pdf(one, dpi, f"Traveler {items[0].number}"), len(one)
    count = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "travelers.pdf"
        for n, t in enumerate(items):
            pages = [to_bilevel(p) for p in traveler_pages(t, paper, dpi)]
            count += len(pages)
            options: dict[str, Any] = {"save_all": True, "append_images": pages[1:]}
            options["resolution"] = float(dpi)
            if n == 0:
                options.update(title=f"{len(items)} travelers", producer="shopfloor")
            else:
                options["append"] = True
            pages[0].save(path, "PDF", **options)
        return path.read_bytes(), count


def traveler_png_pages(t: Traveler, paper: str, dpi: int = 200) -> list[bytes]:
    """Every page of the traveler as a PNG, in order."""
    return [image_png(to_bilevel(page)) for page in traveler_pages(t, paper, dpi)]
