"""An inbox worth reading (issue 12 item 5): only rejections a supervisor can fix by
changing master data or an order wait in the inbox; a person's slips are shown at the
station and journaled (scan_journal, scan_outcomes) but not queued.

Found: one person's session of slips left 28 items in the supervisor's inbox.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from db.connection import connect
from db.inbox import rejected_scans, waiting_rows
from db.pipeline import ScanInput, ScanResult, process_batch, process_scan
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

ON_HOLD = "WO-24012"  # a CART-TL order the demo holds
CABINET_ORDER = "WO-24003"  # released
FAN = "FAN-120"  # on the cabinet's bill, 7948 in A-04
POWDER = "PWD-7035"  # lot-tracked


@pytest.fixture
def conn(demo_db: str) -> Iterator[sqlite3.Connection]:
    connection = connect(demo_db)
    yield connection
    connection.close()


def scan(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    return [process_scan(conn, station, code.encode()) for code in codes]


def inbox_json(db_path: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(cli, ["scans", "--db", db_path, "--inbox", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert isinstance(rows, list)
    return rows


def rejected_in_journal(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT COUNT(*) FROM scan_outcomes WHERE status = 'rejected'").fetchone()[0]
    )


# One person's slips at the stores window: each is refused at the scan, none is a
# supervisor's to fix.
SLIPS = [
    ("STORES", "QTY:5", "scan your badge first"),  # nobody signed in
    ("STORES", "B1001", None),
    ("STORES", "QTY:five", "is not a quantity"),
    ("STORES", "QTY:0", "more than zero"),
    ("STORES", "QTY:1.2345", "is not a quantity"),  # more decimals than the record keeps
    ("STORES", "CMD:DONE", "CMD:DONE works in PROGRESS or SCRAP mode"),  # wrong mode
    ("STORES", "CMD:MODE:JUGGLE", "unknown mode"),
    ("STORES", "CMD:FROB", "unknown command"),
    ("STORES", FAN, "no work order set"),
    ("STORES", CABINET_ORDER, None),
    ("STORES", "A-04", None),
    ("STORES", POWDER, "scan its LOT: label first"),  # lot-tracked, no lot
    ("STORES", "CMD:UNDO", "nothing to undo"),
    ("STORES", "CMD:MODE:RETURN", None),
    ("STORES", CABINET_ORDER, None),
    ("STORES", FAN, "holds none of"),  # returns what the order never held
    ("STORES", "CMD:MODE:MOVE", None),
    ("STORES", "A-04", None),
    ("STORES", FAN, "no destination"),
    ("STORES", "A-04", "already the source"),
    ("ASSY-1", "B2001", None),
    ("ASSY-1", "CMD:DONE", "no work order set"),  # CMD:DONE without an order
    ("ASSY-1", "PO:PO-7101", "CMD:MODE:RECEIVE first"),
]


def test_a_session_of_operator_slips_leaves_nothing_in_the_inbox(
    demo_db: str, conn: sqlite3.Connection
) -> None:
    """Found: 28 items from one session. Each slip is still refused at the station (the
    person sees it) and journaled with its outcome; none waits for a supervisor."""
    before = rejected_in_journal(conn)
    for station, code, refused in SLIPS:
        [result] = scan(conn, station, code)
        if refused is None:
            assert result.status == "accepted", (code, result.message)
        else:
            assert result.status == "rejected", (code, result.message)
            assert refused in result.message, (code, result.message)
    # A double read from a serial scanner, and a line cut short by silence.
    double = ScanInput(station="STORES", raw=b"CMD:CANCEL", source="serial", scanner="S1",
                       dedupe_ms=250)  # fmt: skip
    noise = ScanInput(station="STORES", raw=b"\x1b[2J\x07", source="serial", scanner="S1")
    cut = ScanInput(station="STORES", raw=b"WO-24", source="serial", scanner="S1",
                    unterminated=True)  # fmt: skip
    results = process_batch(conn, [double, double, noise, cut])
    assert [r.status for r in results] == ["accepted", "duplicate", "rejected", "rejected"]
    slips = sum(1 for _, _, refused in SLIPS if refused) + 2
    assert rejected_in_journal(conn) - before == slips
    assert rejected_scans(conn) == ([], 0)
    assert waiting_rows(conn) == []
    assert inbox_json(demo_db) == []
    # The journal still has every one of them, rejected, as `shopfloor scans` shows.
    journal = CliRunner().invoke(cli, ["scans", "--db", demo_db, "--status", "rejected", "--json"])
    assert len(json.loads(journal.output)) == before + slips


def test_an_unknown_barcode_and_an_order_on_hold_wait(
    demo_db: str, conn: sqlite3.Connection
) -> None:
    scan(conn, "STORES", "B1001")
    [unknown, held] = scan(conn, "STORES", "GRM-22", ON_HOLD)
    assert unknown.status == held.status == "rejected"
    assert "on hold" in held.message
    # A slip between them does not wait.
    [slip] = scan(conn, "STORES", "QTY:lots")
    assert slip.status == "rejected"
    rows = inbox_json(demo_db)
    assert [(r["id"], r["raw"]) for r in rows] == [
        (held.scan_id, ON_HOLD),
        (unknown.scan_id, "GRM-22"),
    ]
    assert rejected_scans(conn)[1] == 2
    assert rejected_scans(conn, station="ASSY-1")[1] == 0


def test_fixable_refusals_of_the_ledger_wait(demo_db: str, conn: sqlite3.Connection) -> None:
    """More than the bin holds (a count or a supervisor's setting fixes it), a station
    that is not set up: each waits."""
    scan(conn, "STORES", "B1001", CABINET_ORDER, "A-04")
    [short] = scan(conn, "STORES", "QTY:99999", FAN)[1:]
    assert "only" in short.message
    [nowhere] = scan(conn, "NO-SUCH-STATION", "B1001")
    assert "not set up" in nowhere.message
    assert {r["id"] for r in inbox_json(demo_db)} == {short.scan_id, nowhere.scan_id}


def test_rejections_from_before_keep_waiting(tmp_path: Path) -> None:
    """A file from before the inbox sorted its rejections: every rejected scan it holds
    still waits after the migration, as it did."""
    from sqlite_utils import Database

    from db.schema import SCHEMA_VERSION, migrate, migrations

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.row_factory = sqlite3.Row
    steps = migrations()
    steps._migrations = [m for m in steps._migrations if m.name != "m013_inbox_waits"]
    steps.apply(Database(old))
    old.execute("PRAGMA user_version = 12")
    old.execute(
        "INSERT INTO scan_journal (id, time_ms, source, station, raw, raw_length) "
        "VALUES (1, 0, 'keyboard', 'STORES', X'515459', 3)"
    )
    old.execute(
        "INSERT INTO scan_outcomes (scan, status, message) VALUES (1, 'rejected', 'a slip')"
    )
    old.commit()
    assert "waits" not in [r[1] for r in old.execute("PRAGMA table_info(scan_outcomes)")]
    migrate(old)
    assert old.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    [waiting] = rejected_scans(old)[0]
    assert (waiting.id, waiting.reason) == (1, "a slip")
    old.close()
