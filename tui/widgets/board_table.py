"""The board's table: one row per open work order, kept live by deltas, filtered and sorted.

Not a DataTable: that redraws every visible cell on any change and measures every cell
it is given, which costs 50-150 ms a frame and seconds to fill 5,000 orders. This one
keeps the orders as a list, renders a line only when it comes into view, keeps each
order's rendered line until the order changes, and on a delta redraws only the lines of
the orders that changed (the whole view only when the order of rows moved).

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
from typing import ClassVar, Literal

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from db.board import BoardRow, current_stage
from db.quantity import text as exact_text
from tui.live import FloorClock, ago
from tui.widgets.bars import bar_with_percent, percent, stage_strip


def qty_text(milli: int) -> str:
    """A quantity for a cell; whole units (nearly all of them) without the Decimal detour."""
    return str(milli // 1000) if milli % 1000 == 0 else exact_text(milli)


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
    def of(cls, row: BoardRow, today: date) -> Flags:
        late = row.late(today)
        return cls(late, not late and row.at_risk(today), row.short, row.status == "on_hold")


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

CELL_PADDING = 1
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


class BoardTable(ScrollView, can_focus=True):
    """Open work orders, one line each under a fixed header line, keyed by order number."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "board--header",
        "board--cursor",
        "board--even-row",
    }

    # Component styles live with the widget, as Textual's own tables keep theirs; they
    # use the theme's variables so the kiosk's high-contrast theme holds.
    DEFAULT_CSS = """
    BoardTable {
        background: $surface;
        color: $foreground;
        & > .board--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .board--even-row {
            background: $surface-lighten-1 50%;
        }
        & > .board--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .board--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Open order", show=False, id="board_choose"),
        Binding("up", "cursor_up", show=False),
        Binding("down", "cursor_down", show=False),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
        Binding("home", "first", show=False),
        Binding("end", "last", show=False),
    ]

    class Chosen(Message):
        """A work order was chosen (Enter, or a click on the highlighted line)."""

        def __init__(self, table: BoardTable, number: str) -> None:
            super().__init__()
            self.table = table
            self.number = number

        @property
        def control(self) -> BoardTable:
            return self.table

    def __init__(self, *, clock: FloorClock, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.clock = clock
        self.orders: dict[str, BoardRow] = {}
        self.query_words: list[str] = []
        self.sort_by: SortKey = "due"
        self.colours = Palette()
        self.cursor_row = 0
        self._columns: list[tuple[Column, int]] = []
        self._has_strip = False
        self._shown: list[str] = []
        self._position: dict[str, int] = {}
        # Each order's rendered line, kept while the order is the same BoardRow object:
        # scrolling, filtering and re-sorting then render nothing new.
        self._lines: dict[str, tuple[BoardRow, Strip]] = {}
        self._header: Strip | None = None
        # Kept per order and brought up to date with each delta: judging 5,000 orders
        # late or at risk on every commit would cost the UI thread ~30 ms each time.
        self.flags: dict[str, Flags] = {}

    # ------------------------------------------------------------ what is shown

    @property
    def shown(self) -> list[str]:
        """Order numbers in the table, top to bottom."""
        return list(self._shown)

    @property
    def row_count(self) -> int:
        return len(self._shown)

    @property
    def highlighted(self) -> str | None:
        """The order number under the cursor."""
        if not self._shown:
            return None
        return self._shown[min(self.cursor_row, len(self._shown) - 1)]

    def visible_rows(self) -> list[BoardRow]:
        """What the filter lets through, in the chosen order."""
        rows = [r for r in self.orders.values() if matches(r, self.query_words)]
        rows.sort(key=sort_key(self.sort_by))
        return rows

    def get_cell(self, number: str, column_key: str) -> Text:
        """What the order's cell in that column says now (whether or not it is in view)."""
        row = self.orders[number]
        for column, width in self._columns:
            if column.key == column_key:
                return self.cell(column, width, row, self.clock.today(), self.clock.now_ms())
        raise KeyError(column_key)

    def line_text(self, number: str) -> str:
        """The order's whole line as the terminal shows it, without colours."""
        return "".join(segment.text for segment in self._line(number))

    # ------------------------------------------------------------ cells

    def cells(self, row: BoardRow, today: date, now_ms: int) -> list[Text]:
        """The row's cells for the current columns."""
        return [self.cell(column, width, row, today, now_ms) for column, width in self._columns]

    def cell(self, column: Column, width: int, row: BoardRow, today: date, now_ms: int) -> Text:
        # Text, never str: a str would have to be parsed as markup, slower and wrong for "[".
        value = self._cell(column, width, row, today, now_ms)
        return value if isinstance(value, Text) else Text(value)

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
            return Text(qty_text(row.qty_milli), justify="right")
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
            return self._marks(row, today)
        raise KeyError(key)

    def _stages_text(self, row: BoardRow, width: int) -> str:
        """Each stage's done/total in the room there is: "CUT 5/10 BEND 2/10", else
        "CUT5 BEND2 /10", else "5 2 /10"."""
        qty = qty_text(row.qty_milli)
        done = [(code, qty_text(d)) for code, d, _ in row.stages]
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

    # ------------------------------------------------------------ layout

    def set_width(self, width: int) -> None:
        """Choose the columns for a terminal `width` wide; redraws only when they change."""
        columns = fit_columns(width)
        if columns == self._columns:
            return
        self._columns = columns
        self._has_strip = "strip" in self.column_keys
        self._lines.clear()
        self._header = None
        self._resize()
        self.refresh()

    @property
    def column_keys(self) -> list[str]:
        return [column.key for column, _ in self._columns]

    @property
    def line_width(self) -> int:
        return sum(width + 2 * CELL_PADDING for _, width in self._columns)

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
            if self.orders.pop(number, None) is not None and number in self._position:
                moved = True
        for row in changed:
            before = self.orders.get(row.number)
            self.orders[row.number] = row
            self.flags[row.number] = Flags.of(row, today)
            show = matches(row, self.query_words)
            present = row.number in self._position
            if show != present or (show and before is not None and order(before) != order(row)):
                moved = True
            elif present:
                redraw.append(row.number)
        if moved:
            self._rebuild()
            return
        for number in redraw:
            self.refresh_line(self._position[number] + 1)

    def refresh_times(self) -> None:
        """Re-word "12m ago" and the late / at-risk marks as the clock moves on."""
        if not {"last", "marks", "due"} & set(self.column_keys):
            return
        self._judge_all()
        # Lines are rendered again only as they come into view.
        self._lines.clear()
        self.refresh()

    # ------------------------------------------------------------ cursor

    def move_cursor(self, row: int) -> None:
        if not self._shown:
            self.cursor_row = 0
            return
        row = max(0, min(row, len(self._shown) - 1))
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
        self.move_cursor(len(self._shown) - 1)

    def action_choose(self) -> None:
        number = self.highlighted
        if number is not None:
            self.post_message(self.Chosen(self, number))

    async def _on_click(self, event: events.Click) -> None:
        index = int(self.scroll_offset.y) + event.y - 1
        if event.y < 1 or not 0 <= index < len(self._shown):
            return
        event.stop()
        if index == self.cursor_row:
            self.action_choose()
        else:
            self.move_cursor(index)

    def _page(self) -> int:
        return max(self.scrollable_content_region.height - 2, 1)

    def _keep_cursor_in_view(self) -> None:
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
        base = self.rich_style
        if y == 0:
            header = self._header_line()
            style = base + self.get_component_rich_style("board--header")
            return header.apply_style(style).crop_extend(0, width, style)
        index = int(self.scroll_offset.y) + y - 1
        if index >= len(self._shown):
            return Strip.blank(width, base)
        if index == self.cursor_row:
            style = base + self.get_component_rich_style("board--cursor")
        elif index % 2 == 0:
            style = base + self.get_component_rich_style("board--even-row")
        else:
            style = base
        line = self._line(self._shown[index])
        return line.apply_style(style).crop_extend(0, width, style)

    def _line(self, number: str) -> Strip:
        row = self.orders[number]
        kept = self._lines.get(number)
        if kept is not None and kept[0] is row:
            return kept[1]
        line = self._render_cells(self.cells(row, self.clock.today(), self.clock.now_ms()))
        self._lines[number] = (row, line)
        return line

    def _header_line(self) -> Strip:
        if self._header is None:
            self._header = self._render_cells([Text(column.label) for column, _ in self._columns])
        return self._header

    def _render_cells(self, cells: list[Text]) -> Strip:
        """One line of cells, each padded (or cut with an ellipsis) to its column."""
        pad = " " * CELL_PADDING
        line = Text(no_wrap=True, end="")
        for (_, width), cell in zip(self._columns, cells, strict=True):
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
        segments: list[Segment] = list(line.render(self.app.console))
        return Strip(segments, self.line_width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._header = None

    # ------------------------------------------------------------ internals

    def _rebuild(self) -> None:
        """Filter and sort again, keeping the cursor on the same order."""
        keep = self.highlighted
        self._shown = [row.number for row in self.visible_rows()]
        self._position = {number: i for i, number in enumerate(self._shown)}
        # Lines of orders that left the board are not needed again.
        for number in [n for n in self._lines if n not in self.orders]:
            del self._lines[number]
        self._resize()
        if keep is not None and keep in self._position:
            self.cursor_row = self._position[keep]
        else:
            self.cursor_row = min(self.cursor_row, max(len(self._shown) - 1, 0))
        self.refresh()
        self._keep_cursor_in_view()

    def _judge_all(self) -> None:
        today = self.clock.today()
        self.flags = {number: Flags.of(row, today) for number, row in self.orders.items()}

    def _resize(self) -> None:
        self.virtual_size = Size(self.line_width, len(self._shown) + 1)
