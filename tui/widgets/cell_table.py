"""A LineTable given its rows as cells, its columns as wide as their widest cell.

For the small tables of one work order (its stages, material, movements, scans and
history) that every commit touching the order re-reads: a row whose cells are what
they were keeps its drawn line, and the columns are measured in one pass over the
cells rather than cell by cell as a DataTable does (~60 ms a refill of 200 movements).
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from tui.plain import as_text
from tui.widgets.line_table import LineColumn, LineTable

WIDEST = 48  # a column never grows past this; longer cells end in "…"


class CellTable(LineTable):
    """Rows keyed by a string, each a tuple of cells (str or Text, one per column), shown
    as text (tui.plain): never markup, controls escaped."""

    def __init__(self, *, show_cursor: bool = True, id: str | None = None) -> None:  # noqa: A002
        super().__init__(show_cursor=show_cursor, id=id)
        self.labels: tuple[str, ...] = ()
        self.column_keys: tuple[str, ...] = ()
        self._rows: dict[str, tuple[Text, ...]] = {}

    def set_labels(self, *labels: str, keys: Sequence[str] | None = None) -> None:
        """The columns' headings (and keys, to name them; by default their positions)."""
        self.labels = labels
        self.column_keys = tuple(keys) if keys is not None else tuple(map(str, range(len(labels))))
        if any(len(cells) != len(labels) for cells in self._rows.values()):
            # A resize can change the columns before the rows drawn for the old ones are
            # replaced: until then each keeps its first cells, padded or cut to fit, so no
            # draw in between ever meets a row of another shape.
            blank = (Text(),) * len(labels)
            self._rows = {key: (cells + blank)[: len(labels)] for key, cells in self._rows.items()}
        self._fit()

    def set_rows(self, rows: Sequence[tuple[str, Sequence[str | Text]]]) -> None:
        """Show these rows, top to bottom; a row's key must be unique, its cells one a column."""
        for key, cells in rows:
            if len(cells) != len(self.labels):
                raise ValueError(
                    f"row {key!r} has {len(cells)} cells for {len(self.labels)} columns"
                )
        self._rows = {key: tuple(as_text(cell) for cell in cells) for key, cells in rows}
        self._fit()
        self.set_keys(list(self._rows))

    def cells_of(self, key: str) -> list[str]:
        """The row's cells as words."""
        return [cell.plain for cell in self._rows[key]]

    def row_version(self, key: str) -> object:
        return self._rows[key]

    def row_cells(self, key: str) -> list[Text]:
        return list(self._rows[key])

    def _fit(self) -> None:
        widths = [len(label) for label in self.labels]
        for cells in self._rows.values():
            for index, cell in enumerate(cells):
                length = cell.cell_len
                if length > widths[index]:
                    widths[index] = length
        self.set_columns(
            [
                LineColumn(key, label, min(width, WIDEST))
                for key, label, width in zip(self.column_keys, self.labels, widths, strict=True)
            ]
        )
