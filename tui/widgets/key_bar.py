"""The key bar at the foot of every screen: Textual's Footer, fitted to the terminal.

Found at 80x24: the F-keys were cut ("f6 Devic▏") behind the palette's hint, and a
screen's own keys (Replay, Dismiss, Hold/release) pushed them further out. Narrower
than WIDE_FROM columns the bar goes compact (one space between keys) and leaves out the
palette's hint (Ctrl+P still opens it); when the keys still do not fit in one line, at
any width, they take two, so every key a person needs stays on screen.
"""

from __future__ import annotations

import math
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

from tui.widgets.columns import WIDE_FROM

STYLES = Path(__file__).with_name("key_bar.tcss")


class KeyBar(Footer):
    """A Footer that fits what a person needs into the width it has."""

    # The widget's default CSS, as LineTable keeps its own: a screen's rules override it.
    DEFAULT_CSS = STYLES.read_text(encoding="utf-8")

    def __init__(self, *, show_command_palette: bool = True) -> None:
        super().__init__(show_command_palette=show_command_palette)
        self._palette_wanted = show_command_palette

    def on_mount(self) -> None:
        self._fit(self.app.size.width)

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width)

    def _fit(self, width: int) -> None:
        narrow = width < WIDE_FROM
        self.compact = narrow
        self.show_command_palette = self._palette_wanted and not narrow

    def compose(self) -> ComposeResult:
        keys = list(super().compose())
        # What one line needs: each key's text and the space after it (compact: one).
        shown = [key for key in keys if isinstance(key, FooterKey)]
        # Textual's FooterKey pads a key one cell each side, compact only before its words.
        padding = 1 if self.compact else 2
        needed = sum(len(f"{key.key_display} {key.description}") + padding for key in shown)
        # Wide is no promise of room: a screen's own keys may not fit one line there either.
        two_rows = needed > self.app.size.width
        self.set_class(two_rows, "-two-rows")
        if two_rows:
            self.styles.grid_size_columns = math.ceil(len(keys) / 2)
        yield from keys
