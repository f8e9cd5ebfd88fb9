"""Opening the floor's SQLite file: the one connection factory every process and thread uses,
and the one place that names what went wrong with the file in words (`FileFault`).

WAL lets many readers (kiosks, reports) run beside one writer; `synchronous=FULL`
makes a commit durable before a scan is acknowledged; the busy timeout plus short
`BEGIN IMMEDIATE` transactions keep "database is locked" away from people.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

BUSY_TIMEOUT_MS = 15_000
BUSY_TIMEOUT_ENV = "SHOPFLOOR_BUSY_TIMEOUT_MS"
DEFAULT_DB = "shopfloor.db"

# What can be wrong with the file itself, as opposed to what is in it.
FaultKind = Literal["not_shopfloor", "newer", "read_only", "locked", "disk_full", "disk_error"]

# A disk this close to full that fails a write is full, whatever SQLite called the
# failure: growing the WAL's shared-memory file there reports "disk I/O error".
NEARLY_FULL_BYTES = 1 << 20


class FileFault(Exception):
    """The database file cannot be used as asked; the message is one line saying what to do."""

    def __init__(self, kind: FaultKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def default_db_path() -> str:
    return os.environ.get("SHOPFLOOR_DB") or DEFAULT_DB


def busy_timeout_ms() -> int:
    """How long a write waits for another writer's lock: $SHOPFLOOR_BUSY_TIMEOUT_MS, else 15 s."""
    text = os.environ.get(BUSY_TIMEOUT_ENV, "").strip()
    if not text:
        return BUSY_TIMEOUT_MS
    if not text.isascii() or not text.isdigit() or int(text) > 3_600_000:
        raise ValueError(
            f"{BUSY_TIMEOUT_ENV}={text!r}: give whole milliseconds from 0 to 3600000, e.g. 15000"
        )
    return int(text)


def free_bytes(path: str | Path) -> int | None:
    """Bytes free for this user on the disk holding `path` (None if it cannot be asked)."""
    try:
        disk = os.statvfs(Path(path).resolve().parent)
    except OSError:
        return None
    return disk.f_bavail * disk.f_frsize


def file_fault(exc: sqlite3.Error | OSError, path: str | Path) -> FileFault | None:
    """The fault of the file behind `exc`, in words, or None when it is not the file's."""
    where = str(path)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return disk_full_fault(where)
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return read_only_fault(where)
        return None
    name = _error_name(exc)
    if is_locked(exc):
        waited = busy_timeout_ms() / 1000
        return FileFault(
            "locked",
            f"{where} is locked by another program's write (waited {waited:g} s); nothing "
            "was written: run it again when that program is done",
        )
    if name == "SQLITE_FULL":
        return disk_full_fault(where)
    if name.startswith("SQLITE_IOERR"):
        free = free_bytes(where)
        if free is not None and free < NEARLY_FULL_BYTES:
            return disk_full_fault(where)
        return FileFault(
            "disk_error",
            f"the disk holding {where} failed a read or write ({name}); nothing was "
            "written: check the disk, then run it again",
        )
    if name.startswith("SQLITE_READONLY"):
        return read_only_fault(where)
    if name.startswith("SQLITE_CANTOPEN"):
        return read_only_fault(where) if not writable(where) else None
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT"):
        return FileFault(
            "not_shopfloor",
            f"{where} is not a shopfloor database (not SQLite, or damaged): check --db",
        )
    return None


def disk_full_fault(where: str | Path) -> FileFault:
    """No room on the disk for the database to grow: said the same way wherever it was found."""
    return FileFault(
        "disk_full",
        f"the disk holding {where} is full; nothing was written: free some space, then "
        "run it again",
    )


def read_only_fault(where: str | Path) -> FileFault:
    """The database cannot be written here: said the same way wherever it was found."""
    return FileFault(
        "read_only",
        f"{where} is read-only here (the file, its folder or its disk); shopfloor writes it "
        "and the -wal and -shm files beside it: make them writable for this user",
    )


def writable(path: str | Path) -> bool:
    """Whether this user may write the file and create its -wal and -shm beside it."""
    path = Path(path)
    folder = path.resolve().parent
    return os.access(folder, os.W_OK) and (not path.exists() or os.access(path, os.W_OK))


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
    timeout_ms = busy_timeout_ms()
    created = not path.exists()
    if created and not readonly:
        # The record holds badges and stock: never world-readable, from the first byte.
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        os.close(fd)
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro",
            uri=True,
            timeout=timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    else:
        conn = sqlite3.connect(
            path,
            timeout=timeout_ms / 1000,
            check_same_thread=False,
            isolation_level=None,
        )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {timeout_ms}")
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
        # SQLite has already rolled back after some failures (a full disk, an I/O error):
        # a second ROLLBACK would raise "no transaction is active" in place of the cause.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    else:
        conn.execute("COMMIT")


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Join the caller's transaction if there is one, else take a short IMMEDIATE one."""
    if conn.in_transaction:
        yield conn
    else:
        with write(conn):
            yield conn


def data_version(conn: sqlite3.Connection) -> int:
    """Changes whenever another connection commits: the cheap "anything new?" check screens poll."""
    row = conn.execute("PRAGMA data_version").fetchone()
    return int(row[0])


# SQLite's result names that say the database (or its disk) cannot take a write right
# now, whatever was being written: busy or locked, read-only, an I/O error, a full disk.
_LOCKED = ("SQLITE_BUSY", "SQLITE_LOCKED")
_UNAVAILABLE = (*_LOCKED, "SQLITE_NOMEM", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_FULL",
                "SQLITE_CANTOPEN", "SQLITE_PROTOCOL")  # fmt: skip


def _error_name(exc: BaseException) -> str:
    return getattr(exc, "sqlite_errorname", "") or ""


def is_locked(exc: BaseException) -> bool:
    """Another connection holds the lock this write waited for (past the busy timeout)."""
    return _error_name(exc).startswith(_LOCKED)


def database_unavailable(exc: BaseException) -> bool:
    """Is this the database (or its disk) refusing writes, rather than one line's fault?

    A scan that fails for such a reason is held and posted later; any other failure is
    that line's alone and rejects only it.
    """
    return isinstance(exc, sqlite3.OperationalError) and _error_name(exc).startswith(_UNAVAILABLE)
