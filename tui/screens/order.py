"""One work order: its route stage by stage, its material, movements, scans and history.

Supervisor actions live here: change the due date (with a reason), hold or release,
cancel. Each asks for a badge in a modal and posts through db.ledger in a thread
worker; the ledger decides whether the badge's role may act, and its refusal is
shown to the person as it was worded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Header, Static

from db.board import (
    OPEN_STATUSES,
    Marks,
    arrived_at,
    changes_since,
    current_marks,
    current_stage,
    is_at_risk,
    is_late,
    route_progress,
)
from db.connection import connect
from db.orders import OrderDetail, order_detail
from db.quantity import text as qty_text
from tui.base import FloorScreen
from tui.live import FloorClock, ago
from tui.widgets.bars import bar, bar_with_percent
from tui.widgets.board_table import AT_RISK, LATE, STATUS_WORDS

if TYPE_CHECKING:
    from textual.widgets import DataTable

    from tui.dialogs import SupervisorDialog, SupervisorForm

# The board imports this module to open an order, so it is on the path to the board's
# first paint: what only a shown order needs (its tables and tabs, the ledger, the
# dialogs) is imported when the order is first shown or acted on.


class Unchanged:
    """A re-read found nothing new for this order."""


UNCHANGED = Unchanged()


def _time(ms: int) -> str:
    """Local time, as the floor reads its clocks."""
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M")


class OrderScreen(FloorScreen):
    """A work order's story, and the supervisor's actions on it."""

    TITLE = "Order"
    # Joins the app's stylesheet when an order is first shown (see app.tcss).
    CSS = """
    OrderScreen #order-facts {
        height: auto;
        max-height: 2;
        padding: 0 1;
    }

    OrderScreen #order-stages {
        height: auto;
        max-height: 9;
    }

    OrderScreen #order-tabs {
        height: 1fr;
    }

    OrderScreen TabPane {
        padding: 0;
    }

    OrderScreen TabPane DataTable {
        height: 1fr;
    }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("d", "change_due", "Due date", id="change_due"),
        Binding("h", "toggle_hold", "Hold/release", id="toggle_hold"),
        Binding("x", "cancel_order", "Cancel order", id="cancel_order"),
    ]

    def __init__(self, db_path: str, number: str, *, clock: FloorClock | None = None) -> None:
        super().__init__(db_path, id="order")
        self.number = number
        self.clock = clock or FloorClock()
        self.detail: OrderDetail | None = None
        self._marks: Marks | None = None  # what the last read saw; used by the load worker

    # ------------------------------------------------------------ widgets

    @property
    def title_bar(self) -> Static:
        return self.query_one("#order-title", Static)

    def _table(self, table_id: str) -> DataTable[str | Text]:
        from textual.widgets import DataTable

        return self.query_one(f"#{table_id}", DataTable)

    @property
    def stages_table(self) -> DataTable[str | Text]:
        return self._table("order-stages")

    @property
    def materials_table(self) -> DataTable[str | Text]:
        return self._table("order-materials")

    @property
    def movements_table(self) -> DataTable[str | Text]:
        return self._table("order-movements")

    @property
    def scans_table(self) -> DataTable[str | Text]:
        return self._table("order-scans")

    @property
    def history_table(self) -> DataTable[str | Text]:
        return self._table("order-history")

    def compose(self) -> ComposeResult:
        from textual.widgets import DataTable, TabbedContent, TabPane

        yield Header()
        yield Static(f"ORDER {self.number}", id="order-title", classes="screen-heading")
        yield Static("", id="order-facts")
        yield DataTable(id="order-stages", cursor_type="none", zebra_stripes=True)
        with TabbedContent(id="order-tabs"):
            with TabPane("Material", id="tab-material"):
                yield DataTable(id="order-materials", cursor_type="row", zebra_stripes=True)
            with TabPane("Movements", id="tab-movements"):
                yield DataTable(id="order-movements", cursor_type="row", zebra_stripes=True)
            with TabPane("Scans", id="tab-scans"):
                yield DataTable(id="order-scans", cursor_type="row", zebra_stripes=True)
            with TabPane("History", id="tab-history"):
                yield DataTable(id="order-history", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self.stages_table.add_columns("Stage", "Done", "Scrap", "Progress")
        self.materials_table.add_columns(
            "Material", "Need", "Issued", "Used", "Held", "Short", "Description"
        )
        self.movements_table.add_columns(
            "#", "Time", "Kind", "Item", "Lot", "Qty", "From", "To", "Stage", "By", "Scan"
        )
        self.scans_table.add_columns("Scan", "Time", "Station", "Read", "Outcome")
        self.history_table.add_columns("Time", "Change", "By", "Reason")
        self.query_one("#order-tabs").focus()

    # ------------------------------------------------------------ data

    def load(self, conn: sqlite3.Connection) -> OrderDetail | None | Unchanged:
        # Every commit on the floor re-reads; only one that touched this order redraws,
        # so a person scrolling its movements is not thrown back to the top.
        conn.execute("BEGIN")
        try:
            if self._marks is None:
                marks = current_marks(conn)
            else:
                touched, marks = changes_since(conn, self._marks)
                if touched is not None and self.number not in touched:
                    self._marks = marks
                    return UNCHANGED
            detail = order_detail(conn, self.number)
        finally:
            conn.execute("COMMIT")
        self._marks = marks
        return detail

    def show(self, result: OrderDetail | None | Unchanged) -> None:
        if isinstance(result, Unchanged):
            return
        self.detail = result
        if result is None:
            self.title_bar.update(f"ORDER {self.number}: not found")
            return
        today = self.clock.today()
        status = STATUS_WORDS.get(result.status, result.status)
        marks = ""
        progress = route_progress(result.qty_milli, result.stages)
        if result.status in OPEN_STATUSES:
            if is_late(result.due, today):
                marks = f"  {LATE}"
            elif is_at_risk(result.due, progress, today):
                marks = f"  {AT_RISK}"
        self.title_bar.update(
            f"ORDER {result.number} · {result.product} × {qty_text(result.qty_milli)} · "
            f"{status.upper()}{marks}"
        )
        stage = current_stage(result.qty_milli, result.stages) or "all stages done"
        self.query_one("#order-facts", Static).update(
            f"{result.description} · due {result.due} · priority {result.priority} · "
            f"at {stage} · {bar_with_percent(progress, 16)} · "
            f"last activity {ago(result.last_activity_ms, self.clock.now_ms())}"
        )
        self._show_stages(result)
        self._show_materials(result)
        self._show_movements(result)
        self._show_scans(result)
        self._show_history(result)

    def _show_stages(self, detail: OrderDetail) -> None:
        table = self.stages_table
        table.clear()
        for index, (code, done, scrap) in enumerate(detail.stages):
            arrived = arrived_at(detail.qty_milli, detail.stages, index)
            share = (done + scrap) / detail.qty_milli if detail.qty_milli else 0.0
            table.add_row(
                code,
                f"{qty_text(done)}/{qty_text(arrived)}",
                qty_text(scrap) if scrap else "",
                bar(share, 12),
            )

    def _show_materials(self, detail: OrderDetail) -> None:
        table = self.materials_table
        table.clear()
        error = self.app.current_theme.error or "red"
        for line in detail.materials:
            short = (
                Text(f"✗ {qty_text(line.short_milli)}", style=f"bold {error}")
                if line.short_milli
                else Text("✓")
            )
            table.add_row(
                line.item,
                f"{qty_text(line.required_milli)} {line.uom}",
                qty_text(line.issued_milli),
                qty_text(line.consumed_milli),
                qty_text(line.held_milli),
                short,
                line.description,
            )

    def _show_movements(self, detail: OrderDetail) -> None:
        table = self.movements_table
        table.clear()
        for m in detail.movements:
            kind = m.kind if m.reverses is None else f"{m.kind} ↺{m.reverses}"
            table.add_row(
                str(m.id), _time(m.time_ms), kind, m.item, m.lot, qty_text(m.qty_milli),
                m.from_location or "", m.to_location or "", m.stage or "", m.operator or "",
                str(m.scan) if m.scan is not None else "",
            )  # fmt: skip

    def _show_scans(self, detail: OrderDetail) -> None:
        from db.reports import raw_text

        table = self.scans_table
        table.clear()
        theme = self.app.current_theme
        for s in detail.scans:
            ok = s.status == "accepted"
            mark = "✓" if ok else "✗"
            style = theme.success if ok else theme.error
            outcome = Text(f"{mark} {s.message or s.status or ''}", style=style or "")
            table.add_row(str(s.id), _time(s.time_ms), s.station, raw_text(s.raw), outcome)

    def _show_history(self, detail: OrderDetail) -> None:
        table = self.history_table
        table.clear()
        entries: list[tuple[int, str, str, str]] = []
        for d in detail.due_date_changes:
            who = f"{d.by_name} ({d.by_operator})" if d.by_name else d.by_operator
            entries.append((d.time_ms, f"due {d.old_due} → {d.new_due}", who, d.reason))
        for s in detail.status_changes:
            change = f"{STATUS_WORDS.get(s.old_status, s.old_status)} → " + STATUS_WORDS.get(
                s.new_status, s.new_status
            )
            entries.append((s.time_ms, change, s.by_operator or "", s.reason))
        for time_ms, change, who, reason in sorted(entries, reverse=True):
            table.add_row(_time(time_ms), change, who, reason)

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_change_due(self) -> None:
        from db import ledger
        from tui.dialogs import SupervisorDialog

        due = self.detail.due if self.detail else ""
        self._ask(
            SupervisorDialog(
                f"Change the due date of {self.number}",
                f"Now due {due}. A supervisor or coordinator badge confirms; the reason is kept.",
                ask_due=due,
            ),
            lambda form, conn: ledger.change_due_date(
                conn, self.number, form.new_due or "", by=form.badge, reason=form.reason
            ),
            done="due date changed",
        )

    def action_toggle_hold(self) -> None:
        from db import ledger
        from tui.dialogs import SupervisorDialog

        held = self.detail is not None and self.detail.status == "on_hold"
        verb = "Release" if held else "Hold"
        self._ask(
            SupervisorDialog(
                f"{verb} {self.number}",
                "Released, the order takes scans again."
                if held
                else "On hold, the floor cannot post to this order until it is released.",
                reason_required=False,
                confirm_label=verb,
            ),
            lambda form, conn: ledger.set_hold(
                conn, self.number, not held, by=form.badge, reason=form.reason
            ),
            done="released" if held else "put on hold",
        )

    def action_cancel_order(self) -> None:
        from db import ledger
        from tui.dialogs import SupervisorDialog

        self._ask(
            SupervisorDialog(
                f"Cancel {self.number}",
                "A cancelled order leaves the board for good. A supervisor badge confirms.",
                confirm_label="Cancel order",
            ),
            lambda form, conn: ledger.cancel(conn, self.number, by=form.badge, reason=form.reason),
            done="cancelled",
        )

    def _ask(
        self,
        dialog: SupervisorDialog,
        post: Callable[[SupervisorForm, sqlite3.Connection], None],
        *,
        done: str,
    ) -> None:
        def answered(form: SupervisorForm | None) -> None:
            if form is not None:
                self._post(form, post, done)

        self.app.push_screen(dialog, answered)

    @work(thread=True, exit_on_error=False, group="supervisor")
    def _post(
        self,
        form: SupervisorForm,
        post: Callable[[SupervisorForm, sqlite3.Connection], None],
        done: str,
    ) -> None:
        from db.ledger import LedgerError

        conn = connect(self.db_path)
        try:
            post(form, conn)
        except LedgerError as exc:
            # PermissionDenied is a LedgerError: the ledger's words tell the person why.
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=8)
            return
        finally:
            conn.close()
        self.app.call_from_thread(self.notify, f"{self.number} {done}")
        self.app.call_from_thread(self.reload)
