"""The `scanners` table, the Devices screen's row for each scanner: its link state
(`record_scanner`), the listener's heartbeat, and the per-commit scan counters.
"""

from __future__ import annotations

import sqlite3

from db.connection import now_ms, transaction


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
