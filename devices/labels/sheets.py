"""Labels on plain paper: a grid of labels per page, and the printed command sheet.

The command sheet is what a station without a keyboard is driven by (§4): every
mode, action and common quantity as a barcode, grouped under printed headings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw

from devices.labels.fonts import Face, font
from devices.labels.model import Label, LabelSize, paper_size
from devices.labels.pages import BLACK, draw_line, new_page, pages_pdf
from devices.labels.raster import render_image
from devices.labels.symbol import px

PAGE_MARGIN_MM = 8.0  # inside what office printers leave unprinted at the edge
GAP_MM = 2.0  # between labels: room to cut, and each label keeps its own quiet zone


@dataclass(frozen=True)
class _Grid:
    cols: int
    rows: int
    x0: int  # left edge of the first column, dots
    y0: int
    pitch_x: int
    pitch_y: int


def _grid(size: LabelSize, paper: LabelSize, dpi: int, top_mm: float, bottom_mm: float) -> _Grid:
    usable_w = paper.width_mm - 2 * PAGE_MARGIN_MM
    usable_h = paper.height_mm - top_mm - bottom_mm
    cols = int((usable_w + GAP_MM) // (size.width_mm + GAP_MM))
    rows = int((usable_h + GAP_MM) // (size.height_mm + GAP_MM))
    if cols < 1 or rows < 1:
        raise ValueError(f"a {size.name} label does not fit on {paper.name} paper")
    grid_w = cols * size.width_mm + (cols - 1) * GAP_MM
    left = (paper.width_mm - grid_w) / 2
    return _Grid(
        cols,
        rows,
        px(left, dpi),
        px(top_mm, dpi),
        px(size.width_mm + GAP_MM, dpi),
        px(size.height_mm + GAP_MM, dpi),
    )


def _paste(
    page: Image.Image, draw: ImageDraw.ImageDraw, label: Image.Image, x: int, y: int
) -> None:
    page.paste(label, (x, y))
    # A hairline just outside the label: a cutting guide that never enters the label's
    # own margin, so the quiet zones stay clean.
    w, h = label.size
    draw.rectangle((x - 1, y - 1, x + w, y + h), outline=BLACK, width=1)


def sheet_pages(
    labels: Sequence[Label], size: LabelSize, paper: str = "A4", dpi: int = 300
) -> list[Image.Image]:
    """`labels` laid out in a grid on as many pages as they need (8-bit grey images)."""
    if not labels:
        raise ValueError("no labels to put on a sheet")
    sheet = paper_size(paper)
    grid = _grid(size, sheet, dpi, PAGE_MARGIN_MM, PAGE_MARGIN_MM)
    per_page = grid.cols * grid.rows
    # Render everything before drawing: a value that does not fit fails before any page.
    images = [render_image(label, size, dpi) for label in labels]
    pages: list[Image.Image] = []
    for start in range(0, len(images), per_page):
        page = new_page(sheet, dpi)
        draw = ImageDraw.Draw(page)
        for i, image in enumerate(images[start : start + per_page]):
            row, col = divmod(i, grid.cols)
            _paste(page, draw, image, grid.x0 + col * grid.pitch_x, grid.y0 + row * grid.pitch_y)
        pages.append(page)
    return pages


def sheet_pdf(labels: Sequence[Label], size: LabelSize, paper: str = "A4", dpi: int = 300) -> bytes:
    """A PDF of `labels` on plain paper, many per page, as many pages as needed."""
    return pages_pdf(sheet_pages(labels, size, paper, dpi), dpi, f"{len(labels)} labels")


# Cells per group: (columns, cell height mm). Modes get wide cells: their values are
# the longest, and at four to a row their bars fall to two dots at 300 dpi, too fine
# to read back. Quantities and the number pad's keys are many and short.
# Sized so the whole sheet fits one page of A4 or Letter: one sheet to laminate.
# The plant's reasons (as many as it has) run on to a second page when they must.
_COMMAND_CELLS = {
    "Modes": (3, 23.0),
    "Actions": (4, 18.0),
    "Quantities": (4, 15.0),
    "Number pad": (4, 15.0),
    "Reasons": (3, 22.0),
}
_HEADING_MM = 8.0
_TITLE_MM = 10.0


CommandGroups = Sequence[tuple[str, Sequence[Label]]]
"""The command sheet's content: each group's heading and its labels (db.documents says which)."""


def command_sheet_pages(
    groups: CommandGroups, paper: str = "A4", dpi: int = 300
) -> list[Image.Image]:
    """The command sheet: a page title, then each group's heading over a grid of its labels."""
    sheet = paper_size(paper)
    # The same grid on every paper: Letter's extra width would widen the bars, and
    # Code 128 wants taller bars for wider ones, which Letter's shorter page lacks.
    usable_w = min(sheet.width_mm, paper_size("A4").width_mm) - 2 * PAGE_MARGIN_MM
    bottom = sheet.height_mm - PAGE_MARGIN_MM
    pages: list[Image.Image] = []

    def start_page() -> tuple[Image.Image, ImageDraw.ImageDraw, float]:
        page = new_page(sheet, dpi)
        draw = ImageDraw.Draw(page)
        draw_line(
            draw,
            (px(PAGE_MARGIN_MM, dpi), px(PAGE_MARGIN_MM + 6.5, dpi)),
            "shopfloor — scan commands",
            Face.BOLD,
            px(6.0, dpi),
            px(usable_w, dpi),
        )
        pages.append(page)
        return page, draw, PAGE_MARGIN_MM + _TITLE_MM

    page, draw, y = start_page()
    for heading, labels in groups:
        cols, cell_h = _COMMAND_CELLS.get(heading, (3, 28.0))
        cell = LabelSize(heading, (usable_w - (cols - 1) * GAP_MM) / cols, cell_h)
        rows = [labels[i : i + cols] for i in range(0, len(labels), cols)]
        continued = False
        for row in rows:
            need = cell_h + GAP_MM + (0 if continued else _HEADING_MM)
            if y + need > bottom:
                page, draw, y = start_page()
                continued = False
            if not continued:
                title = heading if row is rows[0] else f"{heading} (continued)"
                draw.text(
                    (px(PAGE_MARGIN_MM, dpi), px(y + 6.5, dpi)),
                    title,
                    fill=BLACK,
                    font=font(Face.BOLD, px(5.0, dpi)),
                    anchor="ls",
                )
                y += _HEADING_MM
                continued = True
            for col, label in enumerate(row):
                x = PAGE_MARGIN_MM + col * (cell.width_mm + GAP_MM)
                _paste(page, draw, render_image(label, cell, dpi), px(x, dpi), px(y, dpi))
            y += cell_h + GAP_MM
        y += 2.0
    return pages


def command_sheet_pdf(groups: CommandGroups, paper: str = "A4", dpi: int = 300) -> bytes:
    """The command sheet as a PDF, group titles printed as headings."""
    return pages_pdf(command_sheet_pages(groups, paper, dpi), dpi, "shopfloor scan commands")
