"""The one dialog that asks a supervisor for a badge before the record changes beyond scanning.

Every such action uses it: leaving a kiosk (the badge alone), replaying or dismissing a
rejected scan, changing a due date, holding, releasing or cancelling an order, allowing
unplanned material. It asks for what the action needs — a new due date, an item, a
reason — and then the badge, typed or
scanned into the last field, so a wedge scanner's Enter sends the whole form. It checks
what it can without the database (a date is a date, a reason is given), then runs the
action itself in a thread worker: a refusal (a badge without the role, an order that
changed meanwhile) shows inside the dialog in db/'s own words and keeps everything
typed, so the person scans another badge instead of starting over.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from db.connection import connect
from db.refusals import LedgerError
from tui.plain import as_text
from tui.widgets.text_input import TextInput

Reason = Literal["required", "optional", "none"]
"""Whether the action keeps a reason: a change must say why; leaving a kiosk has none."""


@dataclass(frozen=True)
class SupervisorForm:
    """What a supervisor filled in: the badge always, the rest when asked for."""

    badge: str
    reason: str = ""
    new_due: str | None = None
    item: str | None = None


@dataclass(frozen=True)
class Done:
    """What the action did, in words for the notice; `warning` when done but not as hoped."""

    message: str
    warning: bool = False


Act = Callable[[sqlite3.Connection, SupervisorForm], Done]
"""The action itself: it checks the badge's role (db/ raises LedgerError) and writes."""


class SupervisorDialog(ModalScreen[Done | None]):
    """Ask for the details of a supervisor action and the badge, then do it.

    Closes with what was done, or None when cancelled; a refusal keeps it open.
    """

    CSS_PATH = "dialogs.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        explanation: str | tuple[str, ...],
        *,
        db_path: str | Path,
        act: Act,
        today: date | None = None,
        ask_due: str | None = None,
        ask_item: str | None = None,
        reason: Reason = "required",
        reason_hint: str = "",
        confirm_label: str = "OK",
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.explanation = explanation
        self.ask_due = ask_due
        self.ask_item = ask_item
        self.reason = reason
        self.reason_hint = reason_hint
        self.confirm_label = confirm_label
        self.db_path = db_path
        self.act = act
        self.today = today or date.today()
        # A due date in the past is asked twice: the one confirmed, so a change re-asks.
        self._past_due_confirmed: str | None = None

    @property
    def badge_input(self) -> Input:
        return self.query_one("#dialog-badge", Input)

    @property
    def reason_input(self) -> Input:
        return self.query_one("#dialog-reason", Input)

    @property
    def error(self) -> Static:
        return self.query_one(".dialog-error", Static)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(as_text(self.dialog_title), classes="dialog-title")
            # A tuple is separate lines: scanned words inside one stay escaped, never broken.
            lines = self.explanation if isinstance(self.explanation, tuple) else (self.explanation,)
            for line in lines:
                yield Static(as_text(line))
            if self.ask_due is not None:
                yield Label("New due date (YYYY-MM-DD)")
                yield TextInput(value=self.ask_due, id="dialog-due")
            if self.ask_item is not None:
                yield Label("Item (scan its label or type its code)")
                yield TextInput(value=self.ask_item, id="dialog-item")
            if self.reason != "none":
                yield Label(
                    "Reason (kept with the change)" if self.reason == "required" else "Reason"
                )
                yield TextInput(placeholder=self.reason_hint, id="dialog-reason")
            yield Label("Supervisor badge: scan it or type it, then Enter")
            yield Input(id="dialog-badge", password=True)
            yield Static("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="dialog-cancel")
                yield Button(self.confirm_label, variant="warning", id="dialog-ok")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _next_field(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "dialog-badge":
            self._submit()
        else:
            self.focus_next(Input)

    @on(Button.Pressed, "#dialog-ok")
    def _ok(self) -> None:
        self._submit()

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    def _submit(self) -> None:
        new_due: str | None = None
        if self.ask_due is not None:
            new_due = self.query_one("#dialog-due", Input).value.strip()
            try:
                due = date.fromisoformat(new_due)
            except ValueError:
                self._refuse(f"{new_due!r} is not a date: write it as YYYY-MM-DD", "#dialog-due")
                return
            if due < self.today and self._past_due_confirmed != new_due:
                self._past_due_confirmed = new_due
                self._refuse(
                    f"{new_due} is in the past: press Enter again to keep it, or correct it",
                    "#dialog-badge",
                )
                return
        item: str | None = None
        if self.ask_item is not None:
            item = self.query_one("#dialog-item", Input).value.strip()
            if not item:
                self._refuse("Scan or type the item", "#dialog-item")
                return
        reason = self.reason_input.value.strip() if self.reason != "none" else ""
        if self.reason == "required" and not reason:
            self._refuse("Say why: the reason is kept with the change", "#dialog-reason")
            return
        badge = self.badge_input.value.strip()
        if not badge:
            self._refuse("Scan or type a supervisor badge", "#dialog-badge")
            return
        self.error.update("")
        self.query_one("#dialog-ok", Button).disabled = True
        self._act(SupervisorForm(badge=badge, reason=reason, new_due=new_due, item=item))

    @work(thread=True, exit_on_error=False, group="supervisor-act", exclusive=True)
    def _act(self, form: SupervisorForm) -> None:
        try:
            conn = connect(self.db_path)
            try:
                done = self.act(conn, form)
            finally:
                conn.close()
        except LedgerError as refused:  # PermissionDenied too: the badge lacks the role
            self.app.call_from_thread(self._refused, str(refused))
        except (sqlite3.Error, OSError) as failed:
            self.app.call_from_thread(
                self._refused, f"not saved, the database said: {failed}. Try again"
            )
        else:
            self.app.call_from_thread(self.dismiss, done)

    def _refused(self, message: str) -> None:
        self.query_one("#dialog-ok", Button).disabled = False
        # Everything typed stays; only the badge is cleared for the next one to be scanned.
        self.badge_input.value = ""
        self._refuse(message, "#dialog-badge")

    def _refuse(self, message: str, field: str) -> None:
        self.error.update(as_text(message))
        self.query_one(field, Input).focus()
