"""The movement ledger: every change to stock, and the one way a change is undone.

Each public function posts in one `BEGIN IMMEDIATE` transaction (or joins the
caller's, when the scan pipeline groups several scans in one commit) and keeps the
running totals — stock on hand, material held against work orders — in that same
transaction, so totals always equal the sum of entries (`db.check` proves it).
Entries are never changed: a correction is a reversal entry with `reverses` pointing
at what it undoes; `last_undoable_scan` is the rule for what a station may still undo.
Stage progress, which posts through here, is db/progress.py.

Stock effect of any movement is uniform: `to_location` gains, `from_location` loses.
A reversal swaps the two locations, so the same rule undoes the original. No posting
takes a bin below zero unless a supervisor allowed negative stock for that kind of
location (db.roles' `allow_negative_stock`), and no total leaves the declared range
(`db.quantity.MAX_TOTAL_MILLI`), so every total stays an exact integer: a bin's
balance and those two rules are db/balances.py; what a posting names (item, location,
work order, where issued material waits) is looked up in db/lookups.py.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import date

from db import lots
from db.balances import add_stock, available, check_total, on_hand, what_is_there
from db.connection import now_ms, transaction
from db.lookups import item_row, location_of_kind, location_row, wip_location, work_order
from db.quantity import MAX_TOTAL_MILLI, SCALE
from db.quantity import text as qty_text
from db.refusals import LedgerError
from db.roles import require_role

__all__ = [
    "NOBODY",
    "Origin",
    "adjust",
    "issue",
    "last_undoable_scan",
    "post",
    "post_reversal",
    "receive",
    "record_status",
    "require_active",
    "return_material",
    "reverse_movement",
    "scrap_material",
    "ship",
    "touch_work_order",
    "transfer",
]
# The scan grammar and the demo plant read these through the ledger (db/grammar.py,
# db/demo.py); everything else imports them from where they are defined.
__all__ += ["location_of_kind", "on_hand", "work_order"]


@dataclass(frozen=True)
class Origin:
    """Who and what caused a posting: recorded on every entry."""

    operator: str | None = None
    station: str | None = None
    scan: int | None = None
    reason: str | None = None  # the reason code of a scrap or an adjustment


NOBODY = Origin()


# ---------------------------------------------------------------- the core posting


def post(
    conn: sqlite3.Connection,
    kind: str,
    item: str,
    qty_milli: int,
    *,
    from_location: str | None,
    to_location: str | None,
    lot: str = "",
    work_order: str | None = None,
    stage: str | None = None,
    origin: Origin = NOBODY,
    reverses: int | None = None,
    progress_entry: int | None = None,
    time_ms: int | None = None,
    short: str | None = None,
) -> int:
    """Append one movement and apply it to stock and held material. Caller holds the transaction.

    `short` is what to do instead when the source holds less than `qty_milli` (default:
    scan a smaller quantity, or another location when there is none).
    """
    if qty_milli <= 0:
        raise LedgerError("a quantity must be more than zero", fixable=False)
    at = now_ms() if time_ms is None else time_ms
    if from_location is not None:
        may_leave = available(conn, item, from_location, lot)
        if may_leave < qty_milli:
            have = on_hand(conn, item, from_location, lot)
            if may_leave > have:  # negative stock is allowed here: only the range stops it
                raise LedgerError(
                    f"{from_location} would go more than {MAX_TOTAL_MILLI // SCALE:,} of "
                    f"{item} below zero, the most the record keeps in one bin: check the QTY",
                    fixable=False,
                )
            if short is None:
                short = "scan a smaller QTY" if have > 0 else "scan the location that holds it"
            raise LedgerError(what_is_there(conn, item, from_location, lot, have) + ": " + short)
    if to_location is not None:
        check_total(conn, item, to_location, lot, qty_milli)
    cur = conn.execute(
        "INSERT INTO movements (time_ms, kind, item, lot, qty_milli, from_location, to_location,"
        " work_order, stage, operator, station, scan, reverses, progress_entry, reason)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (at, kind, item, lot, qty_milli, from_location, to_location, work_order, stage,
         origin.operator, origin.station, origin.scan, reverses, progress_entry, origin.reason),
    )  # fmt: skip
    movement_id = int(cur.lastrowid or 0)
    if lot and from_location is None:
        lots.note_arrival(conn, item, lot, at)
    if to_location is not None:
        add_stock(conn, item, to_location, lot, qty_milli)
    if from_location is not None:
        add_stock(conn, item, from_location, lot, -qty_milli)
    if work_order is not None and kind in ("issue", "return", "consume"):
        sign = -1 if reverses is not None else 1
        # The WIP side: an issue lands there, a return or consumption leaves from there;
        # a reversal swapped the locations, so the WIP side swaps too.
        into_wip = (kind == "issue") != (reverses is not None)
        wip = to_location if into_wip else from_location
        assert wip is not None
        column = {"issue": "issued_milli", "return": "returned_milli", "consume": "consumed_milli"}[
            kind
        ]
        conn.execute(
            "INSERT INTO work_order_materials (work_order, item, lot, location, "
            f"{column}) VALUES (?, ?, ?, ?, ?) ON CONFLICT (work_order, item, lot, location) "
            f"DO UPDATE SET {column} = {column} + excluded.{column}",
            (work_order, item, lot, wip, sign * qty_milli),
        )
    if work_order is not None:
        touch_work_order(conn, work_order, at, origin)
    return movement_id


def touch_work_order(conn: sqlite3.Connection, number: str, at: int, origin: Origin) -> None:
    row = conn.execute("SELECT status FROM work_orders WHERE number = ?", (number,)).fetchone()
    conn.execute("UPDATE work_orders SET last_activity_ms = ? WHERE number = ?", (at, number))
    if row is not None and row["status"] == "released":
        record_status(conn, number, "released", "in_progress", origin.operator, "first activity")


def record_status(
    conn: sqlite3.Connection, number: str, old: str, new: str, by: str | None, reason: str
) -> None:
    # The audit row first: the database refuses a status that its trail does not end in.
    conn.execute(
        "INSERT INTO status_changes (time_ms, work_order, old_status, new_status, by_operator, "
        "reason) VALUES (?, ?, ?, ?, ?, ?)",
        (now_ms(), number, old, new, by, reason),
    )
    conn.execute("UPDATE work_orders SET status = ? WHERE number = ?", (new, number))


def require_active(order: sqlite3.Row) -> None:
    status = order["status"]
    if status == "on_hold":
        raise LedgerError(
            f"work order {order['number']} is on hold: ask a supervisor to release it"
        )
    if status == "cancelled":
        raise LedgerError(f"work order {order['number']} is cancelled: scan another work order")
    if status == "done":
        raise LedgerError(f"work order {order['number']} is already done: scan another work order")


def _require_lot(item_row: sqlite3.Row, lot: str, *, pick: lots.PickLot | None = None) -> None:
    """A lot-tracked item needs its lot; `pick` is the lot to propose, where one is taken."""
    if item_row["lot_tracked"] and not lot:
        hint = ""
        if pick is not None:
            expires = f" (expires {pick.expiry.isoformat()})" if pick.expiry else ""
            hint = f"; pick lot {pick.lot} first{expires}"
        raise LedgerError(
            f"{item_row['sku']} is lot-tracked: scan its LOT: label first{hint}", fixable=False
        )


# ---------------------------------------------------------------- movements


def receive(
    conn: sqlite3.Connection,
    item: str,
    qty_milli: int,
    to_location: str,
    *,
    lot: str = "",
    origin: Origin = NOBODY,
    expiry: date | None = None,
    produced: date | None = None,
) -> int:
    """Take material in; a label's expiry and production dates are kept with its lot."""
    with transaction(conn):
        _require_lot(item_row(conn, item), lot)
        location_row(conn, to_location)
        if lot and (expiry is not None or produced is not None):
            lots.note_dates(conn, item, lot, expiry=expiry, produced=produced)
        return post(
            conn, "receive", item, qty_milli, from_location=None, to_location=to_location,
            lot=lot, origin=origin,
        )  # fmt: skip


