"""The `scanners` table, the Devices screen's row for each scanner, and its one owner:
link state changes (`record_scanner`), the listener's heartbeat (`mark_alive`), the
per-commit scan counters (`count_reads`), the rows (`scanner_rows`), and the one rule
for what the link is now (`ScannerRow.link`: connected, lost, or no reader).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from db.connection import now_ms, transaction

# How often a running listener says it is alive; a scanner's reader is gone (killed,
# machine down) when it has not said so for STALE_AFTER_MS.
HEARTBEAT_S = 5.0
STALE_AFTER_MS = 15_000

Link = Literal["connected", "lost", "no_reader"]


@dataclass(frozen=True)
class ScannerRow:
    """What the reader last said about one scanner."""

    name: str
    station: str
    url: str
    connected: bool
    last_scan_ms: int | None
    scans: int
    errors: int
    last_error: str | None
    updated_ms: int

    def link(self, now_ms: int) -> Link:
        """The link as a person should read it at `now_ms`: the reader said the scanner
        is gone (lost), or its reader stopped saying it is alive (no reader)."""
        if not self.connected:
            return "lost"
        if now_ms - self.updated_ms > STALE_AFTER_MS:
            return "no_reader"
        return "connected"


def scanner_rows(conn: sqlite3.Connection) -> list[ScannerRow]:
    return [
        ScannerRow(
            name=r["name"],
            station=r["station"],
            url=r["url"],
            connected=bool(r["connected"]),
            last_scan_ms=r["last_scan_ms"],
            scans=int(r["scans"]),
            errors=int(r["errors"]),
            last_error=r["last_error"],
            updated_ms=int(r["updated_ms"]),
        )
        for r in conn.execute("SELECT * FROM scanners ORDER BY station, name")
    ]


def record_scanner(
    conn: sqlite3.Connection,
    name: str,
    *,
    station: str,
    url: str,
    connected: bool,
    error: str | None = None,
) -> None:
    """Keep the Devices screen's row for a scanner current (connected, errors)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO scanners (name, station, url, connected, errors, last_error, updated_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "station = excluded.station, url = excluded.url, connected = excluded.connected, "
            "errors = errors + excluded.errors, "
            "last_error = COALESCE(excluded.last_error, last_error), "
            "updated_ms = excluded.updated_ms",
            (name, station, url, 1 if connected else 0, 1 if error else 0, error, now_ms()),
        )


def mark_alive(conn: sqlite3.Connection, names: Iterable[str]) -> None:
    """The heartbeat: these scanners' reader is running (see STALE_AFTER_MS)."""
    names = list(names)
    marks = ", ".join("?" for _ in names)
    with transaction(conn):
        conn.execute(
            f"UPDATE scanners SET updated_ms = ? WHERE name IN ({marks})", (now_ms(), *names)
        )


def count_reads(conn: sqlite3.Connection, reads: Mapping[str, tuple[int, int]]) -> None:
    """Add one commit's lines to each scanner's count: {name: (lines, last line's ms)}.
    The caller holds the transaction."""
    for scanner, (count, last_ms) in reads.items():
        conn.execute(
            "UPDATE scanners SET last_scan_ms = ?, scans = scans + ? WHERE name = ?",
            (last_ms, count, scanner),
        )
