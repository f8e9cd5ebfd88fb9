"""What the supervisors' board and the order screen read: open work orders and one order's story.

The board never sums the movement ledger: it reads the running totals kept beside it
(`work_order_stages` for stage done/scrap, `work_order_materials` for material held
against an order) by primary key, one row per open order, so its cost follows the
number of open orders, not the length of the ledger. `changes_since` tells a live
screen which orders moved since it last looked, from the primary keys of the
append-only tables, so a refresh (`LiveBoard`) re-reads only those orders.

Definitions the board shows (kept here so the screen and the tests agree):

- progress: the share of the route's work done, each stage counting the units it
  completed or scrapped against the ordered quantity, averaged over the stages;
- current stage: the first stage on the route that has not finished what reached it;
- material readiness: of what the bill of materials needs for the whole order, the
  share already issued to it (issued less returned, each component capped at its need);
- short: a stage has completed more units than the material issued to the order covers
  (for some component, issued less returned is below its quantity per unit times what
  its consuming stage completed): the completions ran, or will run, without it;
- late: due before today; at risk: not late, due within `AT_RISK_DAYS` days and less
  than half done.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

OPEN_STATUSES = ("released", "in_progress", "on_hold")
AT_RISK_DAYS = 2

_OPEN = "w.status IN ('released', 'in_progress', 'on_hold')"

# One row per open order. Each list comes back as one string joined by ASCII unit
# separators (codes may hold spaces, never control characters), because one string per
# order is far cheaper to fetch than a row per stage or component:
# - the route, "code done scrap" per stage, in route order (the primary key
#   (work_order, seq) hands the stages over in that order);
# - per bill-of-materials line, in component order (the primary key (product,
#   component)), what was issued to the order net of returns. The lines drive the
#   look-ups, so held material the bill does not name is never read.
_ROWS = f"""
SELECT w.number, w.product, i.description, w.qty_milli, w.due, w.priority, w.status,
       w.last_activity_ms,
       (SELECT group_concat(s.stage || char(31) || s.done_milli || char(31) || s.scrap_milli,
                            char(31))
          FROM work_order_stages s WHERE s.work_order = w.number) AS stages,
       (SELECT group_concat(
                   COALESCE((SELECT SUM(m.issued_milli - m.returned_milli)
                               FROM work_order_materials m
                              WHERE m.work_order = w.number AND m.item = b.component), 0),
                   char(31))
          FROM (SELECT component FROM bill_of_materials
                 WHERE product = w.product ORDER BY component) b) AS issued
FROM work_orders w JOIN items i ON i.sku = w.product
WHERE {_OPEN} {{only}}
ORDER BY w.due, w.priority, w.number
"""

_ONLY = "AND w.number IN (SELECT value FROM json_each(?))"


StageTotals = tuple[str, int, int]
"""One stage of an order's route: (stage code, done, scrapped), quantities in thousandths.
A plain tuple because the board builds tens of thousands of them per full read."""


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One open work order as the board shows it."""

    number: str
    product: str
    description: str
    qty_milli: int
    due: str
    priority: int
    status: str
    last_activity_ms: int | None
    stages: tuple[StageTotals, ...]
    material_required_milli: int
    material_ready_milli: int
    short: bool

    @property
    def progress(self) -> float:
        """Share of the route's work done, 0..1 (see the module docstring)."""
        return route_progress(self.qty_milli, self.stages)

    @property
    def completed_milli(self) -> int:
        """Units through the last stage."""
        return self.stages[-1][1] if self.stages else 0

    @property
    def current_stage(self) -> str | None:
        """The first stage that has not finished what reached it; None when all are."""
        return current_stage(self.qty_milli, self.stages)

    @property
    def material_readiness(self) -> float | None:
        """Share of the order's material issued, 0..1; None when the product has no BOM."""
        if self.material_required_milli <= 0:
            return None
        return min(self.material_ready_milli / self.material_required_milli, 1.0)

    def late(self, today: date) -> bool:
        return is_late(self.due, today)

    def at_risk(self, today: date) -> bool:
        return is_at_risk(self.due, self.progress, today)


