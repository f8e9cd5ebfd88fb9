"""Barcode resolution: what a scanned label names (an item, a location, a work order, a
badge), looked up in this order: the barcode registry, an item's sku, its GTIN, then a
GS1 label (element strings or a Digital Link), with the lot, quantity and dates it
carries. A variable-measure label's quantity counts only in the item's own unit.

The scan grammar and the Stock screen's code look-up both resolve through here, so
both agree on what a barcode means.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from db.masterdata import normalize_gtin
from db.quantity import QuantityError, to_milli
from devices.decode import GS1Fields, Scan, bare_gs1


@dataclass(frozen=True)
class Resolved:
    kind: str  # item, location, work_order, operator
    code: str
    lot: str | None = None
    qty_milli: int | None = None
    expiry: date | None = None  # GS1 AI 17
    produced: date | None = None  # GS1 AI 11
    # The label's quantity cannot be used (another unit, too fine): why, and what to scan.
    qty_problem: str | None = None


def resolve(conn: sqlite3.Connection, scan: Scan) -> Resolved | None:
    """What a scanned label means: the registry first, then sku, then GTIN / GS1."""
    text = scan.text or ""
    if scan.gs1 is not None:
        gtin = normalize_gtin(scan.gs1.gtin) or scan.gs1.gtin
        row = conn.execute("SELECT sku, uom FROM items WHERE gtin = ?", (gtin,)).fetchone()
        if row is None:
            return None
        qty, problem = _label_quantity(scan.gs1, row["sku"], row["uom"])
        return Resolved(
            "item", row["sku"], scan.gs1.lot, qty, expiry=scan.gs1.expiry,
            produced=scan.gs1.produced, qty_problem=problem,
        )  # fmt: skip
    row = conn.execute("SELECT kind, code FROM barcodes WHERE value = ?", (text,)).fetchone()
    if row is not None:
        return Resolved(row["kind"], row["code"])
    row = conn.execute("SELECT sku FROM items WHERE sku = ?", (text,)).fetchone()
    if row is not None:
        return Resolved("item", row["sku"])
    as_gtin = normalize_gtin(text)
    if as_gtin is not None:
        row = conn.execute("SELECT sku FROM items WHERE gtin = ?", (as_gtin,)).fetchone()
        if row is not None:
            return Resolved("item", row["sku"])
    as_gs1 = bare_gs1(scan)
    if as_gs1 is not None:
        return resolve(conn, as_gs1)
    return None


# How items.csv may spell the units of GS1's net measures (decode.Measure.unit).
_UNIT_SPELLINGS = {
    "kg": ("kgs", "kilo", "kilos", "kilogram", "kilograms"),
    "m": ("mtr", "meter", "meters", "metre", "metres"),
    "m2": ("m²", "sqm", "sq m"),
    "l": ("lt", "ltr", "liter", "liters", "litre", "litres"),
    "m3": ("m³", "cbm"),
    "lb": ("lbs", "pound", "pounds"),
    "in": ("inch", "inches"),
    "ft": ("foot", "feet"),
    "yd": ("yard", "yards"),
    "in2": ("in²", "sq in"),
    "ft2": ("ft²", "sq ft"),
    "yd2": ("yd²", "sq yd"),
    "ozt": ("troy oz", "oz t"),
    "oz": ("ounce", "ounces"),
    "qt": ("quart", "quarts"),
    "gal": ("gallon", "gallons"),
    "in3": ("in³", "cu in"),
    "ft3": ("ft³", "cu ft"),
    "yd3": ("yd³", "cu yd"),
}
_UNITS = {
    spelling: unit for unit, spellings in _UNIT_SPELLINGS.items() for spelling in (unit, *spellings)
}


def _unit(uom: str) -> str:
    spelled = " ".join(uom.lower().replace(".", " ").split())
    return _UNITS.get(spelled, spelled)


def _plain(amount: Decimal) -> str:
    """12.500 as 12.5, 750 as 750: the amount as a person writes it."""
    return format(amount.normalize(), "f")


def _label_quantity(fields: GS1Fields, sku: str, uom: str) -> tuple[int | None, str | None]:
    """The quantity a GS1 label gives for the item, in thousandths of its unit.

    A net measure in the item's own unit first (12.5 kg of a kg item), then a count (AI
    30/37); a measure only in another unit gives no quantity but a refusal to show.
    """
    unit = _unit(uom)
    again = f"scan QTY: with the quantity in {uom}, then the label again"
    for measure in fields.measures:
        if measure.unit == unit:
            try:
                return to_milli(measure.amount), None
            except QuantityError as exc:
                return (
                    None,
                    f"the label gives {_plain(measure.amount)} {measure.unit}: {exc}; {again}",
                )
    if fields.quantity is not None:
        return to_milli(fields.quantity), None
    if fields.measures:
        shown = " and ".join(f"{_plain(m.amount)} {m.unit}" for m in fields.measures)
        return None, f"the label gives {shown}, but {sku} is counted in {uom}: {again}"
    return None, None
