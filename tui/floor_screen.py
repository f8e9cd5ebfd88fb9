"""What every floor screen shares: the database path, a live re-read on other processes'
commits, and database reads kept off the UI thread.

A screen subclasses `FloorScreen`, implements `load()` (runs in a thread worker, returns
whatever it read) and `show(result)` (runs on the UI thread). `reload()` is called when
the screen shows and whenever the app sees `FloorChanged`; overlapping reloads collapse
into one.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from textual import on, work
from textual.screen import Screen

from db.connection import connect
from tui.messages import FloorChanged


class FloorScreen(Screen[None]):
    """A screen that shows part of the floor's record and keeps it live."""

    def __init__(
        self,
        db_path: str,
        *,
        name: str | None = None,
        id: str | None = None,  # noqa: A002
    ) -> None:
        super().__init__(name=name, id=id)
        self.db_path = db_path
        self._reader: sqlite3.Connection | None = None
        # A cancelled thread worker keeps running; the lock keeps two off one connection.
        self._reader_lock = threading.Lock()

    @property
    def reader(self) -> sqlite3.Connection:
        """A connection for the worker thread only (one worker at a time per screen)."""
        if self._reader is None:
            self._reader = connect(self.db_path)
        return self._reader

    def on_screen_resume(self) -> None:
        # Also sent when the screen first shows, so this is the first read too (a reload
        # on mount as well would read everything twice at start).
        self.reload()

    @on(FloorChanged)
    def _floor_changed(self, _: FloorChanged) -> None:
        self.reload()

    def reload(self) -> None:
        self._load_worker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load")
    def _load_worker(self) -> None:
        with self._reader_lock:
            result = self.load(self.reader)
            # Shown while still holding the lock, so results reach the screen in the order
            # they were read: a screen applying deltas (the board) never sees an older one last.
            self.app.call_from_thread(self.show, result)

    def load(self, conn: sqlite3.Connection) -> Any:
        """Read what the screen shows. Runs in a worker thread: no widget access here."""
        return None

    def show(self, result: Any) -> None:
        """Put what `load` read on screen. Runs on the UI thread."""
