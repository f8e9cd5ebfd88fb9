"""The command sheet's number pad (issue 12 item 1): `NUM:0` … `NUM:9`, `NUM:.` and
`NUM:CLR` build the next quantity digit by digit, and the next item scan or CMD:DONE
takes it exactly as if its `QTY:` label had been scanned.

Found: any quantity not printed on the sheet (12.5 sheets, 150 pcs) had to be typed
at a keyboard the station does not have. Each test scans through `process_scan` on the
demo plant and reads the record and the station's session row back.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

from db.connection import connect
from db.demo import create_demo_db
from db.sessions import load_session, prompt_for
from tests.db.test_grammar import (
    CABINET_ORDER,
    FAN,
    SCREW,
    accept,
    last_movement,
    movements_after,
    on_hand,
    progress,
    scan,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    create_demo_db(path).close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect(db_path)
    yield connection
    connection.close()


def typed(conn: sqlite3.Connection, station: str) -> str | None:
    """The number being built at the station, as its session row keeps it."""
    row = conn.execute(
        "SELECT typed_qty FROM station_sessions WHERE station = ?", (station,)
    ).fetchone()
    return None if row is None else row[0]


def keys(number: str) -> list[str]:
    """The number-pad scans that type `number`."""
    return [f"NUM:{key}" for key in number]


def test_digits_build_the_next_quantity_and_the_item_scan_takes_it(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    results = accept(conn, "RECEIVING", *keys("12.5"))
    assert [r.message for r in results] == [
        "number 1 for the next action",
        "number 12 for the next action",
        "number 12. for the next action",
        "number 12.5 for the next action",
    ]
    assert typed(conn, "RECEIVING") == "12.5"
    assert "next QTY 12.5 from the number pad" in results[-1].prompt
    [received] = accept(conn, "RECEIVING", "NUT-M4")
    assert received.message == "received 12.5 NUT-M4 into RCV-DOCK"
    # Used once, like QTY:: the next scan of the item receives one.
    assert typed(conn, "RECEIVING") is None
    assert "number pad" not in received.prompt
    accept(conn, "RECEIVING", "NUT-M4")
    assert [m["qty_milli"] for m in movements_after(conn, before)] == [12500, 1000]
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == Decimal("13.5")


def test_a_number_typed_on_the_pad_posts_what_its_qty_label_would(db_path: Path) -> None:
    """The same scans with QTY:150 on one plant and NUM:1 NUM:5 NUM:0 on another post
    the same movements."""
    other = db_path.parent / "other.db"
    create_demo_db(other).close()
    posted = []
    for path, quantity in ((db_path, ["QTY:150"]), (other, keys("150"))):
        conn = connect(path)
        before = last_movement(conn)
        accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04", *quantity, FAN)
        posted.append(
            [(m["kind"], m["item"], m["qty_milli"], m["from_location"], m["work_order"])
             for m in movements_after(conn, before)]
        )  # fmt: skip
        conn.close()
    assert posted[0] == posted[1] == [("issue", FAN, 150000, "A-04", CABINET_ORDER)]


def test_decimal_point_leading_zero_and_clear(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    [point] = accept(conn, "RECEIVING", "NUM:.")
    assert point.message == "number 0. for the next action"
    accept(conn, "RECEIVING", "NUM:5")
    assert typed(conn, "RECEIVING") == "0.5"
    [second] = scan(conn, "RECEIVING", "NUM:.")
    assert second.status == "rejected"
    assert second.message == "0.5 already has a decimal point; scan NUM:CLR to start again"
    assert typed(conn, "RECEIVING") == "0.5"  # the number so far is kept
    [cleared] = accept(conn, "RECEIVING", "NUM:CLR")
    assert cleared.message == "number 0.5 cleared"
    assert typed(conn, "RECEIVING") is None
    [nothing] = accept(conn, "RECEIVING", "NUM:CLR")
    assert nothing.message == "number pad cleared"
    # A leading zero goes as on a calculator: 0, 0, 7 is 7.
    accept(conn, "RECEIVING", "NUM:0", "NUM:0")
    assert typed(conn, "RECEIVING") == "0"
    accept(conn, "RECEIVING", "NUM:7")
    assert typed(conn, "RECEIVING") == "7"


def test_the_pad_refuses_what_the_record_cannot_keep(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", *keys("1.125"))
    [fourth] = scan(conn, "RECEIVING", "NUM:5")
    assert fourth.status == "rejected"
    assert fourth.message.startswith("1.125 already has 3 decimals")
    assert "NUM:CLR" in fourth.message
    accept(conn, "RECEIVING", "NUM:CLR", *keys("1000000000"))
    [too_big] = scan(conn, "RECEIVING", "NUM:0")
    assert too_big.status == "rejected"
    assert "more than the largest quantity" in too_big.message and "NUM:CLR" in too_big.message
    assert typed(conn, "RECEIVING") == "1000000000"
    [odd] = scan(conn, "RECEIVING", "NUM:X")
    assert odd.status == "rejected"
    assert "NUM:0 to NUM:9, NUM:. or NUM:CLR" in odd.message


def test_zero_is_refused_at_the_item_outside_count_and_the_number_is_kept(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "RECEIVING", "B1001", "NUM:0")
    before = last_movement(conn)
    [zero] = scan(conn, "RECEIVING", "NUT-M4")
    assert zero.status == "rejected"
    assert "more than zero" in zero.message and "NUM:CLR" in zero.message
    assert movements_after(conn, before) == []
    assert typed(conn, "RECEIVING") == "0"
    # "0." goes on to 0.25, which receives.
    accept(conn, "RECEIVING", *keys(".25"), "NUT-M4")
    assert [m["qty_milli"] for m in movements_after(conn, before)] == [250]


def test_count_takes_zero_and_a_counted_quantity_from_the_pad(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "CMD:MODE:COUNT")
    [first] = accept(conn, "STORES", "NUM:7")
    assert first.prompt.startswith("Scan the item counted in A-01")
    accept(conn, "STORES", *keys("900"), "REASON:MISCOUNT", SCREW)
    assert on_hand(conn, SCREW, "A-01") == 7900
    [zero] = accept(conn, "STORES", "NUM:0", "REASON:MISCOUNT", SCREW)[2:]
    assert on_hand(conn, SCREW, "A-01") == 0
    assert "counted 0 SCR-M4X10 in A-01" in zero.message


def test_done_completes_the_number_built(conn: sqlite3.Connection) -> None:
    accept(conn, "CUT-1", "B2001", CABINET_ORDER)
    [two] = accept(conn, "CUT-1", "NUM:2")
    assert two.prompt.startswith(f"Scan CMD:DONE to report 2 of {CABINET_ORDER} at CUT")
    [done] = accept(conn, "CUT-1", "CMD:DONE")
    assert done.message == f"completed 2 of {CABINET_ORDER} at CUT"
    assert progress(conn, CABINET_ORDER, "CUT") == (2000, 0)
    assert typed(conn, "CUT-1") is None
    # Zero is no completion: refused, and the number stays to be cleared.
    [zero] = scan(conn, "CUT-1", "NUM:0", "CMD:DONE")[1:]
    assert zero.status == "rejected" and "more than zero" in zero.message
    # More than reached the stage is refused as QTY: would be, saying how much may.
    [too_many] = scan(conn, "CUT-1", "NUM:CLR", "NUM:9", "CMD:DONE")[2:]
    assert too_many.status == "rejected" and "scan QTY:3 or less" in too_many.message
    assert typed(conn, "CUT-1") == "9"
    # Scrap mode takes it too.
    accept(conn, "CUT-1", "CMD:MODE:SCRAP", CABINET_ORDER, "NUM:1", "REASON:BURR", "CMD:DONE")
    assert progress(conn, CABINET_ORDER, "CUT") == (2000, 1000)


def test_a_qty_label_replaces_the_number_and_the_pad_replaces_a_qty(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "RECEIVING", "B1001", "NUM:7")
    [qty] = accept(conn, "RECEIVING", "QTY:3")
    assert qty.message == "quantity 3 for the next action (replaces 7 from the number pad)"
    assert typed(conn, "RECEIVING") is None
    before = last_movement(conn)
    accept(conn, "RECEIVING", "NUT-M4")
    [pad] = accept(conn, "RECEIVING", "QTY:5", "NUM:4")[1:]
    assert pad.message == "number 4 for the next action (replaces QTY 5)"
    accept(conn, "RECEIVING", "NUT-M4")
    assert [m["qty_milli"] for m in movements_after(conn, before)] == [3000, 4000]


def test_a_refused_item_keeps_the_number_and_a_mode_or_cancel_clears_it(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "STORES", "B1001", "A-04", *keys("2.5"))
    [refused] = scan(conn, "STORES", FAN)
    assert refused.status == "rejected" and "scan the work-order traveler" in refused.message
    assert typed(conn, "STORES") == "2.5"
    before = last_movement(conn)
    accept(conn, "STORES", CABINET_ORDER, FAN)
    assert [m["qty_milli"] for m in movements_after(conn, before)] == [2500]
    accept(conn, "STORES", "NUM:4", "CMD:CANCEL")
    assert typed(conn, "STORES") is None
    accept(conn, "STORES", "NUM:4", "CMD:MODE:MOVE")
    assert typed(conn, "STORES") is None


def test_the_number_survives_a_restart(db_path: Path) -> None:
    """The session lives in the database: a kiosk or a restarted reader sees the number."""
    conn = connect(db_path)
    accept(conn, "RECEIVING", "B1001", *keys("15"))
    conn.close()
    again = connect(db_path)
    restored = load_session(again, "RECEIVING")
    assert restored is not None and restored.typed_qty == "15"
    assert "next QTY 15 from the number pad" in prompt_for(again, restored)
    before = last_movement(again)
    accept(again, "RECEIVING", "NUM:0", "NUT-M4")
    assert [m["qty_milli"] for m in movements_after(again, before)] == [150000]
    again.close()


def test_with_nobody_signed_in_the_pad_is_refused(conn: sqlite3.Connection) -> None:
    for code, result in zip(["NUM:1", "NUM:.", "NUM:CLR"],
                            scan(conn, "RECEIVING", "NUM:1", "NUM:.", "NUM:CLR"),
                            strict=True):  # fmt: skip
        assert result.status == "rejected"
        assert result.message == (
            f"scan your badge first: nobody is signed in at RECEIVING ({code!r} was not used)"
        )
    assert typed(conn, "RECEIVING") is None
    # Signed in, then out: the number goes with the person.
    accept(conn, "RECEIVING", "B1001", "NUM:3", "CMD:SIGNOUT")
    assert typed(conn, "RECEIVING") is None
    [after] = scan(conn, "RECEIVING", "NUM:3")
    assert after.status == "rejected" and "scan your badge first" in after.message
