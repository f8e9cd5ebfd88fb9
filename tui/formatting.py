"""How the screens word what they show: how long ago, a cut text, a quantity in its column.

The floor's words in one place, below every screen and widget, so two screens never
say the same thing two ways.
"""

from __future__ import annotations

from rich.text import Text

from db.quantity import text as qty_text
from tui.plain import visible


def ago(ms: int | None, now_ms: int, *, short: bool = False, to_the_second: bool = False) -> str:
    """A relative time a person reads at a glance, one wording on every screen: "now",
    "12m ago", "3h ago", "2d ago" (`short`: "12m", "3h", "2d", for a narrow column).

    `to_the_second` is for a scanner's last scan or heartbeat (the Devices screen),
    where seconds tell a live scanner from a silent one: "12s ago" under a minute and a
    half, and "never" for a scanner that has not spoken.
    """
    if ms is None:
        return "never" if to_the_second else "—"
    seconds = max(now_ms - ms, 0) // 1000
    if seconds < (2 if to_the_second else 60):
        return "now"
    if to_the_second and seconds < 90:
        amount = f"{seconds}s"
    elif seconds < 3600:
        amount = f"{seconds // 60}m"
    elif seconds < 86_400:
        amount = f"{seconds // 3600}h"
    else:
        amount = f"{seconds // 86_400}d"
    return amount if short else f"{amount} ago"


def cut(text: str, width: int) -> str:
    """`text` as shown (tui.plain.visible), its head and "…" when longer than `width`."""
    text = visible(text)
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def quantity_text(milli: int) -> str:
    """A quantity's exact text (db.quantity's), whole units (nearly all of them) without
    the Decimal detour: the board words thousands of cells."""
    return str(milli // 1000) if milli % 1000 == 0 else qty_text(milli)


def quantity(milli: int) -> Text:
    """A quantity's exact text, right-aligned for a table column."""
    return Text(quantity_text(milli), justify="right")
