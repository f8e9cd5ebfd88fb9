"""The board's table: one row per open work order, kept live by deltas, filtered and sorted.

A LineTable (tui/widgets/line_table.py): a delta redraws only the lines of the orders
that changed, and 5,000 orders cost nothing until they scroll into view.

Columns come and go with the width: each has a priority, and the narrowest terminal
(80 columns) keeps the ones a supervisor needs first (order, marks, due, progress,
stage, material, product, last activity); wider terminals add the per-stage strip,
status, quantity, description, priority and, with room to spare, each stage's
done/total in words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from rich.text import Text

from db.board import BoardRow, current_stage
from db.forecast import OrderForecast
from tui.formatting import ago, quantity, quantity_text
from tui.plain import as_text
from tui.watching import FloorClock
from tui.widgets.bars import bar_with_percent, percent, stage_strip
from tui.widgets.line_table import CELL_PADDING, LineColumn, LineTable

SortKey = Literal["due", "priority", "stage"]
SORT_KEYS: tuple[SortKey, ...] = ("due", "priority", "stage")
# The marks the board filters by, in the order a key steps through them (None: every order).
MarkFilter = Literal["late", "risk", "short", "idle"]
MARK_FILTERS: tuple[MarkFilter | None, ...] = (None, "late", "risk", "short", "idle")

STATUS_WORDS = {"released": "released", "in_progress": "in progress", "on_hold": "ON HOLD"}

# The marks carry a symbol and a word: colour alone fails on a monochrome kiosk.
LATE = "⚠ LATE"
AT_RISK = "◷ AT RISK"
HOLD = "⏸ HOLD"
IDLE = "◌ IDLE"
# Beside another mark, in the 11 cells an 80-column board has: "⚠LATE ⏸HOLD".
SHORT_WORDS = {LATE: "⚠LATE", AT_RISK: "◷RISK", HOLD: "⏸HOLD", IDLE: "◌IDLE"}


@dataclass(frozen=True, slots=True)
class Flags:
    """What the board marks one order with, counts in its heading and filters by: late
    by its due date; at risk and idle by the forecast (db/forecast.py), when there is
    one; short of material by the board's own columns."""

    late: bool
    at_risk: bool
    short: bool
    on_hold: bool
    idle: bool

    @classmethod
    def of(cls, row: BoardRow, forecast: OrderForecast | None, today: date) -> Flags:
        late = row.late(today)
        at_risk = forecast is not None and not late and forecast.risk == "at_risk"
        idle = forecast is not None and forecast.idle
        return cls(late, at_risk, row.short, row.status == "on_hold", idle)

    def has(self, mark: MarkFilter | None) -> bool:
        if mark is None:
            return True
        return {"late": self.late, "risk": self.at_risk, "short": self.short,
                "idle": self.idle}[mark]  # fmt: skip


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
    Column("qty", "Qty", 5, 11),
    Column("priority", "P", 2, 13),
    Column("due", "Due", 5, 3, 10),
    Column("status", "Status", 11, 10),
    Column("stage", "Stage", 5, 5),
    Column("progress", "Progress", 11, 4, 16),
    Column("strip", "Stages", 6, 9),
    Column("stages", "Done/total per stage", 24, 14, 60),
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


