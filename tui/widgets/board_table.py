"""The board's table: one row per open work order, kept live by deltas, filtered and sorted.

A LineTable (tui/widgets/line_table.py): a delta redraws only the lines of the orders
that changed, and 5,000 orders cost nothing until they scroll into view.

Columns come and go with the width: each has a priority, and the narrowest terminal
(80 columns) keeps the ones a supervisor needs first (order, marks, due, progress,
stage, material, product, last activity); wider terminals add the per-stage strip,
status, quantity, description, the customer and the date promised to them, priority
and, with room to spare, each stage's done/total in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from rich.text import Text

from db.board import BoardRow, current_stage
from tui.formatting import ago, cut, quantity, quantity_text
from tui.plain import as_text
from tui.watching import FloorClock
from tui.widgets.bars import bar_with_percent, percent, stage_strip
from tui.widgets.line_table import CELL_PADDING, LineColumn, LineTable

SortKey = Literal["due", "priority", "stage"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "priority", "stage")

STATUS_WORDS = {"released": "released", "in_progress": "in progress", "on_hold": "ON HOLD"}

# The marks carry a symbol and a word: colour alone fails on a monochrome kiosk.
LATE = "⚠ LATE"
AT_RISK = "◷ AT RISK"
HOLD = "⏸ HOLD"
HELD = "⏸HOLD"  # beside another mark


@dataclass(frozen=True, slots=True)
class Flags:
    """What the board's heading counts for one order."""

    late: bool
    at_risk: bool
    short: bool
    on_hold: bool

    @classmethod
    def of(cls, row: BoardRow, today: date, short: bool) -> Flags:
        late = row.late(today)
        return cls(late, not late and row.at_risk(today), short, row.status == "on_hold")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    width: int
    priority: int  # lower stays longer as the terminal narrows
    wide_width: int | None = None  # used when there is room to spare


# In display order; `priority` decides what an 80-column terminal keeps.
COLUMNS = (
    Column("order", "Order", 8, 1),
    Column("product", "Product", 9, 7),
    Column("description", "Description", 24, 12, 28),
    Column("customer", "For · promised", 16, 13, 22),
    Column("qty", "Qty", 5, 11),
    Column("priority", "P", 2, 14),
    Column("due", "Due", 5, 3, 10),
    Column("status", "Status", 11, 10),
    Column("stage", "Stage", 5, 5),
    Column("progress", "Progress", 11, 4, 16),
    Column("strip", "Stages", 6, 9),
    Column("stages", "Done/total per stage", 24, 15, 60),
    Column("material", "Material", 8, 6),
    Column("last", "Last", 4, 8, 7),
    Column("marks", "Marks", 11, 2),
)

SCROLLBAR = 2
DESCRIPTION_ROOMY = 40


def fit_columns(width: int) -> list[tuple[Column, int]]:
    """The columns (with widths) that fit `width` terminal cells, in display order."""
    room = width - SCROLLBAR
    chosen: dict[str, int] = {}
    used = 0
    for column in sorted(COLUMNS, key=lambda c: c.priority):
        cost = column.width + 2 * CELL_PADDING
        if used + cost <= room:
            chosen[column.key] = column.width
            used += cost
    # Room left: widen what reads better wider, most useful first.
    for column in sorted(COLUMNS, key=lambda c: c.priority):
        if column.key == "description" and "stages" in chosen:
            continue  # the stage-by-stage words need the room more
        if column.key in chosen and column.wide_width is not None:
            extra = column.wide_width - chosen[column.key]
            if column.key == "stages":
                extra = max(min(extra, room - used), 0)
            if 0 < extra <= room - used:
                chosen[column.key] += extra
                used += extra
    # Still room (a very wide kiosk): the description reads better whole.
    if "description" in chosen and used < room:
        extra = min(DESCRIPTION_ROOMY - chosen["description"], room - used)
        if extra > 0:
            chosen["description"] += extra
    return [(c, chosen[c.key]) for c in COLUMNS if c.key in chosen]


def matches(row: BoardRow, words: list[str]) -> bool:
    """Does the order match every typed word (number, product, description, stage, status)?"""
    if not words:
        return True
    haystack = " ".join(
        (
            row.number,
            row.product,
            row.description,
            current_stage(row.qty_milli, row.stages) or "done",
            STATUS_WORDS.get(row.status, row.status),
        )
    ).lower()
    return all(word in haystack for word in words)


def sort_key(key: SortKey) -> Callable[[BoardRow], tuple[object, ...]]:
    if key == "priority":
        return lambda r: (r.priority, r.due, r.number)
    if key == "stage":

        def by_stage(r: BoardRow) -> tuple[object, ...]:
            stage = r.current_stage
            position = [code for code, _, _ in r.stages].index(stage) if stage else len(r.stages)
            return (position, stage or "~", r.due, r.priority, r.number)

        return by_stage
    return lambda r: (r.due, r.priority, r.number)


