"""Unplanned material: an item issued to a work order although its bill does not name
it. The issue is refused (`require_planned`, asked by the scan grammar before every
ISSUE) unless a supervisor allowed that item for that order (`allow_unplanned`), kept
with who, when and why in the append-only `unplanned_allowances`; the order screen's
Material tab lists what was allowed (`allowances`).

An allowance lets the material through; it does not put it on the bill: shortages and
the forecast still count only what the bill requires (db.shortages reads the bill).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from db.connection import now_ms, transaction
from db.refusals import LedgerError
from db.roles import require_role

# The statuses an issue is refused for anyway (db.ledger.require_active says why).
_TAKES_NO_POSTINGS = ("on_hold", "cancelled", "done")


@dataclass(frozen=True, slots=True)
class Allowance:
    """A supervisor's leave to issue `item` to `work_order` although its bill lacks it."""

    time_ms: int
    work_order: str
    item: str
    by_operator: str
    by_name: str | None
    reason: str


def _on_bill(conn: sqlite3.Connection, product: str, item: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM bill_of_materials WHERE product = ? AND component = ? LIMIT 1",
        (product, item),
    ).fetchone()
    return row is not None


def _allowed(conn: sqlite3.Connection, number: str, item: str) -> bool:
    row = conn.execute(
        "SELECT 1 FROM unplanned_allowances WHERE work_order = ? AND item = ? LIMIT 1",
        (number, item),
    ).fetchone()
    return row is not None


def command_line(number: str, item: str) -> str:
    """The command a supervisor types to allow it, for refusals and hints."""
    return f"shopfloor allow-unplanned {number} {item} --reason R --badge B"


def require_planned(conn: sqlite3.Connection, number: str, item: str) -> None:
    """Refuse issuing `item` to work order `number` when its bill does not name the item
    and no supervisor allowed it for this order. An order that does not exist or takes
    no postings is left to the ledger's own refusal, which says that first."""
    order = conn.execute(
        "SELECT product, status FROM work_orders WHERE number = ?", (number,)
    ).fetchone()
    if order is None or order["status"] in _TAKES_NO_POSTINGS:
        return
    if _on_bill(conn, order["product"], item) or _allowed(conn, number, item):
        return
    raise LedgerError(
        f"{item} is not on {number}'s bill; a supervisor must allow unplanned material "
        f"(order screen, or `{command_line(number, item)}`)"
    )


def allow_unplanned(
    conn: sqlite3.Connection, number: str, item: str, *, by: str, reason: str
) -> str:
    """A supervisor lets `item` (its sku, or its label's barcode) be issued to work order
    `number` although its bill does not name it; kept with who, when and why. Returns
    the item's sku."""
    with transaction(conn):
        require_role(conn, by, "unplanned_material")
        if not reason.strip():
            raise LedgerError("say why the material is needed: the reason is kept with it")
        order = conn.execute(
            "SELECT product, status FROM work_orders WHERE number = ?", (number,)
        ).fetchone()
        if order is None:
            raise LedgerError(f"work order {number} does not exist")
        if order["status"] in ("cancelled", "done"):
            raise LedgerError(f"work order {number} is {order['status']}: it takes no material")
        found = conn.execute(
            "SELECT sku FROM items WHERE sku = ? UNION ALL "
            "SELECT sku FROM items WHERE barcode = ? LIMIT 1",
            (item, item),
        ).fetchone()
        if found is None:
            raise LedgerError(f"item {item} is not in the item list")
        item = str(found["sku"])
        if _on_bill(conn, order["product"], item):
            raise LedgerError(f"{item} is on {number}'s bill already: nothing to allow")
        before = conn.execute(
            "SELECT a.by_operator, o.name FROM unplanned_allowances a "
            "LEFT JOIN operators o ON o.badge = a.by_operator "
            "WHERE a.work_order = ? AND a.item = ? ORDER BY a.id LIMIT 1",
            (number, item),
        ).fetchone()
        if before is not None:
            who = before["name"] or before["by_operator"]
            raise LedgerError(f"{item} is already allowed on {number} (by {who})")
        conn.execute(
            "INSERT INTO unplanned_allowances (time_ms, work_order, item, by_operator, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (now_ms(), number, item, by, reason.strip()),
        )
        return item


def allowances(conn: sqlite3.Connection, number: str) -> list[Allowance]:
    """What supervisors allowed unplanned on work order `number`, oldest first."""
    return [
        Allowance(
            time_ms=int(r["time_ms"]),
            work_order=r["work_order"],
            item=r["item"],
            by_operator=r["by_operator"],
            by_name=r["name"],
            reason=r["reason"],
        )
        for r in conn.execute(
            "SELECT a.time_ms, a.work_order, a.item, a.by_operator, a.reason, o.name "
            "FROM unplanned_allowances a LEFT JOIN operators o ON o.badge = a.by_operator "
            "WHERE a.work_order = ? ORDER BY a.id",
            (number,),
        )
    ]


def last_allowance(conn: sqlite3.Connection) -> int:
    """The newest allowance's id (0 for none): a screen that lists allowances reads again
    when it grows, since an allowance touches no ledger table the board watches."""
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM unplanned_allowances").fetchone()[0])
