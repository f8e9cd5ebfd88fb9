"""Stage progress: units completed or scrapped at a stage, the components a completion
backflushes, the finished goods the last stage produces, and undoing a report.

Each report posts in one transaction (or joins the caller's) through db.ledger, and
keeps the stage totals (`work_order_stages` done/scrap) and the order's status in it.
"""

from __future__ import annotations

import sqlite3

from db import balances, ledger, lookups
from db.connection import now_ms, transaction
from db.ledger import NOBODY, Origin
from db.quantity import text as qty_text
from db.refusals import LedgerError


def _stage_row(conn: sqlite3.Connection, number: str, stage: str | None) -> sqlite3.Row:
    stages = conn.execute(
        "SELECT * FROM work_order_stages WHERE work_order = ? ORDER BY seq", (number,)
    ).fetchall()
    if not stages:
        raise LedgerError(f"work order {number} has no stages: check routings.csv")
    if stage is None:
        return stages[0]  # type: ignore[no-any-return]
    for row in stages:
        if row["stage"] == stage:
            return row  # type: ignore[no-any-return]
    route = " → ".join(r["stage"] for r in stages)
    raise LedgerError(f"work order {number} does not pass stage {stage} (its route: {route})")


def stage_available(conn: sqlite3.Connection, number: str, seq: int) -> int:
    """What has reached a stage and is not yet completed or scrapped there."""
    order = lookups.work_order(conn, number)
    previous = conn.execute(
        "SELECT done_milli FROM work_order_stages WHERE work_order = ? AND seq < ? "
        "ORDER BY seq DESC LIMIT 1",
        (number, seq),
    ).fetchone()
    arrived = int(order["qty_milli"]) if previous is None else int(previous["done_milli"])
    here = conn.execute(
        "SELECT done_milli + scrap_milli FROM work_order_stages WHERE work_order = ? AND seq = ?",
        (number, seq),
    ).fetchone()
    return arrived - int(here[0])


def report_progress(
    conn: sqlite3.Connection,
    number: str,
    stage: str | None,
    qty_milli: int | None,
    *,
    kind: str = "done",
    origin: Origin = NOBODY,
) -> int:
    """Record units completed (or scrapped) at a stage; None qty means everything that reached it.

    A completion backflushes the components the bill of materials consumes at this
    stage from what was issued to the order; the last stage's completions produce
    finished goods. Returns the progress entry id.
    """
    if kind not in ("done", "scrap"):
        raise ValueError(kind)
    with transaction(conn):
        order = lookups.work_order(conn, number)
        ledger.require_active(order)
        row = _stage_row(conn, number, stage)
        seq, stage_code = int(row["seq"]), str(row["stage"])
        available = stage_available(conn, number, seq)
        if qty_milli is None:
            qty_milli = available
        if available <= 0 or qty_milli <= 0:
            raise LedgerError(
                f"nothing of {number} is waiting at {stage_code}; "
                "scan the work order at the stage before it"
            )
        if qty_milli > available:
            raise LedgerError(
                f"only {qty_text(available)} of {number} reached {stage_code}; "
                f"scan QTY:{qty_text(available)} or less"
            )
        at = now_ms()
        cur = conn.execute(
            "INSERT INTO progress_entries (time_ms, work_order, seq, stage, kind, qty_milli, "
            "operator, station, scan, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, number, seq, stage_code, kind, qty_milli, origin.operator, origin.station,
             origin.scan, origin.reason),
        )  # fmt: skip
        entry = int(cur.lastrowid or 0)
        column = "done_milli" if kind == "done" else "scrap_milli"
        conn.execute(
            f"UPDATE work_order_stages SET {column} = {column} + ? "
            "WHERE work_order = ? AND seq = ?",
            (qty_milli, number, seq),
        )
        ledger.touch_work_order(conn, number, at, origin)
        if kind == "done":
            _backflush(conn, order, seq, stage_code, qty_milli, entry, origin, at)
            last = conn.execute(
                "SELECT MAX(seq) FROM work_order_stages WHERE work_order = ?", (number,)
            ).fetchone()[0]
            if seq == last:
                product = lookups.item_row(conn, order["product"])
                ledger.post(
                    conn, "produce", order["product"], qty_milli, from_location=None,
                    to_location=lookups.location_of_kind(conn, "finished"),
                    lot=number if product["lot_tracked"] else "", work_order=number,
                    stage=stage_code, origin=origin, progress_entry=entry, time_ms=at,
                )  # fmt: skip
        _update_done(conn, number, origin)
        return entry


