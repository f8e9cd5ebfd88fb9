"""The scan pipeline: the one path every scan takes, from raw bytes to the ledger (SPEC §4).

Serial readers, the keyboard wedge, `shopfloor scan` and inbox replays all call
`process_batch` / `process_scan`. For each line, in this order and in one
transaction: the raw bytes are journaled; a double read is marked duplicate; the
line is decoded and resolved (barcode registry, sku, GTIN, GS1, `CMD:`/`QTY:`/`LOT:`);
the station's session (kept in the database, so a kiosk sees what a headless reader
does and a restart loses nothing) interprets it and posts through db.ledger; the
outcome is recorded. Interpretation runs inside a savepoint: a rejection rolls back
its postings but never the journal row, and the context is kept.

Several lines may share one commit (group commit) under a burst; each keeps its own
savepoint, outcome and order.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from db import ledger
from db.connection import database_unavailable, now_ms, write
from db.ledger import LedgerError, Origin
from db.masterdata import normalize_gtin
from db.quantity import QuantityError, to_milli
from db.quantity import text as qty_text
from devices.decode import Scan, decode

log = logging.getLogger("shopfloor.scanning")

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
class Session:
    """A station's sticky context between scans."""

    station: str
    mode: str
    operator: str | None = None
    work_order: str | None = None
    location: str | None = None
    to_location: str | None = None
    qty_milli: int | None = None
    lot: str | None = None
    # The station's master-data row, read once with the session: not part of the context.
    home: sqlite3.Row | None = field(default=None, repr=False, compare=False)

    def clear_context(self) -> None:
        self.work_order = self.location = self.to_location = self.lot = None
        self.qty_milli = None

    def copy(self) -> Session:
        return Session(self.station, self.mode, self.operator, self.work_order, self.location,
                       self.to_location, self.qty_milli, self.lot, self.home)  # fmt: skip

    def restore(self, other: Session) -> None:
        """Back to an earlier state in place: a rejected scan keeps the context it found."""
        self.mode, self.operator, self.work_order = other.mode, other.operator, other.work_order
        self.location, self.to_location = other.location, other.to_location
        self.qty_milli, self.lot = other.qty_milli, other.lot

    def context(self) -> tuple[object, ...]:
        """The sticky context as a plain tuple: cheap to compare under a burst."""
        return (self.mode, self.operator, self.work_order, self.location, self.to_location,
                self.qty_milli, self.lot)  # fmt: skip

    def context_json(self) -> str:
        return json.dumps(
            {"station": self.station, "mode": self.mode, "operator": self.operator,
             "work_order": self.work_order, "location": self.location,
             "to_location": self.to_location, "qty_milli": self.qty_milli, "lot": self.lot}
        )  # fmt: skip


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

    def session(self, conn: sqlite3.Connection, station: str) -> Session | None:
        if station not in self.sessions:
            self.sessions[station] = load_session(conn, station)
        return self.sessions[station]

    def save(self, conn: sqlite3.Connection, session: Session, prompt: str) -> None:
        state = (session.context(), prompt)
        if self.saved.get(session.station) != state:
            _save_session(conn, session, prompt)
            self.saved[session.station] = state

    def forget(self, station: str, scanner: str | None) -> None:
        """A line was rolled back: what it left in the cache is read again from the file."""
        self.sessions.pop(station, None)
        self.saved.pop(station, None)
        if scanner is not None:
            self.last_read.pop(scanner, None)

    def flush(self, conn: sqlite3.Connection) -> None:
        # Bookkeeping for the Devices screen: if it cannot be written, the scans still are.
        conn.execute("SAVEPOINT scanner_counts")
        try:
            for scanner, (count, last_ms) in self.scanner_reads.items():
                conn.execute(
                    "UPDATE scanners SET last_scan_ms = ?, scans = scans + ? WHERE name = ?",
                    (last_ms, count, scanner),
                )
        except Exception as exc:
            if database_unavailable(exc):
                raise
            log.exception("scanner counters not written")
            conn.execute("ROLLBACK TO scanner_counts")
        conn.execute("RELEASE scanner_counts")


class _Rejected(Exception):
    """A scan that cannot act; the message says what to scan instead."""