def transfer(
    conn: sqlite3.Connection,
    item: str,
    qty_milli: int,
    from_location: str,
    to_location: str,
    *,
    lot: str = "",
    origin: Origin = NOBODY,
) -> int:
    with transaction(conn):
        _require_lot(item_row(conn, item), lot)
        location_row(conn, from_location)
        location_row(conn, to_location)
        if from_location == to_location:
            raise LedgerError(
                f"source and destination are both {from_location}: scan another bin",
                fixable=False,
            )
        return post(
            conn, "transfer", item, qty_milli, from_location=from_location,
            to_location=to_location, lot=lot, origin=origin,
        )  # fmt: skip


def issue(
    conn: sqlite3.Connection,
    number: str,
    item: str,
    qty_milli: int,
    from_location: str,
    *,
    lot: str = "",
    origin: Origin = NOBODY,
) -> int:
    """Move material from a store to a work order's WIP, where it is held for that order.

    A lot past its expiry is refused unless a supervisor allowed it (db.lots)."""
    with transaction(conn):
        order = work_order(conn, number)
        require_active(order)
        row = item_row(conn, item)
        if row["lot_tracked"] and not lot:
            _require_lot(row, lot, pick=lots.first_to_pick(conn, item, from_location))
        location_row(conn, from_location)
        if lot:
            lots.refuse_expired(conn, item, lot, from_location)
        wip, stage = wip_location(conn, number, order["product"], item)
        return post(
            conn, "issue", item, qty_milli, from_location=from_location, to_location=wip,
            lot=lot, work_order=number, stage=stage, origin=origin,
        )  # fmt: skip


