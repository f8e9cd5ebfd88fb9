"""How the screens word what they show: a cut text, a quantity in its column.

The floor's words in one place, below every screen and widget, so two screens never
say the same thing two ways.
"""

from __future__ import annotations

from rich.text import Text

from db.quantity import text as qty_text
from tui.plain import visible


def cut(text: str, width: int) -> str:
    """`text` as shown (tui.plain.visible), its head and "…" when longer than `width`."""
    text = visible(text)
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def quantity(milli: int) -> Text:
    """A quantity's exact text (db.quantity), right-aligned for a table column."""
    return Text(qty_text(milli), justify="right")
