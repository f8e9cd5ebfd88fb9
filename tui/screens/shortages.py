"""The Shortages screen (SPEC §5): the components the stores cannot cover, the work orders
they hold up, and the supply on its way — for coordinators.

It reads db.shortages' netting (every open order, most urgent first, against the
stores' bins and then the open purchase orders) off the UI thread, again on every
commit. Two tables:

- by component: what nothing covers (✗ SHORT), what a purchase order covers only after
  the consuming stage is projected to start (◷ LATE), what a purchase order covers in
  time (on order), with the orders each holds up, most urgent first, and its supply;
- by order: each (work order, component) among those, with its figures; Enter opens
  the work order.

What the stores hold is not a shortage: the heading counts those lines as to pick
(`shopfloor picklist ORDER` says from which bins).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import Footer, Header, Static

from db.shortages import Answer, Shortage, shortages
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.formatting import cut, quantity, quantity_text
from tui.plain import as_text
from tui.watching import FloorClock
from tui.widgets.cell_table import CellTable

# Worst first: the order the component table lists them in.
WORSE: dict[Answer, int] = {"short": 0, "supply_late": 1, "on_order": 2}
# A mark carries a symbol and a word: colour alone fails on a monochrome kiosk.
MARKS: dict[Answer, str] = {"short": "✗ SHORT", "supply_late": "◷ LATE", "on_order": "on order"}
HELD_UP_SHOWN = 3  # orders named in a component's row; the rest counted


@dataclass(frozen=True)
class Component:
    """One component's shortfall over every open order that needs it."""

    item: str
    description: str
    uom: str
    answer: Answer  # the worst of its lines
    short_milli: int
    from_supply_milli: int
    from_stock_milli: int
    orders: tuple[str, ...]  # the orders it holds up (short or late supply), most urgent first
    supply: tuple[str, ...]  # "PO-7103 12-04", by due date


def by_component(lines: Sequence[Shortage]) -> list[Component]:
    """The lines that wait on supply or on nothing, gathered per component, worst first."""
    grouped: dict[str, list[Shortage]] = {}
    for line in lines:
        if line.answer in WORSE:
            grouped.setdefault(line.item, []).append(line)
    components = []
    for item, its in grouped.items():
        answer = min((line.answer for line in its), key=lambda a: WORSE[a])
        supply = sorted({(s.due, s.number) for line in its for s in line.supply})
        held_up = [line.work_order for line in its if line.answer in ("short", "supply_late")]
        components.append(
            Component(
                item,
                its[0].description,
                its[0].uom,
                answer,
                sum(line.short_milli for line in its),
                sum(line.from_supply_milli for line in its),
                sum(line.from_stock_milli for line in its),
                tuple(dict.fromkeys(held_up)),
                tuple(f"{number} {due[5:]}" for due, number in supply),
            )  # fmt: skip
        )
    components.sort(key=lambda c: (WORSE[c.answer], -c.short_milli, c.item))
    return components


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


