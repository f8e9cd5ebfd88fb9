"""Small pieces the floor's table screens share: column sets, cut text, quantities."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

from db.quantity import text as qty_text
from tui.plain import visible

Columns = Sequence[tuple[str, str]]  # (key, label)


def set_columns(table: DataTable[Text], columns: Columns) -> None:
    """Give `table` these (key, label) columns, rebuilding only when they differ.

    Rebuilding on every reload would reset the cursor a person is following.
    """
    if [column.value for column in table.columns] != [key for key, _ in columns]:
        table.clear(columns=True)
        for key, label in columns:
            table.add_column(label, key=key)


def cut(text: str, width: int) -> str:
    """`text` as shown (tui.plain.visible), its head and "…" when longer than `width`."""
    text = visible(text)
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def quantity(milli: int) -> Text:
    return Text(qty_text(milli), justify="right")
