"""What every floor screen shares: the database path, a live re-read on other processes'
commits, and database reads kept off the UI thread.

A screen subclasses `FloorScreen`, implements `load()` (runs in a thread worker, returns
whatever it read) and `show(result)` (runs on the UI thread). `reload()` is called when
the screen shows and whenever the app sees `FloorChanged`; overlapping reloads collapse
into one.

A read that fails (the file locked or damaged, a disk error) leaves what was last read
on screen, so the screen says so: "NOT UP TO DATE since 10:42:07: <why>" in its header
until a read succeeds again, and one notification when it starts. A kiosk nobody
watches at that moment still shows it.

A supervisor's action (`ask_supervisor`) asks for the badge and reason in the
`SupervisorDialog`, which posts in a worker thread: done, the screen says so and reads
again; refused, the dialog shows the record's words and keeps what was typed.

Width: a screen laid out by width takes `NARROW_OR_WIDE` as its breakpoints (its CSS
sees `-narrow` or `-wide`), reads `wide` while drawing, and draws in `redraw()`, which
the base calls again on every resize with what was last read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events, on, work
from textual.screen import Screen

from db.connection import connect
from tui.messages import FloorChanged
from tui.plain import visible
from tui.widgets.columns import WIDE_FROM

if TYPE_CHECKING:
    from datetime import date

    from tui.dialogs import Reason, SupervisorForm

SupervisorAction = Callable[[sqlite3.Connection, "SupervisorForm"], None]

NARROW_OR_WIDE: list[tuple[int, str]] = [(0, "-narrow"), (WIDE_FROM, "-wide")]


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
        self._read_at = ""  # local clock time of the last read that succeeded
        self._failing = False

    @property
    def reader(self) -> sqlite3.Connection:
        """A connection for the worker thread only (one worker at a time per screen)."""
        if self._reader is None:
            self._reader = connect(self.db_path)
        return self._reader

    @property
    def wide(self) -> bool:
        """Whether the screen shows its wide layout (the `-wide` class's width)."""
        return self.size.width >= WIDE_FROM

    def on_resize(self, _: events.Resize) -> None:
        self.redraw()

    def redraw(self) -> None:
        """Draw again, at the screen's width, what was last read; nothing before the
        first read. Runs on the UI thread, without a read."""

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
            try:
                result = self.load(self.reader)
            except Exception as exc:  # noqa: BLE001 - the screen stays up and says why
                self._drop_reader()
                self.app.call_from_thread(self._read_failed, exc)
                return
            self._read_at = time.strftime("%H:%M:%S")
            # Shown while still holding the lock, so results reach the screen in the order
            # they were read: a screen applying deltas (the board) never sees an older one last.
            self.app.call_from_thread(self._read_again, result)

    def _drop_reader(self) -> None:
        """Close the worker's connection after a failed read: the next read opens a new one
        (a file replaced or repaired meanwhile is read as it is now)."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    def _read_failed(self, error: Exception) -> None:
        since = self._read_at or "the start"
        why = visible(str(error)) or type(error).__name__
        self.sub_title = f"NOT UP TO DATE since {since}: {why}"
        if not self._failing:
            self._failing = True
            self.notify(
                f"{self.title or 'This screen'} cannot read the floor ({why}); it shows what "
                f"was read at {since} and tries again on the next change",
                severity="error",
                timeout=10,
            )

    def _read_again(self, result: Any) -> None:
        if self._failing:
            self._failing = False
            self.sub_title = None
        self.show(result)

    def ask_supervisor(
        self,
        title: str,
        explanation: str | tuple[str, ...],
        post: SupervisorAction,
        *,
        done: str,
        ask_due: str | None = None,
        ask_item: str | None = None,
        reason: Reason = "required",
        confirm_label: str = "OK",
        today: date | None = None,
    ) -> None:
        """Ask for what the action needs and a supervisor's badge, `post` it from the
        dialog (a refusal keeps the dialog open with what was typed), then say `done`."""
        from tui.dialogs import Done, SupervisorDialog

        def act(conn: sqlite3.Connection, form: SupervisorForm) -> Done:
            post(conn, form)
            return Done(done)

        def answered(result: Done | None) -> None:
            if result is not None:
                self.notify(result.message)
                self.reload()

        dialog = SupervisorDialog(
            title,
            explanation,
            db_path=self.db_path,
            act=act,
            today=today,
            ask_due=ask_due,
            ask_item=ask_item,
            reason=reason,
            confirm_label=confirm_label,
        )
        self.app.push_screen(dialog, answered)

    def load(self, conn: sqlite3.Connection) -> Any:
        """Read what the screen shows. Runs in a worker thread: no widget access here."""
        return None

    def show(self, result: Any) -> None:
        """Put what `load` read on screen. Runs on the UI thread."""