def return_material(
    conn: sqlite3.Connection,
    number: str,
    item: str,
    qty_milli: int,
    to_location: str,
    *,
    lot: str = "",
    origin: Origin = NOBODY,
) -> int:
    """Take unused material held against a work order back to a store."""
    with transaction(conn):
        work_order(conn, number)
        _require_lot(item_row(conn, item), lot)
        location_row(conn, to_location)
        row = conn.execute(
            "SELECT location, issued_milli - returned_milli - consumed_milli AS held "
            "FROM work_order_materials WHERE work_order = ? AND item = ? AND lot = ? "
            "ORDER BY held DESC LIMIT 1",
            (number, item, lot),
        ).fetchone()
        if row is None or row["held"] < qty_milli:
            held = 0 if row is None else row["held"]
            what = f"{item}{' lot ' + lot if lot else ''}"
            if held <= 0:
                raise LedgerError(
                    f"work order {number} holds none of {what}: nothing to return", fixable=False
                )
            raise LedgerError(
                f"work order {number} holds {qty_text(held)} of {what}; scan a smaller QTY",
                fixable=False,
            )
        return post(
            conn, "return", item, qty_milli, from_location=row["location"],
            to_location=to_location, lot=lot, work_order=number, origin=origin,
        )  # fmt: skip


def scrap_material(
    conn: sqlite3.Connection,
    item: str,
    qty_milli: int,
    from_location: str,
    *,
    lot: str = "",
    work_order_number: str | None = None,
    origin: Origin = NOBODY,
) -> int:
    with transaction(conn):
        _require_lot(item_row(conn, item), lot)
        location_row(conn, from_location)
        scrap_to = location_of_kind(conn, "scrap")
        if from_location == scrap_to:
            raise LedgerError(
                f"{from_location} is the scrap location: scan the location the scrap comes from",
                fixable=False,
            )
        return post(
            conn, "scrap", item, qty_milli, from_location=from_location, to_location=scrap_to,
            lot=lot, work_order=work_order_number, origin=origin,
        )  # fmt: skip