class ShortagesScreen(FloorScreen):
    """Short components, the orders they hold up, and their supply."""

    TITLE = "Shortages"
    CSS_PATH = "shortages.tcss"
    AUTO_FOCUS = "#shortages-items"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE

    def __init__(self, db_path: str, *, clock: FloorClock | None = None) -> None:
        super().__init__(db_path)
        self.clock = clock or FloorClock()
        self._lines: list[Shortage] | None = None

    @property
    def items_table(self) -> CellTable:
        return self.query_one("#shortages-items", CellTable)

    @property
    def lines_table(self) -> CellTable:
        return self.query_one("#shortages-lines", CellTable)

    @property
    def heading(self) -> Static:
        return self.query_one("#shortages-heading", Static)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Netting the open orders…", id="shortages-heading", classes="floor-heading")
        yield Static("By component", classes="shortages-caption")
        yield CellTable(id="shortages-items")
        yield Static("By work order, most urgent first", classes="shortages-caption")
        yield CellTable(id="shortages-lines")
        yield Footer()

    @on(CellTable.Chosen, "#shortages-lines")
    def _open_order(self, event: CellTable.Chosen) -> None:
        # Imported when first needed, as the board does.
        from tui.screens.order import OrderScreen

        number = event.key.split("\x1f")[0]
        self.app.push_screen(OrderScreen(self.db_path, number, clock=self.clock))

    def load(self, conn: sqlite3.Connection) -> list[Shortage]:
        return shortages(conn)

    def show(self, result: list[Shortage]) -> None:
        self._lines = result
        self.redraw()

    def redraw(self) -> None:
        if self._lines is None:
            return
        lines = self._lines
        components = by_component(lines)
        waiting = [line for line in lines if line.answer in WORSE]
        self.heading.update(self._summary(lines, components))
        self._draw_components(components)
        self._draw_lines(waiting)

    def _summary(self, lines: Sequence[Shortage], components: Sequence[Component]) -> str:
        short = [c for c in components if c.answer == "short"]
        held_up = {line.work_order for line in lines if line.answer in ("short", "supply_late")}
        late = sum(1 for line in lines if line.answer == "supply_late")
        to_pick = sum(1 for line in lines if line.answer == "to_pick")
        if not components:
            return f"Nothing short: the stores cover every open order · {to_pick} lines to pick"
        return (
            f"✗ {_count(len(short), 'component')} short · "
            f"{_count(len(held_up), 'order')} held up · "
            f"◷ {_count(late, 'line')} supplied late · {_count(to_pick, 'line')} to pick"
        )

    def _mark(self, answer: Answer) -> Text:
        theme = self.app.theme_variables
        colour = theme.get("error", "red") if answer == "short" else theme.get("warning", "yellow")
        return Text(MARKS[answer], style=f"bold {colour}" if answer in WORSE else "")

    def _draw_components(self, components: Sequence[Component]) -> None:
        wide = self.wide
        columns = [("item", "Component"), ("mark", "")]
        if wide:
            columns.append(("description", "Description"))
        columns += [
            ("short", "Short"),
            ("supply", "On order"),
            ("uom", "Unit"),
            ("orders", "Holds up"),
            ("pos", "Supply (due)"),
        ]
        table = self.items_table
        table.set_labels(*(label for _, label in columns), keys=[key for key, _ in columns])
        rows: list[tuple[str, list[str | Text]]] = []
        for component in components:
            cells: list[str | Text] = [as_text(component.item, style="bold")]
            cells.append(self._mark(component.answer))
            if wide:
                cells.append(cut(component.description, 28))
            held = list(component.orders[:HELD_UP_SHOWN])
            if len(component.orders) > HELD_UP_SHOWN:
                held.append(f"+{len(component.orders) - HELD_UP_SHOWN}")
            cells += [
                quantity(component.short_milli),
                quantity(component.from_supply_milli),
                component.uom,
                " ".join(held) or "—",
                " ".join(component.supply) or "none on order",
            ]
            rows.append((component.item, cells))
        table.set_rows(rows)

    def _draw_lines(self, lines: Sequence[Shortage]) -> None:
        wide = self.wide
        columns = [("order", "Order"), ("item", "Component"), ("mark", "")]
        if wide:
            columns += [("stage", "Stage"), ("needed", "Needed by"), ("required", "Required"),
                        ("issued", "Issued")]  # fmt: skip
        columns += [("to_issue", "To issue")]
        if wide:
            columns.append(("stock", "Stock"))
        columns += [("supply", "Supply"), ("short", "Short"), ("pos", "Purchase orders")]
        table = self.lines_table
        table.set_labels(*(label for _, label in columns), keys=[key for key, _ in columns])
        rows: list[tuple[str, list[str | Text]]] = []
        for line in lines:
            cells: list[str | Text] = [
                as_text(line.work_order, style="bold"),
                line.item,
                self._mark(line.answer),
            ]
            if wide:
                cells += [line.stage or "", line.needed_by,
                          quantity(line.required_milli), quantity(line.issued_milli)]  # fmt: skip
            cells.append(quantity(line.to_issue_milli))
            if wide:
                cells.append(quantity(line.from_stock_milli))
            cells += [
                quantity(line.from_supply_milli),
                quantity(line.short_milli),
                " ".join(
                    f"{s.number} {quantity_text(s.qty_milli)}" + ("" if s.in_time else " late")
                    for s in line.supply
                ),
            ]
            rows.append((f"{line.work_order}\x1f{line.item}", cells))
        table.set_rows(rows)
