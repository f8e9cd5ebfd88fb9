"""The packing slip: the paper that goes out with finished goods shipped against a sales
order — the order's barcode (SO:number, which sets the order again at a SHIP station),
its customer and promise date, each line ordered, shipped and still to ship, the
shipments that left, and boxes to sign. Drawn with the traveler's pen (millimetres on
a page), as a PDF of one or more pages.
"""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image, ImageDraw

from devices.labels.fonts import Face
from devices.labels.model import PackingLine, PackingShipment, PackingSlip, paper_size
from devices.labels.pages import new_page, pages_pdf
from devices.labels.traveler import MARGIN_MM, _Pen

HEADER_MM = 62.0
ROW_MM = 9.0
FOOTER_MM = 40.0  # the signature boxes and the page line
_BARS = (0.25, 0.4)

Row = Callable[[ImageDraw.ImageDraw, float], None]

_LINE_COLS = (("Product", 0.0), ("Description", 0.18), ("Ordered", 0.52), ("Shipped", 0.64),
              ("To ship", 0.76), ("Work order", 0.88))  # fmt: skip
_SHIPMENT_COLS = (("Shipped at", 0.0), ("Product", 0.3), ("Lot", 0.52), ("Quantity", 0.76))


def _cells(pen: _Pen, cols: tuple[tuple[str, float], ...], values: list[str], bold: bool) -> Row:
    span = pen.right - pen.left

    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        for i, ((_, share), value) in enumerate(zip(cols, values, strict=True)):
            end = cols[i + 1][1] if i + 1 < len(cols) else 1.0
            face = Face.BOLD if bold or i == 0 else Face.SANS
            size = 3.2 if bold else 4.2
            pen.text(d, pen.left + span * share, y + 6, value, face, size, span * (end - share) - 2)
        pen.rule(d, y + ROW_MM - 1, 0.4 if bold else 0.15)

    return draw


def _title(pen: _Pen, text: str) -> Row:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        pen.text(d, pen.left, y + 7, text, Face.BOLD, 5.5, pen.right - pen.left)

    return draw


def _rows(pen: _Pen, slip: PackingSlip) -> list[Row]:
    rows: list[Row] = [_title(pen, f"Lines ({len(slip.lines)})")]
    rows.append(_cells(pen, _LINE_COLS, [c.upper() for c, _ in _LINE_COLS], True))
    for line in slip.lines:
        rows.append(_cells(pen, _LINE_COLS, _line_values(line), False))
    rows.append(_title(pen, f"Shipped against this order ({len(slip.shipments)})"))
    rows.append(_cells(pen, _SHIPMENT_COLS, [c.upper() for c, _ in _SHIPMENT_COLS], True))
    for shipment in slip.shipments:
        rows.append(_cells(pen, _SHIPMENT_COLS, _shipment_values(shipment), False))
    return rows


def _line_values(line: PackingLine) -> list[str]:
    return [line.product, line.description, f"{line.ordered} {line.uom}", line.shipped,
            line.to_ship, line.work_order or "—"]  # fmt: skip


def _shipment_values(shipment: PackingShipment) -> list[str]:
    return [shipment.time, shipment.product, shipment.lot or "—", shipment.quantity]


def _header(pen: _Pen, slip: PackingSlip, d: ImageDraw.ImageDraw, y: float) -> None:
    left, right = pen.left, pen.right
    half = (right - left) / 2
    pen.text(d, left, y + 5, "PACKING SLIP", Face.BOLD, 4.0, half)
    pen.text(d, left, y + 18, slip.number, Face.BOLD, 11.0, half - 4)
    pen.barcode(d, slip.barcode, left + half, y, half, 17.0, _BARS, "the packing slip", 4.5)
    top, bottom = y + 32, y + 56
    pen.box(d, left, top, right, bottom)
    x = left
    for name, value, share in (("Customer", slip.customer, 0.5), ("Promised", slip.promised, 0.25),
                               ("Printed", slip.printed, 0.25)):  # fmt: skip
        width = (right - left) * share
        pen.text(d, x + 2.5, top + 6, name.upper(), Face.SANS, 3.2, width - 5)
        pen.text(d, x + 2.5, top + 17, value, Face.BOLD, 6.5, width - 5)
        x += width


def _footer(pen: _Pen, slip: PackingSlip, page: int, pages: int, height: float) -> Row:
    def draw(d: ImageDraw.ImageDraw, y: float) -> None:
        span = pen.right - pen.left
        for n, name in enumerate(("Packed by", "Received by (name, date, signature)")):
            x0 = pen.left + n * span * 0.4
            x1 = pen.left + (span * 0.38 if n == 0 else span)
            pen.box(d, x0, y, x1, y + 22)
            pen.text(d, x0 + 2, y + 5, name.upper(), Face.SANS, 3.2, x1 - x0 - 4)
        bottom = height - MARGIN_MM
        pen.text(d, pen.left, bottom, f"{slip.number}  ·  {slip.customer}", Face.SANS, 3.5,
                 span * 0.7)  # fmt: skip
        pen.text(d, pen.right, bottom, f"page {page} of {pages}", Face.SANS, 3.5, span * 0.3, "rs")

    return draw


def packing_slip_pages(slip: PackingSlip, paper: str = "A4", dpi: int = 200) -> list[Image.Image]:
    """The slip as page images (8-bit grey); rows flow onto further pages."""
    sheet = paper_size(paper)
    pen = _Pen(dpi, sheet.width_mm)
    body_bottom = sheet.height_mm - MARGIN_MM - FOOTER_MM
    rows = _rows(pen, slip)
    per_page = max(1, int((body_bottom - MARGIN_MM - HEADER_MM) // ROW_MM))
    chunks = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
    images = []
    for n, chunk in enumerate(chunks, start=1):
        page = new_page(sheet, dpi)
        draw = ImageDraw.Draw(page)
        _header(pen, slip, draw, MARGIN_MM)
        y = MARGIN_MM + HEADER_MM
        for row in chunk:
            row(draw, y)
            y += ROW_MM
        _footer(pen, slip, n, len(chunks), sheet.height_mm)(draw, body_bottom + 8)
        images.append(page)
    return images


def packing_slip_pdf(slip: PackingSlip, paper: str = "A4", dpi: int = 200) -> bytes:
    return pages_pdf(packing_slip_pages(slip, paper, dpi), dpi, f"Packing slip {slip.number}")
