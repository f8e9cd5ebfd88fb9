"""The Schedule screen (SPEC §5, issue 11 item 5): when every open order will finish and
what each stage has on its plate.

Owns three views of the forecast (db/forecast.py, kept by `LiveForecast` as the board
keeps it): per open order, most at risk first, a bar from now to its projected finish
with its due date marked (tui/widgets/schedule_table.py); per stage its planned load in
hours on each of the next working days against the hours it works a day, the rate the
forecast used and where that rate came from; and the highlighted stage's throughput
history, units completed per day, plotted by textual-plotext. Enter on an order opens
it. Reads run in `load` (a worker thread); another process's commit re-reads through
the live board.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from rich.style import Style
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static
from textual_plotext import PlotextPlot

from db import stages
from db.board import LiveBoard
from db.forecast import (
    RISKS,
    DayLoad,
    LiveForecast,
    OrderForecast,
    StageRate,
    most_urgent_first,
)
from db.stages import StageLoad
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.plain import as_text, visible
from tui.watching import FloorClock
from tui.widgets.bars import load_strip
from tui.widgets.schedule_table import ScheduleTable, due_end

HISTORY_DAYS = 14  # the throughput plot's days, the last one today
# The order bars' scale reaches the latest finish or due date, but no further than this.
LONGEST_SCALE_DAYS = 28
REFORECAST_SECONDS = 15.0


@dataclass(frozen=True)
class StagePlan:
    """One stage as the forecast plans it, and what it did lately."""

    code: str
    name: str
    rate: StageRate | None
    per_hour: float
    source: str  # measured | standard or plant (its orders' routings decide)
    days: tuple[DayLoad, ...]  # the planned hours of each working day from today
    history_milli: tuple[int, ...]  # completions per day, oldest first, the last today

    @property
    def planned_hours(self) -> float:
        return sum(day.hours for day in self.days)


@dataclass(frozen=True)
class ScheduleView:
    orders: list[OrderForecast]
    stages: list[StagePlan]
    now_ms: int
    today: date


class ScheduleScreen(FloorScreen):
    """Per order a bar to its projected finish; per stage its load and throughput."""

    TITLE = "Schedule"
    CSS_PATH = "schedule.tcss"
    AUTO_FOCUS = "#schedule-orders"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE

    def __init__(self, db_path: str, *, clock: FloorClock | None = None) -> None:
        super().__init__(db_path)
        self.clock = clock or FloorClock()
        self._view: ScheduleView | None = None
        self._stage: str | None = None
        self._plotted: tuple[object, ...] = ()
        # Used only by the load worker (one at a time, under the reader lock).
        self.live = LiveBoard()
        self.live_forecast = LiveForecast()

    # ------------------------------------------------------------ widgets

    @property
    def orders_table(self) -> ScheduleTable:
        return self.query_one("#schedule-orders", ScheduleTable)

    @property
    def stages_table(self) -> DataTable[Text]:
        return self.query_one("#schedule-stages", DataTable)

    @property
    def plot(self) -> PlotextPlot:
        return self.query_one("#schedule-plot", PlotextPlot)

    @property
    def stage(self) -> str | None:
        """The highlighted stage's code: its throughput is plotted."""
        return self._stage

    def on_mount(self) -> None:
        # Orders turn idle, and plans age, with time alone: read again now and then.
        self.set_interval(REFORECAST_SECONDS, self.reload)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the forecast…", id="schedule-heading", classes="floor-heading")
        yield ScheduleTable(id="schedule-orders")
        with Horizontal(id="schedule-bottom"):
            yield DataTable(id="schedule-stages", cursor_type="row", zebra_stripes=True)
            yield PlotextPlot(id="schedule-plot")
        yield Footer()

    # ------------------------------------------------------------ reading

    def load(self, conn: sqlite3.Connection) -> ScheduleView:
        now = self.clock.now_ms()
        delta = self.live.refresh(conn)
        open_orders = list(self.live.orders.values())
        # Every order forecast again on a full read and when the last full one is old
        # (a reload runs in this worker, off the UI thread); else the touched orders are
        # judged again against the last plan, so a moved due date shows at once.
        full = delta.full or self.live_forecast.due(now)
        self.live_forecast.update(conn, open_orders, delta.rows, full=full, now_ms=now)
        result = self.live_forecast.result
        assert result is not None  # update() made one if there was none
        loads = stages.stage_loads(conn, now_ms=now, days=HISTORY_DAYS, open_orders=open_orders)
        planned = result.load()
        plans = [self._stage_plan(load, result.rates, planned, result.plant_per_hour)
                 for load in loads]  # fmt: skip
        orders = most_urgent_first(
            result.orders[row.number] for row in open_orders if row.number in result.orders
        )
        today = datetime.fromtimestamp(now / 1000).astimezone().date()
        return ScheduleView(orders, plans, now, today)

    @staticmethod
    def _stage_plan(
        load: StageLoad, rates: dict[str, StageRate], planned: dict[str, list[DayLoad]],
        plant_per_hour: float,
    ) -> StagePlan:  # fmt: skip
        rate = rates.get(load.code)
        if rate is not None and rate.measured_per_hour is not None:
            per_hour, source = rate.measured_per_hour, "measured"
        else:
            # Each order's routing gives its own standard time here: the plant figure is
            # the one rate that holds for the stage as a whole.
            per_hour, source = plant_per_hour, "standard or plant"
        return StagePlan(
            load.code, load.name, rate, per_hour, source,
            tuple(planned.get(load.code, ())), load.daily_milli,
        )  # fmt: skip

    def show(self, result: ScheduleView) -> None:
        self._view = result
        codes = [plan.code for plan in result.stages]
        if self._stage not in codes:
            self._stage = codes[0] if codes else None
        self.redraw()

    # ------------------------------------------------------------ drawing

    def _color(self, variable: str, fallback: str) -> Style:
        return Style(color=self.app.theme_variables.get(variable, fallback), bold=True)

    def redraw(self) -> None:
        view = self._view
        if view is None:
            return
        counts = {risk: sum(1 for o in view.orders if o.risk == risk) for risk in RISKS}
        idle = sum(1 for o in view.orders if o.idle)
        self.query_one("#schedule-heading", Static).update(
            f"{len(view.orders)} open orders · {counts['late']} late · "
            f"{counts['at_risk']} at risk · {counts['tight']} tight · {idle} idle"
        )
        self._draw_orders(view)
        self._draw_stages(view)
        self._draw_plot(view)

    def _draw_orders(self, view: ScheduleView) -> None:
        table = self.orders_table
        table.risk_styles = {
            "late": self._color("error", "red"),
            "at_risk": self._color("warning", "yellow"),
            "tight": self._color("accent", "orange"),
            "on_track": self._color("success", "green"),
        }
        now = view.now_ms / 1000
        ends = [max(o.finish_ts, due_end(o.due)) for o in view.orders]
        end = min(max(ends, default=now + 86_400), now + LONGEST_SCALE_DAYS * 86_400)
        end = max(end, now + 3_600)
        table.show_orders(view.orders, now=now, end=end, width=self.size.width, wide=self.wide)

    def _draw_stages(self, view: ScheduleView) -> None:
        table = self.stages_table
        days = 10 if self.wide else 5
        columns = ["Stage", "Planned h", "Days", f"Next {days} days"]
        if self.wide:
            columns[1:1] = ["h/day", "Rate/h"]
        if [c.label.plain for c in table.columns.values()] != columns:
            table.clear(columns=True)
            table.add_columns(*columns)
        with table.prevent(DataTable.RowHighlighted):
            table.clear()
            for plan in view.stages:
                hours = plan.rate.hours_per_day if plan.rate else 8.0
                strip = load_strip([d.hours / d.capacity_hours for d in plan.days[:days]], days)
                cells: list[Text] = [
                    as_text(plan.code, "bold"),
                    Text(f"{plan.planned_hours:.1f}", justify="right"),
                    # The planned hours in days of the stage's own hours.
                    Text(f"{plan.planned_hours / hours:.1f}", justify="right"),
                    Text(strip),
                ]
                if self.wide:
                    parallel = plan.rate.parallel if plan.rate else 1
                    cells[1:1] = [
                        Text(f"{hours:g}×{parallel}", justify="right"),
                        Text(f"{plan.per_hour:.1f} {plan.source}"),
                    ]
                table.add_row(*cells, key=plan.code)
            if self._stage is not None and view.stages:
                row = next(n for n, p in enumerate(view.stages) if p.code == self._stage)
                table.move_cursor(row=row)

    def _draw_plot(self, view: ScheduleView) -> None:
        plan = next((p for p in view.stages if p.code == self._stage), None)
        drawn = (plan, view.today, self.wide, self.app.theme)
        if drawn == self._plotted:
            return
        self._plotted = drawn
        plt = self.plot.plt
        plt.clear_data()
        plt.clear_figure()
        if plan is None:
            plt.title("No stages are set up: import stages.csv")
            self.plot.refresh()
            return
        shown = plan.history_milli if self.wide else plan.history_milli[-7:]
        first = view.today - timedelta(days=len(shown) - 1)
        labels = [(first + timedelta(days=n)).strftime("%d") for n in range(len(shown))]
        plt.bar(labels, [v / 1000 for v in shown], marker="hd")
        # The stage code is the record's text: plotext's output is read for ANSI codes.
        plt.title(f"{visible(plan.code)}: units completed per day")
        self.plot.refresh()

    # ------------------------------------------------------------ events

    @on(ScheduleTable.Chosen, "#schedule-orders")
    def _order_chosen(self, event: ScheduleTable.Chosen) -> None:
        # Imported when first needed, as the board does.
        from tui.screens.order import OrderScreen

        self.app.push_screen(OrderScreen(self.db_path, event.key, clock=self.clock))

    @on(DataTable.RowHighlighted, "#schedule-stages")
    def _stage_highlighted(self, event: DataTable.RowHighlighted) -> None:
        code = event.row_key.value
        if code is not None and code != self._stage and self._view is not None:
            self._stage = code
            self._draw_plot(self._view)
