"""`shopfloor check`: proves every running total equals the sum of its entries.

Stock on hand, material held against work orders and stage done/scrap are all kept
alongside the append-only entries for speed, the board's columns on each work order
are kept from those, and what each purchase-order line received and each sales-order
line shipped from the movements linked to it; this recomputes each from what it
summarises and lists every difference, so a bug or a hand edit cannot hide. Each
order's status (and a due date once changed) must be where its audit trail leads, and
no bin may be below zero unless a supervisor allowed negative stock for its kind of
location (then it is a warning to count it).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

from db.board import board_column_differences
from db.quantity import text
from db.roles import negative_stock_kinds
from db.schema import trail_status


@dataclass
class CheckReport:
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    movements: int = 0
    progress_entries: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences


_STOCK = """
WITH ledger AS (
    SELECT item, to_location AS location, lot, qty_milli AS q FROM movements
     WHERE to_location IS NOT NULL
    UNION ALL
    SELECT item, from_location, lot, -qty_milli FROM movements WHERE from_location IS NOT NULL
), summed AS (
    SELECT item, location, lot, SUM(q) AS q FROM ledger GROUP BY item, location, lot
)
SELECT COALESCE(s.item, k.item) AS item, COALESCE(s.location, k.location) AS location,
       COALESCE(s.lot, k.lot) AS lot, COALESCE(s.q, 0) AS expected,
       COALESCE(k.qty_milli, 0) AS recorded
FROM summed s FULL OUTER JOIN stock k
  ON k.item = s.item AND k.location = s.location AND k.lot = s.lot
WHERE COALESCE(s.q, 0) != COALESCE(k.qty_milli, 0)
"""

_MATERIALS = """
WITH entries AS (
    SELECT work_order, item, lot,
           CASE WHEN (kind = 'issue') = (reverses IS NULL) THEN to_location
                ELSE from_location END AS location,
           kind, CASE WHEN reverses IS NULL THEN qty_milli ELSE -qty_milli END AS q
    FROM movements WHERE work_order IS NOT NULL AND kind IN ('issue', 'return', 'consume')
), summed AS (
    SELECT work_order, item, lot, location,
           SUM(CASE WHEN kind = 'issue' THEN q ELSE 0 END) AS issued,
           SUM(CASE WHEN kind = 'return' THEN q ELSE 0 END) AS returned,
           SUM(CASE WHEN kind = 'consume' THEN q ELSE 0 END) AS consumed
    FROM entries GROUP BY work_order, item, lot, location
)
SELECT COALESCE(s.work_order, m.work_order) AS work_order, COALESCE(s.item, m.item) AS item,
       COALESCE(s.lot, m.lot) AS lot,
       COALESCE(s.issued, 0) AS e_issued, COALESCE(m.issued_milli, 0) AS r_issued,
       COALESCE(s.returned, 0) AS e_returned, COALESCE(m.returned_milli, 0) AS r_returned,
       COALESCE(s.consumed, 0) AS e_consumed, COALESCE(m.consumed_milli, 0) AS r_consumed
FROM summed s FULL OUTER JOIN work_order_materials m
  ON m.work_order = s.work_order AND m.item = s.item AND m.lot = s.lot
 AND m.location = s.location
WHERE COALESCE(s.issued, 0) != COALESCE(m.issued_milli, 0)
   OR COALESCE(s.returned, 0) != COALESCE(m.returned_milli, 0)
   OR COALESCE(s.consumed, 0) != COALESCE(m.consumed_milli, 0)
"""

# What each order holds of each component, kept by triggers, against its material rows.
_HELD = """
WITH summed AS (
    SELECT work_order, item, SUM(issued_milli - returned_milli - consumed_milli) AS held
    FROM work_order_materials GROUP BY work_order, item
)
SELECT COALESCE(s.work_order, h.work_order) AS work_order, COALESCE(s.item, h.item) AS item,
       COALESCE(s.held, 0) AS e_held, COALESCE(h.held_milli, 0) AS r_held
