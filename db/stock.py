"""What the Stock screen reads: a search over items and locations, a code resolved as a
scanner would (db.resolve), an item's stock by location and lot (with each lot's
expiry and production dates, db.lots) and its movement history, and what one location
holds.

Each read is one short statement or two returning small frozen dataclasses, so a
screen's worker thread can hand the result to the UI thread without sharing a cursor.
Quantities stay integer thousandths (`*_milli`).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date
from typing import Literal

from db.masterdata import normalize_gtin
from db.resolve import resolve
from devices.decode import decode

HitKind = Literal["item", "location"]

HISTORY_PAGE = 200


@dataclass(frozen=True)
class Hit:
    """One search result: an item or a location."""

    kind: HitKind
    code: str
    name: str
    detail: str  # item: its unit; location: its kind


@dataclass(frozen=True)
class OnHand:
    """Stock of one item at one location and lot ('' = no lot), with the lot's dates."""

    item: str
    description: str
    uom: str
    location: str
    location_name: str
    lot: str
    qty_milli: int
    expiry: date | None = None  # what the lot's GS1 label said (db.lots)
    produced: date | None = None
    expired_allowed: bool = False  # a supervisor allowed it to be issued past its expiry


@dataclass(frozen=True)
class Movement:
    """One ledger entry as the item history shows it."""

    id: int
    time_ms: int
    kind: str
    qty_milli: int
    lot: str
    from_location: str | None
    to_location: str | None
    work_order: str | None
    stage: str | None
    operator: str | None
    station: str | None
    reverses: int | None


@dataclass(frozen=True)
class ItemStock:
    """An item: where it is, and its newest movements."""

    sku: str
    description: str
    uom: str
    gtin: str | None
    barcode: str
    lot_tracked: bool
    on_hand: tuple[OnHand, ...]
    history: tuple[Movement, ...]
    history_total: int

    @property
    def total_milli(self) -> int:
        return sum(row.qty_milli for row in self.on_hand)


@dataclass(frozen=True)
class LocationStock:
    """A location and everything on hand in it."""

    code: str
    name: str
    kind: str
    barcode: str
    on_hand: tuple[OnHand, ...]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(conn: sqlite3.Connection, text: str, *, limit: int = 100) -> list[Hit]:
    """Items and locations whose code, name, barcode or GTIN contain `text`.

    Exact matches come first, then prefixes, then the rest, so a scanned or typed
    code is at the top even when it also appears inside longer codes.
    """
    needle = text.strip()
    if not needle:
        return []
    pattern = _like(needle)
    prefix = pattern[1:]
    gtin = normalize_gtin(needle) or ""
    rows = conn.execute(
        """
        SELECT kind, code, name, detail, rank FROM (
            SELECT 'item' AS kind, sku AS code, description AS name, uom AS detail,
                   CASE WHEN sku = :exact OR barcode = :exact OR gtin = :gtin THEN 0
                        WHEN sku LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END AS rank
            FROM items
            WHERE sku LIKE :pattern ESCAPE '\\' OR description LIKE :pattern ESCAPE '\\'
               OR barcode LIKE :pattern ESCAPE '\\' OR gtin LIKE :pattern ESCAPE '\\'
               OR gtin = :gtin
            UNION ALL
            SELECT 'location', code, name, kind,
                   CASE WHEN code = :exact OR barcode = :exact THEN 0
                        WHEN code LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END
            FROM locations
            WHERE code LIKE :pattern ESCAPE '\\' OR name LIKE :pattern ESCAPE '\\'
               OR barcode LIKE :pattern ESCAPE '\\'
        )
        ORDER BY rank, kind, code
        LIMIT :limit
        """,
        {
            "exact": needle,
            "gtin": gtin,
            "prefix": prefix,
            "pattern": pattern,
            "limit": limit,
        },
    ).fetchall()
    return [Hit(r["kind"], r["code"], r["name"], r["detail"]) for r in rows]


