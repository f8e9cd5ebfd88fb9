"""Backups taken while the floor scans, and putting one back (`shopfloor backup`/`restore`).

A backup is SQLite's online backup in one step: one read snapshot of the whole file,
which in WAL mode never blocks a writer, so scanners keep committing while it is
copied. The copy is written beside its destination and renamed into place only once
`integrity_check` and `check` (db/check.py) have read it: a backup file is whole and
sound, or not there. A restore refuses while a listener is writing to the database,
keeps the file it replaces aside (a backup of it, beside it), and copies the backup in
through the same API, so a screen still open on the file sees the restored record.
"""

from __future__ import annotations

import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from db.check import check
from db.connection import now_ms
from db.floorfile import inspect
from db.scanners import STALE_AFTER_MS
from db.schema import migrate


class BackupRefused(Exception):
    """A backup or restore that did not happen; the message says why and what to do."""


@dataclass
class CopyReport:
    """What a backup (or the file a restore put back) holds, and whether it is sound."""

    path: Path
    bytes: int
    scans: int
    movements: int
    seconds: float
    differences: list[str] = field(default_factory=list)


def _counts(conn: sqlite3.Connection) -> tuple[int, int]:
    scans = conn.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0]
    movements = conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
    return int(scans), int(movements)


def _integrity(conn: sqlite3.Connection, path: Path) -> None:
    found = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    if found != ["ok"]:
        raise BackupRefused(f"{path}: SQLite's integrity check failed: {found[0]}")


def backup(source: sqlite3.Connection, out: Path) -> CopyReport:
    """Copy the database open in `source` to `out` (mode 0600), checked.

    Raises BackupRefused if the copy cannot be written or is not intact; the copy's
    `check` differences (the live record's own, copied faithfully) are in the report.
    """
    started = time.monotonic()
    partial = out.with_name(out.name + ".partial")
    try:
        os.close(os.open(partial, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600))
        copy = sqlite3.connect(partial, isolation_level=None)
        try:
            # pages=-1: the whole file in one step, one snapshot; a copy made in several
            # steps starts over each time a scanner commits between them.
            source.backup(copy, pages=-1)
            # One self-contained file: no -wal to carry beside it.
            copy.execute("PRAGMA journal_mode = DELETE")
        finally:
            copy.close()
        report = _checked(partial, started)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        partial.replace(out)
    except (OSError, sqlite3.Error) as exc:
        partial.unlink(missing_ok=True)
        raise BackupRefused(f"{out}: the backup could not be written: {exc}") from None
    except BackupRefused:
        partial.unlink(missing_ok=True)
        raise
    report.path = out
    return report


def _checked(path: Path, started: float) -> CopyReport:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    try:
        _integrity(conn, path)
        scans, movements = _counts(conn)
        differences = check(conn).differences
    finally:
        conn.close()
    return CopyReport(
        path=path,
        bytes=path.stat().st_size,
        scans=scans,
        movements=movements,
        seconds=time.monotonic() - started,
        differences=differences,
    )


def listener_writing(conn: sqlite3.Connection) -> str | None:
    """The scanner whose listener wrote its heartbeat within STALE_AFTER_MS, if any.

    A running `shopfloor listen` marks each of its scanners alive every few seconds
    (db.scanners.mark_alive); one stopped or killed stops doing so.
    """
    row = conn.execute(
        "SELECT name, updated_ms FROM scanners WHERE updated_ms >= ? "
        "ORDER BY updated_ms DESC LIMIT 1",
        (now_ms() - STALE_AFTER_MS,),
    ).fetchone()
    return None if row is None else str(row[0])


def aside_path(db_path: Path) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    return db_path.with_name(f"{db_path.name}.before-restore-{stamp}")


def restore(live: sqlite3.Connection, db_path: Path, backup_file: Path) -> tuple[Path, CopyReport]:
    """Put `backup_file` in place of the database open in `live`; returns where the
    replaced record was kept and what the database now holds.

    Refused (BackupRefused, nothing changed) when the backup is not a sound shopfloor
    database, or while a listener is writing to the database.
    """
    started = time.monotonic()
    inspect(backup_file)  # FileFault: not a shopfloor database, or a newer one's
    incoming = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True, isolation_level=None)
    try:
        _integrity(incoming, backup_file)
        scanner = listener_writing(live)
        if scanner is not None:
            raise BackupRefused(
                f"{db_path}: a listener is writing to it (scanner {scanner} reported within "
                f"{STALE_AFTER_MS // 1000} s); stop it (systemctl stop shopfloor-listen), wait "
                f"{STALE_AFTER_MS // 1000} s and run the restore again; nothing was changed"
            )
        # Kept whatever its `check` says: it is the record as it was, faults included.
        aside = aside_path(db_path)
        backup(live, aside)
        incoming.backup(live, pages=-1)
    finally:
        incoming.close()
    migrate(live)  # a backup from an older shopfloor gets this version's schema
    scans, movements = _counts(live)
    report = CopyReport(
        path=db_path,
        bytes=db_path.stat().st_size,
        scans=scans,
        movements=movements,
        seconds=time.monotonic() - started,
        differences=check(live).differences,
    )
    return aside, report