def _backflush(
    conn: sqlite3.Connection,
    order: sqlite3.Row,
    seq: int,
    stage: str,
    completed_milli: int,
    entry: int,
    origin: Origin,
    at: int,
) -> None:
    first_seq = conn.execute(
        "SELECT MIN(seq) FROM work_order_stages WHERE work_order = ?", (order["number"],)
    ).fetchone()[0]
    components = conn.execute(
        "SELECT component, qty_per_milli FROM bill_of_materials WHERE product = ? "
        "AND (stage = ? OR (stage IS NULL AND ? = ?))",
        (order["product"], stage, seq, first_seq),
    ).fetchall()
    for component in components:
        # Thousandths times thousandths: round the consumption to the nearest thousandth.
        needed = (component["qty_per_milli"] * completed_milli + 500) // 1000
        held = conn.execute(
            "SELECT lot, location, issued_milli - returned_milli - consumed_milli AS held "
            "FROM work_order_materials WHERE work_order = ? AND item = ? "
            "AND issued_milli - returned_milli - consumed_milli > 0 ORDER BY rowid",
            (order["number"], component["component"]),
        ).fetchall()
        for lot_row in held:
            if needed <= 0:
                break
            # What was never issued is not consumed: the shortage shows on the board
            # instead. Nor is what has left the WIP bin since (moved on by hand): a
            # completion never drives the bin below zero.
            there = balances.available(
                conn, component["component"], lot_row["location"], lot_row["lot"]
            )
            take = min(needed, int(lot_row["held"]), there)
            if take <= 0:
                continue
            ledger.post(
                conn, "consume", component["component"], take,
                from_location=lot_row["location"], to_location=None, lot=lot_row["lot"],
                work_order=order["number"], stage=stage, origin=origin, progress_entry=entry,
                time_ms=at,
            )  # fmt: skip
            needed -= take


def _update_done(conn: sqlite3.Connection, number: str, origin: Origin) -> None:
    order = lookups.work_order(conn, number)
    totals = conn.execute(
        "SELECT (SELECT done_milli FROM work_order_stages WHERE work_order = ? "
        "ORDER BY seq DESC LIMIT 1) AS completed, "
        "(SELECT SUM(scrap_milli) FROM work_order_stages WHERE work_order = ?) AS scrapped",
        (number, number),
    ).fetchone()
    finished = int(totals["completed"] or 0) >= int(order["qty_milli"]) - int(
        totals["scrapped"] or 0
    )
    if finished and order["status"] == "in_progress":
        ledger.record_status(
            conn, number, "in_progress", "done", origin.operator, "last stage complete"
        )
    elif not finished and order["status"] == "done":
        ledger.record_status(
            conn, number, "done", "in_progress", origin.operator, "completion undone"
        )


def reverse_progress(conn: sqlite3.Connection, entry_id: int, *, origin: Origin = NOBODY) -> int:
    """Undo a stage completion or scrap, with its backflush and finished goods."""
    with transaction(conn):
        original = conn.execute(
            "SELECT * FROM progress_entries WHERE id = ?", (entry_id,)
        ).fetchone()
        if original is None:
            raise LedgerError(f"progress entry {entry_id} does not exist")
        if original["reverses"] is not None:
            raise LedgerError(f"progress entry {entry_id} is itself a reversal")
        done = conn.execute(
            "SELECT id FROM progress_entries WHERE reverses = ?", (entry_id,)
        ).fetchone()
        if done is not None:
            raise LedgerError(f"progress entry {entry_id} was already undone")
        number, seq, qty = original["work_order"], int(original["seq"]), int(original["qty_milli"])
        if original["kind"] == "done":
            following = conn.execute(
                "SELECT stage, done_milli + scrap_milli AS used FROM work_order_stages "
                "WHERE work_order = ? AND seq > ? ORDER BY seq LIMIT 1",
                (number, seq),
            ).fetchone()
            current = conn.execute(
                "SELECT done_milli FROM work_order_stages WHERE work_order = ? AND seq = ?",
                (number, seq),
            ).fetchone()
            if following is not None and current["done_milli"] - qty < following["used"]:
                raise LedgerError(
                    f"{following['stage']} already worked on these units; undo there first"
                )
        at = now_ms()
        cur = conn.execute(
            "INSERT INTO progress_entries (time_ms, work_order, seq, stage, kind, qty_milli, "
            "operator, station, scan, reverses, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, number, seq, original["stage"], original["kind"], qty, origin.operator,
             origin.station, origin.scan, entry_id, original["reason"]),
        )  # fmt: skip
        column = "done_milli" if original["kind"] == "done" else "scrap_milli"
        conn.execute(
            f"UPDATE work_order_stages SET {column} = {column} - ? "
            "WHERE work_order = ? AND seq = ?",
            (qty, number, seq),
        )
        for movement in conn.execute(
            "SELECT * FROM movements WHERE progress_entry = ? AND reverses IS NULL ORDER BY id",
            (entry_id,),
        ).fetchall():
            ledger.post_reversal(conn, movement, origin)
        ledger.touch_work_order(conn, number, at, origin)
        _update_done(conn, number, origin)
        return int(cur.lastrowid or 0)