def resolve_code(conn: sqlite3.Connection, code: str) -> Hit | None:
    """The item or location a scanned or typed code means, by the scan pipeline's own rules.

    Going through db.resolve keeps the Stock screen's idea of a barcode the
    same as the stations' (registry, sku, GTIN, GS1 element strings, AIM prefixes).
    """
    text = code.strip()
    if not text:
        return None
    scan = decode(text.encode("utf-8"))
    found = resolve(conn, scan) if scan.text is not None else None
    kind: HitKind
    if found is not None and found.kind in ("item", "location"):
        kind = "item" if found.kind == "item" else "location"
        key = found.code
    else:
        # A location whose label carries another value is still found by its code.
        row = conn.execute("SELECT code FROM locations WHERE code = ?", (text,)).fetchone()
        if row is None:
            return None
        kind, key = "location", str(row["code"])
    if kind == "item":
        item = conn.execute("SELECT description, uom FROM items WHERE sku = ?", (key,)).fetchone()
        return Hit("item", key, item["description"], item["uom"]) if item else None
    loc = conn.execute("SELECT name, kind FROM locations WHERE code = ?", (key,)).fetchone()
    return Hit("location", key, loc["name"], loc["kind"]) if loc else None


_ON_HAND = """
SELECT s.item, i.description, i.uom, s.location, l.name AS location_name, s.lot, s.qty_milli,
       t.expiry, t.produced,
       EXISTS (SELECT 1 FROM lot_allowances a WHERE a.item = s.item AND a.lot = s.lot)
         AS allowed
FROM stock s JOIN items i ON i.sku = s.item JOIN locations l ON l.code = s.location
LEFT JOIN lots t ON t.item = s.item AND t.lot = s.lot
"""


def _on_hand(rows: list[sqlite3.Row]) -> tuple[OnHand, ...]:
    return tuple(
        OnHand(
            r["item"],
            r["description"],
            r["uom"],
            r["location"],
            r["location_name"],
            r["lot"],
            int(r["qty_milli"]),
            expiry=date.fromisoformat(r["expiry"]) if r["expiry"] else None,
            produced=date.fromisoformat(r["produced"]) if r["produced"] else None,
            expired_allowed=bool(r["allowed"]),
        )
        for r in rows
    )


def item_stock(
    conn: sqlite3.Connection, sku: str, *, history_limit: int = HISTORY_PAGE
) -> ItemStock | None:
    """An item's stock by location and lot, and its newest `history_limit` movements."""
    item = conn.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
    if item is None:
        return None
    on_hand = conn.execute(
        _ON_HAND + "WHERE s.item = ? AND s.qty_milli != 0 ORDER BY s.location, s.lot", (sku,)
    ).fetchall()
    # Newest first through the (item, id) index: cheap even with millions of movements.
    history = conn.execute(
        "SELECT * FROM movements WHERE item = ? ORDER BY id DESC LIMIT ?",
        (sku, max(1, history_limit)),
    ).fetchall()
    total = conn.execute("SELECT COUNT(*) FROM movements WHERE item = ?", (sku,)).fetchone()[0]
    return ItemStock(
        sku=item["sku"],
        description=item["description"],
        uom=item["uom"],
        gtin=item["gtin"],
        barcode=item["barcode"],
        lot_tracked=bool(item["lot_tracked"]),
        on_hand=_on_hand(on_hand),
        history=tuple(
            Movement(
                id=int(m["id"]),
                time_ms=int(m["time_ms"]),
                kind=m["kind"],
                qty_milli=int(m["qty_milli"]),
                lot=m["lot"],
                from_location=m["from_location"],
                to_location=m["to_location"],
                work_order=m["work_order"],
                stage=m["stage"],
                operator=m["operator"],
                station=m["station"],
                reverses=m["reverses"],
            )
            for m in history
        ),
        history_total=int(total),
    )


def location_stock(conn: sqlite3.Connection, code: str) -> LocationStock | None:
    """Everything on hand at one location, by item and lot."""
    loc = conn.execute("SELECT * FROM locations WHERE code = ?", (code,)).fetchone()
    if loc is None:
        return None
    rows = conn.execute(
        _ON_HAND + "WHERE s.location = ? AND s.qty_milli != 0 ORDER BY s.item, s.lot", (code,)
    ).fetchall()
    return LocationStock(loc["code"], loc["name"], loc["kind"], loc["barcode"], _on_hand(rows))
