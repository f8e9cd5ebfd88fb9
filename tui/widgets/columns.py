"""How wide a screen is, in the floor's two sizes, and a DataTable's columns set once
(the table screens' — stock, inbox — shared column rule)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import DataTable

WIDE_FROM = 120  # columns: from here a screen shows its wide layout, narrower its narrow one

Columns = Sequence[tuple[str, str]]  # (key, label)


def set_columns(table: DataTable[Text], columns: Columns) -> None:
    """Give `table` these (key, label) columns, rebuilding only when they differ.

    Rebuilding on every reload would reset the cursor a person is following.
    """
    if [column.value for column in table.columns] != [key for key, _ in columns]:
        table.clear(columns=True)
        for key, label in columns:
            table.add_column(label, key=key)