FROM summed s FULL OUTER JOIN work_order_held h
  ON h.work_order = s.work_order AND h.item = s.item
WHERE COALESCE(s.held, 0) != COALESCE(h.held_milli, 0)
"""

_PROGRESS = """
WITH summed AS (
    SELECT work_order, seq,
           SUM(CASE WHEN kind = 'done' THEN (CASE WHEN reverses IS NULL THEN qty_milli
               ELSE -qty_milli END) ELSE 0 END) AS done,
           SUM(CASE WHEN kind = 'scrap' THEN (CASE WHEN reverses IS NULL THEN qty_milli
               ELSE -qty_milli END) ELSE 0 END) AS scrap
    FROM progress_entries GROUP BY work_order, seq
)
SELECT w.work_order, w.seq, w.stage, COALESCE(s.done, 0) AS e_done, w.done_milli,
       COALESCE(s.scrap, 0) AS e_scrap, w.scrap_milli
FROM work_order_stages w LEFT JOIN summed s ON s.work_order = w.work_order AND s.seq = w.seq
WHERE COALESCE(s.done, 0) != w.done_milli OR COALESCE(s.scrap, 0) != w.scrap_milli
"""


# Each status change must start where the one before it ended (the first from released).
_BROKEN_TRAIL = """
SELECT work_order, id, old_status, before FROM (
    SELECT work_order, id, old_status,
           LAG(new_status, 1, 'released') OVER (PARTITION BY work_order ORDER BY id) AS before
      FROM status_changes)
WHERE old_status != before
"""

_STATUS_OFF_TRAIL = f"""
SELECT number, status, {trail_status("work_orders.number")} AS trail FROM work_orders
WHERE status != {trail_status("work_orders.number")}
"""


# A due date once changed must be where its changes lead, each from where the last ended.
_DUE_OFF_TRAIL = """
SELECT w.number, w.due, d.new_due AS trail
  -- SQLite takes the bare column from the row holding the MAX
  FROM (SELECT work_order, new_due, MAX(id) FROM due_date_changes GROUP BY work_order) d
  JOIN work_orders w ON w.number = d.work_order
WHERE w.due != d.new_due
"""
_BROKEN_DUE_TRAIL = """
SELECT work_order, id, old_due, before FROM (
    SELECT work_order, id, old_due,
           LAG(new_due) OVER (PARTITION BY work_order ORDER BY id) AS before
      FROM due_date_changes)
WHERE before IS NOT NULL AND old_due != before
"""


# What each purchase-order line received and each sales-order line shipped: the receipts
# and shipments linked to it (db.grammar), less those undone.
_ORDER_COUNTS = """
SELECT 'purchase order' AS what, p.number, p.item, p.received_milli AS recorded,
       COALESCE(SUM(m.qty_milli - COALESCE(r.qty_milli, 0)), 0) AS linked
  FROM purchase_orders p
  LEFT JOIN order_receipts o ON o.purchase_order = p.number AND o.item = p.item
  LEFT JOIN movements m ON m.id = o.movement LEFT JOIN movements r ON r.reverses = m.id
 GROUP BY p.number, p.item HAVING linked != recorded
UNION ALL
SELECT 'sales order', s.number, s.product, s.shipped_milli,
       COALESCE(SUM(m.qty_milli - COALESCE(r.qty_milli, 0)), 0) AS linked
  FROM sales_orders s
  LEFT JOIN order_shipments o ON o.sales_order = s.number AND o.product = s.product
  LEFT JOIN movements m ON m.id = o.movement LEFT JOIN movements r ON r.reverses = m.id
 GROUP BY s.number, s.product HAVING linked != s.shipped_milli
