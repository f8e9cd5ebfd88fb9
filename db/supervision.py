"""A supervisor's or coordinator's decisions on a work order: its due date, a hold and
its release, a cancellation. Each needs the role (db.roles) and keeps who, when and why
(`due_date_changes`, `status_changes`); a due date, a hold (one of the plant's hold
reasons, or words: db.reason_codes) and a cancellation need a reason.
"""

from __future__ import annotations

import sqlite3
from datetime import date

from db import ledger, lookups
from db.connection import now_ms, transaction
from db.reason_codes import hold_reason
from db.refusals import LedgerError
from db.roles import require_role


def change_due_date(
    conn: sqlite3.Connection, number: str, new_due: str, *, by: str, reason: str
) -> None:
    with transaction(conn):
        require_role(conn, by, "due_date")
        order = lookups.work_order(conn, number)
        try:
            date.fromisoformat(new_due)
        except ValueError:
            raise LedgerError(f"{new_due!r} is not a date: write it as YYYY-MM-DD") from None
        if not reason.strip():
            raise LedgerError("say why the due date changes: the reason is kept with the change")
        conn.execute("UPDATE work_orders SET due = ? WHERE number = ?", (new_due, number))
        conn.execute(
            "INSERT INTO due_date_changes (time_ms, work_order, old_due, new_due, by_operator, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)",
            (now_ms(), number, order["due"], new_due, by, reason.strip()),
        )


def set_hold(conn: sqlite3.Connection, number: str, hold: bool, *, by: str, reason: str) -> None:
    with transaction(conn):
        require_role(conn, by, "hold")
        order = lookups.work_order(conn, number)
        status = order["status"]
        if hold:
            if status in ("done", "cancelled", "on_hold"):
                raise LedgerError(f"work order {number} is {status.replace('_', ' ')}")
            ledger.record_status(conn, number, status, "on_hold", by, hold_reason(conn, reason))
        else:
            if status != "on_hold":
                raise LedgerError(f"work order {number} is not on hold")
            previous = conn.execute(
                "SELECT old_status FROM status_changes WHERE work_order = ? "
                "AND new_status = 'on_hold' ORDER BY id DESC LIMIT 1",
                (number,),
            ).fetchone()
            back = previous["old_status"] if previous else "released"
            ledger.record_status(conn, number, "on_hold", back, by, reason or "released")


def cancel(conn: sqlite3.Connection, number: str, *, by: str, reason: str) -> None:
    with transaction(conn):
        require_role(conn, by, "cancel")
        order = lookups.work_order(conn, number)
        if order["status"] in ("done", "cancelled"):
            raise LedgerError(f"work order {number} is already {order['status']}")
        if not reason.strip():
            raise LedgerError("say why the order is cancelled")
        ledger.record_status(conn, number, order["status"], "cancelled", by, reason.strip())
