"""Opening the floor's database file for a command, and refusing it before anything is written.

A file that is not a shopfloor database (not SQLite, empty, another program's), one
written by a newer shopfloor, or one this user cannot write is refused with a
`FileFault` before SQLite opens it for writing: opening read-write switches the file
to WAL and may migrate it, and a refused file must keep every byte. The inspection
reads the schema through SQLite without a -wal or -shm appearing. A file
open to group or others is made owner-only: it holds badges and the plant's stock.
Only `init` may create a database; every other command opens an existing one.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from db.connection import (
    FileFault,
    disk_full_fault,
    file_fault,
    free_bytes,
    read_only_fault,
    writable,
)
from db.schema import SCHEMA_VERSION, init_db

# What opening needs on disk when no other process has the file open: the -shm (32 KiB)
# and the -wal's first frames.
ROOM_TO_OPEN = 64 * 1024
# Tables every shopfloor database has had since its first schema.
FLOOR_TABLES = frozenset({"movements", "scan_journal", "work_orders", "operators"})


def open_floor(
    path: str | Path, *, create: bool = False, notice: Callable[[str], None] = lambda _: None
) -> sqlite3.Connection:
    """The database at `path`, migrated, with the floor's settings; `FileFault` if refused.

    `create` (init only) allows a missing or blank file to become a new database.
    `notice` hears what was changed on the way in (permissions tightened).
    """
    path = Path(path)
    if not path.exists() and not create:
        raise FileNotFoundError(path)
    if path.exists():
        inspect(path, blank_ok=create)
        if not writable(path):
            raise read_only_fault(path)
        tightened = owner_only(path)
        if tightened is not None:
            notice(
                f"{path} was open to group or others ({tightened:04o}); made it 0600 "
                "(owner only): it holds badges and stock"
            )
    elif not writable(path):
        raise read_only_fault(path)
    shm = Path(f"{path}-shm")
    room = free_bytes(path)
    if not shm.exists() and room is not None and room < ROOM_TO_OPEN:
        # Opening would create the -wal and -shm and, with no room to grow them, fail and
        # leave them behind: refuse before creating anything.
        raise disk_full_fault(path)
    try:
        return init_db(path)
    except (sqlite3.Error, OSError) as exc:
        fault = file_fault(exc, path)
        if fault is None:
            raise
        raise fault from exc


def inspect(path: Path, *, blank_ok: bool = False) -> None:
    """Refuse what is not a shopfloor database this version can use, writing nothing.

    The file is read only through SQLite: a plain open() and close() of it would drop
    every POSIX lock this process holds on it, the locks of its other connections too,
    and another process could then checkpoint and delete the WAL under them.
    """
    if not path.is_file():
        raise FileFault("not_shopfloor", f"{path} is not a file: give a database file to --db")
    if path.stat().st_size == 0:
        if blank_ok:
            return
        raise FileFault(
            "not_shopfloor",
            f"{path} is an empty file, not a shopfloor database: check --db, or make it one "
            f"with `shopfloor init --db {path}`",
        )
    version, tables = _read_schema(path)
    if version > SCHEMA_VERSION:
        raise FileFault(
            "newer",
            f"{path} was made by a newer shopfloor (schema {version}; this one knows up to "
            f"{SCHEMA_VERSION}); nothing was changed: run the newer shopfloor",
        )
    if FLOOR_TABLES <= tables or (blank_ok and version == 0 and not tables):
        return
    if version == 0 and not tables:
        raise FileFault(
            "not_shopfloor",
            f"{path} is an empty SQLite database, not a shopfloor database: check --db, or "
            f"make it one with `shopfloor init --db {path}`",
        )
    raise FileFault(
        "not_shopfloor",
        f"{path} is another program's SQLite database, not a shopfloor database: check --db",
    )


def _read_schema(path: Path) -> tuple[int, set[str]]:
    """The file's user_version and table names, read without creating anything beside it.

    Without a -wal no connection has the file open (one in WAL mode keeps its -wal) and
    everything is in the main file: read it as immutable, or SQLite would create a -wal
    and -shm to read a WAL file and leave them. Otherwise a read-only connection.
    """
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    if not Path(f"{path}-wal").exists():
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        try:
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            tables = {
                str(row[0])
                for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        finally:
            conn.close()
    except sqlite3.Error as exc:
        fault = file_fault(exc, path)
        if fault is None:
            raise
        raise fault from exc
    return version, tables


def owner_only(path: Path) -> int | None:
    """Take group and other permissions off the database and its -wal and -shm.

    Returns the widest mode found (None if all were owner-only already): SQLite gives a
    new -wal the database's mode, but one left from before may still be open to others.
    """
    widest: int | None = None
    for file in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = stat.S_IMODE(file.stat().st_mode)
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(file, mode & 0o700)
            widest = mode if widest is None else widest | mode
    return widest
