"""The Devices screen (SPEC §5, §8): every scanner the readers know, and how it is doing.

Owns one row per scanner from the `scanners` table, which `shopfloor listen` keeps
current: its name, station, port URL, protocol (lines, or SSI with the scans the host
acknowledged, the packets the scanner resent, the error beeps it sounded, and the
revision it reported), whether it is connected (● connected / ○ lost — a symbol and a
word, never colour alone), when it last scanned, and its scan and error counts with
the last error. Reads go through db.scanners in `load` (a
worker thread); the "12s ago" texts are redrawn every few seconds without a read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import Header, Static

from db.connection import now_ms as wall_clock
from db.scanners import ScannerRow, scanner_rows
from db.spool import held_words
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.formatting import ago, cut
from tui.plain import as_text, visible
from tui.watching import HELD_POLL_S
from tui.widgets.cell_table import CellTable
from tui.widgets.key_bar import KeyBar

# Relative times go stale; redraw them this often (seconds), from what was last read.
RELATIVE_TIME_REFRESH = 5.0
# An SSI scanner's revision gets a column only on a screen this wide: below, the last
# error would be cut for it.
WIDE_ENOUGH_FOR_REVISION = 160


class DevicesScreen(FloorScreen):
    """Each scanner: connected or lost, last scan, scans, errors, last error."""

    TITLE = "Devices"
    CSS_PATH = "floor.tcss"
    AUTO_FOCUS = "#devices-table"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE

    def __init__(self, db_path: str, *, now_ms: Callable[[], int] | None = None) -> None:
        super().__init__(db_path)
        self._now = now_ms or wall_clock
        self._scanners: list[ScannerRow] | None = None
        self._held: dict[str, int] = {}  # scans waiting for the database, by feed

    @property
    def table(self) -> CellTable:
        return self.query_one("#devices-table", CellTable)

    @property
    def heading(self) -> Static:
        return self.query_one("#devices-heading", Static)

    @property
    def scanners(self) -> list[ScannerRow]:
        """The scanners on show, by station and name."""
        return self._scanners or []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Reading the scanners…", id="devices-heading", classes="floor-heading")
        # Columns fitted to the cells on every draw: a DataTable's widths depended on the
        # order its draws came in (mount, first read, resize).
        yield CellTable(id="devices-table")
        yield KeyBar()

    def on_mount(self) -> None:
        self.set_interval(RELATIVE_TIME_REFRESH, self.redraw)
        # Held scans are counted outside the database (it is what refuses them).
        self.set_interval(HELD_POLL_S, self._look_for_held)

    def _look_for_held(self) -> None:
        from db.spool import held_scans

        held = {report.feed: report.held for report in held_scans(self.db_path)}
        if held != self._held:
            self._held = held
            self.redraw()

    def load(self, conn: sqlite3.Connection) -> list[ScannerRow]:
        return scanner_rows(conn)

    def show(self, result: list[ScannerRow]) -> None:
        self._scanners = result
        self.redraw()

    def redraw(self) -> None:
        if self._scanners is None:
            return
        scanners = self._scanners
        moment = self._now()
        lost = sum(1 for s in scanners if s.link(moment) != "connected")
        if not scanners:
            self.heading.update(
                "No scanner has reported yet: start `shopfloor listen` with a scanner"
            )
        else:
            held = sum(self._held.values())
            self.heading.update(
                f"{len(scanners)} scanner{'s' if len(scanners) != 1 else ''} · "
                f"● {len(scanners) - lost} connected · ○ {lost} lost or silent"
                + (f" · ⏸ {held_words(held)}" if held else "")
            )
        wide = self.wide
        # SSI's columns where there is room and an SSI scanner to fill them; otherwise an
        # SSI scanner says so in the last column, and lines (the default) goes unsaid.
        ssi_columns = wide and any(s.protocol == "ssi" for s in scanners)
        revision = ssi_columns and self.size.width >= WIDE_ENOUGH_FOR_REVISION
        columns = [("name", "Scanner"), ("station", "Station")]
        if wide:
            columns.append(("url", "Port"))
        if ssi_columns:
            columns += [
                ("protocol", "Protocol"),
                ("acks", "Acked"),
                ("resends", "Resent"),
                ("beeps", "Error beeps"),
            ]
        columns += [
            ("link", "Link"),
            ("last", "Last scan"),
            ("scans", "Scans"),
            ("errors", "Errors"),
        ]
        if revision:
            columns.append(("revision", "Revision"))
        columns.append(("error", "Last error"))
        table = self.table
        table.set_labels(*(label for _, label in columns), keys=[key for key, _ in columns])
        theme = self.app.theme_variables
        ok = Style(color=theme.get("success", "green"), bold=True)
        bad = Style(color=theme.get("error", "red"), bold=True)
        now = self._now()
        # The last error gets whatever width the other columns leave (2 of padding each).
        used = [
            max((len(visible(s.name)) for s in scanners), default=7),
            max((len(visible(s.station)) for s in scanners), default=7),
            len("● connected"),
            max((len(ago(s.last_scan_ms, now, to_the_second=True)) for s in scanners), default=9),
            max((len(str(s.scans)) for s in scanners), default=5),
            6,
        ]
        if wide:
            used.append(min(36, max((len(visible(s.url)) for s in scanners), default=4)))
        if ssi_columns:
            used += [len("Protocol"), len("Acked"), len("Resent"), len("Error beeps")]
        if revision:
            used.append(min(20, max((len(visible(s.revision or "")) for s in scanners), default=8)))
        error_width = max(12, self.size.width - sum(width + 2 for width in used) - 6)
        rows: list[tuple[str, list[Text]]] = []
        for scanner in scanners:
            cells = [as_text(scanner.name, style="bold"), as_text(scanner.station)]
            if wide:
                cells.append(as_text(cut(scanner.url, 36)))
            if scanner.link(now) == "lost":
                link = Text("○ lost", style=bad)
            elif scanner.link(now) == "no_reader":
                # Its listener stopped saying it is alive (killed, machine down).
                link = Text("◌ no reader", style=bad)
            else:
                link = Text("● connected", style=ok)
            errors = Text(str(scanner.errors), justify="right")
            if scanner.errors:
                errors.stylize(bad)
            if ssi_columns:
                cells.append(Text("SSI" if scanner.protocol == "ssi" else "lines"))
                cells += self._answer_cells(scanner)
            cells += [
                link,
                Text(ago(scanner.last_scan_ms, now, to_the_second=True)),
                Text(str(scanner.scans), justify="right"),
                errors,
            ]
            if revision:
                cells.append(as_text(cut(scanner.revision or "", 20), style="dim"))
            cells.append(self._error_cell(scanner, error_width, ssi_columns))
            rows.append((scanner.name, cells))
        table.set_rows(rows)

    def _answer_cells(self, scanner: ScannerRow) -> list[Text]:
        """An SSI scanner's acknowledgements, resends and error beeps; a dash for lines,
        which has none of them."""
        if scanner.protocol != "ssi":
            return [Text("—", justify="right")] * 3
        counts = (scanner.acks, scanner.resends, scanner.error_beeps)
        return [Text(str(count), justify="right") for count in counts]

    def _error_cell(self, scanner: ScannerRow, width: int, ssi_columns: bool) -> Text:
        held = self._held.get(scanner.name)
        if held:
            return Text(cut(f"⏸ {held_words(held)}", width), style="bold")
        if not ssi_columns and scanner.protocol == "ssi":
            # Most telling first: what may be cut is the count of scans that went well.
            said = scanner.last_error or (
                f"{scanner.error_beeps} beeps, {scanner.resends} resent, {scanner.acks} acked"
            )
            return as_text(cut(f"SSI: {said}", width), style="dim")
        return as_text(cut(scanner.last_error or "", width), style="dim")
