"""How the screens word what they show: how long ago, a cut text, a quantity in its column.

The floor's words in one place, below every screen and widget, so two screens never
say the same thing two ways.
"""

from __future__ import annotations

from rich.text import Text

from db.quantity import text as qty_text
from tui.plain import visible


def ago(ms: int | None, now_ms: int, *, short: bool = False, to_the_second: bool = False) -> str:
    """A relative time a person reads at a glance: "now", "12m ago", "3h ago", "2d ago"
    (`short`: "12m", "3h", "2d", for a narrow column headed "Last").

    `to_the_second` is the Devices screen's: a scanner's last scan or heartbeat, where
    seconds tell a live scanner from a silent one: "never", "just now", "12 s ago",
    "5 min ago", "3 h ago", "2 d ago".
    """
    if to_the_second:
        return _ago_to_the_second(ms, now_ms)
    if ms is None:
        return "—"
    seconds = max(now_ms - ms, 0) // 1000
    if seconds < 60:
        return "now"
    if seconds < 3600:
        amount = f"{seconds // 60}m"
    elif seconds < 86_400:
        amount = f"{seconds // 3600}h"
    else:
        amount = f"{seconds // 86_400}d"
    return amount if short else f"{amount} ago"


def _ago_to_the_second(ms: int | None, now_ms: int) -> str:
    if ms is None:
        return "never"
    seconds = (now_ms - ms) // 1000
    if seconds < 2:
        return "just now"
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} d ago"


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
