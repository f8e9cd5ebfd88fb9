"""Opening the floor's SQLite file: the one connection factory every process and thread uses.

WAL lets many readers (kiosks, reports) run beside one writer; `synchronous=FULL`
makes a commit durable before a scan is acknowledged; the busy timeout plus short
`BEGIN IMMEDIATE` transactions keep "database is locked" away from people.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

BUSY_TIMEOUT_MS = 15_000
DEFAULT_DB = "shopfloor.db"


def default_db_path() -> str:
    return os.environ.get("SHOPFLOOR_DB") or DEFAULT_DB


def _wall_clock() -> int:
    return time.time_ns() // 1_000_000


_clock: Callable[[], int] = _wall_clock


def now_ms() -> int:
    """UTC milliseconds: the time stamped on every entry."""
    return _clock()


@contextmanager
def clock(source: Callable[[], int]) -> Iterator[None]:
    """Stamp entries from another clock: the demo plant writes a few days of history at once."""
    global _clock
    previous, _clock = _clock, source
    try:
        yield
    finally:
        _clock = previous


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the database with the floor's settings; usable from any one thread at a time."""
    path = Path(path)
    created = not path.exists()
    if created and not readonly:
        # The record holds badges and stock: never world-readable, from the first byte.
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    else:
        conn = sqlite3.connect(
            path,
            timeout=BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if not readonly:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    # Savepoints (one per scan line) keep their undo pages in a sub-journal: in memory,
    # not a temporary file, so a burst does not pay a file write per line.
    conn.execute("PRAGMA temp_store = MEMORY")
    return conn


@contextmanager
def write(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One short write transaction, IMMEDIATE so a writer never upgrades mid-way and deadlocks."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: the cheap "anything new?" check screens poll."""
    row = conn.execute("PRAGMA data_version").fetchone()
    return int(row[0])


# SQLite's primary result codes that say the database cannot take a write right now,
# whatever was being written: busy or locked, read-only, an I/O error, a full disk.
_UNAVAILABLE_CODES = frozenset({5, 6, 7, 8, 10, 13, 14, 15})


def database_unavailable(exc: BaseException) -> bool:
    """Is this the database (or its disk) refusing writes, rather than one line's fault?

    A scan that fails for such a reason is held and posted later; any other failure is
    that line's alone and rejects only it.
    """
    if not isinstance(exc, sqlite3.OperationalError | sqlite3.DatabaseError):
        return False
    if isinstance(exc, sqlite3.IntegrityError | sqlite3.ProgrammingError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return (code & 0xFF) in _UNAVAILABLE_CODES
    words = str(exc).lower()
    return any(
        phrase in words
        for phrase in ("locked", "disk", "readonly", "read-only", "i/o", "unable to open")
    )
