"""The board: every open work order at a glance, live, for supervisors and coordinators.

It reads through `db.board.LiveBoard`: all open orders once, then only the orders other
processes touched since, so a burst of scans costs a few small reads and a few redrawn
rows. Before that first full read it reads one screenful (the orders due first) and
paints it, so a plant with thousands of open orders shows its board at once.

Its marks come from the forecast (db/forecast.py, kept by `LiveForecast`): late, at
risk, idle, on hold, short of material. Typing filters (order, product, description,
stage, status); F10 steps the filter through the marks (late, risk, short, idle);
F7/F8/F9 sort by due date, priority or current stage in the plant's route order;
Enter opens the order.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Footer, Header, Input, Static

from db.board import BoardDelta, BoardRow, LiveBoard, board_rows
from db.forecast import LiveForecast, OrderForecast
from db.stages import stage_sequence
from tui.floor_screen import FloorScreen
from tui.watching import FloorClock
from tui.widgets.board_table import MARK_FILTERS, BoardTable, Palette, SortKey
from tui.widgets.text_input import TextInput

TIME_REFRESH_SECONDS = 20.0
# How often the board asks whether a full forecast is due (LiveForecast.due): it runs in
# the next read, not in the refresh a commit causes, so a scan reaches the screen as fast.
FORECAST_CHECK_SECONDS = 5.0
# Orders painted before the full read: more lines than the tallest kiosk shows.
FIRST_SCREENFUL = 100


@dataclass(frozen=True)
class FirstScreenful:
    """The orders due first, read before every open order is."""

    rows: list[BoardRow]


@dataclass(frozen=True)
class BoardRead:
    """What changed on the board, and in the forecast behind its marks."""

    delta: BoardDelta
    forecasts: dict[str, OrderForecast]
    every: bool  # every open order was forecast again (else: the touched ones judged)
    stages: list[str] | None  # the plant's stages in route order, on a full read


class BoardScreen(FloorScreen):
    """Every open work order: where it is, how far, late or at risk, short of material."""

    TITLE = "Board"
    BINDINGS = [
        # Shown beside the filter rather than in the footer, which keeps room for F1-F6.
        Binding("f7", "sort('due')", "Sort by due", id="sort_due", show=False),
        Binding("f8", "sort('priority')", "Sort by priority", id="sort_priority", show=False),
        # Shown in the footer: what a coordinator looks for first, orders by where they are
        # and orders by what is wrong with them.
        Binding("f9", "sort('stage')", "Stage", id="sort_stage"),
        Binding("f10", "next_mark", "Marks", id="mark_filter"),
        Binding("enter", "open_order", "Open order", id="open_order", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="clear_filter", show=False),
        # Ctrl+T works while the filter has the focus (it takes a plain "t" as text);
        # shown beside the filter too, so the footer keeps room for F1-F6.
        Binding("ctrl+t,t", "print_traveler", "Print traveler", id="print_traveler", show=False),
        # The filter keeps the focus so typing filters; the cursor keys still move the table.
        Binding("up", "cursor('up')", show=False),
        Binding("down", "cursor('down')", show=False),
        Binding("pageup", "cursor('page_up')", show=False),
        Binding("pagedown", "cursor('page_down')", show=False),
    ]

    def __init__(self, db_path: str, *, clock: FloorClock | None = None) -> None:
        super().__init__(db_path, id="board")
        self.clock = clock or FloorClock()
        # Used only by the load worker (one at a time, under the reader lock).
        self.live = LiveBoard()
        self.live_forecast = LiveForecast()
        self._forecast_wanted = False  # set on the UI thread, taken by the next read
        self._first_shown = False

    # ------------------------------------------------------------ widgets

    @property
    def table(self) -> BoardTable:
        return self.query_one(BoardTable)

    @property
    def filter_input(self) -> Input:
        return self.query_one("#board-filter", Input)

    @property
    def summary(self) -> Static:
        return self.query_one("#board-summary", Static)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("BOARD", id="board-summary", classes="screen-heading")
        with Horizontal(id="board-filter-bar"):
            yield TextInput(placeholder="filter: order, product, stage…", id="board-filter")
            yield Static("", id="board-sort")
        yield BoardTable(clock=self.clock, id="board-table")
        # Compact: the board's own keys (F9, F10) and every screen's F-key in 80 columns.
        yield Footer(compact=True)

    def on_mount(self) -> None:
        theme = self.app.current_theme
        self.table.colours = Palette(
            error=theme.error or "red",
            warning=theme.warning or "yellow",
            success=theme.success or "green",
        )
        self.table.set_width(self.app.size.width)
        self._show_sort()
        self.filter_input.focus()
        self.set_interval(TIME_REFRESH_SECONDS, self._clock_moved)
        self.set_interval(FORECAST_CHECK_SECONDS, self._forecast_if_due)

    def _forecast_if_due(self) -> None:
        if self.live_forecast.due(self.clock.now_ms()):
            self._forecast_wanted = True
            self.reload()

    def _clock_moved(self) -> None:
        # "12m ago" ages, and at midnight orders turn late: the words and the counts.
        self.table.refresh_times()
        self._show_summary()

    def on_resize(self, event: events.Resize) -> None:
        self.table.set_width(event.size.width)

    # ------------------------------------------------------------ data

    def load(self, conn: sqlite3.Connection) -> BoardRead | FirstScreenful:
        if not self._first_shown:
            return FirstScreenful(board_rows(conn, limit=FIRST_SCREENFUL))
        delta = self.live.refresh(conn)
        wanted, self._forecast_wanted = self._forecast_wanted, False
        every, forecasts = self.live_forecast.update(
            conn,
            list(self.live.orders.values()),
            delta.rows,
            full=delta.full or wanted,
            now_ms=self.clock.now_ms(),
        )
        stages = [code for code, _ in stage_sequence(conn)] if delta.full else None
        return BoardRead(delta, forecasts, every, stages)

    def show(self, read: BoardRead | FirstScreenful) -> None:
        if isinstance(read, FirstScreenful):
            self._show_delta(read)
            return
        if read.stages is not None:
            self.table.set_stage_order(read.stages)
        self._show_delta(read.delta)
        if read.every or read.forecasts:
            self.table.set_forecasts(read.forecasts, every=read.every)
            self._show_summary()

    def _show_delta(self, result: BoardDelta | FirstScreenful) -> None:
        if isinstance(result, FirstScreenful):
            self._first_shown = True
            self.table.replace_all(result.rows)
            self.summary.update(f"BOARD  reading every open order… ({len(result.rows)} shown)")
            # The full read waits for the first paint, so it does not hold it back.
            self.call_after_refresh(self.reload)
            return
        if result.full:
            self.table.replace_all(result.rows)
        elif not result.empty:
            self.table.apply(result.rows, result.removed)
        self._show_summary()

    def _show_summary(self) -> None:
        flags = self.table.flags.values()
        parts = [f"BOARD  {len(self.table.orders)} open"]
        parts.append(f"⚠ {sum(f.late for f in flags)} late")
        parts.append(f"◷ {sum(f.at_risk for f in flags)} at risk")
        parts.append(f"✗ {sum(f.short for f in flags)} short")
        parts.append(f"◌ {sum(f.idle for f in flags)} idle")
        parts.append(f"⏸ {sum(f.on_hold for f in flags)} on hold")
        shown = self.table.row_count
        if shown != len(self.table.orders):
            parts.append(f"showing {shown}")
        self.summary.update(" · ".join(parts))

    # ------------------------------------------------------------ actions

    @on(Input.Changed, "#board-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)
        self._show_summary()

    @on(Input.Submitted, "#board-filter")
    def _filter_submitted(self) -> None:
        self.action_open_order()

    @on(BoardTable.Chosen, "#board-table")
    def _row_chosen(self, event: BoardTable.Chosen) -> None:
        self.open_order(event.key)

    def action_open_order(self) -> None:
        number = self.table.highlighted
        if number is not None:
            self.open_order(number)

    def open_order(self, number: str) -> None:
        # Imported when first needed: the board's first paint waits for nothing it shows.
        from tui.screens.order import OrderScreen

        self.app.push_screen(OrderScreen(self.db_path, number, clock=self.clock))

    def action_print_traveler(self) -> None:
        number = self.table.highlighted
        if number is None:
            self.notify("No work order to print: the board is empty", severity="warning")
        else:
            self._print_traveler(number)

    @work(thread=True, group="print", exit_on_error=False)
    def _print_traveler(self, number: str) -> None:
        from tui.printing import write_traveler

        try:
            path = write_traveler(self.db_path, number)
        except (OSError, LookupError, ValueError) as exc:
            self.app.call_from_thread(
                self.notify, f"Traveler {number} not written: {exc}", severity="error"
            )
        else:
            self.app.call_from_thread(self.notify, f"Traveler {number} written to {path}")

    def action_sort(self, key: SortKey) -> None:
        self.table.set_sort(key)
        self._show_sort()

    def action_next_mark(self) -> None:
        marks = MARK_FILTERS
        self.table.set_mark_filter(marks[(marks.index(self.table.mark_filter) + 1) % len(marks)])
        self._show_sort()
        self._show_summary()

    def _show_sort(self) -> None:
        mark = self.table.mark_filter
        only = f" · only {mark}" if mark else ""
        self.query_one("#board-sort", Static).update(
            f"by {self.table.sort_by}{only} · F7 due F8 priority · ^T traveler"
        )

    def action_clear_filter(self) -> None:
        self.filter_input.value = ""

    def action_cursor(self, how: str) -> None:
        table = self.table
        if how == "up":
            table.action_cursor_up()
        elif how == "down":
            table.action_cursor_down()
        elif how == "page_up":
            table.action_page_up()
        else:
            table.action_page_down()
