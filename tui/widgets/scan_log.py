"""A station's last scans, newest first: the scan's number, time, what was read, and the
outcome in words (✓ / = / ✗ with the reason).

A LineTable (tui/widgets/line_table.py): each scan lands as one new line while the
lines already shown are kept, so a scan reaches the kiosk's screen without redrawing
the whole log (a DataTable redraw cost ~18 ms a scan).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from rich.text import Text

from db.reports import raw_text
from db.stations import StationScan
from tui.plain import as_text, visible
from tui.widgets.line_table import LineColumn, LineTable

READ_WIDTH = 24  # longer reads (noise, a pasted page) show their head and "…"
MIN_OUTCOME = 20


class ScanLog(LineTable, can_focus=False):
    """The scans of one station, keyed by scan number."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(show_cursor=False, id=id)
        self.scans: dict[str, StationScan] = {}
        self.success = "green"
        self.error = "red"

    def show_scans(self, scans: Sequence[StationScan], width: int) -> None:
        """These scans, newest first, in a log `width` cells wide."""
        read = max(min(max((len(_read(s)) for s in scans), default=4), READ_WIDTH), 4)
        # The outcome takes the rest (less each column's padding and the scrollbar): the
        # reason is what a person reads.
        outcome = max(width - 6 - 8 - read - 2 * 4 - 2, MIN_OUTCOME)
        self.set_columns(
            [
                LineColumn("scan", "Scan", 6),
                LineColumn("time", "Time", 8),
                LineColumn("read", "Read", read),
                LineColumn("outcome", "Outcome", outcome),
            ]
        )
        self.scans = {str(scan.id): scan for scan in scans}
        self.set_keys(list(self.scans))

    def row_version(self, key: str) -> object:
        return self.scans[key]

    def row_cells(self, key: str) -> list[Text]:
        scan = self.scans[key]
        ok = scan.status in ("accepted", "duplicate")
        mark = "✓" if scan.status == "accepted" else ("=" if ok else "✗")
        outcome = as_text(
            f"{mark} {scan.message or scan.status or '…'}", style=self.success if ok else self.error
        )
        when = datetime.fromtimestamp(scan.time_ms / 1000).strftime("%H:%M:%S")
        return [
            Text(str(scan.id)),
            Text(when),
            Text(_read(scan)),  # the column's width cuts it, with an ellipsis
            outcome,
        ]


def _read(scan: StationScan) -> str:
    """What the scanner sent, as text: a read may hold any byte."""
    return visible(raw_text(scan.raw))
