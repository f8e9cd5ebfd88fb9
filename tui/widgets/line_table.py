"""A table drawn line by line: fixed-width columns under a fixed header, one line per row.

For the tables that change all day (the board, a station's scan log). DataTable redraws
every visible cell on any change and measures every cell it is given: 50-150 ms a frame
on a busy board, seconds to fill 5,000 orders. Here a row's line is rendered only when
it comes into view and kept until the row changes, and a change redraws only the lines
of the rows that changed (the whole view only when rows came, went or moved).

A subclass says what a row is: `row_version(key)` (an object that changes whenever the
row's words do) and `row_cells(key)` (its cells, one Text per column).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.plain import as_text

CELL_PADDING = 1
STYLES = Path(__file__).with_name("line_table.tcss")


@dataclass(frozen=True)
class LineColumn:
    key: str
    label: str
    width: int


class LineTable(ScrollView, can_focus=True):
    """Rows keyed by a string, in the order `set_keys` gives; line 0 is the header."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--header",
        "line-table--cursor",
        "line-table--even-row",
    }

    # Component styles live with the widget (default CSS, which a screen's rules override),
    # as Textual's own tables keep theirs; the file says why.
    DEFAULT_CSS = STYLES.read_text(encoding="utf-8")

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open", show=False, id="line_table_choose"),
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
    ]

    class Chosen(Message):
        """A row was chosen (Enter, or a click on the highlighted line)."""

        def __init__(self, table: LineTable, key: str) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> LineTable:
            return self.table

    def __init__(self, *, show_cursor: bool = True, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.show_cursor = show_cursor
        # Without a cursor there is nothing to do with the focus: it stays where keys act.
        self.can_focus = show_cursor
        self.cursor_row = 0
        self.columns: list[LineColumn] = []
        self._keys: list[str] = []
        self._position: dict[str, int] = {}
        # Each row's rendered line, with the version of the row it shows.
        self._lines: dict[str, tuple[object, Strip]] = {}
        self._header: Strip | None = None

    # ------------------------------------------------------------ what a row is

    def row_version(self, key: str) -> object:
        """An object equal to the last one only while the row's words are unchanged."""
        raise NotImplementedError

    def row_cells(self, key: str) -> list[Text]:
        """The row's cells, one per column."""
        raise NotImplementedError

    # ------------------------------------------------------------ what is shown

    @property
    def keys(self) -> list[str]:
        """The rows' keys, top to bottom."""
        return list(self._keys)

    @property
    def row_count(self) -> int:
        return len(self._keys)

    @property
    def highlighted(self) -> str | None:
        """The key of the row under the cursor."""
        if not self._keys:
            return None
        return self._keys[min(self.cursor_row, len(self._keys) - 1)]

    def has_row(self, key: str) -> bool:
        return key in self._position

    @property
    def line_width(self) -> int:
        return sum(column.width + 2 * CELL_PADDING for column in self.columns)

    def line_text(self, key: str) -> str:
        """The row's whole line as the terminal shows it, without colours."""
        return "".join(segment.text for segment in self._line(key))

    # ------------------------------------------------------------ changes

    def set_columns(self, columns: Sequence[LineColumn]) -> None:
        if list(columns) == self.columns:
            return
        self.columns = list(columns)
        self._lines.clear()
        self._header = None
        self._resize()
        self.refresh()

    def set_keys(self, keys: Sequence[str]) -> None:
        """Show these rows in this order, keeping the cursor on the same row."""
        keep = self.highlighted
        self._keys = list(keys)
        self._position = {key: i for i, key in enumerate(self._keys)}
        # Lines of rows that left are not needed again.
        for key in [k for k in self._lines if k not in self._position]:
            del self._lines[key]
        self._resize()
        if keep is not None and keep in self._position:
            self.cursor_row = self._position[keep]
        else:
            self.cursor_row = min(self.cursor_row, max(len(self._keys) - 1, 0))
        self.refresh()
        self._keep_cursor_in_view()

    def refresh_row(self, key: str) -> None:
        """Redraw one row's line (if it is in view) after its words changed."""
        position = self._position.get(key)
        if position is not None:
            self.refresh_line(position + 1)

    def forget_lines(self) -> None:
        """Render every line again as it comes into view (the words depend on the time)."""
        self._lines.clear()
        self.refresh()

    # ------------------------------------------------------------ cursor

    def move_cursor(self, row: int) -> None:
        if not self._keys:
            self.cursor_row = 0
            return
        row = max(0, min(row, len(self._keys) - 1))
        if row != self.cursor_row:
            self.refresh_line(self.cursor_row + 1)
            self.cursor_row = row
            self.refresh_line(row + 1)
        self._keep_cursor_in_view()

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._keys) - 1)

    def action_choose(self) -> None:
        key = self.highlighted
        if key is not None and self.show_cursor:
            self.post_message(self.Chosen(self, key))

    async def _on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y - 1
        if not self.show_cursor or event.y < 1 or not 0 <= index < len(self._keys):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(index)

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def _keep_cursor_in_view(self) -> None:
        if not self.show_cursor:
            return
        # Row i sits on virtual line i + 1 (line 0 is the header, fixed on top).
        view = self.scrollable_content_region.height
        top = int(self.scroll_offset.y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, force=True)
        elif view > 1 and self.cursor_row + 2 - view > top:
            self.scroll_to(y=self.cursor_row + 2 - view, animate=False, force=True)

    # ------------------------------------------------------------ drawing

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        # A terminal narrower than the columns scrolls sideways.
        left = int(self.scroll_offset.x)
        base = self.rich_style
        if y == 0:
            style = base + self.get_component_rich_style("line-table--header")
            return self._header_line().apply_style(style).crop_extend(left, left + width, style)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._keys):
            return Strip.blank(width, base)
        if self.show_cursor and index == self.cursor_row:
            style = base + self.get_component_rich_style("line-table--cursor")
        elif index % 2 == 0:
            style = base + self.get_component_rich_style("line-table--even-row")
        else:
            style = base
        line = self._line(self._keys[index])
        return line.apply_style(style).crop_extend(left, left + width, style)

    def _line(self, key: str) -> Strip:
        version = self.row_version(key)
        kept = self._lines.get(key)
        if kept is not None and (kept[0] is version or kept[0] == version):
            return kept[1]
        line = self._render_cells(self.row_cells(key))
        self._lines[key] = (version, line)
        return line

    def _header_line(self) -> Strip:
        if self._header is None:
            self._header = self._render_cells([Text(column.label) for column in self.columns])
        return self._header

    def _render_cells(self, cells: list[Text]) -> Strip:
        """One line of cells, each padded (or cut with an ellipsis) to its column."""
        pad = " " * CELL_PADDING
        line = Text(no_wrap=True, end="")
        for column, given in zip(self.columns, cells, strict=True):
            cell = as_text(given)  # whatever a subclass gave, it shows as text
            width = column.width
            length = cell.cell_len
            if length > width:
                cell = cell.copy()
                cell.truncate(width, overflow="ellipsis")
                length = cell.cell_len
            fill = " " * (width - length)
            line.append(pad)
            if cell.justify == "right":
                line.append(fill)
                line.append_text(cell)
            else:
                line.append_text(cell)
                line.append(fill)
            line.append(pad)
        return Strip(list(line.render(self.app.console)), self.line_width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._header = None

    def _resize(self) -> None:
        self.virtual_size = Size(self.line_width, len(self._keys) + 1)
