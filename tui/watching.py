"""Live refresh across processes: noticing another process's commit, the app's clock, and
a serial scanner read by the app itself.

`FloorWatcher` asks SQLite `PRAGMA data_version` every 20 ms on a connection of its
own. The number moves whenever any other connection (a `shopfloor listen` reader,
another kiosk, `shopfloor scan`, this app's own workers) commits, and costs no disk
read, so polling it is the cheap "anything new?" of SPEC §2. It polls from a thread
of its own rather than an app timer so the UI thread never waits on SQLite (the
pragma reads the WAL index, which a checkpoint can hold). On a change it calls back:
the app posts itself `FloorPolled` and hands `FloorChanged` to the screens on show;
both coalesce in the message queues, so a burst of a thousand commits becomes a
handful of re-reads, each of only what changed.

`FloorClock` is "now" for everything on screen that depends on it (late, at risk,
"12m ago"); tests pass a fixed one so snapshots do not change with the date.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message

from db.connection import connect, data_version
from tui.messages import ScannerStateChanged, ScanRecorded, ScansHeld

if TYPE_CHECKING:
    from db.pipeline import ScanResult
    from db.spool import FedLine
    from devices.reader import LinkChanged, ScannerReader

POLL_SECONDS = 0.02
# Scans held while the database refuses writes are counted in files beside it (the
# database is what refuses), so the screens that show them look on a timer.
HELD_POLL_S = 0.5


def wall_ms() -> int:
    """UTC milliseconds now, from the wall clock (a scan's read time)."""
    return time.time_ns() // 1_000_000


@dataclass(frozen=True)
class FloorClock:
    """What time it is for the screens: wall time unless a test fixes it."""

    now_ms: Callable[[], int] = field(default=wall_ms)
    fixed_today: date | None = None

    def today(self) -> date:
        """The plant's calendar day (local time, as due dates are written)."""
        if self.fixed_today is not None:
            return self.fixed_today
        return datetime.fromtimestamp(self.now_ms() / 1000).date()


class FloorPolled(Message):
    """The watcher saw `data_version` move. The app turns it into `FloorChanged` for the
    screens on show; a separate message, so their `FloorChanged` bubbling back up to the
    app is not handed out again."""

    def __init__(self, data_version: int) -> None:
        super().__init__()
        self.data_version = data_version

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FloorPolled)


class FloorWatcher:
    """Calls `on_change(version)` from its own thread when another connection commits."""

    def __init__(
        self,
        db_path: str | Path,
        on_change: Callable[[int], object],
        *,
        interval: float = POLL_SECONDS,
    ) -> None:
        self.db_path = db_path
        self.on_change = on_change
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="floor-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        last: int | None = None
        while not self._stop.is_set():
            try:
                if conn is None:
                    if not Path(self.db_path).exists():
                        # Never create the file by looking for it (connect would).
                        self._stop.wait(self.interval)
                        continue
                    conn = connect(self.db_path)
                    last = data_version(conn)
                version = data_version(conn)
                if version != last:
                    last = version
                    self.on_change(version)
            except sqlite3.Error:
                # The file went away or is being swapped: reopen on the next tick.
                if conn is not None:
                    conn.close()
                conn = None
            self._stop.wait(self.interval)
        if conn is not None:
            conn.close()


class LocalScanner:
    """A serial scanner this app reads itself (`shopfloor --station S --scanner URL`).

    The same link as `shopfloor listen` (db.listen.ScannerLink: reader, feed, Devices
    row); the outcome of each line, the scanner's state and the scans held while the
    database refuses writes go to the app as messages via `post`, safe from any thread.
    Like the listener it says it is alive every `heartbeat_s` (db.scanners' rule).
    """

    def __init__(
        self,
        db_path: str | Path,
        *,
        name: str,
        url: str,
        station: str,
        post: Callable[[Message], object],
        heartbeat_s: float | None = None,
    ) -> None:
        # Here, not at the top: only an app reading its own scanner needs pyserial and the
        # scan pipeline, and every app's start would otherwise wait for them.
        from db.listen import ScannerLink
        from db.scanners import HEARTBEAT_S
        from devices.reader import ScannerConfig

        self.post = post
        self.db_path = str(db_path)
        self.config = ScannerConfig(name=name, url=url, station=station)
        self.link = ScannerLink(
            self.db_path, self.config, on_result=self._result, on_state=self._state,
            on_held=self._held,
        )  # fmt: skip
        self.heartbeat_s = HEARTBEAT_S if heartbeat_s is None else heartbeat_s
        self._stopped = threading.Event()
        self._heartbeat = threading.Thread(target=self._beat, name=f"heartbeat {name}", daemon=True)

    @property
    def reader(self) -> ScannerReader:
        return self.link.reader

    def start(self) -> None:
        # The reader's first state report (connected, or why not) records the scanner.
        self.link.start()
        self._heartbeat.start()

    def stop(self) -> None:
        self._stopped.set()
        self.link.stop()
        if self._heartbeat.is_alive():
            self._heartbeat.join(timeout=5)

    def _beat(self) -> None:
        """Found: 15 s after it connected, a kiosk's own scanner showed as "no reader" on
        its station screen while its scans went on arriving: nothing said it was alive."""
        from db.scanners import mark_alive

        conn = connect(self.db_path)
        try:
            while not self._stopped.wait(self.heartbeat_s):
                try:
                    mark_alive(conn, [self.config.name])
                except sqlite3.Error:
                    continue  # a busy moment: the next beat says it
        finally:
            conn.close()

    def _result(self, line: FedLine, result: ScanResult) -> None:
        self.post(ScanRecorded(result.scan_id, line.station, result.status, result.message))

    def _state(self, state: LinkChanged) -> None:
        self.post(ScannerStateChanged(state.scanner, state.connected, state.error))

    def _held(self, count: int, reason: str | None) -> None:
        self.post(ScansHeld(self.config.name, self.config.station, count, reason))
