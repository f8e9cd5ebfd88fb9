"""One work order: its route stage by stage, its material, movements, scans, history and
scrap by reason.

Supervisor actions live here: change the due date (with a reason), hold or release,
cancel, allow unplanned material (an item the bill does not name; it then shows on
the Material tab as unplanned, with who allowed it). Each asks for a badge in a modal
and posts through db.ledger in a thread worker; the ledger decides whether the badge's
role may act, and its refusal is shown to the person as it was worded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Header, Static

if TYPE_CHECKING:
    from tui.dialogs import SupervisorForm

from db.board import (
    Marks,
    arrived_at,
    board_rows,
    changes_since,
    current_marks,
    current_stage,
    route_progress,
)
from db.forecast import OrderForecast, forecast
from db.orders import OrderDetail, order_detail
from db.quantity import text as qty_text
from db.reason_codes import Reason, plant_reasons
from db.schema import OPEN_STATUSES
from tui.floor_screen import FloorScreen
from tui.formatting import ago
from tui.plain import as_text
from tui.watching import FloorClock
from tui.widgets.bars import bar, bar_with_percent
from tui.widgets.board_table import AT_RISK, IDLE, LATE, STATUS_WORDS
from tui.widgets.cell_table import CellTable
from tui.widgets.key_bar import KeyBar

# What only a shown or changed order needs (its tabs, the ledger, the dialogs) is
# imported when first used.


class Unchanged:
    """A re-read found nothing new for this order."""


UNCHANGED = Unchanged()


@dataclass(frozen=True)
class OrderRead:
    """The order as read, and its forecast (None once it is closed)."""

    detail: OrderDetail | None
    forecast: OrderForecast | None
    hold_reasons: tuple[Reason, ...] = ()


# How the order screen words a forecast's risk beside the order's status.
RISK_WORDS = {"late": LATE, "at_risk": AT_RISK, "tight": "◔ TIGHT", "on_track": ""}


def _hold_reasons_hint(reasons: Sequence[Reason]) -> str:
    """What the hold dialog's reason takes: the plant's hold reasons, or words."""
    if not reasons:
        return "Say why in your own words: the reason is kept with the hold."
    codes = "; ".join(f"{r.code}: {r.description}" for r in reasons[:6])
    more = "; …" if len(reasons) > 6 else ""
    return f"Say why: a hold reason ({codes}{more}), typed or scanned, or your own words."


def _time(ms: int) -> str:
    """Local time, as the floor reads its clocks."""
    return datetime.fromtimestamp(ms / 1000).strftime("%m-%d %H:%M")


class OrderScreen(FloorScreen):
    """A work order's story, and the supervisor's actions on it."""

    TITLE = "Order"
    # Joins the app's stylesheet when an order is first shown (see app.tcss).
    CSS_PATH = "order.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("d", "change_due", "Due date", id="change_due"),
        Binding("h", "toggle_hold", "Hold/release", id="toggle_hold"),
        Binding("x", "cancel_order", "Cancel order", id="cancel_order"),
        Binding("u", "allow_unplanned", "Unplanned", id="allow_unplanned"),
    ]

    def __init__(self, db_path: str, number: str, *, clock: FloorClock | None = None) -> None:
        super().__init__(db_path, id="order")
        self.number = number
        self.clock = clock or FloorClock()
        self.detail: OrderDetail | None = None
        self.forecast: OrderForecast | None = None
        self.hold_reasons: tuple[Reason, ...] = ()  # the plant's, offered in the hold dialog
        self._marks: Marks | None = None  # what the last read saw; used by the load worker
        self._allowances = 0  # the newest unplanned allowance the last read saw

    # ------------------------------------------------------------ widgets

    @property
    def title_bar(self) -> Static:
        return self.query_one("#order-title", Static)

    def _table(self, table_id: str) -> CellTable:
        return self.query_one(f"#{table_id}", CellTable)

    @property
    def stages_table(self) -> CellTable:
        return self._table("order-stages")

    @property
    def materials_table(self) -> CellTable:
        return self._table("order-materials")

    @property
    def movements_table(self) -> CellTable:
        return self._table("order-movements")

    @property
    def scans_table(self) -> CellTable:
        return self._table("order-scans")

    @property
    def history_table(self) -> CellTable:
        return self._table("order-history")

    @property
    def scrap_table(self) -> CellTable:
        return self._table("order-scrap")

    def compose(self) -> ComposeResult:
        from textual.widgets import TabbedContent, TabPane

        yield Header()
        yield Static(as_text(f"ORDER {self.number}"), id="order-title", classes="screen-heading")
        yield Static("", id="order-facts")
        yield CellTable(id="order-stages", show_cursor=False)
        with TabbedContent(id="order-tabs"):
            with TabPane("Material", id="tab-material"):
                yield CellTable(id="order-materials")
            with TabPane("Movements", id="tab-movements"):
                yield CellTable(id="order-movements")
            with TabPane("Scans", id="tab-scans"):
                yield CellTable(id="order-scans")
            with TabPane("History", id="tab-history"):
                yield CellTable(id="order-history")
            with TabPane("Scrap", id="tab-scrap"):
                yield CellTable(id="order-scrap")
        yield KeyBar()

    def on_mount(self) -> None:
        self.stages_table.set_labels("Stage", "Done", "Scrap", "Progress")
        self.materials_table.set_labels(
            "Material", "Need", "Issued", "Used", "Held", "Short", "Description"
        )
        self.movements_table.set_labels(
            "#", "Time", "Kind", "Item", "Lot", "Qty", "From", "To", "Stage", "By", "Scan"
        )
        self.scans_table.set_labels("Scan", "Time", "Station", "Read", "Outcome")
        self.history_table.set_labels("Time", "Change", "By", "Reason")
        self.scrap_table.set_labels("Reason", "Scrapped", "At", "Description")
        self.query_one("#order-tabs").focus()

    # ------------------------------------------------------------ data

    def load(self, conn: sqlite3.Connection) -> OrderRead | Unchanged:
        # Every commit on the floor re-reads; only one that touched this order redraws,
        # so a person scrolling its movements is not thrown back to the top.
        from db.unplanned import last_allowance

        conn.execute("BEGIN")
        try:
            allowances = last_allowance(conn)
            if self._marks is None:
                marks = current_marks(conn)
            else:
                touched, marks = changes_since(conn, self._marks)
                allowed = allowances != self._allowances
                if touched is not None and self.number not in touched and not allowed:
                    self._marks = marks
                    return UNCHANGED
            detail = order_detail(conn, self.number)
            hold_reasons = tuple(plant_reasons(conn, "hold"))
            planned = None
            if detail is not None and detail.status in OPEN_STATUSES:
                # The queue at every stage decides this order's finish: the whole floor
                # is forecast, from the same commit as the order.
                planned = forecast(
                    conn, now_ms=self.clock.now_ms(), rows=board_rows(conn)
                ).orders.get(self.number)
        finally:
            conn.execute("COMMIT")
        self._marks, self._allowances = marks, allowances
        return OrderRead(detail, planned, hold_reasons)

    def show(self, read: OrderRead | Unchanged) -> None:
        if isinstance(read, Unchanged):
            return
        result = read.detail
        before, self.detail = self.detail, result
        self.forecast = read.forecast
        self.hold_reasons = read.hold_reasons
        if result is None:
            self.title_bar.update(as_text(f"ORDER {self.number}: not found"))
            return
        status = STATUS_WORDS.get(result.status, result.status)
        progress = route_progress(result.qty_milli, result.stages)
        planned = read.forecast
        marks = ""
        if planned is not None:
            words = [RISK_WORDS[planned.risk], IDLE if planned.idle else ""]
            marks = "".join(f"  {word}" for word in words if word)
        self.title_bar.update(
            as_text(
                f"ORDER {result.number} · {result.product} × {qty_text(result.qty_milli)} · "
                f"{status.upper()}{marks}"
            )
        )
        stage = current_stage(result.qty_milli, result.stages) or "all stages done"
        # The forecast and the customer first after the due date: in 80 columns the facts
        # have two lines.
        outlook = ""
        if planned is not None:
            finish = planned.projected_finish.strftime("%m-%d %H:%M")
            held = f", held at {planned.holding_stage}" if planned.holding_stage else ""
            outlook = f" · finish {finish} (slack {planned.slack_hours:+.1f} h{held})"
        customers = "".join(
            f" · for {sale.customer} ({sale.number}), promised {sale.due}"
            for sale in result.sales_orders
        )
        self.query_one("#order-facts", Static).update(
            as_text(
                f"due {result.due}{outlook}{customers} · priority {result.priority} · "
                f"at {stage} · {bar_with_percent(progress, 16)} · "
                f"last activity {ago(result.last_activity_ms, self.clock.now_ms())} · "
                f"{result.description}"
            )
        )
        # A table is refilled only when what it lists changed: an issue to this order
        # leaves its stages and history as they were, and each refill costs the UI thread.
        if before is None or (before.qty_milli, before.stages) != (result.qty_milli, result.stages):
            self._show_stages(result)
        if before is None or (before.materials, before.unplanned) != (
            result.materials,
            result.unplanned,
        ):
            self._show_materials(result)
        if before is None or before.movements != result.movements:
            self._show_movements(result)
        if before is None or before.scans != result.scans:
            self._show_scans(result)
        if before is None or before.scrap != result.scrap:
            self._show_scrap(result)
        if before is None or (before.due_date_changes, before.status_changes) != (
            result.due_date_changes,
            result.status_changes,
        ):
            self._show_history(result)

    def _show_stages(self, detail: OrderDetail) -> None:
        rows: list[tuple[str, Sequence[str | Text]]] = []
        for index, (code, done, scrap) in enumerate(detail.stages):
            arrived = arrived_at(detail.qty_milli, detail.stages, index)
            share = (done + scrap) / detail.qty_milli if detail.qty_milli else 0.0
            cells = (
                code,
                f"{qty_text(done)}/{qty_text(arrived)}",
                qty_text(scrap) if scrap else "",
                bar(share, 12),
            )
            rows.append((f"{index}:{code}", cells))
        self.stages_table.set_rows(rows)

    def _show_materials(self, detail: OrderDetail) -> None:
        error = self.app.current_theme.error or "red"
        rows: list[tuple[str, Sequence[str | Text]]] = []
        for line in detail.materials:
            short = (
                Text(f"✗ {qty_text(line.short_milli)}", style=f"bold {error}")
                if line.short_milli
                else Text("✓")
            )
            cells = (
                line.item,
                f"{qty_text(line.required_milli)} {line.uom}",
                qty_text(line.issued_milli),
                qty_text(line.consumed_milli),
                qty_text(line.held_milli),
                short,
                line.description,
            )
            rows.append((line.item, cells))  # a bill names a component once
        warning = self.app.current_theme.warning or "yellow"
        for extra in detail.unplanned:
            if extra.allowed_by is None:
                why = "issued without a supervisor's leave"
            else:
                who = extra.allowed_by_name or extra.allowed_by
                why = f"allowed by {who} ({extra.allowed_by}): {extra.reason}"
            extra_cells: tuple[str | Text, ...] = (
                extra.item,
                Text("unplanned", style=f"bold {warning}"),
                qty_text(extra.issued_milli),
                "",
                qty_text(extra.held_milli),
                "",
                as_text(f"{why} · {extra.description}"),
            )
            rows.append((f"unplanned:{extra.item}", extra_cells))
        self.materials_table.set_rows(rows)

    def _show_movements(self, detail: OrderDetail) -> None:
        rows: list[tuple[str, Sequence[str | Text]]] = []
        for m in detail.movements:
            kind = m.kind if m.reverses is None else f"{m.kind} ↺{m.reverses}"
            rows.append((str(m.id), (
                str(m.id), _time(m.time_ms), kind, m.item, m.lot, qty_text(m.qty_milli),
                m.from_location or "", m.to_location or "", m.stage or "", m.operator or "",
                str(m.scan) if m.scan is not None else "",
            )))  # fmt: skip
        self.movements_table.set_rows(rows)

    def _show_scans(self, detail: OrderDetail) -> None:
        from db.reports import raw_text

        theme = self.app.current_theme
        rows: list[tuple[str, Sequence[str | Text]]] = []
        for s in detail.scans:
            ok = s.status == "accepted"
            mark = "✓" if ok else "✗"
            style = theme.success if ok else theme.error
            outcome = as_text(f"{mark} {s.message or s.status or ''}", style=style or "")
            rows.append(
                (str(s.id), (str(s.id), _time(s.time_ms), s.station, raw_text(s.raw), outcome))
            )
        self.scans_table.set_rows(rows)

    def _show_scrap(self, detail: OrderDetail) -> None:
        """The order's scrap grouped by reason: units at stages, material by item."""
        rows: list[tuple[str, Sequence[str | Text]]] = []
        for index, line in enumerate(detail.scrap):
            if line.item is None:
                units = "unit" if line.qty_milli == 1000 else "units"
                amount, where = f"{qty_text(line.qty_milli)} {units}", line.stage or ""
            else:
                amount, where = f"{qty_text(line.qty_milli)} {line.uom}", f"{line.item} (material)"
            reason = line.reason or "(no reason)"
            rows.append((str(index), (reason, amount, where, line.description)))
        self.scrap_table.set_rows(rows)

    def _show_history(self, detail: OrderDetail) -> None:
        entries: list[tuple[int, str, str, str]] = []
        for d in detail.due_date_changes:
            who = f"{d.by_name} ({d.by_operator})" if d.by_name else d.by_operator
            entries.append((d.time_ms, f"due {d.old_due} → {d.new_due}", who, d.reason))
        for s in detail.status_changes:
            change = f"{STATUS_WORDS.get(s.old_status, s.old_status)} → " + STATUS_WORDS.get(
                s.new_status, s.new_status
            )
            entries.append((s.time_ms, change, s.by_operator or "", s.reason))
        self.history_table.set_rows(
            [
                (str(index), (_time(time_ms), change, who, reason))
                for index, (time_ms, change, who, reason) in enumerate(
                    sorted(entries, reverse=True)
                )
            ]
        )

    # ------------------------------------------------------------ actions

    def action_back(self) -> None:
        self.dismiss()

    def action_change_due(self) -> None:
        from db import supervision

        due = self.detail.due if self.detail else ""
        self.ask_supervisor(
            f"Change the due date of {self.number}",
            f"Now due {due}. A supervisor or coordinator badge confirms; the reason is kept.",
            lambda conn, form: supervision.change_due_date(
                conn, self.number, form.new_due or "", by=form.badge, reason=form.reason
            ),
            done=f"{self.number} due date changed",
            today=self.clock.today(),
            ask_due=due,
        )

    def action_toggle_hold(self) -> None:
        from db import supervision

        held = self.detail is not None and self.detail.status == "on_hold"
        verb = "Release" if held else "Hold"
        if held:
            explanation: tuple[str, ...] = ("Released, the order takes scans again.",)
        else:
            explanation = (
                "On hold, the floor cannot post to this order until it is released.",
                _hold_reasons_hint(self.hold_reasons),
            )
        self.ask_supervisor(
            f"{verb} {self.number}",
            explanation,
            lambda conn, form: supervision.set_hold(
                conn, self.number, not held, by=form.badge, reason=form.reason
            ),
            done=f"{self.number} {'released' if held else 'put on hold'}",
            reason="optional" if held else "required",
            confirm_label=verb,
        )

    def action_allow_unplanned(self) -> None:
        from db.unplanned import allow_unplanned

        def allow(conn: sqlite3.Connection, form: SupervisorForm) -> None:
            allow_unplanned(conn, self.number, form.item or "", by=form.badge, reason=form.reason)

        self.ask_supervisor(
            f"Allow unplanned material on {self.number}",
            "An item its bill does not name may then be issued to this order; it shows "
            "on the Material tab as unplanned. A supervisor badge confirms; the reason is kept.",
            allow,
            done=f"unplanned material allowed on {self.number}",
            ask_item="",
            confirm_label="Allow",
        )

    def action_cancel_order(self) -> None:
        from db import supervision

        self.ask_supervisor(
            f"Cancel {self.number}",
            "A cancelled order leaves the board for good. A supervisor badge confirms.",
            lambda conn, form: supervision.cancel(
                conn, self.number, by=form.badge, reason=form.reason
            ),
            done=f"{self.number} cancelled",
            confirm_label="Cancel order",
        )
