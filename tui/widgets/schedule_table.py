"""The Schedule screen's order lines: per open order its due date, projected finish, risk,
the stage holding it, and a bar from now to the projected finish with the due date
marked on one time scale shared by every line, so the orders compare at a glance.

A LineTable (tui/widgets/line_table.py): thousands of open orders, re-read on every
commit; only the lines whose forecast changed are drawn again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from rich.style import Style
from rich.text import Text

from db.forecast import OrderForecast
from tui.plain import as_text
from tui.widgets.line_table import CELL_PADDING, LineColumn, LineTable

FILLED = "█"
EMPTY = "·"
DUE = "┃"
DUE_PASSED = "◀"
BEYOND = "▶"

RISK_WORDS = {"late": "LATE", "at_risk": "RISK", "tight": "tight", "on_track": "ok"}

FIXED_NARROW = (
    LineColumn("order", "Order", 8),
    LineColumn("due", "Due", 5),
    LineColumn("finish", "Finish", 11),
    LineColumn("risk", "Risk", 5),
    LineColumn("holding", "At", 5),
)
FIXED_WIDE = (
    LineColumn("order", "Order", 9),
    LineColumn("product", "Product", 10),
    LineColumn("due", "Due", 10),
    LineColumn("finish", "Projected finish", 16),
    LineColumn("slack", "Slack h", 7),
    LineColumn("risk", "Risk", 5),
    LineColumn("holding", "Holding", 7),
)
MIN_BAR = 10
SCROLLBAR = 2


def due_end(due: str) -> float:
    """The end of a due date (local midnight after it), epoch seconds."""
    day = date.fromisoformat(due)
    return (datetime(day.year, day.month, day.day) + timedelta(days=1)).astimezone().timestamp()


def timeline(
    now: float, finish: float, due: float, end: float, width: int
) -> tuple[str, int, int | None]:
    """The bar's characters over [now, end] in `width` cells, how many are filled, and
    where the due mark is (None: beyond the scale). Filled to the projected finish; the
    due date's end is `┃`, `◀` at the start when it has passed; `▶` at the end when the
    finish is beyond the scale."""
    span = max(end - now, 1.0)

    def cell(t: float) -> float:
        return (t - now) / span * width

    filled = min(max(round(cell(finish)), 1), width)
    cells = [FILLED] * filled + [EMPTY] * (width - filled)
    if finish > end:
        cells[-1] = BEYOND
    mark: int | None
    if due <= now:
        mark = 0
        cells[0] = DUE_PASSED
    elif due > end:
        mark = None
    else:
        mark = min(int(cell(due)), width - 1)
        cells[mark] = DUE
    return "".join(cells), filled, mark


class ScheduleTable(LineTable):
    """Open orders keyed by number, most at risk first, each with its bar."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.orders: dict[str, OrderForecast] = {}
        self.now = 0.0
        self.end = 0.0
        self.bar_width = MIN_BAR
        self.wide = False
        self.risk_styles: dict[str, Style] = {}
        self.due_style = Style(bold=True)

    def show_orders(
        self, orders: Sequence[OrderForecast], *, now: float, end: float, width: int, wide: bool
    ) -> None:
        """The lines for `orders` (in their order) on the scale [now, end], `width` cells
        wide in all."""
        fixed = FIXED_WIDE if wide else FIXED_NARROW
        # Each cell is padded on both sides; the vertical scrollbar takes two columns.
        used = sum(column.width + 2 * CELL_PADDING for column in fixed) + 2 * CELL_PADDING
        bar_width = max(width - used - SCROLLBAR, MIN_BAR)
        scale = (now, end, bar_width, wide)
        if scale != (self.now, self.end, self.bar_width, self.wide):
            self.now, self.end, self.bar_width, self.wide = scale
            self.forget_lines()
        label = f"now → {datetime.fromtimestamp(end).strftime('%m-%d %H:%M')}"
        self.set_columns((*fixed, LineColumn("bar", label[:bar_width], bar_width)))
        self.orders = {order.number: order for order in orders}
        self.set_keys(list(self.orders))

    def row_version(self, key: str) -> object:
        return self.orders[key]

    def row_cells(self, key: str) -> list[Text]:
        order = self.orders[key]
        finish = datetime.fromtimestamp(order.finish_ts)
        style = self.risk_styles.get(order.risk, Style())
        risk = Text(RISK_WORDS.get(order.risk, order.risk), style=style)
        bar, filled, mark = timeline(self.now, order.finish_ts, due_end(order.due), self.end,
                             self.bar_width)  # fmt: skip
        drawn = Text(bar)
        drawn.stylize(style, 0, filled)
        if mark is not None:
            drawn.stylize(self.due_style, mark, mark + 1)
        holding = as_text(order.holding_stage or "")
        if self.wide:
            return [
                as_text(order.number),
                as_text(order.product),
                Text(order.due),
                Text(finish.strftime("%Y-%m-%d %H:%M")),
                Text(f"{order.slack_hours:.1f}", justify="right"),
                risk,
                holding,
                drawn,
            ]
        return [
            as_text(order.number),
            Text(order.due[5:]),
            Text(finish.strftime("%m-%d %H:%M")),
            risk,
            holding,
            drawn,
        ]
