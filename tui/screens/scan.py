"""The scan station: a kiosk at a stores window or a work cell.

It shows the station's session (read from `station_sessions`, so what a headless
`shopfloor listen` reader does shows here too) in large plain words, who is signed in
in letters read from across the cell (tui/widgets/station_header.py), what to scan
next, a keyboard-wedge input, and the last scans with their outcome. When the
station's idle time passes with nobody scanning, it shows nobody signed in and signs
the station out (db/idle.py). Every scan goes
through db.pipeline from one writer thread, in the order it was read, so
a wedge's burst of keys never reorders or interleaves two scans.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import Digits, Header, OptionList, Static
from textual.widgets.option_list import Option

from db.connection import now_ms
from db.scanners import ScannerRow, scanner_rows
from db.stations import StationInfo, StationScan, StationView, station_scans, station_view, stations
from tui.floor_screen import NARROW_OR_WIDE, FloorScreen
from tui.messages import ScanRecorded, ScansHeld
from tui.plain import as_text
from tui.watching import HELD_POLL_S, FloorClock
from tui.widgets.key_bar import KeyBar
from tui.widgets.scan_input import StationPicker, WedgeInput
from tui.widgets.scan_log import ScanLog
from tui.widgets.station_header import ScannerBanner, SessionContext, SignedIn

LOG_LENGTH = 30
# How often the screen looks whether its operator's idle time has passed.
IDLE_POLL_S = 1.0

if TYPE_CHECKING:
    from db.feed import ScanFeed
    from db.pipeline import ScanResult
    from db.spool import FedLine


@dataclass(frozen=True)
class StationState:
    view: StationView
    scans: list[StationScan]
    scanners: list[ScannerRow]  # the station's own scanners, as their readers last said


class ScanScreen(FloorScreen):
    """One station's scan session, its input and its last scans."""

    TITLE = "Scan"
    # Joins the app's stylesheet when the station screen is first shown (see app.tcss).
    CSS_PATH = "scan.tcss"
    HORIZONTAL_BREAKPOINTS = NARROW_OR_WIDE
    BINDINGS = [Binding("f10", "pick_station", "Station", id="pick_station")]

    def __init__(
        self,
        db_path: str,
        *,
        station: str | None = None,
        clock: FloorClock | None = None,
        kiosk: bool = False,
    ) -> None:
        super().__init__(db_path, id="scan")
        self.station = station
        self.clock = clock or FloorClock()
        # A kiosk keeps its station (once picked) and offers no palette.
        self.kiosk = kiosk
        # Scans typed but not yet given to the feed, and whether a writer thread is
        # taking them.
        self._waiting: deque[tuple[str, bytes, int]] = deque()
        self._writing = False
        self._writer_lock = threading.Lock()
        # This terminal's keyboard feed (db.feed): it holds typed scans while the
        # database refuses writes. Made by the writer thread on the first scan.
        self._feed: ScanFeed | None = None
        self._feed_lock = threading.Lock()
        self._held_said = ""
        # The newest scan shown (None until the first read: what was there before this
        # screen opened stays quiet), and the rejections the bell already rang for.
        self._last_seen: int | None = None
        self._rang: set[int] = set()
        self._log: list[StationScan] = []
        self._said: dict[str, str] = {}  # what each line of words last said
        self._stations: list[StationInfo] = []
        self._scanners: list[ScannerRow] = []
        self._signs_out_at: int | None = None  # when the idle time signs the operator out

    # ------------------------------------------------------------ widgets

    @property
    def scan_input(self) -> WedgeInput:
        return self.query_one(WedgeInput)

    @property
    def log_table(self) -> ScanLog:
        return self.query_one("#scan-log", ScanLog)

    @property
    def picker(self) -> OptionList:
        return self.query_one("#station-picker", OptionList)

    @property
    def prompt(self) -> Static:
        return self.query_one("#scan-prompt", Static)

    @property
    def result_line(self) -> Static:
        return self.query_one("#scan-result", Static)

    @property
    def signed_in(self) -> SignedIn:
        return self.query_one("#scan-signed-in", SignedIn)

    @property
    def number(self) -> Digits:
        """The number being built on the number pad, in large digits."""
        return self.query_one("#scan-number-digits", Digits)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("SCAN", id="scan-title", classes="screen-heading")
        with Vertical(id="scan-station"):
            yield SignedIn(id="scan-signed-in")
            yield SessionContext(id="scan-context")
            with Vertical(id="scan-number"):
                yield Static("QTY FROM THE NUMBER PAD", classes="context-label")
                yield Digits("", id="scan-number-digits")
            yield Static("", id="scan-prompt")
            yield WedgeInput(placeholder="scan a barcode (or type it and press Enter)")
            yield Static("", id="scan-held")
            yield ScannerBanner(id="scan-scanner-lost")
            yield Static("", id="scan-result")
            yield ScanLog(id="scan-log")
        yield StationPicker(id="station-picker")
        yield KeyBar(show_command_palette=not self.kiosk)

    def on_mount(self) -> None:
        self._show_picking(self.station is None)
        # Held scans live outside the database (it is the thing refusing them), so they
        # are looked for on a timer rather than on a commit.
        self.set_interval(HELD_POLL_S, self._look_for_held)
        # Time passing commits nothing: the idle sign-out is looked for on a timer.
        self.set_interval(IDLE_POLL_S, self._look_for_idle)
        if self.station is not None:
            self._open_feed(self.station)

    def on_unmount(self) -> None:
        with self._writer_lock:
            if not self._writing and self._feed is not None:
                self._feed.close()
                self._feed = None

    def _show_picking(self, picking: bool) -> None:
        self.set_class(picking, "-picking")
        if picking:
            self.picker.focus()
        else:
            self.scan_input.focus()

    # ------------------------------------------------------------ data

    def load(self, conn: sqlite3.Connection) -> StationState | list[StationInfo] | None:
        if self.station is None:
            return stations(conn)
        view = station_view(conn, self.station)
        if view is None:
            return None
        own = [row for row in scanner_rows(conn) if row.station == self.station]
        return StationState(view, station_scans(conn, self.station, limit=LOG_LENGTH), own)

    def show(self, result: StationState | list[StationInfo] | None) -> None:
        # A read from before a station was picked (or changed) is stale: its reload follows.
        if isinstance(result, StationState) and result.view.station.code != self.station:
            return
        if isinstance(result, list):
            if self.station is None:
                self._show_stations(result)
        elif result is None:
            self._say(
                "scan-title", f"SCAN · station {self.station} is not set up: add it to stations.csv"
            )
        else:
            self._show_state(result)

    def _show_stations(self, found: list[StationInfo]) -> None:
        self._say("scan-title", "SCAN · pick this terminal's station")
        picker = self.picker
        if found != self._stations:
            # Rebuilt only when the station list changed: every commit on the floor
            # re-reads it, and a rebuild would throw the person's highlight away.
            self._stations = found
            picker.clear_options()
            picker.add_options(
                Option(as_text(f"{s.code:<10} {s.name} ({s.mode.lower()})"), id=s.code)
                for s in found
            )
            picker.highlighted = 0 if found else None
        if not self.has_class("-picking"):
            self._show_picking(True)

    def _show_state(self, state: StationState) -> None:
        view = state.view
        self._say("scan-title", f"SCAN · {view.station.code} · {view.station.name}")
        self.signed_in.show(view.operator_name, view.operator, view.signed_out)
        self._signs_out_at = view.signs_out_at_ms
        self.query_one(SessionContext).show(view)
        self._say("scan-prompt", f"▶ {view.prompt}")
        self._show_number(view.typed_qty)
        self._scanners = state.scanners
        self._show_scanners()
        self._show_log(state.scans)

    def _show_number(self, typed: str | None) -> None:
        """The number pad's number, large enough to read from the work cell as it grows:
        a wrong key is seen before the item scan posts it."""
        if self.number.value != (typed or ""):
            # Digits draws only digits and . — what db.context_labels lets in.
            self.number.update(typed or "")
        self.set_class(typed is not None, "-building")

    def _show_scanners(self) -> None:
        """The banner while one of this station's own scanners is not reaching the record."""
        lost = self.query_one("#scan-scanner-lost", ScannerBanner)
        self.set_class(lost.show(self._scanners, self.clock.now_ms()), "-scanner-lost")

    def _say(self, widget_id: str, words: str) -> None:
        """Update a line only when its words changed: every commit on the floor re-reads
        the station, and each update re-lays out the screen (a few ms a line)."""
        if self._said.get(widget_id) != words:
            self._said[widget_id] = words
            self.query_one(f"#{widget_id}", Static).update(as_text(words))

    def _show_log(self, scans: list[StationScan]) -> None:
        # Another station's commit also wakes this screen: redraw only when this log moved.
        changed = [(s.id, s.status) for s in scans] != [(s.id, s.status) for s in self._log]
        self._log = scans
        if changed or not self.log_table.row_count:
            self._draw_log()
        opening = self._last_seen is None
        last_seen = self._last_seen or 0
        if not opening:
            # A rejection from this station's serial scanner or another process rings too.
            for scan in scans:
                if scan.id > last_seen and scan.status == "rejected":
                    self._ring(scan.id)
        if scans and scans[0].id > last_seen:
            # The newest scan, whichever scanner or process it came from.
            self._show_outcome(scans[0].status, scans[0].message)
        self._last_seen = max([last_seen] + [scan.id for scan in scans])

    def _draw_log(self) -> None:
        table = self.log_table
        theme = self.app.current_theme
        table.success, table.error = theme.success or "green", theme.error or "red"
        table.show_scans(self._log, table.size.width or self.app.size.width)

    def redraw(self) -> None:
        self._draw_log()
        self.signed_in.redraw()

    def _ring(self, scan_id: int) -> None:
        if scan_id not in self._rang:
            self._rang.add(scan_id)
            self.app.bell()

    # ------------------------------------------------------------ scanning

    @on(WedgeInput.Scanned)
    def _scanned(self, event: WedgeInput.Scanned) -> None:
        if self.station is None:
            self.notify("Pick this terminal's station first", severity="warning")
            return
        with self._writer_lock:
            self._waiting.append((self.station, event.text.encode("utf-8"), now_ms()))
            start = not self._writing
            self._writing = True
        if start:
            self._write_scans()

    @work(thread=True, exit_on_error=False, group="scan-writer")
    def _write_scans(self) -> None:
        """Give the keyboard feed one scan at a time, in the order they were typed.

        One writer at a time: it takes scans until none wait, so a burst is written
        in order by one thread and the next scan after a pause starts a new writer.
        A scan the database cannot take now is held by the feed (and its spool) and
        recorded when it can: the outcome arrives then, as `ScanRecorded`.
        """
        while True:
            with self._writer_lock:
                if not self._waiting:
                    self._writing = False
                    return
                station, raw, at_ms = self._waiting.popleft()
            from db.feed import TypedLine

            feed = self._keyboard_feed(station)
            if feed.give(station, [TypedLine(raw, at_ms, len(raw))]) is None:
                self.post_message(ScansHeld(feed.name, station, feed.held, None))

    @work(thread=True, exit_on_error=False, group="scan-feed")
    def _open_feed(self, station: str) -> None:
        """Open the keyboard feed at once: scans an earlier run held are posted now."""
        self._keyboard_feed(station)

    def _keyboard_feed(self, station: str) -> ScanFeed:
        with self._feed_lock:
            return self._make_feed(station)

    def _make_feed(self, station: str) -> ScanFeed:
        if self._feed is None:
            from db.feed import ScanFeed

            def recorded(line: FedLine, result: ScanResult) -> None:
                self.post_message(
                    ScanRecorded(result.scan_id, line.station, result.status, result.message)
                )

            def held(count: int, reason: str | None) -> None:
                self.post_message(ScansHeld(f"keyboard-{station}", station, count, reason))

            self._feed = ScanFeed(
                self.db_path, name=f"keyboard-{station}", source="keyboard",
                on_result=recorded, on_held=held,
            )  # fmt: skip
            self._feed.start()
        return self._feed

    def _look_for_held(self) -> None:
        from db.spool import held_scans

        station = self.station
        count = sum(
            report.held for report in held_scans(self.db_path) if station in report.stations
        )
        self._show_held(count)
        if self._scanners:
            self._show_scanners()

    def _look_for_idle(self) -> None:
        """Once the operator's idle time passed with no scan, sign the station out: the
        screen (and every other one) then reads nobody signed in."""
        deadline, station = self._signs_out_at, self.station
        if deadline is not None and station is not None and now_ms() >= deadline:
            self._signs_out_at = None
            self._sign_out_idle(station)

    @work(thread=True, exit_on_error=False, group="idle-signout")
    def _sign_out_idle(self, station: str) -> None:
        from db.connection import connect
        from db.idle import sign_out_idle

        try:
            conn = connect(self.db_path)
            try:
                sign_out_idle(conn, now_ms(), station=station)
            finally:
                conn.close()
        finally:
            # Written or not (a locked file), the read shows nobody signed in past the time.
            self.app.call_from_thread(self.reload)

    @on(ScansHeld)
    def _scans_held(self, event: ScansHeld) -> None:
        event.stop()
        if event.station == self.station:
            self._look_for_held()

    def _show_held(self, count: int) -> None:
        from db.spool import held_words

        words = f"⏸ {held_words(count)}: they will be recorded" if count else ""
        if words != self._held_said:
            self._held_said = words
            self.query_one("#scan-held", Static).update(as_text(words))
            self.set_class(bool(count), "-held")

    @on(ScanRecorded)
    def _recorded(self, event: ScanRecorded) -> None:
        event.stop()  # the app hands serial scans here; this one must not go back up
        if event.station != self.station:
            return
        # Said at once; the re-read that follows shows it in the log too.
        self._show_outcome(event.status, event.message)
        if event.status == "rejected":
            if event.scan_id:
                self._ring(event.scan_id)
            else:
                self.app.bell()
        self.reload()

    def _show_outcome(self, status: str | None, message: str | None) -> None:
        theme = self.app.current_theme
        rejected = status == "rejected"
        mark = {"accepted": "✓", "duplicate": "=", "rejected": "✗"}.get(status or "", "…")
        colour = (theme.error if rejected else theme.success) or ""
        self.result_line.update(as_text(f"{mark} {message or status or ''}", f"bold {colour}"))
        self.set_class(rejected, "-rejected")

    # ------------------------------------------------------------ station

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "pick_station" and self.kiosk:
            return False  # hidden: a kiosk's station is fixed
        return True

    def action_pick_station(self) -> None:
        self.station = None
        self.reload()

    @on(StationPicker.Stray)
    def _stray_scan(self, event: StationPicker.Stray) -> None:
        self.app.bell()
        self.notify(
            f"{event.text} was not recorded: pick this terminal's station first "
            "(arrows and Enter, or type the station's code)",
            severity="error",
        )

    @on(OptionList.OptionSelected, "#station-picker")
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.station = event.option.id
        self._last_seen = None
        self._rang.clear()
        self.result_line.update("")
        self._show_picking(False)
        self.reload()
