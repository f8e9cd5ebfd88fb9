"""The Stock screen's on-hand table: an item's stock by location and lot, or a bin's
(a location's) stock by item and lot, with each lot's dates and the flags a person must
not miss (below zero, expired, expired but allowed).

It keeps the highlighted row across the redraws every commit on the floor causes. The
Stock screen (tui/screens/stock.py) reads, heads and lays it out; this only draws.
"""

from __future__ import annotations

from datetime import date

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from db.stock import ItemStock, LocationStock, OnHand
from tui.formatting import cut, quantity
from tui.plain import as_text
from tui.widgets.columns import set_columns


def move_to(table: DataTable[Text], key: str) -> None:
    """Highlight the row `key`, scrolled on screen; the first row if it is gone."""
    try:
        table.move_cursor(row=table.get_row_index(key), scroll=True)
    except RowDoesNotExist:  # the row is gone (stock went to zero, a code was renamed)
        table.move_cursor(row=0, scroll=False)


def row_key(row: OnHand, *, by_item: bool) -> str:
    """A row's key: its location and lot in an item's view, its item and lot in a bin's."""
    return f"{row.location}\t{row.lot}" if by_item else f"{row.item}\t{row.lot}"


class OnHandTable(DataTable[Text]):
    """Stock on hand by location (an item's view) or by item (a bin's view), and lot."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def cursor_key(self) -> str | None:
        if self.row_count == 0:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def show_item(self, item: ItemStock, *, wide: bool, today: date) -> None:
        dated = _dated(item.on_hand)
        columns = [("location", "Location")]
        if wide:
            columns.append(("location_name", "Name"))
        columns += [("lot", "Lot"), *_lot_columns(dated, wide), ("qty", "On hand"),
                    ("uom", "Unit"), ("flag", "")]  # fmt: skip
        self._fill(item.on_hand, columns, by_item=True, wide=wide, today=today,
                   empty="none on hand")  # fmt: skip

    def show_location(self, location: LocationStock, *, wide: bool, today: date) -> None:
        dated = _dated(location.on_hand)
        columns = [("item", "Item"), ("description", "Description"), ("lot", "Lot"),
                   *_lot_columns(dated, wide), ("qty", "On hand"), ("uom", "Unit"),
                   ("flag", "")]  # fmt: skip
        self._fill(location.on_hand, columns, by_item=False, wide=wide, today=today,
                   empty="nothing on hand")  # fmt: skip

    def _fill(
        self,
        rows: tuple[OnHand, ...],
        columns: list[tuple[str, str]],
        *,
        by_item: bool,
        wide: bool,
        today: date,
        empty: str,
    ) -> None:
        set_columns(self, columns)
        dated = _dated(rows)
        with self.prevent(DataTable.RowHighlighted):
            selected = self.cursor_key()
            self.clear()
            for row in rows:
                self.add_row(
                    *self._cells(row, by_item=by_item, dated=dated, wide=wide, today=today),
                    key=row_key(row, by_item=by_item),
                )
            if not rows:
                self.add_row(Text(empty, style="dim"), *[Text("")] * (len(columns) - 1))
            if selected is not None:
                move_to(self, selected)

    def _style(self, variable: str) -> Style:
        return Style(color=self.app.theme_variables.get(variable, "red"), bold=True)

    def _flag(self, row: OnHand, today: date) -> Text:
        if row.qty_milli < 0:
            return Text("⚠ negative", style=self._style("error"))
        if row.expiry is not None and row.expiry < today:
            if row.expired_allowed:
                return Text("expired, allowed", style=self._style("warning"))
            return Text("⚠ expired", style=self._style("error"))
        return Text("")

    def _cells(
        self, row: OnHand, *, by_item: bool, dated: bool, wide: bool, today: date
    ) -> list[Text]:
        qty = quantity(row.qty_milli)
        if row.qty_milli < 0:
            qty.stylize(self._style("error"))
        if by_item:
            cells = [as_text(row.location)]
            if wide:
                cells.append(as_text(row.location_name))
        else:
            cells = [as_text(row.item), as_text(cut(row.description, 40 if wide else 22))]
        cells.append(as_text(row.lot or "—", style="" if row.lot else "dim"))
        if dated:
            cells.append(_day(row.expiry))
            if wide:
                cells.append(_day(row.produced))
        return [*cells, qty, as_text(row.uom), self._flag(row, today)]


def _lot_columns(dated: bool, wide: bool) -> list[tuple[str, str]]:
    """The lot's dates, when a lot on show has any (a label's AI 17 and AI 11)."""
    if not dated:
        return []
    return [("expiry", "Expires")] + ([("produced", "Made")] if wide else [])


def _dated(rows: tuple[OnHand, ...]) -> bool:
    return any(row.expiry is not None or row.produced is not None for row in rows)


def _day(day: date | None) -> Text:
    return Text(day.isoformat()) if day is not None else Text("—", style="dim")
