"""The scan feed: hands one source's lines (a scanner, a terminal's keyboard) to the scan
pipeline, and keeps every line it was given until the database has taken it.

A line, once read, is never dropped (SPEC §8). While the database refuses writes (a
lock held past the busy timeout, a full disk, an I/O error, a read-only file) the feed
holds the lines in order, in memory (bounded) and appended to a spool file beside the
database whenever the disk allows, and retries with backoff from a thread of its own,
so the reader goes on reading the device. Each commit also records, in the same
transaction, the sequence number of the last line it took (`feed_marks`): after a
kill, the spool is replayed from there, so no line is posted twice and none is lost.

One hand-over (one group commit) is at most `HANDOVER_LINES` lines. A reader that got
more in one read writes the rest to the spool before committing the first ones, so a
kill -9 can lose at most one hand-over.

The held count is also written to a small status file beside the spool (overwritten in
place, so it works on a full disk), which the Devices and station screens of any
process read: "waiting for the database: N scans held". Both files are db/spool.py.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from db.connection import connect, database_unavailable, now_ms
from db.pipeline import ScanInput, ScanResult, Source, process_batch
from db.spool import FedLine, Spool, StatusFile, file_name, spool_dir

log = logging.getLogger("shopfloor.feed")

HANDOVER_LINES = 64
# Held lines kept in memory; past this the feed asks its reader to stop reading (the
# bytes wait in the device), rather than grow without bound.
HELD_BYTES_LIMIT = 32 * 1024 * 1024
# A commit attempt waits this long for a lock before the lines are held; short, so the
# reader is never kept from its device for long.
ATTEMPT_BUSY_MS = 250
FIRST_RETRY_S = 0.05
MAX_RETRY_S = 2.0


class ReadLine(Protocol):
    """A line as a reader delivers it (devices.reader.LineRead has this shape)."""

    @property
    def raw(self) -> bytes: ...
    @property
    def at_ms(self) -> int: ...
    @property
    def length(self) -> int: ...
    @property
    def unterminated(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class TypedLine:
    """A scan typed at a keyboard wedge: read whole, the moment Enter came."""

    raw: bytes
    at_ms: int
    length: int
    unterminated: bool = False


ResultHandler = Callable[[FedLine, ScanResult], None]
HeldHandler = Callable[[int, str | None], None]


class ScanFeed:
    """Feeds one source's lines to the pipeline in order, holding them while the database
    refuses writes. `give` may be called from any thread; results and held counts are
    reported through the callbacks, from the thread that committed."""

    def __init__(
        self,
        db_path: str | Path,
        *,
        name: str,
        source: Source,
        scanner: str | None = None,
        dedupe_ms: int = 0,
        on_result: ResultHandler | None = None,
        on_held: HeldHandler | None = None,
        busy_ms: int = ATTEMPT_BUSY_MS,
    ) -> None:
        self.db_path = str(db_path)
        self.source: Source = source
        self.scanner = scanner
        self.dedupe_ms = dedupe_ms
        self.on_result = on_result
        self.on_held = on_held
        self.busy_ms = busy_ms
        # The queue's lock guards the held lines and the spool and is never kept while
        # waiting on the database; the commit lock keeps one commit at a time, in order.
        self._queue = threading.RLock()
        self._committing = threading.Lock()
        self._held: deque[FedLine] = deque()
        self._held_bytes = 0
        self._stations: Counter[str] = Counter()  # stations of the held lines
        self._held_since: int | None = None
        self._reason: str | None = None
        self._conn: sqlite3.Connection | None = None
        self._closed = threading.Event()
        self._retrying = False
        self._mark = 0  # the last seq the database has
        self._spool_whole = True  # every held line is in the spool file
        self._next_seq = 1
        folder = spool_dir(db_path)
        self.name = name
        self._spool = self._open_spool(folder, file_name(name))
        self._status = StatusFile(folder, self.name_on_disk)

    # ------------------------------------------------------------ opening

    def _open_spool(self, folder: Path, base: str) -> Spool:
        # Two terminals may feed one station's keyboard scans: each gets its own spool.
        for n in range(1, 100):
            candidate = base if n == 1 else f"{base}.{n}"
            try:
                spool = Spool(folder, candidate)
            except BlockingIOError:
                continue
            self.name_on_disk = candidate
            return spool
        raise RuntimeError(f"no free spool for {base} in {folder}")

    @property
    def feed_key(self) -> str:
        """The name its progress mark has in the database."""
        return self.name_on_disk

    def start(self) -> None:
        """Read the spool left by an earlier run and post what the database does not have."""
        leftover = self._spool.read()
        try:
            self._mark = self._read_mark()
        except sqlite3.Error as exc:
            # The database cannot even be read: hold everything left over, in order.
            self._mark = 0
            log.warning("feed %s: progress mark not read (%s)", self.name, exc)
        pending = [line for line in leftover if line.seq > self._mark]
        self._next_seq = max(self._mark, self._spool.spooled_to) + 1
        if not pending:
            if leftover:
                self._spool.clear()
            self._status.write(0, None, None)
            return
        with self._queue:
            for line in pending:
                self._hold(line)
            self._held_since = min(line.at_ms for line in pending)
            self._reason = "scans left from an earlier run"
        if not self._drain():
            with self._queue:
                self._say_held()
                self._schedule_retry()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect(self.db_path)
            self._conn.execute(f"PRAGMA busy_timeout = {int(self.busy_ms)}")
        return self._conn

    def _read_mark(self) -> int:
        conn = self._connection()
        row = conn.execute("SELECT seq FROM feed_marks WHERE feed = ?", (self.feed_key,)).fetchone()
        return int(row[0]) if row is not None else 0

    # ------------------------------------------------------------ giving lines

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def can_take(self) -> bool:
        """False while memory holds as much as it may: the reader should pause."""
        return self._held_bytes < HELD_BYTES_LIMIT

    def give(self, station: str, lines: Sequence[ReadLine]) -> list[ScanResult] | None:
        """Lines read for `station`, in order, from the feed's one producing thread.

        While nothing is held they are committed now (the reader waits: bytes not yet
        taken stay in the device) and their results returned. While lines are held the
        new ones join them at once, so the reader never waits on the database and every
        line keeps the time it was read; None is returned then. Either way `on_result`
        hears of each line once it is committed.
        """
        with self._queue:
            fed = [
                FedLine(self._next_seq + n, station, line.raw, line.at_ms, line.length,
                        line.unterminated)
                for n, line in enumerate(lines)
            ]  # fmt: skip
            self._next_seq += len(fed)
            if not fed:
                return []
            if self._held:
                for line in fed:
                    self._hold(line)
                self._keep_on_disk(fed)
                self._say_held()
                return None
        with self._committing:
            # More than one hand-over arrived at once: all but the first hand-over go to
            # disk before it is committed, so a kill during the commits below loses at
            # most one hand-over, with the line the reader was cutting off when it died.
            first = HANDOVER_LINES - 1
            spilled = len(fed) > first
            if spilled:
                self._keep_on_disk(fed[first:])
            results: list[ScanResult] = []
            for start in [0, *range(first, len(fed), HANDOVER_LINES)] if spilled else [0]:
                part = fed[start : first if start == 0 and spilled else start + HANDOVER_LINES]
                try:
                    results += self._commit(part)
                except Exception as exc:  # noqa: BLE001 - whatever it is, the lines are kept
                    with self._queue:
                        for line in fed[start:]:
                            self._hold(line)
                        self._keep_on_disk(fed[start:first] if spilled else fed[start:])
                        self._begin_holding(exc)
                    return None
            if spilled:
                self._spool.clear()
            return results

    def _keep_on_disk(self, lines: Sequence[FedLine]) -> None:
        if not self._spool.append(lines):
            self._spool_whole = False

    def _commit(self, lines: list[FedLine]) -> list[ScanResult]:
        conn = self._connection()
        last = lines[-1].seq

        def mark(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO feed_marks (feed, seq, updated_ms) VALUES (?, ?, ?) "
                "ON CONFLICT (feed) DO UPDATE SET seq = excluded.seq, "
                "updated_ms = excluded.updated_ms",
                (self.feed_key, last, now_ms()),
            )

        inputs = [
            ScanInput(
                station=line.station,
                raw=line.raw,
                source=self.source,
                scanner=self.scanner,
                at_ms=line.at_ms,
                length=line.length,
                dedupe_ms=self.dedupe_ms,
                unterminated=line.unterminated,
            )  # fmt: skip
            for line in lines
        ]
        results = process_batch(conn, inputs, then=mark)
        self._mark = last
        if self.on_result is not None:
            for line, result in zip(lines, results, strict=True):
                try:
                    self.on_result(line, result)
                except Exception:
                    log.exception("feed %s: reporting a result failed", self.name)
        return results

    # ------------------------------------------------------------ holding

    def _hold(self, line: FedLine) -> None:
        self._held.append(line)
        self._held_bytes += len(line.raw) + 64
        self._stations[line.station] += 1

    def _unhold(self) -> None:
        line = self._held.popleft()
        self._held_bytes -= len(line.raw) + 64
        self._stations[line.station] -= 1
        if not self._stations[line.station]:
            del self._stations[line.station]

    def _begin_holding(self, exc: BaseException) -> None:
        if not database_unavailable(exc):
            # Not the database's state but a fault of ours: still kept, and said loudly.
            log.error("feed %s: commit failed, lines held", self.name, exc_info=exc)
        if self._held_since is None:
            self._held_since = self._held[0].at_ms if self._held else now_ms()
        self._reason = str(exc) or type(exc).__name__
        if self._conn is not None and not isinstance(exc, sqlite3.OperationalError):
            # A connection in an unknown state is replaced, not trusted.
            self._drop_connection()
        self._say_held()
        self._schedule_retry()

    def _drop_connection(self) -> None:
        try:
            if self._conn is not None:
                self._conn.close()
        except sqlite3.Error:
            pass
        self._conn = None

    def _say_held(self) -> None:
        count = len(self._held)
        self._status.write(count, self._held_since, self._reason, self._stations)
        if self.on_held is not None:
            try:
                self.on_held(count, self._reason if count else None)
            except Exception:
                log.exception("feed %s: reporting held scans failed", self.name)

    def _schedule_retry(self) -> None:
        if self._retrying or self._closed.is_set():
            return
        self._retrying = True
        threading.Thread(target=self._retry, name=f"feed {self.name} retry", daemon=True).start()

    def _retry(self) -> None:
        delay = FIRST_RETRY_S
        while not self._closed.wait(delay):
            if self._drain():  # which ends the retrying under the queue's lock
                return
            delay = min(delay * 2, MAX_RETRY_S)
        with self._queue:
            self._retrying = False

    def _drain(self) -> bool:
        """Post held lines in order, one hand-over at a time; True once none are held.

        The commit runs outside the queue's lock, so the reader goes on adding lines
        (and reading its device) while this waits on the database.
        """
        while True:
            with self._queue:
                if not self._spool_whole:
                    # Lines the disk refused earlier: spooled as soon as it has room.
                    self._spool_whole = self._spool.append(list(self._held))
                part = [self._held[n] for n in range(min(HANDOVER_LINES, len(self._held)))]
            if not part:
                break
            with self._committing:
                try:
                    self._commit(part)
                except Exception as exc:  # noqa: BLE001 - kept, tried again later
                    with self._queue:
                        self._reason = str(exc) or type(exc).__name__
                        if not isinstance(exc, sqlite3.OperationalError):
                            self._drop_connection()
                        self._say_held()
                    return False
            with self._queue:
                for _ in part:
                    self._unhold()
                if not self._held:
                    # The screens' count reaches 0 with `held`, not after the spool's fsync.
                    self._status.write(0, None, None)
        with self._committing, self._queue:
            if self._held:
                return False
            self._held_since = None
            self._reason = None
            self._spool.clear()
            self._spool_whole = True
            # Said here, with the queue locked: a failure right after starts a new retry.
            self._retrying = False
            self._say_held()
        log.info("feed %s: the database takes writes again; held scans posted", self.name)
        return True

    def close(self) -> None:
        """Stop retrying; held lines stay in the spool for the next start."""
        self._closed.set()
        with self._committing, self._queue:
            if self._held and not self._spool_whole:
                self._spool.append(list(self._held))
            self._drop_connection()
            self._spool.close()
            self._status.close()
