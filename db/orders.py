"""What the order screen reads: one work order's story — its stages, the material its
bill needs against what was issued and consumed, the unplanned material a supervisor
allowed beside its bill (db.unplanned), its movements, the scans behind them, its
due-date and status changes, the customers' sales orders it makes, and its scrap
grouped by reason.

Apart from db/board.py (the board's one-row-per-order read) so the board's start-up
does not define these types before anyone opens an order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from db.board import StageTotals
from db.unplanned import allowances


@dataclass(frozen=True, slots=True)
class MaterialLine:
    item: str
    description: str
    uom: str
    stage: str | None
    required_milli: int
    issued_milli: int  # net of returns
    consumed_milli: int
    held_milli: int  # issued, not returned, not yet consumed

    @property
    def short_milli(self) -> int:
        """What the order still needs issued."""
        return max(self.required_milli - self.issued_milli, 0)


@dataclass(frozen=True, slots=True)
class UnplannedLine:
    """Material the order's bill does not name, allowed for this order by a supervisor
    (or issued before the bill was enforced: then nobody allowed it); no requirement."""

    item: str
    description: str
    uom: str
    issued_milli: int  # net of returns
    held_milli: int
    allowed_by: str | None  # the supervisor's badge; None: issued without a leave
    allowed_by_name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class MovementLine:
    id: int
    time_ms: int
    kind: str
    item: str
    lot: str
    qty_milli: int
    from_location: str | None
    to_location: str | None
    stage: str | None
    operator: str | None
    station: str | None
    scan: int | None
    reverses: int | None


@dataclass(frozen=True, slots=True)
class ScanLine:
    id: int
    time_ms: int
    station: str
    source: str
    raw: bytes
    status: str | None
    message: str | None


@dataclass(frozen=True, slots=True)
class DueDateChange:
    time_ms: int
    old_due: str
    new_due: str
    by_operator: str
    by_name: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    time_ms: int
    old_status: str
    new_status: str
    by_operator: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class SalesOrderLine:
    """A customer's sales-order line this work order makes."""

    number: str
    customer: str
    due: str  # the date promised to the customer
    qty_milli: int
    shipped_milli: int


@dataclass(frozen=True, slots=True)
class ScrapLine:
    """What the order scrapped for one reason: units at a stage, or material (an item)."""

    reason: str | None  # None: scrapped without a reason (before reasons, or not required)
    description: str
    stage: str | None  # units scrapped at this stage
    item: str | None  # material scrapped, in its unit
    uom: str
    qty_milli: int


@dataclass(frozen=True, slots=True)
class OrderDetail:
    """One work order's story: its route, material, movements, scans and changes."""

    number: str
    product: str
    description: str
    qty_milli: int
    due: str
    priority: int
    status: str
    last_activity_ms: int | None
    stages: tuple[StageTotals, ...]
    materials: tuple[MaterialLine, ...]
    movements: tuple[MovementLine, ...]
    scans: tuple[ScanLine, ...]
    due_date_changes: tuple[DueDateChange, ...]
    status_changes: tuple[StatusChange, ...]
    sales_orders: tuple[SalesOrderLine, ...] = ()
    unplanned: tuple[UnplannedLine, ...] = ()
    scrap: tuple[ScrapLine, ...] = ()  # by reason, what still stands (undone scrap nets out)