@dataclass(frozen=True)
class Palette:
    """Cell colours, taken from the app's theme so the high-contrast kiosk theme holds."""

    error: str = "red"
    warning: str = "yellow"
    success: str = "green"
    muted: str = "grey62"


class BoardTable(LineTable):
    """Open work orders, one line each under a fixed header line, keyed by order number."""

    def __init__(self, *, clock: FloorClock, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.clock = clock
        self.orders: dict[str, BoardRow] = {}
        self.query_words: list[str] = []
        self.sort_by: SortKey = "due"
        self.colours = Palette()
        self.fitted: list[tuple[Column, int]] = []
        self._has_strip = False
        # Kept per order and brought up to date with each delta: judging 5,000 orders
        # late or at risk on every commit would cost the UI thread ~30 ms each time.
        self.flags: dict[str, Flags] = {}
        # The orders with a component nothing covers (db.shortages), as last netted.
        self.short_orders: frozenset[str] = frozenset()
        # Orders made for a customer: (customer, promise date) of its sales order.
        self.customers: dict[str, tuple[str, str]] = {}

    # ------------------------------------------------------------ what is shown

    @property
    def shown(self) -> list[str]:
        """Order numbers in the table, top to bottom."""
        return self.keys

    def visible_rows(self) -> list[BoardRow]:
        """What the filter lets through, in the chosen order."""
        rows = [r for r in self.orders.values() if matches(r, self.query_words)]
        rows.sort(key=sort_key(self.sort_by))
        return rows

    def get_cell(self, number: str, column_key: str) -> Text:
        """What the order's cell in that column says now (whether or not it is in view)."""
        row = self.orders[number]
        for column, width in self.fitted:
            if column.key == column_key:
                return self.cell(column, width, row, self.clock.today(), self.clock.now_ms())
        raise KeyError(column_key)

    # ------------------------------------------------------------ cells

    def row_version(self, key: str) -> object:
        return (self.orders[key], key in self.short_orders, self.customers.get(key))

    def row_cells(self, key: str) -> list[Text]:
        return self.cells(self.orders[key], self.clock.today(), self.clock.now_ms())

    def cells(self, row: BoardRow, today: date, now_ms: int) -> list[Text]:
        """The row's cells for the current columns."""
        return [self.cell(column, width, row, today, now_ms) for column, width in self.fitted]

    def cell(self, column: Column, width: int, row: BoardRow, today: date, now_ms: int) -> Text:
        # Text, never str: a str would be parsed as markup; order words show as text.
        return as_text(self._cell(column, width, row, today, now_ms))

    def _cell(
        self, column: Column, width: int, row: BoardRow, today: date, now_ms: int
    ) -> str | Text:
        key = column.key
        colours = self.colours
        if key == "order":
            return row.number
        if key == "product":
            return row.product
        if key == "description":
            return row.description
        if key == "customer":
            made_for = self.customers.get(row.number)
            if made_for is None:
                return ""
            customer, due = made_for
            return f"{cut(customer, width - 6)} {due[5:]}"
        if key == "qty":
            return quantity(row.qty_milli)
        if key == "priority":
            return f"P{row.priority}"
        if key == "due":
            due = row.due if width >= 10 else row.due[5:]
            return Text(due, style=f"bold {colours.error}") if row.late(today) else due
        if key == "status":
            words = STATUS_WORDS.get(row.status, row.status)
            return (
                Text(words, style=f"bold {colours.warning}") if row.status == "on_hold" else words
            )
        if key == "stage":
            return row.current_stage or "done"
        if key == "progress":
            if self._has_strip:
                return bar_with_percent(row.progress, width)
            # Too narrow for a separate per-stage column: the stages are the bar.
            strip = stage_strip(row.qty_milli, row.stages)[: width - 5]
            return f"{strip:<{width - 5}} {percent(row.progress):>4}"
        if key == "strip":
            return stage_strip(row.qty_milli, row.stages)
        if key == "stages":
            return self._stages_text(row, width)
        if key == "material":
            readiness = row.material_readiness
            if self.is_short(row.number):
                return Text("✗ SHORT", style=f"bold {colours.error}")
            if readiness is None:
                return Text("no BOM", style=colours.muted)
            if readiness >= 1.0:
                return Text("✓ mat", style=colours.success)
            return f"mat {int(readiness * 100)}%"
        if key == "last":
            return ago(row.last_activity_ms, now_ms, short=width < 7)
        if key == "marks":
            return self._marks(row, today)
        raise KeyError(key)

    def _stages_text(self, row: BoardRow, width: int) -> str:
        """Each stage's done/total in the room there is: "CUT 5/10 BEND 2/10", else
        "CUT5 BEND2 /10", else "5 2 /10"."""
        qty = quantity_text(row.qty_milli)
        done = [(code, quantity_text(d)) for code, d, _ in row.stages]
        for text in (
            " ".join(f"{code} {d}/{qty}" for code, d in done),
            " ".join(f"{code}{d}" for code, d in done) + f" /{qty}",
        ):
            if len(text) <= width:
                return text
        return " ".join(d for _, d in done) + f" /{qty}"

    def _marks(self, row: BoardRow, today: date) -> Text:
        error = f"bold {self.colours.error}"
        warning = f"bold {self.colours.warning}"
        late, at_risk = row.late(today), row.at_risk(today)
        if row.status == "on_hold":
            # Both marks in the 11 cells an 80-column board has.
            if late:
                return Text.assemble(("⚠LATE", error), " ", (HELD, warning))
            if at_risk:
                return Text.assemble(("◷RISK", warning), " ", (HELD, warning))
            return Text(HOLD, style=warning)
        if late:
            return Text(LATE, style=error)
        if at_risk:
            return Text(AT_RISK, style=warning)
        return Text()

    def is_short(self, number: str) -> bool:
        """SHORT: some component of the order is covered by neither stock in the stores
        nor an open purchase order (db.shortages); material merely not issued yet is
        not short while the stores hold it."""
        return number in self.short_orders

    def set_short(self, orders: frozenset[str]) -> None:
        """Take a new netting's short orders: only the lines whose mark changed redraw."""
        changed = orders ^ self.short_orders
        self.short_orders = orders
        today = self.clock.today()
        for number in changed:
            row = self.orders.get(number)
            if row is not None:
                self.flags[number] = Flags.of(row, today, number in orders)
                self.refresh_row(number)

    def set_customers(self, customers: dict[str, tuple[str, str]]) -> None:
        """Take the sales orders' customers and promise dates; changed lines redraw."""
        changed = {
            number
            for number in customers.keys() | self.customers.keys()
            if customers.get(number) != self.customers.get(number)
        }
        self.customers = customers
        for number in changed:
            self.refresh_row(number)

    # ------------------------------------------------------------ layout

    def set_width(self, width: int) -> None:
        """Choose the columns for a terminal `width` wide; redraws only when they change."""
        fitted = fit_columns(width)
        if fitted == self.fitted:
            return
        self.fitted = fitted
        self._has_strip = "strip" in self.column_keys
        self.set_columns([LineColumn(column.key, column.label, w) for column, w in fitted])

    @property
    def column_keys(self) -> list[str]:
        return [column.key for column, _ in self.fitted]

    # ------------------------------------------------------------ changes

    def replace_all(self, rows: Iterable[BoardRow]) -> None:
        self.orders = {row.number: row for row in rows}
        self._judge_all()
        self._rebuild()

    def set_filter(self, text: str) -> None:
        words = text.lower().split()
        if words != self.query_words:
            self.query_words = words
            self._rebuild()

    def set_sort(self, key: SortKey) -> None:
        self.sort_by = key
        self._rebuild()

    def apply(self, changed: Iterable[BoardRow], removed: Iterable[str]) -> None:
        """Bring in a delta: only the lines of the touched orders are redrawn, unless an
        order came, went or moved, when the view is redrawn (from the kept lines)."""
        order = sort_key(self.sort_by)
        moved = False
        redraw: list[str] = []
        today = self.clock.today()
        for number in removed:
            self.flags.pop(number, None)
            if self.orders.pop(number, None) is not None and self.has_row(number):
                moved = True
        for row in changed:
            before = self.orders.get(row.number)
            present = self.has_row(row.number)
            self.orders[row.number] = row
            self.flags[row.number] = Flags.of(row, today, self.is_short(row.number))
            show = matches(row, self.query_words)
            if show != present or (show and before is not None and order(before) != order(row)):
                moved = True
            elif present:
                redraw.append(row.number)
        if moved:
            self._rebuild()
            return
        for number in redraw:
            self.refresh_row(number)

    def refresh_times(self) -> None:
        """Re-word "12m ago" and the late / at-risk marks as the clock moves on."""
        self._judge_all()
        if {"last", "marks", "due"} & set(self.column_keys):
            self.forget_lines()

    # ------------------------------------------------------------ internals

    def _rebuild(self) -> None:
        """Filter and sort again, keeping the cursor on the same order."""
        self.set_keys([row.number for row in self.visible_rows()])

    def _judge_all(self) -> None:
        today = self.clock.today()
        self.flags = {
            number: Flags.of(row, today, self.is_short(number))
            for number, row in self.orders.items()
        }