def adjust(
    conn: sqlite3.Connection,
    item: str,
    location: str,
    counted_milli: int,
    *,
    lot: str = "",
    origin: Origin = NOBODY,
    require_permission: bool = False,
) -> int | None:
    """Set on hand to what was counted, posting the difference; None when the count agreed."""
    with transaction(conn):
        if require_permission:
            require_role(conn, origin.operator, "adjust")
        _require_lot(item_row(conn, item), lot)
        location_row(conn, location)
        if counted_milli < 0:
            raise LedgerError("a count cannot be below zero", fixable=False)
        difference = counted_milli - on_hand(conn, item, location, lot)
        if difference == 0:
            return None
        if difference > 0:
            return post(
                conn, "adjust", item, difference, from_location=None, to_location=location,
                lot=lot, origin=origin,
            )  # fmt: skip
        return post(
            conn, "adjust", item, -difference, from_location=location, to_location=None,
            lot=lot, origin=origin, reverses=None,
        )  # fmt: skip


def ship(
    conn: sqlite3.Connection,
    item: str,
    qty_milli: int,
    *,
    from_location: str | None = None,
    lot: str = "",
    origin: Origin = NOBODY,
) -> int:
    """Send finished goods out of the plant (they leave the record's stock)."""
    with transaction(conn):
        _require_lot(item_row(conn, item), lot)
        source = from_location or location_of_kind(conn, "finished")
        location_row(conn, source)
        return post(
            conn, "ship", item, qty_milli, from_location=source, to_location=None, lot=lot,
            origin=origin,
        )  # fmt: skip


def reverse_movement(conn: sqlite3.Connection, movement_id: int, *, origin: Origin = NOBODY) -> int:
    """Undo a movement with an equal and opposite entry; a movement can be reversed once."""
    with transaction(conn):
        original = conn.execute("SELECT * FROM movements WHERE id = ?", (movement_id,)).fetchone()
        if original is None:
            raise LedgerError(f"movement {movement_id} does not exist")
        if original["reverses"] is not None:
            raise LedgerError(f"movement {movement_id} is itself a reversal; post the entry again")
        done = conn.execute(
            "SELECT id FROM movements WHERE reverses = ?", (movement_id,)
        ).fetchone()
        if done is not None:
            raise LedgerError(f"movement {movement_id} was already reversed by {done['id']}")
        if original["progress_entry"] is not None:
            raise LedgerError(
                f"movement {movement_id} belongs to a stage completion; undo the completion"
            )
        return post_reversal(conn, original, origin)


def last_undoable_scan(
    conn: sqlite3.Connection, station: str, operator: str | None, *, anyone: bool
) -> int | None:
    """The latest scan at `station` whose postings a station's CMD:UNDO may still reverse:
    posted by `operator` (by anyone, for a supervisor's undo), not yet undone, and not a
    movement that belongs to a stage completion (undoing the completion takes it)."""
    mine_m = "" if anyone else " AND m.operator = :who"
    mine_p = "" if anyone else " AND p.operator = :who"
    row = conn.execute(
        "SELECT MAX(scan) FROM ("
        " SELECT m.scan FROM movements m WHERE m.station = :station AND m.reverses IS NULL"
        f"  AND m.scan IS NOT NULL AND m.progress_entry IS NULL{mine_m}"
        "  AND NOT EXISTS (SELECT 1 FROM movements r WHERE r.reverses = m.id)"
        " UNION ALL"
        " SELECT p.scan FROM progress_entries p WHERE p.station = :station"
        f"  AND p.reverses IS NULL AND p.scan IS NOT NULL{mine_p}"
        "  AND NOT EXISTS (SELECT 1 FROM progress_entries r WHERE r.reverses = p.id))",
        {"station": station, "who": operator},
    ).fetchone()
    return None if row[0] is None else int(row[0])


def post_reversal(conn: sqlite3.Connection, original: sqlite3.Row, origin: Origin) -> int:
    # The reversal keeps its original's reason: scrap by reason nets to what still stands.
    origin = replace(origin, reason=original["reason"])
    return post(
        conn,
        original["kind"],
        original["item"],
        original["qty_milli"],
        from_location=original["to_location"],
        to_location=original["from_location"],
        lot=original["lot"],
        work_order=original["work_order"],
        stage=original["stage"],
        origin=origin,
        reverses=original["id"],
        progress_entry=None,
        short=f"the {original['kind']} cannot be undone, the material has moved on since",
    )
