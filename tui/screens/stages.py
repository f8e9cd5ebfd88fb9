"""The Stages screen (SPEC §5): the coordinators' view of every stage at once.

Owns, per stage in routing order: work in progress (units that reached the stage
and are not yet done or scrapped there, over all open orders), how many orders are
queued there, what it completed today (completions that still stand), and its
throughput as a sparkline — per hour over the last 24 h, or per day over 7 days.
The highlighted stage shows a larger sparkline and the orders waiting at it, most
urgent first. Reads go through db.stages in `load` (a worker thread).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from rich.color import Color
from rich.console import RenderableType
from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.renderables.sparkline import Sparkline as SparklineBars
from textual.widgets import DataTable, Header, Sparkline, Static
from textual.widgets.data_table import RowDoesNotExist

from db import stages
from db.board import LiveBoard
from db.connection import now_ms as wall_clock
from db.quantity import text as qty_text
from db.stages import QueuedOrder, StageLoad
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.formatting import quantity
from tui.plain import as_text
from tui.widgets.key_bar import KeyBar
from tui.widgets.stage_queue import StageQueue

Span = Literal["hours", "days"]
Columns = Sequence[tuple[str, str, int | None]]  # key, label, fixed width or None to fit


@dataclass(frozen=True)
class StagesView:
    """What `load` read: every stage's load, and the orders at the highlighted one."""

    loads: list[StageLoad]
    stage: str | None
    orders: list[QueuedOrder]
    now_ms: int


def _set_columns(table: DataTable[Any], columns: Columns) -> None:
    """Give `table` these columns, rebuilding only when their keys or labels differ."""
    current = [(key.value, column.label.plain) for key, column in table.columns.items()]
    if current != [(key, label) for key, label, _ in columns]:
        table.clear(columns=True)
        for key, label, width in columns:
            table.add_column(label, key=key, width=width)


def _units(values: tuple[int, ...]) -> list[float]:
    return [value / 1000 for value in values]