def order_detail(
    conn: sqlite3.Connection, number: str, *, movement_limit: int = 200
) -> OrderDetail | None:
    """Everything the order screen shows about one work order; None if it does not exist.

    Movements are the newest `movement_limit` (by the index on movements(work_order, id));
    scans are the journal rows those movements and the order's stage progress point to.
    """
    order = conn.execute(
        "SELECT w.*, i.description FROM work_orders w JOIN items i ON i.sku = w.product "
        "WHERE w.number = ?",
        (number,),
    ).fetchone()
    if order is None:
        return None
    stages = tuple(
        (str(r[0]), int(r[1]), int(r[2]))
        for r in conn.execute(
            "SELECT stage, done_milli, scrap_milli FROM work_order_stages "
            "WHERE work_order = ? ORDER BY seq",
            (number,),
        )
    )
    materials = tuple(
        MaterialLine(
            item=r["component"],
            description=r["description"],
            uom=r["uom"],
            stage=r["stage"],
            required_milli=int(r["need"]),
            issued_milli=int(r["issued"]),
            consumed_milli=int(r["consumed"]),
            held_milli=int(r["issued"]) - int(r["consumed"]),
        )
        for r in conn.execute(
            "SELECT b.component, i.description, i.uom, b.stage, "
            "(b.qty_per_milli * ? + 500) / 1000 AS need, "
            "COALESCE(SUM(m.issued_milli - m.returned_milli), 0) AS issued, "
            "COALESCE(SUM(m.consumed_milli), 0) AS consumed "
            "FROM bill_of_materials b JOIN items i ON i.sku = b.component "
            "LEFT JOIN work_order_materials m ON m.work_order = ? AND m.item = b.component "
            "WHERE b.product = ? GROUP BY b.component ORDER BY b.rowid",
            (order["qty_milli"], number, order["product"]),
        )
    )
    unplanned = _unplanned_lines(conn, number, order["product"])
    movements = tuple(
        MovementLine(
            id=r["id"],
            time_ms=r["time_ms"],
            kind=r["kind"],
            item=r["item"],
            lot=r["lot"],
            qty_milli=r["qty_milli"],
            from_location=r["from_location"],
            to_location=r["to_location"],
            stage=r["stage"],
            operator=r["operator"],
            station=r["station"],
            scan=r["scan"],
            reverses=r["reverses"],
        )
        for r in conn.execute(
            "SELECT * FROM movements WHERE work_order = ? ORDER BY id DESC LIMIT ?",
            (number, movement_limit),
        )
    )
    scans = tuple(
        ScanLine(
            id=r["id"],
            time_ms=r["time_ms"],
            station=r["station"],
            source=r["source"],
            raw=bytes(r["raw"]),
            status=r["status"],
            message=r["message"],
        )
        for r in conn.execute(
            "SELECT j.id, j.time_ms, j.station, j.source, j.raw, o.status, o.message "
            "FROM scan_journal j LEFT JOIN scan_outcomes o ON o.scan = j.id "
            "WHERE j.id IN (SELECT scan FROM movements WHERE work_order = ? AND scan IS NOT NULL"
            " UNION SELECT scan FROM progress_entries WHERE work_order = ? AND scan IS NOT NULL) "
            "ORDER BY j.id DESC LIMIT ?",
            (number, number, movement_limit),
        )
    )
    due_changes = tuple(
        DueDateChange(
            time_ms=r["time_ms"],
            old_due=r["old_due"],
            new_due=r["new_due"],
            by_operator=r["by_operator"],
            by_name=r["name"],
            reason=r["reason"],
        )
        for r in conn.execute(
            "SELECT d.*, o.name FROM due_date_changes d LEFT JOIN operators o "
            "ON o.badge = d.by_operator WHERE d.work_order = ? ORDER BY d.id DESC",
            (number,),
        )
    )
    status_changes = tuple(
        StatusChange(
            time_ms=r["time_ms"],
            old_status=r["old_status"],
            new_status=r["new_status"],
            by_operator=r["by_operator"],
            reason=r["reason"],
        )
        for r in conn.execute(
            "SELECT * FROM status_changes WHERE work_order = ? ORDER BY id DESC", (number,)
        )
    )
    sales = tuple(
        SalesOrderLine(r["number"], r["customer"], r["due"], r["qty_milli"], r["shipped_milli"])
        for r in conn.execute(
            "SELECT number, customer, due, qty_milli, shipped_milli FROM sales_orders "
            "WHERE work_order = ? ORDER BY due, number",
            (number,),
        )
    )
    return OrderDetail(
        number=order["number"],
        product=order["product"],
        description=order["description"],
        qty_milli=order["qty_milli"],
        due=order["due"],
        priority=order["priority"],
        status=order["status"],
        last_activity_ms=order["last_activity_ms"],
        stages=stages,
        materials=materials,
        movements=movements,
        scans=scans,
        due_date_changes=due_changes,
        status_changes=status_changes,
        sales_orders=sales,
        unplanned=unplanned,
        scrap=scrap_by_reason(conn, number),
    )


