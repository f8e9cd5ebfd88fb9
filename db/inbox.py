"""The inbox of rejected scans: the list a supervisor reads (`rejected_scans`) — the
rejections a supervisor can fix, which wait (`scan_outcomes.waits`; a person's slip is
journaled but not queued) — and the two decisions on one: replay it (after the master
data was fixed) in the context it was scanned in, or dismiss it with a note. Either
way the decision is kept (`inbox_resolutions`); the journal row is never changed.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from db import roles
from db.connection import now_ms, write
from db.pipeline import ScanInput, ScanResult, interpret_and_record, journal
from db.refusals import LedgerError
from db.reports import iso_time, raw_text
from db.sessions import Session, load_session, station_row


@dataclass(frozen=True)
class RejectedScan:
    """A rejected scan waiting for a supervisor."""

    id: int
    time_ms: int
    station: str
    scanner: str | None
    source: str
    raw: str  # undecodable bytes shown as \\xNN, never dropped
    raw_length: int
    truncated: bool  # the line was longer than the journal keeps; `raw_length` says how long
    reason: str
    failed_replays: int = 0
    last_replay_reason: str | None = None  # why the newest replay was refused too


def rejected_scans(
    conn: sqlite3.Connection, *, limit: int = 500, station: str | None = None
) -> tuple[list[RejectedScan], int]:
    """Rejected scans waiting for a supervisor (a cause one can fix, not yet replayed or
    dismissed), newest first (at most `limit`; -1 for all), and how many there are;
    only `station`'s when it is given.

    A replay that is refused again is journaled as a scan of its own; it is not a new
    problem but another try at the original, so it shows on the original's row.
    """
    where = (
        "FROM scan_outcomes o JOIN scan_journal j ON j.id = o.scan "
        "LEFT JOIN inbox_resolutions r ON r.scan = o.scan "
        "WHERE o.status = 'rejected' AND r.scan IS NULL"
    )
    originals = (
        f"{where} AND o.waits = 1 AND j.source != 'replay' "
        "AND (:station IS NULL OR j.station = :station)"
    )
    given = {"station": station, "limit": limit}
    total = conn.execute(f"SELECT COUNT(*) {originals}", given).fetchone()[0]
    rows = conn.execute(
        "SELECT j.id, j.time_ms, j.station, j.scanner, j.source, j.raw, j.raw_length, "
        f"o.message {originals} ORDER BY j.id DESC LIMIT :limit",
        given,
    ).fetchall()
    retries: dict[int, list[str]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT j.replay_of, o.message {where} AND j.source = 'replay' ORDER BY j.id"
    ):
        retries[int(r["replay_of"])].append(r["message"])
    scans = [
        RejectedScan(
            id=int(r["id"]),
            time_ms=int(r["time_ms"]),
            station=r["station"],
            scanner=r["scanner"],
            source=r["source"],
            raw=raw_text(r["raw"]),
            raw_length=int(r["raw_length"]),
            truncated=int(r["raw_length"]) > len(bytes(r["raw"])),
            reason=r["message"],
            failed_replays=len(retries[int(r["id"])]),
            last_replay_reason=retries[int(r["id"])][-1] if retries[int(r["id"])] else None,
        )
        for r in rows
    ]
    return scans, int(total)


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
    dismiss_scans(conn, [scan_id], by=by, note=note)


def dismiss_scans(conn: sqlite3.Connection, scan_ids: Sequence[int], *, by: str, note: str) -> int:
    """Dismiss every one of `scan_ids` with one note, all or none: a supervisor clearing
    one person's slips in one go. Returns how many were dismissed."""
    with write(conn):
        roles.require_role(conn, by, "replay")
        if not note.strip():
            raise LedgerError("say why the scan is dismissed: the note is kept with it")
        at = now_ms()
        for scan_id in scan_ids:
            row = conn.execute(
                "SELECT status FROM scan_outcomes WHERE scan = ?", (scan_id,)
            ).fetchone()
            if row is None or row["status"] != "rejected":
                raise LedgerError(f"scan {scan_id} is not a rejected scan")
            resolved = "SELECT 1 FROM inbox_resolutions WHERE scan = ?"
            if conn.execute(resolved, (scan_id,)).fetchone():
                raise LedgerError(f"scan {scan_id} was already resolved")
            conn.execute(
                "INSERT INTO inbox_resolutions (scan, action, by_operator, note, time_ms) "
                "VALUES (?, 'dismissed', ?, ?, ?)",
                (scan_id, by, note.strip(), at),
            )
    return len(scan_ids)


def waiting_rows(
    conn: sqlite3.Connection, *, limit: int | None = None, station: str | None = None
) -> list[dict[str, Any]]:
    """`rejected_scans` as `shopfloor scans --inbox` gives them: newest first, all of
    them unless `limit`."""
    waiting, _total = rejected_scans(conn, limit=limit or -1, station=station)
    return [
        {
            "id": scan.id,
            "time": iso_time(scan.time_ms),
            "station": scan.station,
            "scanner": scan.scanner,
            "source": scan.source,
            "raw": scan.raw,
            "reason": scan.reason,
            "failed_replays": scan.failed_replays,
            "last_replay_reason": scan.last_replay_reason,
        }
        for scan in waiting
    ]
