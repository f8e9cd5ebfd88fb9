"""A bin's balance: what it holds of an item and lot, what may leave it (below zero only
where a supervisor allowed negative stock for its kind of location), the declared
range every total stays in, and the words for too little. The ledger (db/ledger.py)
keeps these totals in the same transaction as each movement."""

from __future__ import annotations

import sqlite3

from db.quantity import MAX_TOTAL_MILLI, SCALE
from db.quantity import text as qty_text
from db.refusals import LedgerError
from db.roles import negative_stock_kinds


def on_hand(conn: sqlite3.Connection, item: str, location: str, lot: str = "") -> int:
    row = conn.execute(
        "SELECT qty_milli FROM stock WHERE item = ? AND location = ? AND lot = ?",
        (item, location, lot),
    ).fetchone()
    return int(row[0]) if row else 0


def add_stock(conn: sqlite3.Connection, item: str, location: str, lot: str, delta: int) -> None:
    conn.execute(
        "INSERT INTO stock (item, location, lot, qty_milli) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (item, location, lot) "
        "DO UPDATE SET qty_milli = qty_milli + excluded.qty_milli",
        (item, location, lot, delta),
    )


def available(conn: sqlite3.Connection, item: str, location: str, lot: str) -> int:
    """What may leave a bin: its stock on hand, or, where a supervisor allowed negative
    stock for its kind of location, as much as keeps it inside the declared range."""
    have = on_hand(conn, item, location, lot)
    kind = conn.execute("SELECT kind FROM locations WHERE code = ?", (location,)).fetchone()
    if kind is not None and kind[0] in negative_stock_kinds(conn):
        return have + MAX_TOTAL_MILLI
    return have


def what_is_there(conn: sqlite3.Connection, item: str, location: str, lot: str, have: int) -> str:
    """How much is there, in the item's unit: the first half of a refusal."""
    row = conn.execute("SELECT uom FROM items WHERE sku = ?", (item,)).fetchone()
    uom = f" {row[0]}" if row is not None and row[0] else ""
    lot_words = f" (lot {lot})" if lot else ""
    if have <= 0:
        return f"no {item} in {location}{lot_words} on record"
    return f"only {qty_text(have)}{uom} of {item} in {location}{lot_words}"


def check_total(conn: sqlite3.Connection, item: str, location: str, lot: str, qty: int) -> None:
    """Refuse a posting that would take a bin past the declared range: totals stay exact."""
    if on_hand(conn, item, location, lot) + qty > MAX_TOTAL_MILLI:
        raise LedgerError(
            f"{location} would hold more than {MAX_TOTAL_MILLI // SCALE:,} of {item}, "
            "the most the record keeps in one bin: check the QTY",
            fixable=False,
        )