# What still stands: a reversal carries its original's reason and takes it back.
_NET = "SUM(CASE WHEN {t}.reverses IS NULL THEN {t}.qty_milli ELSE -{t}.qty_milli END)"


def scrap_by_reason(conn: sqlite3.Connection, number: str) -> tuple[ScrapLine, ...]:
    """The order's scrap grouped by reason: units per stage, then material per item."""
    units = conn.execute(
        f"SELECT p.reason, r.description, p.stage, {_NET.format(t='p')} AS qty "
        "FROM progress_entries p LEFT JOIN reasons r ON r.code = p.reason "
        "WHERE p.work_order = ? AND p.kind = 'scrap' GROUP BY p.reason, p.seq ORDER BY p.seq",
        (number,),
    ).fetchall()
    material = conn.execute(
        f"SELECT m.reason, r.description, m.item, i.uom, {_NET.format(t='m')} AS qty "
        "FROM movements m JOIN items i ON i.sku = m.item "
        "LEFT JOIN reasons r ON r.code = m.reason "
        "WHERE m.work_order = ? AND m.kind = 'scrap' GROUP BY m.reason, m.item ORDER BY m.item",
        (number,),
    ).fetchall()
    lines = [ScrapLine(r[0], r[1] or "", r[2], None, "", int(r[3])) for r in units if r[3]] + [
        ScrapLine(r[0], r[1] or "", None, r[2], r[3], int(r[4])) for r in material if r[4]
    ]
    # Reasons in code order, scrap without one last; within a reason, units before material.
    return tuple(
        sorted(lines, key=lambda s: (s.reason is None, s.reason or "", s.item is not None))
    )


def _unplanned_lines(
    conn: sqlite3.Connection, number: str, product: str
) -> tuple[UnplannedLine, ...]:
    """Material off the order's bill: what a supervisor allowed (issued or not yet), and
    anything issued to it without a leave, so nothing held by the order is unseen."""
    bill = {
        r[0]
        for r in conn.execute(
            "SELECT component FROM bill_of_materials WHERE product = ?", (product,)
        )
    }
    # A leave for an item the bill has named since is a bill line now, not unplanned.
    allowed = {a.item: a for a in allowances(conn, number) if a.item not in bill}
    held = {
        r["item"]: (int(r["issued"]), int(r["held"]), r["description"], r["uom"])
        for r in conn.execute(
            "SELECT m.item, i.description, i.uom, "
            "SUM(m.issued_milli - m.returned_milli) AS issued, "
            "SUM(m.issued_milli - m.returned_milli - m.consumed_milli) AS held "
            "FROM work_order_materials m JOIN items i ON i.sku = m.item "
            "WHERE m.work_order = ? GROUP BY m.item",
            (number,),
        )
        if r["item"] not in bill
    }
    lines = []
    for item in [*allowed, *sorted(set(held) - set(allowed))]:
        leave = allowed.get(item)
        if item in held:
            issued, kept, description, uom = held[item]
        else:
            found = conn.execute(
                "SELECT description, uom FROM items WHERE sku = ?", (item,)
            ).fetchone()
            issued, kept, description, uom = 0, 0, found["description"], found["uom"]
        lines.append(
            UnplannedLine(
                item=item,
                description=description,
                uom=uom,
                issued_milli=issued,
                held_milli=kept,
                allowed_by=leave.by_operator if leave else None,
                allowed_by_name=leave.by_name if leave else None,
                reason=leave.reason if leave else "",
            )
        )
    return tuple(lines)


def promised(conn: sqlite3.Connection) -> dict[str, tuple[str, str]]:
    """Per work order made for a customer: (customer, promise date) of its sales order
    promised first (the board's customer column)."""
    made_for: dict[str, tuple[str, str]] = {}
    for number, customer, due in conn.execute(
        "SELECT work_order, customer, due FROM sales_orders WHERE work_order IS NOT NULL "
        "ORDER BY due DESC, number DESC"
    ):
        made_for[number] = (customer, due)  # the earliest promise is written last
    return made_for
