"""What the supervisors' board reads: every open work order, and what changed since.

(One order's story, for the order screen, is db/orders.py.)

The board never sums the movement ledger: it reads, one row per open order, the board
columns the triggers of db/schema.py keep on each work order from the running totals
(`work_order_stages` for stage done/scrap, `work_order_materials` for material held
against an order) and the bill, so its cost follows the number of open orders, not the
length of the ledger, nor the number of stages, lots or bill lines. `changes_since`
tells a live screen which orders moved since it last looked, from the primary keys of
the append-only tables, so a refresh (`LiveBoard`) re-reads only those orders.

Definitions the board shows (kept here so the screen and the tests agree):

- progress: the share of the route's work done, each stage counting the units it
  completed or scrapped against the ordered quantity, averaged over the stages;
- current stage: the first stage on the route that has not finished what reached it;
- material readiness: of what the bill of materials needs for the whole order, the
  share already issued to it (issued less returned, each component capped at its need;
  a line's need is its quantity per unit times the ordered quantity, to the nearest
  thousandth);
- short: a stage has completed more units than the material issued to the order covers
  (for some component, issued less returned is below its quantity per unit times what
  its consuming stage — the route's first when the bill names none — completed, by
  more than the one thousandth a backflush may round away): the completions ran, or
  will run, without it;
- late: due before today. Whether an order will make its date (at risk, tight), and
  whether it is idle, is the forecast's to say (db/forecast.py).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from db.board_columns import BOARD_MATERIAL, BOARD_STAGES
from db.schema import OPEN_STATUSES

_OPEN = f"w.status IN {OPEN_STATUSES!r}"

# One row per open order: the order and its board columns (db/schema.py says how the
# triggers keep them), so no subquery per order, nor a row per stage or bill line:
# - board_stages: the route, "code done scrap" per stage, in route order, one string
#   joined by ASCII unit separators (far cheaper to fetch than a row per stage);
# - board_required, board_ready, board_short: the material figures, as defined above.
# The partial index work_orders_board hands the open orders over in the board's order,
# so a LIMIT reads only the orders it returns. The products' descriptions are read once
# each (`_descriptions`): a join would look one up per order.
_ROWS = """
SELECT w.number, w.product, w.qty_milli, w.due, w.priority, w.status, w.last_activity_ms,
       w.board_stages, w.board_required, w.board_ready, w.board_short
FROM work_orders w {indexed}
WHERE {where}
ORDER BY w.due, w.priority, w.number {limit}
"""
# Every open order: named, because the planner prefers work_orders_open (status, due)
# and a sort, which reads every open order even for a LIMIT. The condition must be the
# index's own for SQLite to use it.
_ALL = ("INDEXED BY work_orders_board", _OPEN)
# The open ones among some numbers, found by key: the unary + keeps the planner from
# reading every open order through work_orders_open and testing each against the list
# (50 touched orders of 5,000 open: 0.1 ms instead of 2.5 ms).
_ONLY = ("", f"+{_OPEN} AND w.number IN (SELECT value FROM json_each(?))")


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


def is_late(due: str, today: date) -> bool:
    """Due before today (due dates are ISO dates, so they compare as text)."""
    return due < today.isoformat()


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


def _descriptions(conn: sqlite3.Connection, products: set[str]) -> dict[str, str]:
    """The items' descriptions of these products (a work order's product is an item)."""
    return dict(
        conn.execute(
            "SELECT sku, description FROM items WHERE sku IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(products)),),
        ).fetchall()
    )


def board_rows(
    conn: sqlite3.Connection, numbers: Sequence[str] | None = None, *, limit: int | None = None
) -> list[BoardRow]:
    """Every open work order (or the open ones among `numbers`), ordered by due date.

    Orders in `numbers` that are not open (done, cancelled, unknown) are simply absent:
    a live board drops them. With `limit`, only the first `limit` of those rows, and only
    they are read (the board paints its first screenful from them before the full read).
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must not be negative, not {limit}")
    if (numbers is not None and not numbers) or limit == 0:
        return []
    indexed, where = _ALL if numbers is None else _ONLY
    params: tuple[str | int, ...] = () if numbers is None else (json.dumps(list(numbers)),)
    if limit is not None:
        params += (limit,)
    sql = _ROWS.format(indexed=indexed, where=where, limit="" if limit is None else "LIMIT ?")
    own = not conn.in_transaction  # the rows and their descriptions from one commit
    if own:
        conn.execute("BEGIN")
    try:
        cursor = conn.execute(sql, params)
        cursor.row_factory = None  # plain tuples: the cheapest rows sqlite3 makes
        fetched = cursor.fetchall()
        descriptions = _descriptions(conn, {row[1] for row in fetched})
    finally:
        if own:
            conn.execute("COMMIT")
    # Orders at the same point of the same route share their stage totals: each distinct
    # route string is parsed once per read (thousands of orders, a few hundred strings),
    # and its tuple shared (it is immutable).
    routes: dict[str, tuple[StageTotals, ...]] = {}
    rows: list[BoardRow] = []
    append = rows.append
    for row in fetched:
        number, product, qty, due, priority, status, active, route, required, ready, short = row
        stages = routes.get(route)
        if stages is None:
            stages = routes[route] = _stages(route)
        append(
            BoardRow(
                number,
                product,
                descriptions[product],
                qty,
                due,
                priority,
                status,
                active,
                stages,
                required,
                ready,
                short == 1,
            )  # fmt: skip
        )
    return rows


def board_column_differences(conn: sqlite3.Connection) -> list[str]:
    """Every work order whose board columns disagree with its stages, material and bill.

    The triggers of db/schema.py keep them; this recomputes them the slow way (a full
    pass over the material held), so `shopfloor check` can prove them as it proves the
    totals they are read from.
    """
    differences = []
    for number, stages, material in conn.execute(
        "SELECT number, stages, material FROM ("
        f" SELECT number, board_stages IS NOT {BOARD_STAGES} AS stages,"
        f" (board_required, board_ready, board_short) IS NOT {BOARD_MATERIAL} AS material"
        " FROM work_orders) WHERE stages OR material ORDER BY number"
    ):
        what = " and ".join(w for w, stale in (("stages", stages), ("material", material)) if stale)
        differences.append(f"work order {number}: the board's {what} columns disagree")
    return differences


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
    later ones only the orders touched since (`changes_since`). `orders` holds every
    open order as of the last refresh. Use from one thread."""

    def __init__(self) -> None:
        self.marks: Marks | None = None
        self.orders: dict[str, BoardRow] = {}

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
        if delta.full:
            self.orders = {row.number: row for row in delta.rows}
        else:
            for number in delta.removed:
                self.orders.pop(number, None)
            self.orders.update((row.number, row) for row in delta.rows)
        return delta