"""


def check(conn: sqlite3.Connection) -> CheckReport:
    """Recompute the totals from the entries, in one read snapshot."""
    report = CheckReport()
    conn.execute("BEGIN")
    try:
        report.movements = conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
        report.progress_entries = conn.execute("SELECT COUNT(*) FROM progress_entries").fetchone()[
            0
        ]
        for row in conn.execute(_STOCK):
            lot = f" lot {row['lot']}" if row["lot"] else ""
            report.differences.append(
                f"stock {row['item']}{lot} at {row['location']}: movements sum to "
                f"{text(row['expected'])}, stock says {text(row['recorded'])}"
            )
        for row in conn.execute(_MATERIALS):
            report.differences.append(
                f"material {row['item']} held for {row['work_order']}: entries say issued "
                f"{text(row['e_issued'])}/returned {text(row['e_returned'])}/consumed "
                f"{text(row['e_consumed'])}, totals say {text(row['r_issued'])}/"
                f"{text(row['r_returned'])}/{text(row['r_consumed'])}"
            )
        for row in conn.execute(_HELD):
            report.differences.append(
                f"material {row['item']} held for {row['work_order']}: its lots and locations "
                f"hold {text(row['e_held'])}, the order's total says {text(row['r_held'])}"
            )
        for row in conn.execute(_PROGRESS):
            report.differences.append(
                f"progress {row['work_order']} stage {row['seq']} {row['stage']}: entries say "
                f"done {text(row['e_done'])} scrap {text(row['e_scrap'])}, totals say done "
                f"{text(row['done_milli'])} scrap {text(row['scrap_milli'])}"
            )
        report.differences.extend(board_column_differences(conn))
        for row in conn.execute(_ORDER_COUNTS):
            verb = "received" if row["what"] == "purchase order" else "shipped"
            report.differences.append(
                f"{row['what']} {row['number']} {row['item']}: its linked movements sum to "
                f"{text(row['linked'])}, the order says {text(row['recorded'])} {verb}"
            )
        allowed = negative_stock_kinds(conn)
        for row in conn.execute(
            "SELECT s.item, s.location, s.lot, s.qty_milli, l.kind FROM stock s "
            "LEFT JOIN locations l ON l.code = s.location WHERE s.qty_milli < 0 "
            "ORDER BY s.location, s.item, s.lot"
        ):
            lot = f" lot {row['lot']}" if row["lot"] else ""
            where = f"{row['item']}{lot} at {row['location']} is {text(row['qty_milli'])}"
            if row["kind"] in allowed:
                report.warnings.append(f"negative stock: {where}; count the bin")
            else:
                report.differences.append(
                    f"negative stock not allowed at a {row['kind'] or 'unknown'} location: "
                    f"{where}; count the bin"
                )
        for row in conn.execute(_BROKEN_TRAIL):
            report.differences.append(
                f"status trail of {row['work_order']}: change {row['id']} starts from "
                f"{row['old_status']}, but the change before it ended at {row['before']}"
            )
        for row in conn.execute(_DUE_OFF_TRAIL):
            report.differences.append(
                f"due date of {row['number']} is {row['due']}, but its due-date changes "
                f"end at {row['trail']}"
            )
        for row in conn.execute(_BROKEN_DUE_TRAIL):
            report.differences.append(
                f"due-date trail of {row['work_order']}: change {row['id']} starts from "
                f"{row['old_due']}, but the change before it ended at {row['before']}"
            )
        for row in conn.execute(_STATUS_OFF_TRAIL):
            report.differences.append(
                f"status of {row['number']} is {row['status']}, but its status changes "
                f"end at {row['trail']}"
            )
        orphans = conn.execute(
            "SELECT COUNT(*) FROM scan_journal j LEFT JOIN scan_outcomes o ON o.scan = j.id "
            "WHERE o.scan IS NULL"
        ).fetchone()[0]
        if orphans:
            report.differences.append(f"{orphans} journaled scans have no outcome")
    finally:
        conn.execute("COMMIT")
    return report
