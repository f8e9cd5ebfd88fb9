"""The Stock screen (SPEC §5): find an item or a location, see what is on hand where.

Owns the search box (sku, description, location code or name, barcode, GTIN — typed,
or scanned through a keyboard-wedge scanner, where Enter opens the best match), the
results list, stock by location and lot for the chosen item (or everything at the
chosen location) with each lot's expiry and production dates, a supervisor's leave to
issue an expired lot (`a`), and the item's history: its newest movements, a page at a
time.
The on-hand table itself draws in tui/widgets/on_hand_table.py.
`show_code` is how the command palette jumps here. Reads go through db.stock in
`load` (a worker thread); the rest of this module only draws.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Header, Input, Static

from db import stock
from db.connection import now_ms as wall_clock
from db.quantity import text as qty_text
from db.stock import HISTORY_PAGE, HitKind, ItemStock, LocationStock, Movement, OnHand
from db.times import clock_time
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.formatting import cut
from tui.plain import as_text, visible
from tui.widgets.cell_table import CellTable
from tui.widgets.columns import set_columns
from tui.widgets.key_bar import KeyBar
from tui.widgets.on_hand_table import OnHandTable, move_to, row_key
from tui.widgets.text_input import TextInput

Choice = tuple[HitKind, str]


@dataclass(frozen=True)
class StockQuery:
    """What the person asked for; `load` answers exactly one of these."""

    text: str = ""
    choice: Choice | None = None
    jump: bool = False  # resolve `text` as a code (Enter, a scan, the palette) and choose it
    history_limit: int = HISTORY_PAGE


@dataclass(frozen=True)
class StockView:
    """What `load` read for one query."""

    query: StockQuery
    hits: list[stock.Hit]
    choice: Choice | None
    detail: ItemStock | LocationStock | None
    not_found: str | None  # a code that names no item or location


class StockScreen(FloorScreen):
    """Search items and locations; on hand by location and lot; an item's history."""

    TITLE = "Stock"
    CSS_PATH = "floor.tcss"
    AUTO_FOCUS = "#stock-search"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE
    BINDINGS = [
        Binding("slash", "focus_search", "Search"),
        Binding("m", "more_history", "More history"),
        # Ctrl+L first (shown): the search box keeps the focus and takes a plain "l" as text.
        # A short word, so the footer keeps room for F1-F6 at 80 columns.
        Binding("ctrl+l,l", "print_label", "Label", tooltip="Print the bin or item label (PNG)"),
        # Shown only while an expired lot is on show (check_action).
        Binding("a", "allow_expired", "Allow lot", tooltip="Allow an expired lot to be issued"),
    ]

    def __init__(
        self,
        db_path: str,
        *,
        now_ms: Callable[[], int] | None = None,
    ) -> None:
        super().__init__(db_path)
        self._now = now_ms or wall_clock
        self._query = StockQuery()
        self._view: StockView | None = None

    # ------------------------------------------------------------ widgets

    @property
    def search_box(self) -> Input:
        return self.query_one("#stock-search", Input)

    @property
    def results_table(self) -> DataTable[Text]:
        return self.query_one("#stock-results", DataTable)

    @property
    def on_hand_table(self) -> OnHandTable:
        return self.query_one("#stock-onhand", OnHandTable)

    @property
    def history_table(self) -> CellTable:
        return self.query_one("#stock-history", CellTable)

    @property
    def heading(self) -> Static:
        return self.query_one("#stock-heading", Static)

    @property
    def history_heading(self) -> Static:
        return self.query_one("#stock-history-heading", Static)

    @property
    def choice(self) -> Choice | None:
        """The item or location on show, as (kind, code)."""
        return self._query.choice

    def compose(self) -> ComposeResult:
        yield Header()
        yield TextInput(
            value=self._query.text,
            placeholder="Search or scan: sku, description, location, barcode, GTIN",
            id="stock-search",
        )
        with Horizontal(id="stock-body"):
            yield DataTable(id="stock-results", cursor_type="row", zebra_stripes=True)
            with Vertical(id="stock-detail"):
                yield Static(
                    "Type or scan to search; Enter opens the best match.",
                    id="stock-heading",
                    classes="floor-heading",
                )
                yield OnHandTable(id="stock-onhand")
                yield Static("", id="stock-history-heading", classes="floor-heading")
                # Every commit moving this item re-reads up to 200 movements: a CellTable
                # keeps the lines already drawn (a DataTable refill cost ~100 ms).
                yield CellTable(id="stock-history")
        yield KeyBar()

    # ------------------------------------------------------------ public

    def show_code(self, code: str) -> None:
        """Open the item or location that `code` names: sku, location, barcode, GTIN, GS1."""
        # Until the code resolves, what is on show stays (an unknown code changes nothing).
        self._query = replace(self._query, text=code, jump=True, history_limit=HISTORY_PAGE)
        if self.is_mounted:
            search = self.search_box
            # The box shows the code (as text), but the jump, not a plain search, answers it.
            with search.prevent(Input.Changed):
                search.value = visible(code)
            self.reload()

    # ------------------------------------------------------------ reading

    def load(self, conn: sqlite3.Connection) -> StockView:
        query = self._query
        hits = stock.search(conn, query.text)
        choice, not_found = query.choice, None
        if query.jump and query.text.strip():
            hit = stock.resolve_code(conn, query.text) or (hits[0] if hits else None)
            if hit is None:
                not_found = query.text.strip()
            else:
                choice = (hit.kind, hit.code)
        detail: ItemStock | LocationStock | None = None
        if choice is not None:
            kind, code = choice
            if kind == "item":
                detail = stock.item_stock(conn, code, history_limit=query.history_limit)
            else:
                detail = stock.location_stock(conn, code)
        return StockView(query, hits, choice, detail, not_found)

    def show(self, result: StockView) -> None:
        query = result.query
        if query.jump:
            # The resolved choice sticks: later live reloads must not resolve the text again.
            settled = replace(query, choice=result.choice, jump=False)
            if self._query == query:
                self._query = settled
                if result.not_found:
                    self.notify(
                        f"No item or location has the code {result.not_found}",
                        severity="warning",
                    )
            elif self._query != settled:
                return  # the person asked for something else meanwhile; that reload follows
        elif query != self._query:
            return
        keys = self._footer_keys()
        self._view = replace(result, query=self._query)
        self.redraw()
        # Only when the footer's keys change: redrawing it costs tens of ms, and every
        # commit on the floor re-reads the stock shown.
        if self._footer_keys() != keys:
            self.refresh_bindings()

    def _footer_keys(self) -> tuple[bool | None, ...]:
        return tuple(self.check_action(key, ()) for key in ("more_history", "allow_expired"))

    # ------------------------------------------------------------ drawing

    def redraw(self) -> None:
        view = self._view
        if view is None:
            return
        self._draw_results(view)
        detail = view.detail
        # A bin has no history on show: its stock takes the room (floor.tcss).
        self.set_class(isinstance(detail, LocationStock), "-bin")
        if isinstance(detail, ItemStock):
            self._draw_item(detail)
        elif isinstance(detail, LocationStock):
            self._draw_location(detail)
        else:
            self.heading.update("Type or scan to search; Enter opens the best match.")
            self.on_hand_table.clear()
            self.history_heading.display = False
            self.history_table.display = False

    def _draw_results(self, view: StockView) -> None:
        table = self.results_table
        name_width = 22 if self.wide else max(12, self.size.width - 30)
        set_columns(table, [("kind", "Kind"), ("code", "Code"), ("name", "Name")])
        with table.prevent(DataTable.RowHighlighted):
            table.clear()
            for hit in view.hits:
                table.add_row(
                    Text("item" if hit.kind == "item" else "loc", style="dim"),
                    as_text(hit.code),
                    as_text(cut(hit.name, name_width)),
                    key=f"{hit.kind}:{hit.code}",
                )
            if view.choice is not None:
                move_to(table, f"{view.choice[0]}:{view.choice[1]}")

    def _today(self) -> date:
        return datetime.fromtimestamp(self._now() / 1000).date()

    def _draw_item(self, item: ItemStock) -> None:
        places = len({row.location for row in item.on_hand})
        total = qty_text(item.total_milli)
        codes = f"barcode {item.barcode}" + (f" · GTIN {item.gtin}" if item.gtin else "")
        lots = " · lot-tracked" if item.lot_tracked else ""
        self.heading.update(
            as_text(
                f"{item.sku}  {item.description} · {total} {item.uom} on hand in {places} "
                f"location{'s' if places != 1 else ''}{lots} · {codes}"
            )
        )
        self.on_hand_table.show_item(item, wide=self.wide, today=self._today())
        self._draw_history(item)

    def _draw_history(self, item: ItemStock) -> None:
        shown = len(item.history)
        more = " · m: more" if item.history_total > shown else ""
        self.history_heading.update(
            f"History · newest {shown} of {item.history_total} movements{more}"
        )
        self.history_heading.display = True
        table = self.history_table
        table.display = True
        labels = ["When", "Kind", "Qty", "From", "To"]
        if self.wide:
            labels += ["Lot", "Order", "Stage", "Operator", "Station", "Entry"]
        else:
            labels += ["Order"]
        table.set_labels(*labels)
        now = self._now()
        table.set_rows([(str(move.id), self._movement_cells(move, now)) for move in item.history])

    def _movement_cells(self, move: Movement, now: int) -> list[Text]:
        # The sign is the movement's effect on the plant's stock of this item:
        # receipts add, shipments and consumption remove, transfers only move it.
        sign = ""
        if move.to_location is None:
            sign = "−"
        elif move.from_location is None:
            sign = "+"
        kind = move.kind + (" ↩" if move.reverses is not None else "")
        cells = [
            Text(clock_time(move.time_ms, now_ms=now)),
            Text(kind, style="italic" if move.reverses is not None else ""),
            Text(sign + qty_text(move.qty_milli), justify="right"),
            as_text(move.from_location or "—", style="" if move.from_location else "dim"),
            as_text(move.to_location or "—", style="" if move.to_location else "dim"),
        ]
        if self.wide:
            ref = f"#{move.id}" + (f" undoes #{move.reverses}" if move.reverses else "")
            cells += [as_text(move.lot), as_text(move.work_order or ""),
                      as_text(move.stage or ""), as_text(move.operator or ""),
                      as_text(move.station or ""), Text(ref)]  # fmt: skip
        else:
            cells.append(as_text(move.work_order or ""))
        return cells

    def _draw_location(self, location: LocationStock) -> None:
        items = len({row.item for row in location.on_hand})
        negative = sum(1 for row in location.on_hand if row.qty_milli < 0)
        warning = f" · ⚠ {negative} negative" if negative else ""
        self.heading.update(
            as_text(
                f"{location.code}  {location.name} ({location.kind}) · {items} "
                f"item{'s' if items != 1 else ''} on hand{warning} · barcode {location.barcode}"
            )
        )
        self.on_hand_table.show_location(location, wide=self.wide, today=self._today())
        # Movements are indexed by item, not location: history is offered per item.
        self.history_heading.update("Choose an item (Enter) to see its history")
        self.history_heading.display = True
        self.history_table.display = False

    # ------------------------------------------------------------ events

    @on(Input.Changed, "#stock-search")
    def _search_changed(self, event: Input.Changed) -> None:
        if event.value == self._query.text:
            return
        self._query = replace(self._query, text=event.value, jump=False)
        self.reload()

    @on(Input.Submitted, "#stock-search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._query = replace(self._query, text=event.value, jump=True, history_limit=HISTORY_PAGE)
        self.reload()
        # A scanner types the next label straight in: let it replace this one.
        self.search_box.select_all()

    @on(DataTable.RowSelected, "#stock-results")
    def _result_chosen(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value or ""
        kind, _, code = key.partition(":")
        self._choose("item" if kind == "item" else "location", code)

    @on(DataTable.RowSelected, "#stock-onhand")
    def _on_hand_chosen(self, event: DataTable.RowSelected) -> None:
        # From an item's row go to its location; from a location's row, to the item.
        code = (event.row_key.value or "").split("\t")[0]
        if not code or self.choice is None:
            return
        self._choose("location" if self.choice[0] == "item" else "item", code)

    def _choose(self, kind: HitKind, code: str) -> None:
        self._query = replace(
            self._query, choice=(kind, code), jump=False, history_limit=HISTORY_PAGE
        )
        self.reload()

    def action_focus_search(self) -> None:
        self.search_box.focus()

    def action_more_history(self) -> None:
        view = self._view
        if view is None or not isinstance(view.detail, ItemStock):
            return
        self._query = replace(self._query, history_limit=self._query.history_limit + HISTORY_PAGE)
        self.reload()

    def _expired_lots(self) -> list[OnHand]:
        """The lots on show past their expiry that no supervisor allowed yet."""
        view = self._view
        if view is None or not isinstance(view.detail, ItemStock | LocationStock):
            return []
        today = self._today()
        return [
            row
            for row in view.detail.on_hand
            if row.lot and row.expiry is not None and row.expiry < today
            and not row.expired_allowed
        ]  # fmt: skip

    def action_allow_expired(self) -> None:
        from db import lots

        expired = self._expired_lots()
        if not expired:
            self.notify("No expired lot is on show", severity="warning")
            return
        # The highlighted row's lot, else the only expired one.
        chosen = self._highlighted(expired) or (expired[0] if len(expired) == 1 else None)
        if chosen is None:
            self.notify("Highlight the expired lot to allow first", severity="warning")
            return
        item, lot = chosen.item, chosen.lot
        self.ask_supervisor(
            f"Allow expired lot {lot} of {item}",
            f"Lot {lot} expired on {chosen.expiry}. Allowed, it may be issued to work "
            "orders. A supervisor badge confirms; the reason is kept.",
            lambda conn, form: lots.allow_expired(
                conn, item, lot, by=form.badge, reason=form.reason
            ),
            done=f"lot {lot} of {item} may be issued although expired",
            confirm_label="Allow",
        )

    def _highlighted(self, rows: list[OnHand]) -> OnHand | None:
        key = self.on_hand_table.cursor_key()
        by_item = isinstance(self._view and self._view.detail, ItemStock)
        for row in rows:
            if key == row_key(row, by_item=by_item):
                return row
        return None

    def action_print_label(self) -> None:
        if self.choice is None:
            self.notify("Choose an item or a location first", severity="warning")
        else:
            self._print_label(*self.choice)

    @work(thread=True, group="print", exit_on_error=False)
    def _print_label(self, kind: HitKind, code: str) -> None:
        from tui.printing import write_label

        what = "Bin" if kind == "location" else "Item"
        try:
            path = write_label(self.db_path, kind, code)
        except (OSError, LookupError, ValueError) as exc:
            self.app.call_from_thread(
                self.notify, f"{what} label {code} not written: {exc}", severity="error"
            )
        else:
            self.app.call_from_thread(self.notify, f"{what} label {code} written to {path}")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "more_history":
            view = self._view
            if view is None or not isinstance(view.detail, ItemStock):
                return False
            return view.detail.history_total > len(view.detail.history)
        if action == "allow_expired":
            return bool(self._expired_lots())
        return True
