"""A station signs its operator out after it was idle (SPEC §4, issue 12 item 3).

Scans go through the real pipeline into a copy of the demo plant under a clock the test
moves (db.connection.clock), so "31 minutes later" is a number, not a wait. Each test
checks what the person reads (the outcome), what the record kept (journal, movements,
the session row) and what a station screen reads (db.stations.station_view).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from db.connection import connect
from db.idle import SIGNOUT_IDLE_MIN, sign_out_idle
from db.pipeline import ScanInput, ScanResult, process_batch, process_scan
from db.roles import set_setting
from db.stations import station_view
from tests.conftest import MovingClock

pytestmark = pytest.mark.timeout(60)

MINUTE = 60_000
WORK_ORDER = "WO-24016"  # released, JBOX-150 × 20: its bill has SCR-M4X10
SCREW = "SCR-M4X10"  # 7880 in A-01, the STORES station's bin


@pytest.fixture
def conn(demo_db: str) -> Iterator[sqlite3.Connection]:
    connection = connect(demo_db)
    yield connection
    connection.close()


def scan(conn: sqlite3.Connection, *codes: str, station: str = "STORES") -> list[ScanResult]:
    return [process_scan(conn, station, code.encode()) for code in codes]


def signed_in(conn: sqlite3.Connection, station: str = "STORES") -> str | None:
    row = conn.execute(
        "SELECT operator FROM station_sessions WHERE station = ?", (station,)
    ).fetchone()
    return None if row is None else row[0]


def movements(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0])


def test_a_scan_after_the_idle_time_needs_a_badge_first(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    results = scan(conn, "B1001", WORK_ORDER, SCREW)
    assert [r.status for r in results] == ["accepted"] * 3
    moments.later(29)
    [still] = scan(conn, SCREW)  # 29 minutes after the last scan: still Ana's
    assert still.status == "accepted"
    before = movements(conn)

    moments.later(30.5)
    [refused] = scan(conn, SCREW)

    assert refused.status == "rejected"
    assert "Ana Ribeiro signed out after 30 min idle; scan your badge" in refused.message
    assert refused.prompt == "Scan your badge to sign in"
    assert movements(conn) == before, "nothing is posted without a person"
    assert signed_in(conn) is None
    journaled = conn.execute(
        "SELECT o.status, o.message FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
        "WHERE j.id = ?",
        (refused.scan_id,),
    ).fetchone()
    assert tuple(journaled) == ("rejected", refused.message)
    # The work order went with the person: the next one does not issue to it unasked.
    row = conn.execute("SELECT work_order FROM station_sessions WHERE station = 'STORES'")
    assert row.fetchone()[0] is None

    [badge, order, item] = scan(conn, "B1002", WORK_ORDER, SCREW)
    assert badge.message == "signed in Tom Walsh"  # the sign-out was said once, above
    assert item.status == "accepted"
    operator = conn.execute("SELECT operator FROM movements ORDER BY id DESC LIMIT 1")
    assert operator.fetchone()[0] == "B1002"


def test_a_badge_after_the_idle_time_says_who_was_signed_out(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001")
    moments.later(45)
    [badge] = scan(conn, "B1002")
    assert badge.status == "accepted"
    assert badge.message == "signed in Tom Walsh (Ana Ribeiro signed out after 30 min idle)"
    assert signed_in(conn) == "B1002"


def test_every_scan_restarts_the_idle_time_even_a_rejected_one(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001", WORK_ORDER)
    moments.later(20)
    [noise] = scan(conn, "NO-SUCH-LABEL")
    assert noise.status == "rejected"
    moments.later(20)  # 40 minutes since the work order, 20 since the last scan
    [item] = scan(conn, SCREW)
    assert item.status == "accepted", item.message
    assert signed_in(conn) == "B1001"


def test_the_idle_time_is_the_stations_setting(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    set_setting(conn, SIGNOUT_IDLE_MIN, "5")
    scan(conn, "B1001")
    moments.later(4)
    assert scan(conn, WORK_ORDER)[0].status == "accepted"
    moments.later(6)
    [refused] = scan(conn, SCREW)
    assert "Ana Ribeiro signed out after 5 min idle; scan your badge" in refused.message

    # A setting that is not a number of minutes counts as the default, 30.
    set_setting(conn, SIGNOUT_IDLE_MIN, "soon")
    scan(conn, "B1001")
    moments.later(29)
    assert scan(conn, WORK_ORDER)[0].status == "accepted"


def test_a_held_scan_counts_from_when_it_was_read(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    """Scans held while the database refused writes are posted late, but the person
    scanned them a minute apart: nobody was idle."""
    read_at = moments.now
    moments.later(50)
    results = process_batch(
        conn,
        [
            ScanInput("STORES", b"B1001", at_ms=read_at),
            ScanInput("STORES", WORK_ORDER.encode(), at_ms=read_at + MINUTE),
            ScanInput("STORES", SCREW.encode(), at_ms=read_at + 2 * MINUTE),
        ],
    )
    assert [r.status for r in results] == ["accepted"] * 3, [r.message for r in results]


def test_a_burst_after_the_idle_time_signs_out_once(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001", WORK_ORDER)
    moments.later(31)
    first, badge, item = process_batch(
        conn,
        [
            ScanInput("STORES", WORK_ORDER.encode()),
            ScanInput("STORES", b"B1002"),
            ScanInput("STORES", SCREW.encode()),
        ],
    )
    assert first.status == "rejected" and "signed out after 30 min idle" in first.message
    assert badge.message == "signed in Tom Walsh"
    # The work order was cleared with Ana's sign-out: Tom has to scan it.
    assert item.status == "rejected" and "work order" in item.message


def test_a_station_screen_reads_nobody_signed_in_once_the_idle_time_passed(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001", WORK_ORDER)
    last_scan = moments.now

    view = station_view(conn, "STORES")
    assert view is not None and view.operator == "B1001"
    assert view.signs_out_at_ms == last_scan + 30 * MINUTE
    assert view.signed_out is None

    moments.later(30)
    view = station_view(conn, "STORES")
    assert view is not None
    assert view.operator is None and view.operator_name is None
    assert view.work_order is None
    assert view.signed_out == "Ana Ribeiro signed out after 30 min idle"
    assert view.prompt == "Scan your badge to sign in"
    # Read only: the record is written when the next scan arrives (and says so there).
    assert signed_in(conn) == "B1001"

    # Another station's scans do not keep this one signed in.
    scan(conn, "B2001", station="CUT-1")
    view = station_view(conn, "STORES")
    assert view is not None and view.operator is None


def test_any_commit_signs_out_the_stations_left_idle_and_their_next_scan_says_who(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001", WORK_ORDER)
    moments.later(20)
    scan(conn, "B2001", station="CUT-1")
    moments.later(11)  # STORES idle 31 min, CUT-1 11 min

    [other] = scan(conn, "B1002", station="RECEIVING")
    assert other.message == "signed in Tom Walsh"  # RECEIVING's own outcome says nothing
    assert signed_in(conn) is None, "STORES signed out by the commit at RECEIVING"
    assert signed_in(conn, "CUT-1") == "B2001"
    view = station_view(conn, "STORES")
    assert view is not None and view.signed_out == "Ana Ribeiro signed out after 30 min idle"

    moments.later(60)
    [refused, again] = scan(conn, SCREW, SCREW)
    assert refused.message.startswith(
        "Ana Ribeiro signed out after 30 min idle; scan your badge first"
    )
    assert not again.message.startswith("Ana"), "said once, by the first scan after it"
    view = station_view(conn, "STORES")
    assert view is not None and view.signed_out is None


def test_a_station_screen_signs_its_station_out_when_the_time_passes(
    conn: sqlite3.Connection, moments: MovingClock
) -> None:
    scan(conn, "B1001", WORK_ORDER)
    scan(conn, "B2001", station="CUT-1")
    moments.later(29)
    assert sign_out_idle(conn, moments.now, station="STORES") == []
    moments.later(1)
    said = sign_out_idle(conn, moments.now, station="STORES")
    assert said == ["Ana Ribeiro signed out after 30 min idle"]
    assert signed_in(conn) is None
    assert signed_in(conn, "CUT-1") == "B2001", "only the station asked for"
    row = conn.execute("SELECT work_order, prompt FROM station_sessions WHERE station = 'STORES'")
    assert tuple(row.fetchone()) == (
        None,
        "Ana Ribeiro signed out after 30 min idle: scan your badge to sign in",
    )
