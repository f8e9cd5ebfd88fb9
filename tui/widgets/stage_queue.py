"""The orders waiting at one stage, most urgent first: order, product, units waiting,
done here, ordered quantity, due (late marked in words), priority and status.

A LineTable (tui/widgets/line_table.py): at 5,000 open orders a stage may queue
thousands, and every commit on the floor re-reads the queue; only the lines that
changed are drawn again, where a DataTable refilled (and measured) every row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from rich.style import Style
from rich.text import Text

from db.stages import QueuedOrder
from tui.formatting import quantity
from tui.plain import as_text
from tui.widgets.line_table import LineColumn, LineTable

# 75 cells: an 80-column terminal's queue is 76 wide inside its scrollbar.
NARROW = (
    LineColumn("order", "Order", 8),
    LineColumn("product", "Product", 9),
    LineColumn("waiting", "Waiting", 7),
    LineColumn("done", "Done", 6),
    LineColumn("qty", "Qty", 5),
    LineColumn("due", "Due", 17),
    LineColumn("status", "", 9),
)
WIDE = (
    *NARROW[:3],
    LineColumn("done", "Done here", 9),
    *NARROW[4:6],
    LineColumn("priority", "Priority", 8),
    LineColumn("status", "Status", 11),
)


class StageQueue(LineTable):
    """Open orders with units waiting at a stage, keyed by order number."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.queue: dict[str, QueuedOrder] = {}
        self.today = date.today()
        self.late_style = Style(color="red", bold=True)
        self.hold_style = Style(color="yellow", bold=True)

    def show_queue(self, orders: Sequence[QueuedOrder], *, today: date, wide: bool) -> None:
        if today != self.today:
            self.today = today
            self.forget_lines()  # "late" depends on the day
        self.set_columns(WIDE if wide else NARROW)
        self.queue = {order.number: order for order in orders}
        self.set_keys(list(self.queue))

    def row_version(self, key: str) -> object:
        return self.queue[key]

    def row_cells(self, key: str) -> list[Text]:
        order = self.queue[key]
        late = date.fromisoformat(order.due) < self.today
        due = Text(order.due + (" ⚠ late" if late else ""), style=self.late_style if late else "")
        on_hold = order.status == "on_hold"
        cells = [
            as_text(order.number),
            as_text(order.product),
            quantity(order.waiting_milli),
            quantity(order.done_milli),
            quantity(order.qty_milli),
            due,
        ]
        if on_hold:
            status = Text("⏸ on hold", style=self.hold_style)
        elif len(self.columns) == len(WIDE):
            status = Text(order.status.replace("_", " "))
        else:
            status = Text("")
        if len(self.columns) == len(WIDE):
            cells.append(Text(str(order.priority), justify="right"))
        cells.append(status)
        return cells
