"""What a label or a document says, and the media it goes on: plain frozen dataclasses.

The database side builds these; everything in `devices.labels` and `devices.zpl` turns
them into bytes. Nothing here knows about SQL, screens, or printers.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GS1Content:
    """GS1 element strings for a GS1-128 label: AI 01 (GTIN), AI 10 (lot), AI 37 (count)."""

    gtin: str
    lot: str | None = None
    quantity: int | None = None


@dataclass(frozen=True)
class Label:
    """One barcode label.

    `value` is exactly what a scanner must read back (a work order, a location, a
    `CMD:`/`QTY:`/`LOT:` command); when `gs1` is set the symbol is GS1-128 built from
    its AIs instead, and `value` is only what the label is about (e.g. the sku).
    """

    value: str
    title: str
    lines: tuple[str, ...] = ()
    gs1: GS1Content | None = None


@dataclass(frozen=True)
class LabelSize:
    """A label stock (or a paper size): name and outer size in millimetres."""

    name: str
    width_mm: float
    height_mm: float


SIZES: dict[str, LabelSize] = {
    # 4x6 in: the shipping / pallet label every thermal printer takes.
    "100x150": LabelSize("100x150", 100.0, 150.0),
    # 2.25x1.25 in: the common bin / item label.
    "57x32": LabelSize("57x32", 57.0, 32.0),
    # The small item / badge label; the tightest fit for a Code 128 at 203 dpi.
    "50x25": LabelSize("50x25", 50.0, 25.0),
}

PAPER: dict[str, LabelSize] = {
    "A4": LabelSize("A4", 210.0, 297.0),
    "Letter": LabelSize("Letter", 215.9, 279.4),
}


def paper_size(paper: str) -> LabelSize:
    """The paper called `paper` (case-insensitive), or a ValueError naming the choices."""
    for name, size in PAPER.items():
        if name.lower() == paper.strip().lower():
            return size
    raise ValueError(f"unknown paper {paper!r}: choose one of {', '.join(PAPER)}")


@dataclass(frozen=True)
class TravelerStage:
    seq: int
    code: str
    name: str


@dataclass(frozen=True)
class TravelerPick:
    """A component to issue to the order: its own barcode, and how much (already formatted);
    `issue_barcode` (`QTY:n`, what is still to issue) is printed beside the item's, None
    when nothing is left to issue."""

    sku: str
    description: str
    quantity: str
    uom: str
    barcode: str
    stage: str | None
    issue_barcode: str | None = None


@dataclass(frozen=True)
class Traveler:
    """The paper that travels with a work order through its stages."""

    number: str
    barcode: str
    product: str
    description: str
    quantity: str
    due: str
    priority: int
    stages: tuple[TravelerStage, ...]
    picks: tuple[TravelerPick, ...]


@dataclass(frozen=True)
class PackingLine:
    """One sales-order line on a packing slip, quantities already formatted."""

    product: str
    description: str
    uom: str
    ordered: str
    shipped: str  # everything shipped against the line so far
    to_ship: str  # what is still to come
    work_order: str | None


@dataclass(frozen=True)
class PackingShipment:
    """One shipment that left against the order."""

    time: str
    product: str
    lot: str
    quantity: str


@dataclass(frozen=True)
class PackingSlip:
    """The paper that goes out with finished goods shipped against a sales order."""

    number: str
    barcode: str  # what a SHIP station scans to set the order again (SO:number)
    customer: str
    promised: str
    printed: str
    lines: tuple[PackingLine, ...]
    shipments: tuple[PackingShipment, ...]