class StagesScreen(FloorScreen):
    """Per stage: WIP, orders queued, completed today, throughput; the orders at a stage."""

    TITLE = "Stages"
    CSS_PATH = "floor.tcss"
    AUTO_FOCUS = "#stages-table"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE
    BINDINGS = [Binding("t", "toggle_span", "24 h / 7 days")]

    def __init__(self, db_path: str, *, now_ms: Callable[[], int] | None = None) -> None:
        super().__init__(db_path)
        self._now = now_ms or wall_clock
        self._stage: str | None = None
        self._span: Span = "hours"
        self._view: StagesView | None = None
        self._drawn: tuple[object, ...] = ()  # what the stage table last showed
        self._queue_heading: str | None = None
        # Used only by the load worker (one at a time, under the reader lock).
        self.live = LiveBoard()

    # ------------------------------------------------------------ widgets

    @property
    def stages_table(self) -> DataTable[RenderableType]:
        return self.query_one("#stages-table", DataTable)

    @property
    def orders_table(self) -> StageQueue:
        return self.query_one("#stages-orders", StageQueue)

    @property
    def heading(self) -> Static:
        return self.query_one("#stages-heading", Static)

    @property
    def spark_label(self) -> Static:
        return self.query_one("#stages-spark-label", Static)

    @property
    def orders_heading(self) -> Static:
        return self.query_one("#stages-orders-heading", Static)

    @property
    def sparkline(self) -> Sparkline:
        return self.query_one("#stages-spark", Sparkline)

    @property
    def stage(self) -> str | None:
        """The highlighted stage's code."""
        return self._stage

    @property
    def span(self) -> Span:
        """What the sparklines show: "hours" (last 24 h) or "days" (last 7 days)."""
        return self._span

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the stages…", id="stages-heading", classes="floor-heading")
        yield DataTable(id="stages-table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="stages-spark-label")
        yield Sparkline([], id="stages-spark")
        yield Static("", id="stages-orders-heading", classes="floor-heading")
        yield StageQueue(id="stages-orders")
        yield KeyBar()

    # ------------------------------------------------------------ reading

    def load(self, conn: sqlite3.Connection) -> StagesView:
        now = self._now()
        # The open orders as the board reads them: all once, then only those touched
        # since, so a commit costs this screen a few small reads, not 5,000 orders.
        self.live.refresh(conn)
        open_orders = list(self.live.orders.values())
        loads = stages.stage_loads(conn, now_ms=now, open_orders=open_orders)
        codes = [load.code for load in loads]
        stage = self._stage if self._stage in codes else (codes[0] if codes else None)
        orders = stages.orders_at_stage(conn, stage, open_orders=open_orders) if stage else []
        return StagesView(loads, stage, orders, now)

    def show(self, result: StagesView) -> None:
        if self._stage is not None and result.stage != self._stage:
            # Another stage was highlighted while this was read; its reload follows.
            if any(load.code == self._stage for load in result.loads):
                return
        self._stage = result.stage
        self._view = result
        self.redraw()

    # ------------------------------------------------------------ drawing

    def _theme_color(self, variable: str, fallback: str) -> str:
        return self.app.theme_variables.get(variable, fallback)

    def redraw(self) -> None:
        view = self._view
        if view is None:
            return
        # Every commit on the floor re-reads this screen, and most (an issue, a receipt)
        # change no stage: the stage table, heading and sparkline are redrawn only when
        # what they show changed (each redraw costs ~20 ms on the UI thread).
        drawn = (view.loads, view.stage, self._span, self.wide, self.app.theme)
        if drawn != self._drawn:
            self._drawn = drawn
            wip = sum(load.wip_milli for load in view.loads)
            today = sum(load.done_today_milli for load in view.loads)
            self.heading.update(
                f"{len(view.loads)} stages · {qty_text(wip)} units in progress · "
                f"{qty_text(today)} completed today"
            )
            self._draw_stages(view)
            selected = next((load for load in view.loads if load.code == view.stage), None)
            self._draw_detail(selected)
        self._draw_orders(view)

    def _bars(self, values: tuple[int, ...], width: int) -> SparklineBars[float]:
        return SparklineBars(
            _units(values),
            width=width,
            min_color=Color.parse(self._theme_color("panel", "grey30")),
            max_color=Color.parse(self._theme_color("accent", "yellow")),
        )

    def _draw_stages(self, view: StagesView) -> None:
        table = self.stages_table
        # Sparkline renderables under-report their width to the table: give them room.
        first_width = 24 if self.wide or self._span == "hours" else 14
        second_width = 24 if self._span == "days" else 14
        columns: list[tuple[str, str, int | None]] = [
            ("stage", "Stage", None),
            ("name", "Name", None),
            ("wip", "WIP", None),
            ("queued", "Orders", None),
            ("today", "Today", None),
            ("first", "Last 24 h" if self._span == "hours" else "Last 7 days", first_width),
        ]
        if self.wide:
            label = "Last 7 days" if self._span == "hours" else "Last 24 h"
            columns.append(("second", label, second_width))
        _set_columns(table, columns)
        with table.prevent(DataTable.RowHighlighted):
            table.clear()
            for load in view.loads:
                first, second = load.hourly_milli, load.daily_milli
                if self._span == "days":
                    first, second = second, first
                cells: list[RenderableType] = [as_text(load.code, "bold"), as_text(load.name)]
                cells += [
                    quantity(load.wip_milli),
                    Text(str(load.queued), justify="right"),
                    quantity(load.done_today_milli),
                    self._bars(first, first_width),
                ]
                if self.wide:
                    cells.append(self._bars(second, second_width))
                table.add_row(*cells, key=load.code)
            if view.stage is not None:
                try:
                    table.move_cursor(row=table.get_row_index(view.stage), scroll=True)
                except RowDoesNotExist:
                    pass

    def _draw_detail(self, load: StageLoad | None) -> None:
        if load is None:
            self.spark_label.update("No stages are set up: import stages.csv")
            self.sparkline.data = []
            return
        values = load.hourly_milli if self._span == "hours" else load.daily_milli
        per = "hour" if self._span == "hours" else "day"
        window = "last 24 h" if self._span == "hours" else "last 7 days"
        self.spark_label.update(
            Text.assemble(
                as_text(f"{load.code} {load.name}", "bold"),
                f" · completions per {per}, {window}: {qty_text(sum(values))}"
                f" (best {per} {qty_text(max(values, default=0))})",
            )
        )
        self.sparkline.data = _units(values)

    def _draw_orders(self, view: StagesView) -> None:
        heading = f"Orders waiting at {view.stage} · {len(view.orders)}" if view.stage else ""
        if heading != self._queue_heading:
            self._queue_heading = heading
            self.orders_heading.update(as_text(heading or "Orders waiting"))
        table = self.orders_table
        table.late_style = Style(color=self._theme_color("error", "red"), bold=True)
        table.hold_style = Style(color=self._theme_color("warning", "yellow"), bold=True)
        today = datetime.fromtimestamp(view.now_ms / 1000).astimezone().date()
        table.show_queue(view.orders, today=today, wide=self.wide)

    # ------------------------------------------------------------ events

    @on(DataTable.RowHighlighted, "#stages-table")
    def _stage_highlighted(self, event: DataTable.RowHighlighted) -> None:
        code = event.row_key.value
        if code is not None and code != self._stage:
            self._stage = code
            self.reload()

    def action_toggle_span(self) -> None:
        self._span = "days" if self._span == "hours" else "hours"
        if self._view is not None:
            self.redraw()
