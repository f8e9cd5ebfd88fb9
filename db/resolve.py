"""Barcode resolution: what a scanned label names (an item, a location, a work order, a
badge), looked up in this order: the barcode registry, an item's sku, its GTIN, then a
GS1-128 label, with the lot and quantity a GS1 label carries.

The scan grammar and the Stock screen's code look-up both resolve through here, so
both agree on what a barcode means.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from db.masterdata import normalize_gtin
from db.quantity import to_milli
from devices.decode import Scan, decode


@dataclass(frozen=True)
class Resolved:
    kind: str  # item, location, work_order, operator
    code: str
    lot: str | None = None
    qty_milli: int | None = None


def resolve(conn: sqlite3.Connection, scan: Scan) -> Resolved | None:
    """What a scanned label means: the registry first, then sku, then GTIN / GS1."""
    text = scan.text or ""
    if scan.gs1 is not None:
        gtin = normalize_gtin(scan.gs1.gtin) or scan.gs1.gtin
        row = conn.execute("SELECT sku FROM items WHERE gtin = ?", (gtin,)).fetchone()
        if row is None:
            return None
        qty = None
        if scan.gs1.quantity is not None:
            qty = to_milli(scan.gs1.quantity)
        return Resolved("item", row["sku"], scan.gs1.lot, qty)
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
    if text[:2] in ("01", "02") and len(text) >= 16:
        # A scanner set to drop the GS1-128 FNC1 and send no symbology identifier
        # delivers "01<gtin>10<lot>…" as plain text: read it as the GS1 it is.
        as_gs1 = decode(b"]C1" + text.encode("utf-8"))
        if as_gs1.gs1 is not None:
            return resolve(conn, as_gs1)
    return None
