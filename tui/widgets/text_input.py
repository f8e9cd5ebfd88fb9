"""An input box whose pasted words show as text: a control character as its escape.

Keys never type a control character into an Input, but a paste carries whatever was
copied; Textual would draw it raw, and the terminal would act on it. A pasted ESC
sequence lands as the visible escape `\\x1b…` (tui.plain), which is also what is kept.
The scan station's input keeps its own paste handling: a pasted scan is scanner data.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tui.plain import visible


class TextInput(Input):
    """An Input for words a person types or pastes (a filter, a search, a reason)."""

    def _on_paste(self, event: events.Paste) -> None:
        # Input's own handler (which Textual would call next) must not paste it raw.
        event.prevent_default()
        # As Input does, only the first line of a paste is taken.
        lines = event.text.splitlines()
        super()._on_paste(events.Paste(visible(lines[0]) if lines else ""))