# ---------------------------------------------------------------- sessions


def _station(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM stations WHERE code = ?", (code,)).fetchone()  # type: ignore[no-any-return]


def load_session(conn: sqlite3.Connection, station: str) -> Session | None:
    """The station's session; a station scanned at for the first time starts in its default mode."""
    row = conn.execute("SELECT * FROM station_sessions WHERE station = ?", (station,)).fetchone()
    home = _station(conn, station)
    if row is not None:
        return Session(
            station=station,
            mode=row["mode"],
            operator=row["operator"],
            work_order=row["work_order"],
            location=row["location"],
            to_location=row["to_location"],
            qty_milli=row["qty_milli"],
            lot=row["lot"],
            home=home,
        )
    if home is None:
        return None
    return Session(station=station, mode=home["mode"], home=home)


def _save_session(conn: sqlite3.Connection, session: Session, prompt: str) -> None:
    conn.execute(
        "INSERT INTO station_sessions (station, mode, operator, work_order, location, "
        "to_location, qty_milli, lot, prompt, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (station) DO UPDATE SET mode = excluded.mode, operator = excluded.operator, "
        "work_order = excluded.work_order, location = excluded.location, "
        "to_location = excluded.to_location, qty_milli = excluded.qty_milli, lot = excluded.lot, "
        "prompt = excluded.prompt, updated_ms = excluded.updated_ms",
        (session.station, session.mode, session.operator, session.work_order, session.location,
         session.to_location, session.qty_milli, session.lot, prompt, now_ms()),
    )  # fmt: skip


def prompt_for(conn: sqlite3.Connection, session: Session) -> str:
    """What the person at the station should scan next."""
    home = session.home
    here = session.location or (home["location"] if home else None) or "?"
    stage = (home["stage"] if home else None) or "this station's stage"
    wo = session.work_order
    extra = ""
    if session.qty_milli is not None:
        extra += f" (next QTY {qty_text(session.qty_milli)})"
    if session.lot:
        extra += f" (next LOT {session.lot})"
    if session.operator is None:
        return "Scan your badge to sign in"
    mode = session.mode
    if mode == "RECEIVE":
        text = f"Scan items to receive into {here}, or a location to change it"
    elif mode in ("ISSUE", "RETURN"):
        if wo is None:
            text = f"Scan the work order to {'issue to' if mode == 'ISSUE' else 'return from'}"
        elif mode == "ISSUE":
            text = f"Scan items to issue from {here} to {wo}"
        else:
            text = f"Scan items to return from {wo} to {here}"
    elif mode == "MOVE":
        if session.location is None:
            text = "Scan the source location"
        elif session.to_location is None:
            text = f"Scan the destination location (moving from {session.location})"
        else:
            text = f"Scan items to move {session.location} → {session.to_location}"
    elif mode == "PROGRESS":
        text = (
            "Scan the work-order traveler"
            if wo is None
            else f"Scan QTY: then CMD:DONE to report {wo} at {stage} (CMD:DONE alone: all waiting)"
        )
    elif mode == "SCRAP":
        text = (
            f"Scan items to scrap from {here}, or a work order to scrap units at {stage}"
            if wo is None
            else f"Scan QTY: then CMD:DONE to scrap units of {wo} at {stage}"
        )
    elif mode == "COUNT":
        text = (
            f"Scan QTY: with the counted quantity, then the item (bin {here})"
            if session.qty_milli is None
            else f"Scan the item counted in {here}"
        )
    else:  # SHIP
        text = "Scan finished items to ship"
    return text + extra


# ---------------------------------------------------------------- the pipeline


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
    scan_id = _journal(conn, scan)
    message = (
        f"could not handle this scan ({type(exc).__name__}); it is kept in the journal: "
        "scan it again, or tell a supervisor if it keeps happening"
    )
    _outcome(conn, scan_id, "rejected", message)
    return ScanResult(scan_id, "rejected", message, "scan the label again")


def _journal(conn: sqlite3.Connection, scan: ScanInput, replay_of: int | None = None) -> int:
    raw = bytes(scan.raw[:JOURNAL_RAW_LIMIT])
    cur = conn.execute(
        "INSERT INTO scan_journal (time_ms, source, scanner, station, raw, raw_length, replay_of)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (scan.at_ms or now_ms(), scan.source, scan.scanner, scan.station, raw,
         scan.length if scan.length is not None else len(scan.raw), replay_of),
    )  # fmt: skip
    return int(cur.lastrowid or 0)


