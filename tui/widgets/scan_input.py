"""The scan station's inputs: the keyboard-wedge line a scanner types into, and the
list a terminal picks its station from (which refuses a wedge scan typed into it).
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Input, OptionList


class WedgeInput(Input):
    """The keyboard-wedge input: Enter or Tab ends a scan.

    The value is taken and cleared while the Enter key itself is handled, so the keys
    of the next scan in a fast burst never land in the one being submitted. (Not by a
    key binding: a focused widget's bindings run only once the key has bubbled up to
    the app, after the input has already taken the keys that followed it in the same
    burst — a wedge's "B1002⏎WO-1⏎" would arrive as one scan "B1002WO-1".)
    """

    BINDINGS = [Binding("tab", "submit", "Scan", show=False)]

    @dataclass
    class Scanned(Message):
        text: str

    async def _on_key(self, event: events.Key) -> None:
        if event.key in ("enter", "tab"):
            event.stop()
            event.prevent_default()  # Input's own key handling is not needed for these
            await self.action_submit()

    async def action_submit(self) -> None:
        text = self.value
        self.value = ""
        if text.strip():
            self.post_message(self.Scanned(text))

    def _on_paste(self, event: events.Paste) -> None:
        # A scanner that pastes (or a person pasting a list): each line is one scan.
        event.stop()
        for line in event.text.splitlines():
            if line.strip():
                self.post_message(self.Scanned(line))


class StationPicker(OptionList):
    """The list a terminal picks its station from.

    A wedge scan typed here (keys, then Enter) is not a pick: a station's code picks
    that station, anything else is refused aloud (`Stray`). Otherwise the Enter ending
    a badge scan would silently pick whichever station was highlighted.
    """

    @dataclass
    class Stray(Message):
        text: str

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self._typed = ""

    async def _on_key(self, event: events.Key) -> None:
        if event.is_printable and event.character:
            self._typed += event.character
            event.stop()
        elif event.key in ("enter", "tab") and self._typed.strip():
            event.stop()
            event.prevent_default()
            typed, self._typed = self._typed.strip(), ""
            for index, option in enumerate(self.options):
                if (option.id or "").upper() == typed.upper():
                    self.highlighted = index
                    self.action_select()
                    return
            self.post_message(self.Stray(typed))
        else:
            self._typed = ""
