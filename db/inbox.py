"""The inbox of rejected scans: a supervisor replays one (after the master data was
fixed) in the context it was scanned in, or dismisses it with a note. Either way the
decision is kept (`inbox_resolutions`); the journal row is never changed.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace

from db import roles
from db.connection import now_ms, write
from db.pipeline import ScanInput, ScanResult, interpret_and_record, journal
from db.refusals import LedgerError
from db.sessions import Session, load_session, station_row


def replay_scan(conn: sqlite3.Connection, scan_id: int, *, by: str) -> ScanResult:
    """Run a rejected scan again (after master data was fixed) in the context it was scanned in."""
    with write(conn):
        roles.require_role(conn, by, "replay")
        original = conn.execute(
            "SELECT j.*, o.status, o.context FROM scan_journal j "
            "JOIN scan_outcomes o ON o.scan = j.id WHERE j.id = ?",
            (scan_id,),
        ).fetchone()
        if original is None or original["status"] != "rejected":
            raise LedgerError(f"scan {scan_id} is not a rejected scan")
        resolved = conn.execute(
            "SELECT action FROM inbox_resolutions WHERE scan = ?", (scan_id,)
        ).fetchone()
        if resolved is not None:
            raise LedgerError(f"scan {scan_id} was already {resolved['action']}")
        context = json.loads(original["context"]) if original["context"] else None
        session = (
            Session(**context, home=station_row(conn, original["station"]))
            if context
            else load_session(conn, original["station"])
        )
        if session is None:
            raise LedgerError(f"station {original['station']} is not set up")
        replay = ScanInput(
            station=original["station"], raw=bytes(original["raw"]), source="replay",
            scanner=original["scanner"], length=original["raw_length"],
        )  # fmt: skip
        replay = replace(replay, at_ms=now_ms())
        new_id = journal(conn, replay, replay_of=scan_id)
        # The station's live session is not touched: the replay happens in the old context.
        result = interpret_and_record(conn, replay, new_id, session)
        if result.status == "accepted":
            conn.execute(
                "INSERT INTO inbox_resolutions (scan, action, by_operator, note, replay_scan, "
                "time_ms) VALUES (?, 'replayed', ?, '', ?, ?)",
                (scan_id, by, new_id, now_ms()),
            )
        return result


def dismiss_scan(conn: sqlite3.Connection, scan_id: int, *, by: str, note: str) -> None:
    with write(conn):
        roles.require_role(conn, by, "replay")
        if not note.strip():
            raise LedgerError("say why the scan is dismissed: the note is kept with it")
        row = conn.execute("SELECT status FROM scan_outcomes WHERE scan = ?", (scan_id,)).fetchone()
        if row is None or row["status"] != "rejected":
            raise LedgerError(f"scan {scan_id} is not a rejected scan")
        if conn.execute("SELECT 1 FROM inbox_resolutions WHERE scan = ?", (scan_id,)).fetchone():
            raise LedgerError(f"scan {scan_id} was already resolved")
        conn.execute(
            "INSERT INTO inbox_resolutions (scan, action, by_operator, note, time_ms) "
            "VALUES (?, 'dismissed', ?, ?, ?)",
            (scan_id, by, note.strip(), now_ms()),
        )
