"""The `scanners` table, the Devices screen's row for each scanner, and its one owner:
link state changes (`record_scanner`), the listener's heartbeat (`mark_alive`), the
per-commit scan counters (`count_reads`), an SSI link's revision and counters
(`record_revision`, `count_answers`), the rows (`scanner_rows`), and the one rule for
what the link is now (`ScannerRow.link`: connected, lost, or no reader).
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
    protocol: str = "lines"
    revision: str | None = None
    acks: int = 0  # scans the host acknowledged (SSI)
    resends: int = 0  # packets the scanner sent again (SSI)
    error_beeps: int = 0  # rejections sounded at the scanner (SSI)

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
            protocol=r["protocol"],
            revision=r["revision"],
            acks=int(r["acks"]),
            resends=int(r["resends"]),
            error_beeps=int(r["error_beeps"]),
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
    protocol: str = "lines",
) -> None:
    """Keep the Devices screen's row for a scanner current (connected, errors)."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO scanners (name, station, url, connected, errors, last_error, updated_ms,"
            " protocol) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "station = excluded.station, url = excluded.url, connected = excluded.connected, "
            "errors = errors + excluded.errors, "
            "last_error = COALESCE(excluded.last_error, last_error), "
            "updated_ms = excluded.updated_ms, protocol = excluded.protocol",
            (name, station, url, 1 if connected else 0, 1 if error else 0, error, now_ms(),
             protocol),
        )  # fmt: skip


def record_revision(conn: sqlite3.Connection, name: str, revision: str) -> None:
    """What an SSI scanner answered the revision request at connect."""
    with transaction(conn):
        conn.execute("UPDATE scanners SET revision = ? WHERE name = ?", (revision[:80], name))


def count_answers(
    conn: sqlite3.Connection, name: str, *, acks: int, resends: int, error_beeps: int
) -> None:
    """Add an SSI link's answers since it last said: acknowledgements, packets the scanner
    resent, error beeps."""
    with transaction(conn):
        conn.execute(
            "UPDATE scanners SET acks = acks + ?, resends = resends + ?, "
            "error_beeps = error_beeps + ? WHERE name = ?",
            (acks, resends, error_beeps, name),
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