def is_late(due: str, today: date) -> bool:
    """Due before today (due dates are ISO dates, so they compare as text)."""
    return due < today.isoformat()


def is_at_risk(due: str, progress: float, today: date) -> bool:
    """Not late, due within `AT_RISK_DAYS` days, and less than half done."""
    if is_late(due, today):
        return False
    soon = (today + timedelta(days=AT_RISK_DAYS)).isoformat()
    return due <= soon and progress < 0.5


def route_progress(qty_milli: int, stages: Sequence[StageTotals]) -> float:
    """Share of the route's work done, 0..1: each stage's done + scrapped against the
    ordered quantity, averaged over the stages."""
    if not stages or qty_milli <= 0:
        return 0.0
    total = sum(min(done + scrap, qty_milli) for _, done, scrap in stages)
    return total / (qty_milli * len(stages))


def current_stage(qty_milli: int, stages: Sequence[StageTotals]) -> str | None:
    """The first stage that has not finished what reached it; None when every stage has."""
    arrived = qty_milli
    for code, done, scrap in stages:
        if done + scrap < arrived:
            return code
        arrived = done
    return None


def arrived_at(qty_milli: int, stages: Sequence[StageTotals], index: int) -> int:
    """What reached the stage at `index`: the ordered quantity at the first stage, then
    what the stage before completed."""
    return qty_milli if index == 0 else stages[index - 1][1]


def _stages(text: str | None) -> tuple[StageTotals, ...]:
    if not text:
        return ()
    parts = text.split("\x1f")
    return tuple(zip(parts[0::3], map(int, parts[1::3]), map(int, parts[2::3]), strict=True))


@dataclass(frozen=True, slots=True)
class _Line:
    """One bill-of-materials line: the component, the stage that consumes it (None: the
    route's first stage, as db.ledger backflushes), and the quantity per unit."""

    component: str
    stage: str | None
    qty_per_milli: int


def _bills(conn: sqlite3.Connection) -> dict[str, tuple[_Line, ...]]:
    """Every product's bill of materials, in component order (as `_ROWS` lists them)."""
    bills: dict[str, list[_Line]] = {}
    for product, component, stage, qty_per in conn.execute(
        "SELECT product, component, stage, qty_per_milli FROM bill_of_materials "
        "ORDER BY product, component"
    ):
        bills.setdefault(product, []).append(_Line(component, stage, qty_per))
    return {product: tuple(lines) for product, lines in bills.items()}


def _material(
    bill: tuple[_Line, ...], qty_milli: int, stages: tuple[StageTotals, ...], issued: str | None
) -> tuple[int, int, bool]:
    """(required, ready, short) for one order; see the module docstring."""
    if not bill:
        return 0, 0, False
    nets = [int(n) for n in issued.split("\x1f")] if issued else [0] * len(bill)
    required = ready = 0
    for line, net in zip(bill, nets, strict=True):
        need = (line.qty_per_milli * qty_milli + 500) // 1000
        required += need
        ready += min(net, need)
    short = False
    if stages and any(done for _, done, _ in stages):
        done = {code: d for code, d, _ in stages}
        first = stages[0][1]
        for line, net in zip(bill, nets, strict=True):
            units = first if line.stage is None else done.get(line.stage, 0)
            # Each backflush rounds to the nearest thousandth: allow one a line.
            if units and net * 1000 + 1000 < line.qty_per_milli * units:
                short = True
                break
    return required, ready, short


def board_rows(conn: sqlite3.Connection, numbers: Sequence[str] | None = None) -> list[BoardRow]:
    """Every open work order (or the open ones among `numbers`), ordered by due date.

    Orders in `numbers` that are not open (done, cancelled, unknown) are simply absent:
    a live board drops them.
    """
    if numbers is not None and not numbers:
        return []
    only = "" if numbers is None else _ONLY
    params: tuple[str, ...] = () if numbers is None else (json.dumps(list(numbers)),)
    bills = _bills(conn)
    rows = []
    cursor = conn.execute(_ROWS.format(only=only), params)
    cursor.row_factory = None  # plain tuples: the cheapest rows sqlite3 makes
    for number, product, description, qty, due, priority, status, active, route, issued in cursor:
        stages = _stages(route)
        required, ready, short = _material(bills.get(product, ()), qty, stages, issued)
        rows.append(
            BoardRow(
                number=number,
                product=product,
                description=description,
                qty_milli=qty,
                due=due,
                priority=priority,
                status=status,
                last_activity_ms=active,
                stages=stages,
                material_required_milli=required,
                material_ready_milli=ready,
                short=short,
            )
        )
    return rows