def sort_key(
    key: SortKey, stage_rank: dict[str, int] | None = None
) -> Callable[[BoardRow], tuple[object, ...]]:
    """The board's order: by due date, by priority, or by the stage each order is at in
    the plant's route order (`stage_rank`, db.stages.stage_sequence; done orders last)."""
    if key == "priority":
        return lambda r: (r.priority, r.due, r.number)
    if key == "stage":
        ranks = stage_rank or {}

        def by_stage(r: BoardRow) -> tuple[object, ...]:
            stage = r.current_stage
            if stage is None:
                return (len(ranks) + 1, "~", r.due, r.priority, r.number)
            return (ranks.get(stage, len(ranks)), stage, r.due, r.priority, r.number)

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
        self.mark_filter: MarkFilter | None = None
        # The plant's stages in route order (db.stages.stage_sequence): code -> place.
        self.stage_rank: dict[str, int] = {}
        # Each open order's forecast (db/forecast.py), as the screen's reads bring them.
        self.forecasts: dict[str, OrderForecast] = {}
        self.colours = Palette()
        self.fitted: list[tuple[Column, int]] = []
        self._has_strip = False
        # Kept per order and brought up to date with each delta: judging 5,000 orders
        # late or at risk on every commit would cost the UI thread ~30 ms each time.
        self.flags: dict[str, Flags] = {}

    # ------------------------------------------------------------ what is shown

    @property
    def shown(self) -> list[str]:
        """Order numbers in the table, top to bottom."""
        return self.keys

    def visible_rows(self) -> list[BoardRow]:
        """What the filter lets through, in the chosen order."""
        rows = [r for r in self.orders.values() if self._shows(r)]
        rows.sort(key=sort_key(self.sort_by, self.stage_rank))
        return rows

    def _shows(self, row: BoardRow) -> bool:
        if self.mark_filter is not None:
            flags = self.flags.get(row.number)
            if flags is None or not flags.has(self.mark_filter):
                return False
        return matches(row, self.query_words)

    def get_cell(self, number: str, column_key: str) -> Text:
        """What the order's cell in that column says now (whether or not it is in view)."""
        row = self.orders[number]
        for column, width in self.fitted:
            if column.key == column_key:
                return self.cell(column, width, row, self.clock.today(), self.clock.now_ms())
        raise KeyError(column_key)

    # ------------------------------------------------------------ cells

    def row_version(self, key: str) -> object:
        return self.orders[key], self.forecasts.get(key)

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
            if row.short:
                return Text("✗ SHORT", style=f"bold {colours.error}")
            if readiness is None:
                return Text("no BOM", style=colours.muted)
            if readiness >= 1.0:
                return Text("✓ mat", style=colours.success)
            return f"mat {int(readiness * 100)}%"
        if key == "last":
            return ago(row.last_activity_ms, now_ms, short=width < 7)
        if key == "marks":
            return self._marks(row)
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

    def _marks(self, row: BoardRow) -> Text:
        flags = self.flags.get(row.number)
        if flags is None:
            return Text()
        error = f"bold {self.colours.error}"
        warning = f"bold {self.colours.warning}"
        marks = [
            (word, style)
            for word, style, shown in (
                (LATE, error, flags.late),
                (AT_RISK, warning, flags.at_risk),
                (HOLD, warning, flags.on_hold),
                (IDLE, warning, flags.idle),
            )
            if shown
        ]
        if len(marks) == 1:
            return Text(marks[0][0], style=marks[0][1])
        # Two marks at most: late or at risk, and on hold or idle (idle is in progress).
        parts: list[tuple[str, str] | str] = []
        for word, style in marks:
            if parts:
                parts.append(" ")
            parts.append((SHORT_WORDS[word], style))
        return Text.assemble(*parts)

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

    def set_forecasts(self, forecasts: dict[str, OrderForecast], *, every: bool) -> None:
        """Bring in forecasts: every open order's (`every`), or those judged again (only
        their flags are judged again: 5,000 orders' on every commit would cost the UI
        thread). A changed mark moves an order in or out of a mark filter."""
        before = self.flags
        if every:
            self.forecasts = dict(forecasts)
            self._judge_all()
            changed = [n for n in self.orders if before.get(n) != self.flags.get(n)]
        else:
            self.forecasts.update(forecasts)
            today = self.clock.today()
            changed = []
            for number, planned in forecasts.items():
                row = self.orders.get(number)
                if row is None:
                    continue
                flags = Flags.of(row, planned, today)
                if flags != before.get(number):
                    self.flags[number] = flags
                    changed.append(number)
        if not changed:
            return
        if self.mark_filter is not None:
            self._rebuild()
            return
        for number in changed:
            if self.has_row(number):
                self.refresh_row(number)

    def set_mark_filter(self, mark: MarkFilter | None) -> None:
        self.mark_filter = mark
        self._rebuild()

    def set_stage_order(self, stages: list[str]) -> None:
        """The plant's stages in route order, for the sort by stage."""
        rank = {code: n for n, code in enumerate(stages)}
        if rank != self.stage_rank:
            self.stage_rank = rank
            if self.sort_by == "stage":
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
        order = sort_key(self.sort_by, self.stage_rank)
        moved = False
        redraw: list[str] = []
        today = self.clock.today()
        for number in removed:
            self.flags.pop(number, None)
            self.forecasts.pop(number, None)
            if self.orders.pop(number, None) is not None and self.has_row(number):
                moved = True
        for row in changed:
            before = self.orders.get(row.number)
            present = self.has_row(row.number)
            self.orders[row.number] = row
            self.flags[row.number] = Flags.of(row, self.forecasts.get(row.number), today)
            show = self._shows(row)
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
        forecasts = self.forecasts
        self.flags = {
            number: Flags.of(row, forecasts.get(number), today)
            for number, row in self.orders.items()
        }
