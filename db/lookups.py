"""What a posting names, looked up in the record: an item, a location, the location of a
kind (scrap, finished), a work order, and the work-in-progress location where material
issued to an order waits. Each is refused in words, saying what to set up, when it is
missing."""

from __future__ import annotations

import sqlite3

from db.refusals import LedgerError


def item_row(conn: sqlite3.Connection, sku: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
    if row is None:
        raise LedgerError(f"item {sku} is not in the item list")
    return row  # type: ignore[no-any-return]


def location_row(conn: sqlite3.Connection, code: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM locations WHERE code = ?", (code,)).fetchone()
    if row is None:
        raise LedgerError(f"location {code} is not in the location list")
    return row  # type: ignore[no-any-return]


def location_of_kind(conn: sqlite3.Connection, kind: str) -> str:
    row = conn.execute(
        "SELECT code FROM locations WHERE kind = ? ORDER BY code LIMIT 1", (kind,)
    ).fetchone()
    if row is None:
        raise LedgerError(f"no {kind} location is set up: add one to locations.csv")
    return str(row[0])


def work_order(conn: sqlite3.Connection, number: str) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM work_orders WHERE number = ?", (number,)).fetchone()
    if row is None:
        raise LedgerError(f"work order {number} does not exist")
    return row  # type: ignore[no-any-return]


def wip_location(conn: sqlite3.Connection, number: str, product: str, item: str) -> tuple[str, str]:
    """Where material issued to an order waits: the WIP location of the stage that uses it."""
    row = conn.execute(
        "SELECT b.stage FROM bill_of_materials b WHERE b.product = ? AND b.component = ?",
        (product, item),
    ).fetchone()
    stage = row["stage"] if row and row["stage"] else None
    if stage is None:
        first = conn.execute(
            "SELECT stage FROM work_order_stages WHERE work_order = ? ORDER BY seq LIMIT 1",
            (number,),
        ).fetchone()
        if first is None:
            raise LedgerError(f"work order {number} has no stages: check routings.csv")
        stage = first["stage"]
    loc = conn.execute("SELECT location FROM stages WHERE code = ?", (stage,)).fetchone()
    if loc is None or not loc["location"]:
        raise LedgerError(f"stage {stage} has no work-in-progress location: set it in stages.csv")
    return str(loc["location"]), str(stage)