# ---------------------------------------------------------------- what changed


@dataclass(frozen=True, slots=True)
class Marks:
    """The highest id a screen has seen in each table whose rows change the board."""

    movement: int = 0
    progress: int = 0
    status: int = 0
    due_date: int = 0
    work_order_rowid: int = 0
    schema_version: int = 0


_MARKS = """
SELECT (SELECT COALESCE(MAX(id), 0) FROM movements),
       (SELECT COALESCE(MAX(id), 0) FROM progress_entries),
       (SELECT COALESCE(MAX(id), 0) FROM status_changes),
       (SELECT COALESCE(MAX(id), 0) FROM due_date_changes),
       (SELECT COALESCE(MAX(rowid), 0) FROM work_orders)
"""


def current_marks(conn: sqlite3.Connection) -> Marks:
    row = conn.execute(_MARKS).fetchone()
    schema = int(conn.execute("PRAGMA schema_version").fetchone()[0])
    return Marks(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), schema)


def changes_since(conn: sqlite3.Connection, marks: Marks) -> tuple[set[str] | None, Marks]:
    """The work orders touched since `marks`, and the new marks.

    Reads only the tail of each append-only table by primary key, so it costs the size
    of the change, not of the ledger. Returns None for the orders when the schema
    changed (a migration): then everything is re-read. Run inside one read transaction
    so the orders and the marks describe the same moment.
    """
    now = current_marks(conn)
    if now.schema_version != marks.schema_version:
        return None, now
    touched: set[str] = set()
    for table, column, seen, upto in (
        ("movements", "id", marks.movement, now.movement),
        ("progress_entries", "id", marks.progress, now.progress),
        ("status_changes", "id", marks.status, now.status),
        ("due_date_changes", "id", marks.due_date, now.due_date),
        ("work_orders", "rowid", marks.work_order_rowid, now.work_order_rowid),
    ):
        if upto <= seen:
            continue
        key = "number" if table == "work_orders" else "work_order"
        touched.update(
            row[0]
            for row in conn.execute(
                f"SELECT DISTINCT {key} FROM {table} WHERE {column} > ? AND {column} <= ? "
                f"AND {key} IS NOT NULL",
                (seen, upto),
            )
        )
    return touched, now


@dataclass(frozen=True, slots=True)
class BoardDelta:
    """What a live board must change: every open order (`full`), or the touched ones."""

    full: bool
    rows: list[BoardRow]  # full: every open order; else the touched orders still open
    removed: list[str]  # touched orders that are no longer open (done, cancelled)

    @property
    def empty(self) -> bool:
        return not self.full and not self.rows and not self.removed


class LiveBoard:
    """A board's memory of what it has read: the first refresh reads every open order,
    later ones only the orders touched since (`changes_since`). Use from one thread."""

    def __init__(self) -> None:
        self.marks: Marks | None = None

    def refresh(self, conn: sqlite3.Connection) -> BoardDelta:
        # One read transaction: the rows and the marks describe the same commit.
        conn.execute("BEGIN")
        try:
            if self.marks is None:
                marks, touched = current_marks(conn), None
            else:
                touched, marks = changes_since(conn, self.marks)
            if touched is None:
                delta = BoardDelta(True, board_rows(conn), [])
            else:
                rows = board_rows(conn, sorted(touched))
                still_open = {row.number for row in rows}
                delta = BoardDelta(False, rows, sorted(touched - still_open))
        finally:
            conn.execute("COMMIT")
        self.marks = marks
        return delta