def _outcome(
    conn: sqlite3.Connection, scan_id: int, status: Status, message: str, context: str | None = None
) -> None:
    conn.execute(
        "INSERT INTO scan_outcomes (scan, status, message, context) VALUES (?, ?, ?, ?)",
        (scan_id, status, message, context),
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
    scan_id = _journal(conn, scan)
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
        _outcome(conn, scan_id, "rejected", message)
        return ScanResult(scan_id, "rejected", message, "ask a supervisor to set up the station")
    if scan.unterminated:
        message = (
            "no terminator: the scanner sent part of a line and then nothing; scan the label again"
        )
        _outcome(conn, scan_id, "rejected", message, session.context_json())
        return ScanResult(scan_id, "rejected", message, prompt_for(conn, session))
    result = _interpret_and_record(conn, scan, scan_id, session)
    batch.save(conn, session, result.prompt)
    return result


def _interpret_and_record(
    conn: sqlite3.Connection, scan: ScanInput, scan_id: int, session: Session
) -> ScanResult:
    """Interpret one journaled scan in `session` (changed in place), and record its outcome."""
    before = session.copy()
    conn.execute("SAVEPOINT scan")
    try:
        raw = bytes(scan.raw)
        cut = scan.length if scan.length is not None and scan.length > len(raw) else None
        decoded = decode(raw, truncated_from=cut)
        message = _interpret(conn, session, decoded, scan_id)
    except (_Rejected, LedgerError, QuantityError) as exc:
        conn.execute("ROLLBACK TO scan")
        conn.execute("RELEASE scan")
        session.restore(before)
        prompt = prompt_for(conn, session)
        _outcome(conn, scan_id, "rejected", str(exc), session.context_json())
        return ScanResult(scan_id, "rejected", str(exc), prompt)
    except Exception as exc:  # noqa: BLE001 - a bug must not lose the journal row
        if database_unavailable(exc):
            raise
        conn.execute("ROLLBACK TO scan")
        conn.execute("RELEASE scan")
        message = f"could not interpret this scan ({type(exc).__name__}: {exc}); tell a supervisor"
        session.restore(before)
        _outcome(conn, scan_id, "rejected", message, session.context_json())
        return ScanResult(scan_id, "rejected", message, prompt_for(conn, session))
    conn.execute("RELEASE scan")
    prompt = prompt_for(conn, session)
    _outcome(conn, scan_id, "accepted", message)
    return ScanResult(scan_id, "accepted", message, prompt)


# ---------------------------------------------------------------- interpretation


def _interpret(conn: sqlite3.Connection, session: Session, scan: Scan, scan_id: int) -> str:
    if scan.problem is not None or scan.text is None:
        raise _Rejected((scan.problem or "not a barcode") + "; scan the label again")
    text = scan.text
    upper = text.upper()
    if session.operator is None and upper.startswith(("CMD:", "QTY:", "LOT:")):
        raise _nobody_signed_in(session, text)
    if upper.startswith("CMD:"):
        return _command(conn, session, upper[4:], scan_id)
    if upper.startswith("QTY:"):
        try:
            milli = to_milli(text[4:])
        except QuantityError:
            raise _Rejected(
                f"{text!r} is not a quantity; scan a QTY: label from the command sheet"
            ) from None
        if milli < 0 or (milli == 0 and session.mode != "COUNT"):
            raise _Rejected(f"{text!r}: a quantity must be more than zero")
        session.qty_milli = milli
        return f"quantity {qty_text(milli)} for the next action"
    if upper.startswith("LOT:"):
        lot = text[4:].strip()
        if not lot:
            raise _Rejected("LOT: label without a lot; scan the lot label again")
        session.lot = lot
        return f"lot {lot} for the next action"
    return _thing(conn, session, scan, scan_id)


def _nobody_signed_in(session: Session, text: str) -> _Rejected:
    """Every posting has a person behind it: with nobody signed in only a badge acts."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return _Rejected(
        f"scan your badge first: nobody is signed in at {session.station} ({shown!r} was not used)"
    )


def _command(conn: sqlite3.Connection, session: Session, command: str, scan_id: int) -> str:
    if command.startswith("MODE:"):
        mode = command[5:]
        if mode not in ("RECEIVE", "ISSUE", "RETURN", "MOVE", "PROGRESS", "SCRAP", "COUNT", "SHIP"):
            raise _Rejected(f"unknown mode {mode}; scan a mode from the command sheet")
        session.mode = mode
        session.clear_context()
        return f"mode {mode}"
    if command == "CANCEL":
        session.clear_context()
        return "context cleared"
    if command == "SIGNOUT":
        row = conn.execute(
            "SELECT name FROM operators WHERE badge = ?", (session.operator,)
        ).fetchone()
        session.operator = None
        session.clear_context()
        return f"signed out {row['name'] if row else 'the operator'}"
    if command == "DONE":
        return _done(conn, session, scan_id)
    if command == "UNDO":
        return _undo(conn, session, scan_id)
    raise _Rejected(f"unknown command CMD:{command}; scan one from the command sheet")


def _origin(session: Session, scan_id: int) -> Origin:
    return Origin(operator=session.operator, station=session.station, scan=scan_id)


def _done(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    if session.mode not in ("PROGRESS", "SCRAP"):
        raise _Rejected(f"CMD:DONE works in PROGRESS or SCRAP mode, not {session.mode}")
    if session.work_order is None:
        raise _Rejected("no work order set: scan the work-order traveler first")
    home = session.home
    stage = home["stage"] if home else None
    if not stage:
        raise _Rejected(f"station {session.station} is not at a stage; report at a stage station")
    kind = "done" if session.mode == "PROGRESS" else "scrap"
    entry = ledger.report_progress(
        conn, session.work_order, stage, session.qty_milli, kind=kind,
        origin=_origin(session, scan_id),
    )  # fmt: skip
    qty = conn.execute("SELECT qty_milli FROM progress_entries WHERE id = ?", (entry,)).fetchone()
    session.qty_milli = None
    verb = "completed" if kind == "done" else "scrapped"
    return f"{verb} {qty_text(qty[0])} of {session.work_order} at {stage}"


def _undo(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    """Reverse the latest posting (all a scan posted) the signed-in operator made at this
    station that is not yet undone; a supervisor's undo takes the latest by anyone."""
    anyone = ledger.may(conn, session.operator, "undo_others")
    mine_m = "" if anyone else " AND m.operator = :who"
    mine_p = "" if anyone else " AND p.operator = :who"
    row = conn.execute(
        "SELECT MAX(scan) FROM ("
        " SELECT m.scan FROM movements m WHERE m.station = :station AND m.reverses IS NULL"
        f"  AND m.scan IS NOT NULL AND m.progress_entry IS NULL{mine_m}"
        "  AND NOT EXISTS (SELECT 1 FROM movements r WHERE r.reverses = m.id)"
        " UNION ALL"
        " SELECT p.scan FROM progress_entries p WHERE p.station = :station"
        f"  AND p.reverses IS NULL AND p.scan IS NOT NULL{mine_p}"
        "  AND NOT EXISTS (SELECT 1 FROM progress_entries r WHERE r.reverses = p.id))",
        {"station": session.station, "who": session.operator},
    ).fetchone()
    target = row[0]
    if target is None:
        if anyone:
            raise _Rejected("nothing to undo at this station")
        raise _Rejected(
            "nothing to undo at this station that you posted; a supervisor may undo others'"
        )
    origin = _origin(session, scan_id)
    movements = conn.execute(
        "SELECT id, kind, item, qty_milli FROM movements WHERE scan = ? AND reverses IS NULL "
        "AND progress_entry IS NULL ORDER BY id DESC",
        (target,),
    ).fetchall()
    if any(m["kind"] == "adjust" for m in movements):
        # A count is a storeroom or supervisor decision: undoing it is one too.
        ledger.require_role(conn, session.operator, "adjust")
    undone = []
    for entry in conn.execute(
        "SELECT id, work_order, stage, kind, qty_milli FROM progress_entries "
        "WHERE scan = ? AND reverses IS NULL ORDER BY id DESC",
        (target,),
    ).fetchall():
        ledger.reverse_progress(conn, entry["id"], origin=origin)
        undone.append(f"{entry['kind']} {qty_text(entry['qty_milli'])} of {entry['work_order']}")
    for movement in movements:
        ledger.reverse_movement(conn, movement["id"], origin=origin)
        undone.append(f"{movement['kind']} {qty_text(movement['qty_milli'])} {movement['item']}")
    return "undone: " + ", ".join(undone)


@dataclass(frozen=True)
class _Resolved:
    kind: str  # item, location, work_order, operator
    code: str
    lot: str | None = None
    qty_milli: int | None = None


def resolve(conn: sqlite3.Connection, scan: Scan) -> _Resolved | None:
    """What a scanned label means: the registry first, then sku, then GTIN / GS1."""
    text = scan.text or ""
    if scan.gs1 is not None:
        gtin = normalize_gtin(scan.gs1.gtin) or scan.gs1.gtin
        row = conn.execute("SELECT sku FROM items WHERE gtin = ?", (gtin,)).fetchone()
        if row is None:
            return None
        qty = None
        if scan.gs1.quantity is not None:
            qty = to_milli(scan.gs1.quantity)
        return _Resolved("item", row["sku"], scan.gs1.lot, qty)
    row = conn.execute("SELECT kind, code FROM barcodes WHERE value = ?", (text,)).fetchone()
    if row is not None:
        return _Resolved(row["kind"], row["code"])
    row = conn.execute("SELECT sku FROM items WHERE sku = ?", (text,)).fetchone()
    if row is not None:
        return _Resolved("item", row["sku"])
    as_gtin = normalize_gtin(text)
    if as_gtin is not None:
        row = conn.execute("SELECT sku FROM items WHERE gtin = ?", (as_gtin,)).fetchone()
        if row is not None:
            return _Resolved("item", row["sku"])
    if text[:2] in ("01", "02") and len(text) >= 16:
        # A scanner set to drop the GS1-128 FNC1 and send no symbology identifier
        # delivers "01<gtin>10<lot>…" as plain text: read it as the GS1 it is.
        as_gs1 = decode(b"]C1" + text.encode("utf-8"))
        if as_gs1.gs1 is not None:
            return resolve(conn, as_gs1)
    return None


def _thing(conn: sqlite3.Connection, session: Session, scan: Scan, scan_id: int) -> str:
    found = resolve(conn, scan)
    if found is None:
        raise _Rejected(
            f"unknown barcode {scan.text!r}: check the label; a supervisor can add it to the "
            "master data and replay this scan from the inbox"
        )
    if found.kind == "operator":
        row = conn.execute("SELECT name FROM operators WHERE badge = ?", (found.code,)).fetchone()
        session.operator = found.code
        return f"signed in {row['name']}"
    if session.operator is None:
        raise _nobody_signed_in(session, scan.text or "")
    if found.kind == "work_order":
        order = ledger.work_order(conn, found.code)
        session.work_order = found.code
        note = "" if order["status"] in ("released", "in_progress") else f" ({order['status']})"
        return f"work order {found.code}: {order['product']} × {qty_text(order['qty_milli'])}{note}"
    if found.kind == "location":
        if session.mode == "MOVE":
            if session.location is None or session.to_location is not None:
                session.location, session.to_location = found.code, None
                return f"moving from {found.code}"
            if found.code == session.location:
                raise _Rejected(f"{found.code} is already the source; scan the destination")
            session.to_location = found.code
            return f"moving {session.location} → {found.code}"
        session.location = found.code
        return f"location {found.code}"
    return _item_action(conn, session, found, scan_id)


def _item_action(conn: sqlite3.Connection, session: Session, found: _Resolved, scan_id: int) -> str:
    sku = found.code
    qty = session.qty_milli if session.qty_milli is not None else (found.qty_milli or 1000)
    lot = session.lot or found.lot or ""
    origin = _origin(session, scan_id)
    home = session.home
    here = session.location or (home["location"] if home else None)
    mode = session.mode
    if mode != "COUNT" and qty <= 0:
        raise _Rejected("a quantity must be more than zero; scan another QTY:")

    def need_here() -> str:
        if here is None:
            raise _Rejected("no location set: scan a location first")
        return str(here)

    def need_order() -> str:
        if session.work_order is None:
            raise _Rejected("no work order set: scan the work-order traveler first")
        return session.work_order

    q = qty_text(qty)
    lot_words = f" lot {lot}" if lot else ""
    if mode == "RECEIVE":
        to = need_here()
        ledger.receive(conn, sku, qty, to, lot=lot, origin=origin)
        message = f"received {q} {sku}{lot_words} into {to}"
    elif mode == "ISSUE":
        number, source = need_order(), need_here()
        ledger.issue(conn, number, sku, qty, source, lot=lot, origin=origin)
        message = f"issued {q} {sku}{lot_words} from {source} to {number}"
    elif mode == "RETURN":
        number, to = need_order(), need_here()
        ledger.return_material(conn, number, sku, qty, to, lot=lot, origin=origin)
        message = f"returned {q} {sku}{lot_words} from {number} to {to}"
    elif mode == "MOVE":
        if session.location is None:
            raise _Rejected("no source location: scan the source location first")
        if session.to_location is None:
            raise _Rejected("no destination: scan the destination location first")
        ledger.transfer(
            conn, sku, qty, session.location, session.to_location, lot=lot, origin=origin
        )
        message = f"moved {q} {sku}{lot_words} {session.location} → {session.to_location}"
    elif mode == "SCRAP":
        source = need_here()
        ledger.scrap_material(
            conn, sku, qty, source, lot=lot, work_order_number=session.work_order, origin=origin
        )
        message = f"scrapped {q} {sku}{lot_words} from {source}"
    elif mode == "COUNT":
        if session.qty_milli is None:
            raise _Rejected("scan QTY: with the counted quantity first, then the item")
        ledger.require_role(conn, session.operator, "adjust")
        bin_code = need_here()
        moved = ledger.adjust(conn, sku, bin_code, qty, lot=lot, origin=origin)
        message = f"counted {q} {sku}{lot_words} in {bin_code}" + (
            "" if moved else " (matches the record)"
        )
    elif mode == "SHIP":
        source = session.location or ledger.location_of_kind(conn, "finished")
        ledger.ship(conn, sku, qty, from_location=source, lot=lot, origin=origin)
        message = f"shipped {q} {sku}{lot_words} from {source}"
    else:  # PROGRESS
        raise _Rejected(
            "in PROGRESS mode scan the work-order traveler, then QTY: and CMD:DONE; "
            "to move material scan a mode first"
        )
    session.qty_milli = None
    session.lot = None
    return message


# ---------------------------------------------------------------- inbox


def replay_scan(conn: sqlite3.Connection, scan_id: int, *, by: str) -> ScanResult:
    """Run a rejected scan again (after master data was fixed) in the context it was scanned in."""
    with write(conn):
        ledger.require_role(conn, by, "replay")
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
            Session(**context, home=_station(conn, original["station"]))
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
        new_id = _journal(conn, replay, replay_of=scan_id)
        # The station's live session is not touched: the replay happens in the old context.
        result = _interpret_and_record(conn, replay, new_id, session)
        if result.status == "accepted":
            conn.execute(
                "INSERT INTO inbox_resolutions (scan, action, by_operator, note, replay_scan, "
                "time_ms) VALUES (?, 'replayed', ?, '', ?, ?)",
                (scan_id, by, new_id, now_ms()),
            )
        return result


def dismiss_scan(conn: sqlite3.Connection, scan_id: int, *, by: str, note: str) -> None:
    with write(conn):
        ledger.require_role(conn, by, "replay")
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


# ---------------------------------------------------------------- scanners


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
    with ledger.transaction(conn):
        conn.execute(
            "INSERT INTO scanners (name, station, url, connected, errors, last_error, updated_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "station = excluded.station, url = excluded.url, connected = excluded.connected, "
            "errors = errors + excluded.errors, "
            "last_error = COALESCE(excluded.last_error, last_error), "
            "updated_ms = excluded.updated_ms",
            (name, station, url, 1 if connected else 0, 1 if error else 0, error, now_ms()),
        )
