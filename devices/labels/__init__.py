"""Labels out: barcode labels as PNG, SVG and PDF sheets, the command sheet, travelers.

Plain dataclasses in (`Label`, `Traveler`, `PackingSlip`), bytes or text out; the database side
decides what to print. Every barcode here is Code 128 (GS1-128 for GS1 content) whose
bars are whole printer dots, with quiet zones, and a value that does not fit its label
is refused with a ValueError rather than printed unscannable. ZPL for thermal
printers is in `devices.zpl`, sending to printers in `devices.printing`.
"""

from __future__ import annotations

from devices.labels.model import (
    PAPER,
    SIZES,
    GS1Content,
    Label,
    LabelSize,
    PackingLine,
    PackingShipment,
    PackingSlip,
    Traveler,
    TravelerPick,
    TravelerStage,
    paper_size,
)
from devices.labels.packing_slip import packing_slip_pages, packing_slip_pdf
from devices.labels.raster import render_image, render_png, render_svg
from devices.labels.sheets import (
    CommandGroups,
    command_sheet_pages,
    command_sheet_pdf,
    sheet_pages,
    sheet_pdf,
)
from devices.labels.symbol import Symbol, symbol_for
from devices.labels.traveler import (
    traveler_pages,
    traveler_pdf,
    traveler_png,
    traveler_png_pages,
    travelers_pdf,
)

__all__ = [
    "PAPER",
    "SIZES",
    "GS1Content",
    "CommandGroups",
    "Label",
    "LabelSize",
    "PackingLine",
    "PackingShipment",
    "PackingSlip",
    "Symbol",
    "Traveler",
    "TravelerPick",
    "TravelerStage",
    "command_sheet_pages",
    "command_sheet_pdf",
    "packing_slip_pages",
    "packing_slip_pdf",
    "paper_size",
    "render_image",
    "render_png",
    "render_svg",
    "sheet_pages",
    "sheet_pdf",
    "symbol_for",
    "traveler_pages",
    "traveler_pdf",
    "traveler_png",
    "traveler_png_pages",
    "travelers_pdf",
]