# ---------------------------------------------------------------- one order


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
    )


# ---------------------------------------------------------------- station sessions


@dataclass(frozen=True, slots=True)
class StationInfo:
    code: str
    name: str
    location: str | None
    stage: str | None
    mode: str


@dataclass(frozen=True, slots=True)
class StationView:
    """A station's scan session as its kiosk shows it (the station's defaults when no
    scan has happened there yet)."""

    station: StationInfo
    mode: str
    operator: str | None
    operator_name: str | None
    work_order: str | None
    work_order_product: str | None
    location: str | None
    to_location: str | None
    qty_milli: int | None
    lot: str | None
    prompt: str
    updated_ms: int | None


@dataclass(frozen=True, slots=True)
class StationScan:
    id: int
    time_ms: int
    source: str
    raw: bytes
    status: str | None
    message: str | None


def stations(conn: sqlite3.Connection) -> list[StationInfo]:
    return [
        StationInfo(r["code"], r["name"], r["location"], r["stage"], r["mode"])
        for r in conn.execute("SELECT * FROM stations ORDER BY code")
    ]


def station_view(conn: sqlite3.Connection, code: str) -> StationView | None:
    """The station's live session; None if the station is not set up."""
    home = conn.execute("SELECT * FROM stations WHERE code = ?", (code,)).fetchone()
    if home is None:
        return None
    info = StationInfo(home["code"], home["name"], home["location"], home["stage"], home["mode"])
    row = conn.execute(
        "SELECT s.*, o.name AS operator_name, w.product AS work_order_product "
        "FROM station_sessions s LEFT JOIN operators o ON o.badge = s.operator "
        "LEFT JOIN work_orders w ON w.number = s.work_order WHERE s.station = ?",
        (code,),
    ).fetchone()
    if row is None:
        return StationView(
            station=info, mode=info.mode, operator=None, operator_name=None, work_order=None,
            work_order_product=None, location=None, to_location=None, qty_milli=None, lot=None,
            prompt="Scan your badge to sign in", updated_ms=None,
        )  # fmt: skip
    return StationView(
        station=info,
        mode=row["mode"],
        operator=row["operator"],
        operator_name=row["operator_name"],
        work_order=row["work_order"],
        work_order_product=row["work_order_product"],
        location=row["location"],
        to_location=row["to_location"],
        qty_milli=row["qty_milli"],
        lot=row["lot"],
        prompt=row["prompt"],
        updated_ms=row["updated_ms"],
    )


def station_scans(conn: sqlite3.Connection, code: str, *, limit: int = 50) -> list[StationScan]:
    """The station's last scans, newest first, with their outcomes."""
    return [
        StationScan(r["id"], r["time_ms"], r["source"], bytes(r["raw"]), r["status"], r["message"])
        for r in conn.execute(
            "SELECT j.id, j.time_ms, j.source, j.raw, o.status, o.message FROM scan_journal j "
            "LEFT JOIN scan_outcomes o ON o.scan = j.id WHERE j.station = ? "
            "ORDER BY j.id DESC LIMIT ?",
            (code, limit),
        )
    ]


# ---------------------------------------------------------------- the palette


@dataclass(frozen=True, slots=True)
class Code:
    """Something a person may type to jump to it: a work order, item, location or stage."""

    kind: str  # work_order, item, location, stage
    code: str
    label: str


def codes(conn: sqlite3.Connection) -> list[Code]:
    """Every code the command palette can jump to."""
    found = [
        Code("work_order", r[0], f"{r[1]} · {r[2].replace('_', ' ')}")
        for r in conn.execute("SELECT number, product, status FROM work_orders ORDER BY number")
    ]
    found += [
        Code("item", r[0], r[1])
        for r in conn.execute("SELECT sku, description FROM items ORDER BY sku")
    ]
    found += [
        Code("location", r[0], r[1])
        for r in conn.execute("SELECT code, name FROM locations ORDER BY code")
    ]
    found += [
        Code("stage", r[0], r[1])
        for r in conn.execute("SELECT code, name FROM stages ORDER BY code")
    ]
    return found
