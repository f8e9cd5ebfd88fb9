"""The scan pipeline: the one path every scan takes, from raw bytes to the ledger (SPEC §4).

Serial readers, the keyboard wedge, `shopfloor scan` and inbox replays all call
`process_batch` / `process_scan`. For each line, in this order and in one
transaction: the raw bytes are journaled; a double read is marked duplicate; the
station's operator is signed out if the station was idle too long (db/idle.py); the
station's session (db/sessions.py) interprets the line by the scan grammar
(db/grammar.py, which resolves labels through db/resolve.py) and posts through
db.ledger; the outcome is recorded. Interpretation runs inside a savepoint: a
rejection rolls back its postings but never the journal row, and the context is kept.
A rejection waits in the supervisors' inbox (`scan_outcomes.waits`) only when a
supervisor can fix its cause (the refusal says so: `fixable`); a person's slip is shown
at the station and journaled, not queued.

Several lines may share one commit (group commit) under a burst; each keeps its own
savepoint, outcome and order.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from db.connection import database_unavailable, now_ms, write
from db.grammar import interpret
from db.idle import IdleClock, sign_out_idle
from db.quantity import QuantityError
from db.refusals import LedgerError
from db.rejections import Rejected
from db.scanners import count_reads
from db.sessions import Session, load_session, prompt_for, save_session
from devices.decode import decode

log = logging.getLogger("shopfloor.pipeline")

Source = Literal["serial", "keyboard", "command", "replay"]
Status = Literal["accepted", "rejected", "duplicate"]

# The longest raw line kept whole in the journal; longer lines keep their head and length.
JOURNAL_RAW_LIMIT = 4096


@dataclass(frozen=True)
class ScanInput:
    station: str
    raw: bytes
    source: Source = "keyboard"
    scanner: str | None = None
    at_ms: int | None = None
    length: int | None = None  # full length when `raw` is the head of an over-long line
    dedupe_ms: int = 0  # keyboard and command input are never de-duplicated
    # The reader ended this line at a silence, not at a terminator: part of a scan.
    unterminated: bool = False


@dataclass(frozen=True)
class ScanResult:
    scan_id: int
    status: Status
    message: str
    prompt: str  # what to scan next, in plain words


@dataclass
class _Batch:
    """What one commit's scans share: each station's session and scanner's last read,
    read once instead of once per line under a burst. A session is written with the
    line that changed it, inside that line's savepoint, so a line that fails takes
    nothing of the batch with it."""

    sessions: dict[str, Session | None] = field(default_factory=dict)
    saved: dict[str, tuple[tuple[object, ...], str]] = field(default_factory=dict)
    last_read: dict[str, tuple[bytes, int]] = field(default_factory=dict)
    scanner_reads: dict[str, tuple[int, int]] = field(default_factory=dict)
    idle: IdleClock = field(default_factory=IdleClock)

    def session(self, conn: sqlite3.Connection, station: str) -> Session | None:
        if station not in self.sessions:
            self.sessions[station] = load_session(conn, station)
        return self.sessions[station]

    def save(self, conn: sqlite3.Connection, session: Session, prompt: str) -> None:
        state = (session.context(), prompt)
        if self.saved.get(session.station) != state:
            save_session(conn, session, prompt)
            self.saved[session.station] = state

    def forget(self, station: str, scanner: str | None) -> None:
        """A line was rolled back: what it left in the cache is read again from the file."""
        self.sessions.pop(station, None)
        self.saved.pop(station, None)
        self.idle.forget(station)
        if scanner is not None:
            self.last_read.pop(scanner, None)

    def flush(self, conn: sqlite3.Connection) -> None:
        # Bookkeeping for the Devices screen: if it cannot be written, the scans still are.
        conn.execute("SAVEPOINT scanner_counts")
        try:
            count_reads(conn, self.scanner_reads)
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("scanner counters not written")
            conn.execute("ROLLBACK TO scanner_counts")
        conn.execute("RELEASE scanner_counts")
        # Other stations idle past their time are signed out too, so no screen shows
        # somebody at a station they left; if that fails, the scans still commit.
        conn.execute("SAVEPOINT idle_stations")
        try:
            sign_out_idle(conn, now_ms())
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("idle stations not signed out")
            conn.execute("ROLLBACK TO idle_stations")
        conn.execute("RELEASE idle_stations")


def process_scan(
    conn: sqlite3.Connection,
    station: str,
    raw: bytes,
    *,
    source: Source = "keyboard",
    scanner: str | None = None,
    dedupe_ms: int = 0,
) -> ScanResult:
    """Journal, interpret and post one scan in its own commit."""
    return process_batch(
        conn,
        [ScanInput(station=station, raw=raw, source=source, scanner=scanner, dedupe_ms=dedupe_ms)],
    )[0]


def process_batch(
    conn: sqlite3.Connection,
    inputs: list[ScanInput],
    *,
    then: Callable[[sqlite3.Connection], None] | None = None,
) -> list[ScanResult]:
    """Journal and interpret several scans in order, in one durable commit.

    A line whose handling fails for any reason of its own is rolled back alone and
    journaled as rejected; the others commit. Only the database refusing the write
    (`database_unavailable`) fails the whole batch, which the caller then holds.
    `then` writes in the same transaction (a feed's progress mark).
    """
    if not inputs:
        return []
    batch = _Batch()
    with write(conn):
        results = [_process_alone(conn, item, batch) for item in inputs]
        batch.flush(conn)
        if then is not None:
            then(conn)
    return results


def _process_alone(conn: sqlite3.Connection, scan: ScanInput, batch: _Batch) -> ScanResult:
    if scan.at_ms is None:
        scan = replace(scan, at_ms=now_ms())
    conn.execute("SAVEPOINT line")
    try:
        result = _process(conn, scan, batch)
    except Exception as exc:
        if database_unavailable(exc):
            raise
        conn.execute("ROLLBACK TO line")
        batch.forget(scan.station, scan.scanner)
        log.exception("scan from %s at %s could not be handled", scan.scanner, scan.station)
        result = _journal_failure(conn, scan, exc)
    conn.execute("RELEASE line")
    return result


def _journal_failure(conn: sqlite3.Connection, scan: ScanInput, exc: Exception) -> ScanResult:
    """Journal a line whose handling failed, as rejected with a reason a person can act on."""
    scan_id = journal(conn, scan)
    message = (
        f"could not handle this scan ({type(exc).__name__}); it is kept in the journal: "
        "scan it again, or tell a supervisor if it keeps happening"
    )
    _outcome(conn, scan_id, "rejected", message, waits=True)
    return ScanResult(scan_id, "rejected", message, "scan the label again")


def journal(conn: sqlite3.Connection, scan: ScanInput, replay_of: int | None = None) -> int:
    raw = bytes(scan.raw[:JOURNAL_RAW_LIMIT])
    cur = conn.execute(
        "INSERT INTO scan_journal (time_ms, source, scanner, station, raw, raw_length, replay_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (scan.at_ms or now_ms(), scan.source, scan.scanner, scan.station, raw,
         scan.length if scan.length is not None else len(scan.raw), replay_of),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


def _outcome(
    conn: sqlite3.Connection,
    scan_id: int,
    status: Status,
    message: str,
    context: str | None = None,
    *,
    waits: bool = False,
) -> None:
    """Record how a scan ended; `waits`: a rejection for the supervisors' inbox."""
    conn.execute(
        "INSERT INTO scan_outcomes (scan, status, message, context, waits) VALUES (?, ?, ?, ?, ?)",
        (scan_id, status, message, context, int(waits and status == "rejected")),
    )


def _is_double_read(
    conn: sqlite3.Connection, scan: ScanInput, scan_id: int, at: int, batch: _Batch
) -> bool:
    # Only a scanner on a serial line double-reads; typed and command input never is one.
    if scan.source != "serial" or scan.scanner is None:
        return False
    raw = bytes(scan.raw[:JOURNAL_RAW_LIMIT])
    previous = batch.last_read.get(scan.scanner)
    batch.last_read[scan.scanner] = (raw, at)
    if scan.dedupe_ms <= 0:
        return False
    if previous is None:
        row = conn.execute(
            "SELECT raw, time_ms FROM scan_journal WHERE scanner = ? AND id < ? "
            "ORDER BY id DESC LIMIT 1",
            (scan.scanner, scan_id),
        ).fetchone()
        previous = None if row is None else (bytes(row["raw"]), int(row["time_ms"]))
    return previous is not None and previous[0] == raw and at - previous[1] <= scan.dedupe_ms


def _process(conn: sqlite3.Connection, scan: ScanInput, batch: _Batch) -> ScanResult:
    at = scan.at_ms or now_ms()
    if scan.at_ms is None:
        scan = replace(scan, at_ms=at)
    scan_id = journal(conn, scan)
    if scan.scanner is not None:
        count, _ = batch.scanner_reads.get(scan.scanner, (0, 0))
        batch.scanner_reads[scan.scanner] = (count + 1, at)
    session = batch.session(conn, scan.station)
    if _is_double_read(conn, scan, scan_id, at, batch):
        message = f"double read within {scan.dedupe_ms} ms: ignored"
        _outcome(conn, scan_id, "duplicate", message)
        return ScanResult(
            scan_id, "duplicate", message, prompt_for(conn, session) if session else ""
        )
    if session is None:
        message = f"station {scan.station} is not set up: add it to stations.csv"
        _outcome(conn, scan_id, "rejected", message, waits=True)
        return ScanResult(scan_id, "rejected", message, "ask a supervisor to set up the station")
    signed_out = batch.idle.sign_out_if_idle(conn, session, scan_id, at)
    if scan.unterminated:
        message = _with_sign_out(
            "rejected",
            "no terminator: the scanner sent part of a line and then nothing; scan the label again",
            signed_out,
        )
        _outcome(conn, scan_id, "rejected", message, session.context_json())
        prompt = prompt_for(conn, session)
        batch.save(conn, session, prompt)
        return ScanResult(scan_id, "rejected", message, prompt)
    result = interpret_and_record(conn, scan, scan_id, session, signed_out=signed_out)
    batch.save(conn, session, result.prompt)
    return result


def _with_sign_out(status: Status, message: str, signed_out: str | None) -> str:
    """An outcome's words, saying first who the idle time signed out before this scan."""
    if signed_out is None:
        return message
    if status == "rejected":
        return f"{signed_out}; {message}"
    return f"{message} ({signed_out})"


def interpret_and_record(
    conn: sqlite3.Connection,
    scan: ScanInput,
    scan_id: int,
    session: Session,
    *,
    signed_out: str | None = None,
) -> ScanResult:
    """Interpret one journaled scan in `session` (changed in place), and record its outcome.

    `signed_out`: who the station's idle time signed out just before this scan; the
    outcome says so (the journal is where a sign-out is kept)."""
    before = session.copy()
    conn.execute("SAVEPOINT scan")
    try:
        raw = bytes(scan.raw)
        cut = scan.length if scan.length is not None and scan.length > len(raw) else None
        decoded = decode(raw, truncated_from=cut)
        message = interpret(conn, session, decoded, scan_id)
    except (Rejected, LedgerError, QuantityError) as exc:
        conn.execute("ROLLBACK TO scan")
        conn.execute("RELEASE scan")
        session.restore(before)
        if isinstance(exc, Rejected) and exc.then is not None:
            exc.then(session)
        prompt = prompt_for(conn, session)
        # A quantity out of range is the person's to scan again; the others say.
        waits = not isinstance(exc, QuantityError) and exc.fixable
        message = _with_sign_out("rejected", str(exc), signed_out)
        _outcome(conn, scan_id, "rejected", message, session.context_json(), waits=waits)
        return ScanResult(scan_id, "rejected", message, prompt)
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the journal row
        if database_unavailable(exc):
            raise
        conn.execute("ROLLBACK TO scan")
        conn.execute("RELEASE scan")
        message = _with_sign_out(
            "rejected",
            f"could not interpret this scan ({type(exc).__name__}: {exc}); tell a supervisor",
            signed_out,
        )
        session.restore(before)
        # Not a slip: what went wrong is for a supervisor to see.
        _outcome(conn, scan_id, "rejected", message, session.context_json(), waits=True)
        return ScanResult(scan_id, "rejected", message, prompt_for(conn, session))
    conn.execute("RELEASE scan")
    prompt = prompt_for(conn, session)
    message = _with_sign_out("accepted", message, signed_out)
    _outcome(conn, scan_id, "accepted", message)
    return ScanResult(scan_id, "accepted", message, prompt)
