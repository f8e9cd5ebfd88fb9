"""Modal dialogs that ask a person for a badge before the record changes beyond scanning.

`BadgeDialog` asks only for a badge (leaving a kiosk). `SupervisorDialog` asks for what
a supervisor action needs — a new due date, a reason — and the badge, typed or scanned
into the badge field. The dialogs check what they can without the database (a date is
a date, a reason is given); whether the badge's role may act is for db.ledger to say,
so its refusal reaches the person in its own words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from tui.plain import as_text
from tui.widgets.text_input import TextInput


@dataclass(frozen=True)
class SupervisorForm:
    """What a supervisor filled in: the badge always, the rest when asked for."""

    badge: str
    reason: str = ""
    new_due: str | None = None


_DIALOG_CSS = """
SupervisorDialog, BadgeDialog {
    align: center middle;
    background: $background 70%;
}
SupervisorDialog > Vertical, BadgeDialog > Vertical {
    width: 64;
    max-width: 100%;
    height: auto;
    max-height: 100%;
    border: thick $warning;
    background: $surface;
    padding: 0 1;
    overflow-y: auto;
}
SupervisorDialog .dialog-title, BadgeDialog .dialog-title {
    text-style: bold;
    color: $warning;
    width: 100%;
}
SupervisorDialog Label, BadgeDialog Label {
    margin-top: 0;
    color: $text-muted;
}
SupervisorDialog Input, BadgeDialog Input {
    width: 100%;
}
SupervisorDialog .dialog-error, BadgeDialog .dialog-error {
    color: $error;
    text-style: bold;
    height: auto;
}
SupervisorDialog .dialog-buttons, BadgeDialog .dialog-buttons {
    height: auto;
    align-horizontal: right;
}
SupervisorDialog Button, BadgeDialog Button {
    margin-left: 1;
}
"""


class SupervisorDialog(ModalScreen[SupervisorForm | None]):
    """Ask for the details of a supervisor action and the badge that authorises it."""

    DEFAULT_CSS = _DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        explanation: str,
        *,
        ask_due: str | None = None,
        reason_required: bool = True,
        confirm_label: str = "OK",
    ) -> None:
        super().__init__()
        self.dialog_title = title
        self.explanation = explanation
        self.ask_due = ask_due
        self.reason_required = reason_required
        self.confirm_label = confirm_label

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
            yield Static(as_text(self.explanation))
            if self.ask_due is not None:
                yield Label("New due date (YYYY-MM-DD)")
                yield TextInput(value=self.ask_due, id="dialog-due")
            reason = "Reason (kept with the change)" if self.reason_required else "Reason"
            yield Label(reason)
            yield TextInput(id="dialog-reason")
            yield Label("Supervisor badge: scan it or type it, then Enter")
            yield Input(id="dialog-badge", password=True)
            yield Static("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="dialog-cancel")
                yield Button(self.confirm_label, variant="warning", id="dialog-ok")

    def on_mount(self) -> None:
        first = "#dialog-due" if self.ask_due is not None else "#dialog-reason"
        self.query_one(first, Input).focus()

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
                date.fromisoformat(new_due)
            except ValueError:
                self._refuse(f"{new_due!r} is not a date: write it as YYYY-MM-DD", "#dialog-due")
                return
        reason = self.reason_input.value.strip()
        if self.reason_required and not reason:
            self._refuse("Say why: the reason is kept with the change", "#dialog-reason")
            return
        badge = self.badge_input.value.strip()
        if not badge:
            self._refuse("Scan or type a supervisor badge", "#dialog-badge")
            return
        self.dismiss(SupervisorForm(badge=badge, reason=reason, new_due=new_due))

    def _refuse(self, message: str, field: str) -> None:
        self.error.update(as_text(message))
        self.query_one(field, Input).focus()


class BadgeDialog(ModalScreen[str | None]):
    """Ask for a badge, nothing else (a supervisor leaving the kiosk)."""

    DEFAULT_CSS = _DIALOG_CSS
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, explanation: str) -> None:
        super().__init__()
        self.dialog_title = title
        self.explanation = explanation

    @property
    def badge_input(self) -> Input:
        return self.query_one("#dialog-badge", Input)

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(as_text(self.dialog_title), classes="dialog-title")
            yield Static(as_text(self.explanation))
            yield Label("Supervisor badge: scan it or type it, then Enter")
            yield Input(id="dialog-badge", password=True)
            yield Static("", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel", id="dialog-cancel")
                yield Button("OK", variant="warning", id="dialog-ok")

    def on_mount(self) -> None:
        self.badge_input.focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#dialog-ok")
    def _submit(self, event: Input.Submitted | Button.Pressed) -> None:
        event.stop()
        badge = self.badge_input.value.strip()
        if not badge:
            self.query_one(".dialog-error", Static).update("Scan or type a supervisor badge")
            return
        self.dismiss(badge)

    @on(Button.Pressed, "#dialog-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
