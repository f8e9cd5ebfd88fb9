"""The scan grammar of SPEC §4, line by line, through `process_scan` on the demo plant.

Every test asserts what the scan did to the record (movements, stock through
`db.reports.stock`, stage progress in `work_order_stages`) and to the station's
session row, and that the journal kept every line with its outcome. Each test has its
own demo database.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from db import reports
from db.check import check
from db.connection import now_ms
from db.demo import create_demo_db
from db.inbox import dismiss_scan, replay_scan
from db.masterdata import import_file
from db.pipeline import ScanInput, ScanResult, process_batch, process_scan
from db.refusals import LedgerError
from db.roles import PermissionDenied
from db.unplanned import allow_unplanned
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

GS = "\x1d"
# Demo items (db/demo.py): GTINs in the GS1 example range.
SCREW = "SCR-M4X10"  # not lot-tracked, GTIN 09506000000145, 7880 in A-01
SCREW_GTIN13 = "9506000000145"
POWDER = "PWD-7035"  # lot-tracked, GTIN 09506000000114
POWDER_GTIN14 = "09506000000114"
FAN = "FAN-120"  # a CAB-1200 component consumed at ASSY, 7948 in A-04
# Released demo orders with nothing reported yet.
CABINET_ORDER = "WO-24003"  # CAB-1200 × 5
BRACKET_ORDER = "WO-24037"  # BRKT-L × 12, route CUT → BEND → PAINT → PACK
JBOX_ORDER = "WO-24016"  # JBOX-150 × 20, released; its bill takes SCREW (at A-01)
MODES = ("RECEIVE", "ISSUE", "RETURN", "MOVE", "PROGRESS", "SCRAP", "COUNT", "SHIP")


# ---------------------------------------------------------------- helpers


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    create_demo_db(path).close()
    return path


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    from db.connection import connect

    connection = connect(db_path)
    yield connection
    connection.close()


def scan(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    return [process_scan(conn, station, code.encode("utf-8")) for code in codes]


def accept(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    """Scan codes that must all be accepted."""
    results = scan(conn, station, *codes)
    for code, result in zip(codes, results, strict=True):
        assert result.status == "accepted", (code, result.message)
    return results


def session(conn: sqlite3.Connection, station: str) -> dict[str, Any]:
    row = conn.execute(
        "SELECT mode, operator, work_order, location, to_location, qty_milli, lot "
        "FROM station_sessions WHERE station = ?",
        (station,),
    ).fetchone()
    assert row is not None, f"no session row for {station}"
    return dict(row)


def last_movement(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM movements").fetchone()[0])


def movements_after(conn: sqlite3.Connection, after: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        "SELECT id, kind, item, lot, qty_milli, from_location, to_location, work_order, stage, "
        "operator, station, scan, reverses, progress_entry FROM movements WHERE id > ? "
        "ORDER BY id",
        (after,),
    ).fetchall()
    return [dict(r) for r in rows]


def on_hand(conn: sqlite3.Connection, item: str, location: str, lot: str | None = None) -> Decimal:
    """Stock as the `stock` report gives it."""
    return sum(
        (
            Decimal(str(r["qty"]))
            for r in reports.stock(conn, item=item, location=location)
            if r["lot"] == lot
        ),
        Decimal(0),
    )


def held(conn: sqlite3.Connection, order: str, item: str) -> int:
    row = conn.execute(
        "SELECT COALESCE(SUM(issued_milli - returned_milli - consumed_milli), 0) "
        "FROM work_order_materials WHERE work_order = ? AND item = ?",
        (order, item),
    ).fetchone()
    return int(row[0])


def progress(conn: sqlite3.Connection, order: str, stage: str) -> tuple[int, int]:
    row = conn.execute(
        "SELECT done_milli, scrap_milli FROM work_order_stages WHERE work_order = ? AND stage = ?",
        (order, stage),
    ).fetchone()
    return int(row[0]), int(row[1])


def order_status(conn: sqlite3.Connection, order: str) -> str:
    return str(
        conn.execute("SELECT status FROM work_orders WHERE number = ?", (order,)).fetchone()[0]
    )


def outcome(conn: sqlite3.Connection, scan_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT j.id, j.source, j.scanner, j.station, j.raw, j.raw_length, j.replay_of, "
        "o.status, o.message FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
        "WHERE j.id = ?",
        (scan_id,),
    ).fetchone()
    assert row is not None, f"scan {scan_id} has no journal row with an outcome"
    return dict(row)


def journal_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0])


def assert_check_passes(conn: sqlite3.Connection) -> None:
    report = check(conn)
    assert report.ok, report.differences


def write_items_csv(path: Path, rows: list[list[str]]) -> Path:
    lines = ["sku,description,uom,gtin,lot_tracked,barcode"] + [",".join(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- session lines


def test_badge_signs_the_operator_in(conn: sqlite3.Connection) -> None:
    before = last_movement(conn)
    [result] = accept(conn, "STORES", "B1001")
    assert "Ana Ribeiro" in result.message
    assert session(conn, "STORES") == {
        "mode": "ISSUE", "operator": "B1001", "work_order": None, "location": None,
        "to_location": None, "qty_milli": None, "lot": None,
    }  # fmt: skip
    assert "work order" in result.prompt.lower()
    # Another badge replaces the first.
    accept(conn, "STORES", "B1002")
    assert session(conn, "STORES")["operator"] == "B1002"
    assert movements_after(conn, before) == []


# What a station with nobody signed in was found to post: receipts, issues, completions
# and undos, each with no operator. Every scan but a badge is refused now. Each case:
# the station, what someone posted there before signing out, the scans that follow.
_WITHOUT_A_BADGE = [
    ("RECEIVING", [], ["NUT-M4"]),
    ("RECEIVING", [], ["(01)09506000000145(37)4"]),
    ("STORES", [], [CABINET_ORDER, "A-04", FAN]),
    ("CUT-1", [], [CABINET_ORDER, "CMD:DONE"]),
    ("RECEIVING", ["NUT-M4"], ["CMD:UNDO"]),
    ("STORES", [], ["QTY:2", "LOT:X1", "CMD:MODE:MOVE", "CMD:CANCEL", "CMD:SIGNOUT"]),
]


@pytest.mark.parametrize(("station", "posted_before", "codes"), _WITHOUT_A_BADGE)
def test_with_nobody_signed_in_every_scan_but_a_badge_is_refused(
    conn: sqlite3.Connection, station: str, posted_before: list[str], codes: list[str]
) -> None:
    if posted_before:
        accept(conn, station, "B1001", *posted_before, "CMD:SIGNOUT")
    before, stages = last_movement(conn), conn.execute("SELECT * FROM work_order_stages").fetchall()
    for code, result in zip(codes, scan(conn, station, *codes), strict=True):
        assert result.status == "rejected"
        assert result.message == (
            f"scan your badge first: nobody is signed in at {station} ({code!r} was not used)"
        )
        assert result.prompt == "Scan your badge to sign in"
    assert movements_after(conn, before) == []
    assert conn.execute("SELECT * FROM work_order_stages").fetchall() == stages
    assert session(conn, station)["operator"] is None
    # A badge signs in, and the same scans then act, with that person behind them.
    accept(conn, station, "B3001", *codes)
    assert {m["operator"] for m in movements_after(conn, before)} <= {"B3001"}


def test_signout_ends_the_operators_session(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "QTY:3")
    [out] = accept(conn, "RECEIVING", "CMD:SIGNOUT")
    assert out.message == "signed out Ana Ribeiro"
    assert session(conn, "RECEIVING") == {
        "mode": "RECEIVE", "operator": None, "work_order": None, "location": None,
        "to_location": None, "qty_milli": None, "lot": None,
    }  # fmt: skip
    [refused] = scan(conn, "RECEIVING", "NUT-M4")
    assert refused.status == "rejected" and "scan your badge first" in refused.message


@pytest.mark.parametrize("mode", MODES)
def test_mode_command_sets_the_mode_and_clears_the_context(
    conn: sqlite3.Connection, mode: str
) -> None:
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04", "QTY:2", "LOT:X1")
    assert session(conn, "STORES") == {
        "mode": "ISSUE", "operator": "B1001", "work_order": CABINET_ORDER, "location": "A-04",
        "to_location": None, "qty_milli": 2000, "lot": "X1",
    }  # fmt: skip
    before = last_movement(conn)
    [result] = accept(conn, "STORES", f"CMD:MODE:{mode}")
    assert result.message == f"mode {mode}"
    assert session(conn, "STORES") == {
        "mode": mode, "operator": "B1001", "work_order": None, "location": None,
        "to_location": None, "qty_milli": None, "lot": None,
    }  # fmt: skip
    assert movements_after(conn, before) == []


def test_unknown_mode_is_rejected(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001")
    [result] = scan(conn, "STORES", "CMD:MODE:DANCE")
    assert result.status == "rejected"
    assert "command sheet" in result.message
    assert session(conn, "STORES")["mode"] == "ISSUE"


def test_work_order_barcode_sets_the_work_order(conn: sqlite3.Connection) -> None:
    [_, result] = accept(conn, "STORES", "B1001", CABINET_ORDER)
    assert CABINET_ORDER in result.message and "CAB-1200" in result.message
    assert session(conn, "STORES")["work_order"] == CABINET_ORDER
    assert CABINET_ORDER in result.prompt
    # The next order replaces it.
    accept(conn, "STORES", BRACKET_ORDER)
    assert session(conn, "STORES")["work_order"] == BRACKET_ORDER


def test_location_barcode_sets_the_location(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "A-04")
    assert session(conn, "STORES")["location"] == "A-04"
    accept(conn, "STORES", "B-02")
    assert session(conn, "STORES")["location"] == "B-02"


def test_move_takes_source_then_destination_then_moves(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "CMD:MODE:MOVE")
    [source] = accept(conn, "STORES", "A-01")
    assert session(conn, "STORES")["location"] == "A-01"
    assert "destination" in source.prompt
    [destination] = accept(conn, "STORES", "B-01")
    assert (session(conn, "STORES")["location"], session(conn, "STORES")["to_location"]) == (
        "A-01",
        "B-01",
    )
    a01, b01 = on_hand(conn, "NUT-M4", "A-01"), on_hand(conn, "NUT-M4", "B-01")
    before = last_movement(conn)
    accept(conn, "STORES", "QTY:4", "NUT-M4", "NUT-M4")
    moved = movements_after(conn, before)
    assert [(m["kind"], m["qty_milli"], m["from_location"], m["to_location"]) for m in moved] == [
        ("transfer", 4000, "A-01", "B-01"),
        ("transfer", 1000, "A-01", "B-01"),
    ]
    assert on_hand(conn, "NUT-M4", "A-01") == a01 - 5
    assert on_hand(conn, "NUT-M4", "B-01") == b01 + 5
    # The locations stay for the next item; a third location starts a new source.
    accept(conn, "STORES", "A-02")
    assert (session(conn, "STORES")["location"], session(conn, "STORES")["to_location"]) == (
        "A-02",
        None,
    )
    # The source again as destination is refused; the context stays.
    [same] = scan(conn, "STORES", "A-02")
    assert same.status == "rejected" and "destination" in same.message
    assert session(conn, "STORES")["location"] == "A-02"
    assert_check_passes(conn)


def test_move_without_destination_is_rejected(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "CMD:MODE:MOVE", "A-01")
    before = last_movement(conn)
    [result] = scan(conn, "STORES", "NUT-M4")
    assert result.status == "rejected"
    assert "scan the destination location" in result.message
    assert movements_after(conn, before) == []


def test_qty_applies_to_the_next_action_only(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    [qty] = accept(conn, "RECEIVING", "QTY:5")
    assert session(conn, "RECEIVING")["qty_milli"] == 5000
    assert "QTY 5" in qty.prompt
    accept(conn, "RECEIVING", "NUT-M4")
    assert session(conn, "RECEIVING")["qty_milli"] is None
    accept(conn, "RECEIVING", "NUT-M4")
    assert [m["qty_milli"] for m in movements_after(conn, before)] == [5000, 1000]
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == 6
    # Fractions are exact; a zero or nonsense quantity is refused outside COUNT.
    accept(conn, "RECEIVING", "QTY:0.25", "NUT-M4")
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == Decimal("6.25")
    for bad in ("QTY:0", "QTY:abc", "QTY:1.0001"):
        [result] = scan(conn, "RECEIVING", bad)
        assert result.status == "rejected", bad
        assert "QTY" in result.message or "quantity" in result.message
    assert session(conn, "RECEIVING")["qty_milli"] is None


def test_lot_applies_to_the_next_action_only(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "LOT:L-4711")
    assert session(conn, "RECEIVING")["lot"] == "L-4711"
    before = last_movement(conn)
    accept(conn, "RECEIVING", "QTY:3", POWDER)
    assert session(conn, "RECEIVING")["lot"] is None
    [posted] = movements_after(conn, before)
    assert (posted["kind"], posted["item"], posted["lot"], posted["qty_milli"]) == (
        "receive",
        POWDER,
        "L-4711",
        3000,
    )
    assert on_hand(conn, POWDER, "RCV-DOCK", "L-4711") == 3
    # The lot is gone: the same lot-tracked item again needs a new LOT: label.
    [again] = scan(conn, "RECEIVING", POWDER)
    assert again.status == "rejected" and "LOT:" in again.message


# ---------------------------------------------------------------- items, every way of naming one


def test_item_by_sku(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    [result] = accept(conn, "RECEIVING", SCREW)
    [posted] = movements_after(conn, before)
    assert (posted["kind"], posted["item"], posted["to_location"]) == ("receive", SCREW, "RCV-DOCK")
    assert SCREW in result.message


def test_item_by_its_own_barcode(conn: sqlite3.Connection, tmp_path: Path) -> None:
    items = write_items_csv(
        tmp_path / "items.csv",
        [[SCREW, "Screw M4x10 pan head", "pcs", SCREW_GTIN13, "0", "ITM-SCREW-4X10"]],
    )
    import_file(conn, "items", items)
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    accept(conn, "RECEIVING", "ITM-SCREW-4X10")
    [posted] = movements_after(conn, before)
    assert (posted["kind"], posted["item"], posted["qty_milli"]) == ("receive", SCREW, 1000)
    assert on_hand(conn, SCREW, "RCV-DOCK") == 1


def test_item_by_gtin13_digits(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    accept(conn, "RECEIVING", SCREW_GTIN13, "0" + SCREW_GTIN13)
    assert [(m["item"], m["qty_milli"]) for m in movements_after(conn, before)] == [
        (SCREW, 1000),
        (SCREW, 1000),
    ]
    # A wrong check digit is not that item.
    [wrong] = scan(conn, "RECEIVING", SCREW_GTIN13[:-1] + "0")
    assert wrong.status == "rejected" and "unknown barcode" in wrong.message


@pytest.mark.parametrize(
    "code",
    [
        f"]C101{POWDER_GTIN14}10L77{GS}3712",  # GS1-128 as a scanner sends it, AIM id first
        f"(01){POWDER_GTIN14}(10)L77(37)12",  # the label's human-readable line, typed
    ],
    ids=["gs-separated", "parenthesised"],
)
def test_item_by_gs1_string_with_lot_and_quantity(conn: sqlite3.Connection, code: str) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    accept(conn, "RECEIVING", code)
    [posted] = movements_after(conn, before)
    assert (posted["kind"], posted["item"], posted["lot"], posted["qty_milli"]) == (
        "receive",
        POWDER,
        "L77",
        12000,
    )
    assert on_hand(conn, POWDER, "RCV-DOCK", "L77") == 12
    raw = conn.execute("SELECT raw FROM scan_journal WHERE id = ?", (posted["scan"],)).fetchone()
    assert bytes(raw[0]) == code.encode()


def test_qty_and_lot_lines_win_over_the_gs1_fields(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "QTY:2", "LOT:OVR")
    before = last_movement(conn)
    accept(conn, "RECEIVING", f"(01){POWDER_GTIN14}(10)L77(37)12")
    [posted] = movements_after(conn, before)
    assert (posted["lot"], posted["qty_milli"]) == ("OVR", 2000)


def test_gs1_without_lot_for_a_lot_tracked_item_is_rejected(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    [result] = scan(conn, "RECEIVING", f"(01){POWDER_GTIN14}(37)3")
    assert result.status == "rejected" and "LOT:" in result.message


# ---------------------------------------------------------------- per mode


def test_receive_into_the_station_or_a_scanned_location(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    accept(conn, "RECEIVING", "QTY:10", "NUT-M5", "A-02", "QTY:7", "NUT-M5")
    moved = movements_after(conn, before)
    assert [(m["kind"], m["qty_milli"], m["from_location"], m["to_location"]) for m in moved] == [
        ("receive", 10000, None, "RCV-DOCK"),
        ("receive", 7000, None, "A-02"),
    ]
    assert all(m["operator"] == "B1001" and m["station"] == "RECEIVING" for m in moved)
    assert on_hand(conn, "NUT-M5", "RCV-DOCK") == 10
    assert on_hand(conn, "NUT-M5", "A-02") == 7
    assert_check_passes(conn)


def test_issue_needs_a_work_order(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "A-04", "QTY:3")
    context = session(conn, "STORES")
    count, before = journal_count(conn), last_movement(conn)
    [result] = scan(conn, "STORES", FAN)
    assert result.status == "rejected"
    assert "scan the work-order traveler" in result.message
    assert "work order" in result.prompt.lower()
    assert session(conn, "STORES") == context  # QTY:3 and A-04 kept
    assert journal_count(conn) == count + 1
    assert outcome(conn, result.scan_id)["status"] == "rejected"
    assert movements_after(conn, before) == []
    # Scanning the order now issues with the kept context.
    accept(conn, "STORES", CABINET_ORDER, FAN)
    [issued] = movements_after(conn, before)
    assert (issued["kind"], issued["qty_milli"], issued["from_location"]) == ("issue", 3000, "A-04")


def test_issue_moves_material_to_the_work_order(conn: sqlite3.Connection) -> None:
    a04, wip = on_hand(conn, FAN, "A-04"), on_hand(conn, FAN, "WIP-ASSY")
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04")
    before = last_movement(conn)
    [result] = accept(conn, "STORES", "QTY:3", FAN)[1:]
    [issued] = movements_after(conn, before)
    assert issued == issued | {
        "kind": "issue", "item": FAN, "qty_milli": 3000, "from_location": "A-04",
        "to_location": "WIP-ASSY", "work_order": CABINET_ORDER, "stage": "ASSY",
        "operator": "B1001", "station": "STORES", "scan": result.scan_id,
    }  # fmt: skip
    assert on_hand(conn, FAN, "A-04") == a04 - 3
    assert on_hand(conn, FAN, "WIP-ASSY") == wip + 3
    assert held(conn, CABINET_ORDER, FAN) == 3000
    assert order_status(conn, CABINET_ORDER) == "in_progress"
    # Without a scanned location, from the station's own.
    accept(conn, "STORES", "CMD:CANCEL", JBOX_ORDER, SCREW)
    assert movements_after(conn, before)[-1]["from_location"] == "A-01"
    assert_check_passes(conn)


def test_return_takes_material_back_from_the_work_order(conn: sqlite3.Connection) -> None:
    a04 = on_hand(conn, FAN, "A-04")
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04", "QTY:3", FAN)
    accept(conn, "STORES", "CMD:MODE:RETURN", CABINET_ORDER, "A-04")
    before = last_movement(conn)
    accept(conn, "STORES", "QTY:2", FAN)
    [returned] = movements_after(conn, before)
    assert returned == returned | {
        "kind": "return", "item": FAN, "qty_milli": 2000, "from_location": "WIP-ASSY",
        "to_location": "A-04", "work_order": CABINET_ORDER,
    }  # fmt: skip
    assert held(conn, CABINET_ORDER, FAN) == 1000
    assert on_hand(conn, FAN, "A-04") == a04 - 1
    # More than the order holds is refused with what to do.
    [too_many] = scan(conn, "STORES", "QTY:5", FAN)[1:]
    assert too_many.status == "rejected" and "smaller QTY" in too_many.message
    assert session(conn, "STORES")["qty_milli"] == 5000
    assert_check_passes(conn)


def test_scrap_material_goes_to_the_scrap_location(conn: sqlite3.Connection) -> None:
    a01 = on_hand(conn, "NUT-M6", "A-01")
    accept(conn, "STORES", "B1001", "CMD:MODE:SCRAP", "REASON:DENT")
    before = last_movement(conn)
    accept(conn, "STORES", "QTY:2", "NUT-M6")
    [scrapped] = movements_after(conn, before)
    assert (scrapped["kind"], scrapped["from_location"], scrapped["to_location"]) == (
        "scrap",
        "A-01",
        "SCRAP",
    )
    assert on_hand(conn, "NUT-M6", "A-01") == a01 - 2
    assert on_hand(conn, "NUT-M6", "SCRAP") == 2


def test_count_posts_the_difference_as_an_adjustment(conn: sqlite3.Connection) -> None:
    assert on_hand(conn, SCREW, "A-01") == 7880
    accept(conn, "STORES", "B1001", "CMD:MODE:COUNT")
    before = last_movement(conn)
    [counted] = accept(conn, "STORES", "REASON:FOUND", "QTY:7900", SCREW)[2:]
    assert on_hand(conn, SCREW, "A-01") == 7900
    accept(conn, "STORES", "REASON:MISCOUNT", "QTY:7800", SCREW)
    assert on_hand(conn, SCREW, "A-01") == 7800
    [matches] = accept(conn, "STORES", "QTY:7800", SCREW)[1:]
    assert "matches" in matches.message
    moved = movements_after(conn, before)
    assert [(m["kind"], m["qty_milli"], m["from_location"], m["to_location"]) for m in moved] == [
        ("adjust", 20000, None, "A-01"),
        ("adjust", 100000, "A-01", None),
    ]
    assert "7900" in counted.message
    # Zero is a valid count; an item without a count first is refused.
    accept(conn, "STORES", "REASON:DAMAGED", "QTY:0", SCREW)
    assert on_hand(conn, SCREW, "A-01") == 0
    [no_count] = scan(conn, "STORES", SCREW)
    assert no_count.status == "rejected" and "QTY:" in no_count.message
    assert_check_passes(conn)


@pytest.mark.parametrize("badge", ["B2001", "B4001"])
def test_count_needs_a_storeroom_or_supervisor_badge(conn: sqlite3.Connection, badge: str) -> None:
    accept(conn, "STORES", badge, "CMD:MODE:COUNT", "REASON:MISCOUNT", "QTY:5")
    before = last_movement(conn)
    [result] = scan(conn, "STORES", SCREW)
    assert result.status == "rejected"
    assert "storeroom" in result.message and "supervisor" in result.message
    assert movements_after(conn, before) == []
    assert session(conn, "STORES")["qty_milli"] == 5000
    # A supervisor signing in at the same station may.
    accept(conn, "STORES", "B3001", SCREW)
    assert on_hand(conn, SCREW, "A-01") == 5


def test_ship_sends_finished_goods_out(conn: sqlite3.Connection) -> None:
    fg = on_hand(conn, "ENC-300", "FG-01")
    accept(conn, "SHIPPING", "B1001")
    before = last_movement(conn)
    accept(conn, "SHIPPING", "QTY:2", "ENC-300")
    [shipped] = movements_after(conn, before)
    assert (shipped["kind"], shipped["from_location"], shipped["to_location"]) == (
        "ship",
        "FG-01",
        None,
    )
    assert on_hand(conn, "ENC-300", "FG-01") == fg - 2


def test_repeated_scans_post_again(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04")
    before = last_movement(conn)
    results = accept(conn, "STORES", FAN, FAN, FAN)
    moved = movements_after(conn, before)
    assert [m["kind"] for m in moved] == ["issue"] * 3
    assert [m["scan"] for m in moved] == [r.scan_id for r in results]
    assert held(conn, CABINET_ORDER, FAN) == 3000


# ---------------------------------------------------------------- stage progress


def test_done_completes_the_quantity_or_everything_remaining(conn: sqlite3.Connection) -> None:
    accept(conn, "CUT-1", "B2001", CABINET_ORDER)
    [two] = accept(conn, "CUT-1", "QTY:2", "CMD:DONE")[1:]
    assert "completed 2" in two.message
    assert progress(conn, CABINET_ORDER, "CUT") == (2000, 0)
    assert session(conn, "CUT-1")["qty_milli"] is None
    assert session(conn, "CUT-1")["work_order"] == CABINET_ORDER
    [rest] = accept(conn, "CUT-1", "CMD:DONE")
    assert "completed 3" in rest.message
    assert progress(conn, CABINET_ORDER, "CUT") == (5000, 0)
    assert order_status(conn, CABINET_ORDER) == "in_progress"
    # Nothing left at CUT.
    [nothing] = scan(conn, "CUT-1", "CMD:DONE")
    assert nothing.status == "rejected" and "scan" in nothing.message
    # The next stage gets what CUT completed.
    accept(conn, "BEND-1", "B2002", CABINET_ORDER, "CMD:DONE")
    assert progress(conn, CABINET_ORDER, "BEND") == (5000, 0)
    assert_check_passes(conn)


def test_scrap_mode_done_scraps_units_at_the_stage(conn: sqlite3.Connection) -> None:
    accept(conn, "CUT-1", "B2001", "CMD:MODE:SCRAP", CABINET_ORDER, "REASON:BURR")
    [scrapped] = accept(conn, "CUT-1", "QTY:1", "CMD:DONE")[1:]
    assert "scrapped 1" in scrapped.message
    assert progress(conn, CABINET_ORDER, "CUT") == (0, 1000)
    accept(conn, "CUT-1", "CMD:MODE:PROGRESS", CABINET_ORDER, "CMD:DONE")
    assert progress(conn, CABINET_ORDER, "CUT") == (4000, 1000)


def test_done_outside_progress_or_without_an_order_is_rejected(conn: sqlite3.Connection) -> None:
    accept(conn, "CUT-1", "B2001")
    [no_order] = scan(conn, "CUT-1", "CMD:DONE")
    assert no_order.status == "rejected" and "scan the work-order traveler" in no_order.message
    accept(conn, "STORES", "B1001", CABINET_ORDER)
    [wrong_mode] = scan(conn, "STORES", "CMD:DONE")
    assert wrong_mode.status == "rejected" and "PROGRESS" in wrong_mode.message
    # An item scanned in PROGRESS mode says what to do instead.
    [item] = scan(conn, "CUT-1", SCREW)
    assert item.status == "rejected" and "CMD:DONE" in item.message


def _report_all_before_pack(conn: sqlite3.Connection) -> None:
    """BRACKET_ORDER: storeroom issues 2 cartons, CUT/BEND/PAINT complete all 12."""
    accept(conn, "STORES", "B1001", BRACKET_ORDER, "A-06", "QTY:2", "BOX-S")
    for stage in ("CUT", "BEND", "PAINT"):
        accept(conn, f"{stage}-1", "B2001", BRACKET_ORDER, "CMD:DONE")
    assert held(conn, BRACKET_ORDER, "BOX-S") == 2000


def test_undo_reverses_a_completion_with_its_backflush_and_produce(
    conn: sqlite3.Connection,
) -> None:
    _report_all_before_pack(conn)
    fg = on_hand(conn, "BRKT-L", "FG-01")
    wip_box = on_hand(conn, "BOX-S", "WIP-PACK")
    accept(conn, "PACK-1", "B2003", BRACKET_ORDER)
    before = last_movement(conn)
    accept(conn, "PACK-1", "QTY:5", "CMD:DONE")
    completion = movements_after(conn, before)
    # 0.1 carton per bracket is consumed; 5 brackets land in finished goods.
    assert sorted((m["kind"], m["item"], m["qty_milli"]) for m in completion) == [
        ("consume", "BOX-S", 500),
        ("produce", "BRKT-L", 5000),
    ]
    accept(conn, "PACK-1", "QTY:3", "CMD:DONE")
    assert progress(conn, BRACKET_ORDER, "PACK") == (8000, 0)
    assert on_hand(conn, "BRKT-L", "FG-01") == fg + 8
    assert held(conn, BRACKET_ORDER, "BOX-S") == 2000 - 800

    [first_undo] = accept(conn, "PACK-1", "CMD:UNDO")
    assert "undone" in first_undo.message and "3" in first_undo.message
    assert progress(conn, BRACKET_ORDER, "PACK") == (5000, 0)
    assert on_hand(conn, "BRKT-L", "FG-01") == fg + 5
    assert held(conn, BRACKET_ORDER, "BOX-S") == 1500

    [second_undo] = accept(conn, "PACK-1", "CMD:UNDO")
    assert "5" in second_undo.message
    assert progress(conn, BRACKET_ORDER, "PACK") == (0, 0)
    assert on_hand(conn, "BRKT-L", "FG-01") == fg
    assert on_hand(conn, "BOX-S", "WIP-PACK") == wip_box
    assert held(conn, BRACKET_ORDER, "BOX-S") == 2000
    reversals = [m for m in movements_after(conn, before) if m["reverses"] is not None]
    assert len(reversals) == 4  # consume + produce, twice
    entries = conn.execute(
        "SELECT kind, qty_milli, reverses IS NOT NULL FROM progress_entries "
        "WHERE work_order = ? AND stage = 'PACK' ORDER BY id",
        (BRACKET_ORDER,),
    ).fetchall()
    assert [tuple(e) for e in entries] == [
        ("done", 5000, 0), ("done", 3000, 0), ("done", 3000, 1), ("done", 5000, 1),
    ]  # fmt: skip
    # Then there is nothing left to undo here.
    [nothing] = scan(conn, "PACK-1", "CMD:UNDO")
    assert nothing.status == "rejected" and "nothing to undo" in nothing.message
    assert_check_passes(conn)


def test_completing_the_last_stage_finishes_the_order(conn: sqlite3.Connection) -> None:
    _report_all_before_pack(conn)
    accept(conn, "PACK-1", "B2003", BRACKET_ORDER, "CMD:DONE")
    assert order_status(conn, BRACKET_ORDER) == "done"
    accept(conn, "PACK-1", "CMD:UNDO")
    assert order_status(conn, BRACKET_ORDER) == "in_progress"


def test_undo_reverses_the_last_movement_then_the_one_before(conn: sqlite3.Connection) -> None:
    a04 = on_hand(conn, FAN, "A-04")
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04", "QTY:2", FAN, "QTY:5", FAN)
    assert held(conn, CABINET_ORDER, FAN) == 7000
    before = last_movement(conn)
    accept(conn, "STORES", "CMD:UNDO")
    assert held(conn, CABINET_ORDER, FAN) == 2000
    accept(conn, "STORES", "CMD:UNDO")
    assert held(conn, CABINET_ORDER, FAN) == 0
    assert on_hand(conn, FAN, "A-04") == a04
    undone = movements_after(conn, before)
    assert [(m["kind"], m["qty_milli"], m["from_location"], m["to_location"]) for m in undone] == [
        ("issue", 5000, "WIP-ASSY", "A-04"),
        ("issue", 2000, "WIP-ASSY", "A-04"),
    ]
    assert all(m["reverses"] is not None for m in undone)
    # Another station's undo does not touch this station's movements.
    accept(conn, "RECEIVING", "B1002", "NUT-M4")
    [nothing] = scan(conn, "STORES", "CMD:UNDO")
    assert nothing.status == "rejected"
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == 1
    assert_check_passes(conn)


def test_undo_walks_back_through_the_signed_in_operators_own_postings(
    conn: sqlite3.Connection,
) -> None:
    a04 = on_hand(conn, FAN, "A-04")
    accept(conn, "STORES", "B1001", CABINET_ORDER, "A-04", "QTY:2", FAN, "QTY:4", FAN)
    ana = movements_after(conn, 0)[-2:]
    accept(conn, "STORES", "B1002", "QTY:3", FAN)  # Tom, at the same window, after her
    [tom] = movements_after(conn, ana[-1]["id"])
    # Ana's undo takes her latest, then the one before, and never Tom's newer one.
    accept(conn, "STORES", "B1001")
    for expected in (ana[1], ana[0]):
        before = last_movement(conn)
        [undo] = accept(conn, "STORES", "CMD:UNDO")
        [reversal] = movements_after(conn, before)
        assert (reversal["reverses"], reversal["operator"]) == (expected["id"], "B1001")
        assert undo.message == f"undone: issue {expected['qty_milli'] // 1000} {FAN}"
    [nothing] = scan(conn, "STORES", "CMD:UNDO")
    assert nothing.status == "rejected"
    assert nothing.message == (
        "nothing to undo at this station that you posted; a supervisor may undo others'"
    )
    assert held(conn, CABINET_ORDER, FAN) == 3000
    # An operator at the window has posted nothing here: nothing to undo either.
    accept(conn, "STORES", "B2001")
    [refused] = scan(conn, "STORES", "CMD:UNDO")
    assert refused.status == "rejected"
    assert held(conn, CABINET_ORDER, FAN) == 3000
    # A supervisor undoes the latest at the station, whoever posted it.
    accept(conn, "STORES", "B3001")
    before = last_movement(conn)
    accept(conn, "STORES", "CMD:UNDO")
    [reversal] = movements_after(conn, before)
    assert (reversal["reverses"], reversal["operator"]) == (tom["id"], "B3001")
    assert held(conn, CABINET_ORDER, FAN) == 0
    assert on_hand(conn, FAN, "A-04") == a04
    assert_check_passes(conn)


def test_an_operator_cannot_undo_a_supervisors_count(conn: sqlite3.Connection) -> None:
    """Found: an operator undid a supervisor's count."""
    accept(conn, "STORES", "B3001", "CMD:MODE:COUNT", "A-04", "REASON:FOUND", "QTY:100", FAN)
    counted = on_hand(conn, FAN, "A-04")
    assert counted == 100
    for badge in ("B2001", "B1002"):  # an operator, another storeroom person
        accept(conn, "STORES", badge)
        [refused] = scan(conn, "STORES", "CMD:UNDO")
        assert refused.status == "rejected" and "nothing to undo" in refused.message
        assert on_hand(conn, FAN, "A-04") == counted
    accept(conn, "STORES", "B3002")  # another supervisor may
    [undone] = accept(conn, "STORES", "CMD:UNDO")
    assert undone.message.startswith("undone: adjust")
    assert on_hand(conn, FAN, "A-04") != counted
    assert_check_passes(conn)


def test_undoing_a_count_needs_the_role_that_counts(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    """Ana counted while storeroom; moved to the line (operator), she may no longer undo
    that adjustment, though it is her own posting."""
    accept(conn, "STORES", "B1001", "CMD:MODE:COUNT", "A-04", "REASON:FOUND", "QTY:100", FAN)
    (tmp_path / "operators.csv").write_text(
        "badge,name,role\nB1001,Ana Ribeiro,operator\n", encoding="utf-8"
    )
    import_file(conn, "operators", tmp_path / "operators.csv")
    [refused] = scan(conn, "STORES", "CMD:UNDO")
    assert refused.status == "rejected"
    assert refused.message == "Ana Ribeiro is operator; adjust needs a supervisor or storeroom"
    assert on_hand(conn, FAN, "A-04") == 100


def test_more_than_is_there_is_refused_and_says_how_much(conn: sqlite3.Connection) -> None:
    """Found: issue, move, ship and scrap from empty bins, even out of SCRAP, accepted."""
    fans = on_hand(conn, FAN, "A-04")
    finished = next(r for r in reports.stock(conn, location="FG-01") if r["lot"] is None)
    product, in_fg = finished["item"], Decimal(str(finished["qty"]))
    cases = [
        ("STORES", ["B1001", CABINET_ORDER, "B-03"], FAN,
         f"no {FAN} in B-03 on record: scan the location that holds it"),
        ("STORES", ["B1001", CABINET_ORDER, "A-04", f"QTY:{fans + 1}"], FAN,
         f"only {fans} pcs of {FAN} in A-04: scan a smaller QTY"),
        ("STORES", ["B1001", "CMD:MODE:MOVE", "B-03", "B-04"], FAN,
         f"no {FAN} in B-03 on record: scan the location that holds it"),
        ("SHIPPING", ["B1001", f"QTY:{in_fg + 1}"], product,
         f"only {in_fg} pcs of {product} in FG-01: scan a smaller QTY"),
        ("STORES", ["B1001", "CMD:MODE:SCRAP", "B-03"], FAN,
         f"no {FAN} in B-03 on record: scan the location that holds it"),
        ("STORES", ["B1001", "CMD:MODE:SCRAP", "SCRAP"], FAN,
         "SCRAP is the scrap location: scan the location the scrap comes from"),
    ]  # fmt: skip
    for station, setup, code, message in cases:
        accept(conn, station, *setup)
        context, before = session(conn, station), last_movement(conn)
        [result] = scan(conn, station, code)
        assert (result.status, result.message) == ("rejected", message)
        assert session(conn, station) == context
        assert movements_after(conn, before) == []
    assert conn.execute("SELECT COUNT(*) FROM stock WHERE qty_milli < 0").fetchone()[0] == 0
    assert_check_passes(conn)


def test_check_exits_one_on_negative_stock_nobody_allowed(db_path: Path) -> None:
    """Found: `check` listed seven negative balances and exited 0."""
    from db.connection import connect
    from db.roles import allow_negative_stock

    conn = connect(db_path)
    allow_negative_stock(conn, ["storeroom"], by="B3001", reason="stocktake pending")
    accept(conn, "STORES", "B1001", CABINET_ORDER, "B-03", "QTY:2", FAN)
    assert on_hand(conn, FAN, "B-03") == -2
    runner = CliRunner()
    allowed = runner.invoke(cli, ["check", "--db", str(db_path)])
    assert allowed.exit_code == 0, allowed.output
    assert f"warning: negative stock: {FAN} at B-03 is -2; count the bin" in allowed.stdout
    allow_negative_stock(conn, [], by="B3001", reason="stocktake done")
    conn.close()
    refused = runner.invoke(cli, ["check", "--db", str(db_path)])
    assert refused.exit_code == 1
    assert (
        f"DIFFERENCE: negative stock not allowed at a storeroom location: {FAN} at B-03 is -2"
        in refused.stdout
    )


def test_cancel_clears_the_context_but_keeps_operator_and_mode(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "CMD:MODE:MOVE", "A-01", "B-01", "QTY:3", "LOT:Z")
    accept(conn, "STORES", "CMD:CANCEL")
    assert session(conn, "STORES") == {
        "mode": "MOVE", "operator": "B1001", "work_order": None, "location": None,
        "to_location": None, "qty_milli": None, "lot": None,
    }  # fmt: skip


# ---------------------------------------------------------------- rejections


def _setup_unknown(conn: sqlite3.Connection) -> tuple[str, str]:
    accept(conn, "RECEIVING", "B1001", "QTY:5")
    return "RECEIVING", "NO-SUCH-THING"


def _setup_lot_missing(conn: sqlite3.Connection) -> tuple[str, str]:
    accept(conn, "RECEIVING", "B1001", "QTY:5")
    return "RECEIVING", POWDER


def _setup_beyond_stage(conn: sqlite3.Connection) -> tuple[str, str]:
    accept(conn, "CUT-1", "B2001", CABINET_ORDER, "QTY:2", "CMD:DONE")
    accept(conn, "BEND-1", "B2002", CABINET_ORDER, "QTY:3")
    return "BEND-1", "CMD:DONE"


def _setup_no_work_order(conn: sqlite3.Connection) -> tuple[str, str]:
    accept(conn, "STORES", "B1001", "A-04", "QTY:3", "LOT:K")
    return "STORES", FAN


@pytest.mark.parametrize(
    ("setup", "hint"),
    [
        (_setup_unknown, "check the label"),
        (_setup_lot_missing, "scan its LOT: label"),
        (_setup_beyond_stage, "scan QTY:2 or less"),
        (_setup_no_work_order, "scan the work-order traveler"),
    ],
    ids=["unknown-barcode", "lot-missing", "beyond-stage", "no-work-order"],
)
def test_rejected_scan_says_what_to_scan_and_keeps_the_context(
    conn: sqlite3.Connection, setup: Any, hint: str
) -> None:
    station, code = setup(conn)
    context = session(conn, station)
    count, before = journal_count(conn), last_movement(conn)
    stages = conn.execute("SELECT * FROM work_order_stages").fetchall()
    [result] = scan(conn, station, code)
    assert result.status == "rejected"
    assert hint in result.message
    assert result.prompt  # what to scan next
    row = outcome(conn, result.scan_id)
    assert (row["status"], row["message"], bytes(row["raw"])) == (
        "rejected",
        result.message,
        code.encode(),
    )
    assert journal_count(conn) == count + 1
    assert session(conn, station) == context
    assert movements_after(conn, before) == []
    assert [tuple(r) for r in conn.execute("SELECT * FROM work_order_stages")] == [
        tuple(r) for r in stages
    ]
    # It waits in the inbox.
    inbox = reports.scans(conn, status_filter="rejected")
    assert inbox[-1]["id"] == result.scan_id


def test_unknown_station_is_journaled_and_rejected(conn: sqlite3.Connection) -> None:
    result = process_scan(conn, "NOWHERE", b"B1001")
    assert result.status == "rejected" and "stations.csv" in result.message
    assert outcome(conn, result.scan_id)["station"] == "NOWHERE"


# ---------------------------------------------------------------- double reads


def _serial(raw: str, at_ms: int, scanner: str | None = "rcv-1") -> ScanInput:
    return ScanInput(
        station="RECEIVING", raw=raw.encode(), source="serial", scanner=scanner, at_ms=at_ms,
        dedupe_ms=250,
    )  # fmt: skip


def test_double_read_within_the_window_is_a_duplicate(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    t = now_ms()  # just after the badge: a read years later would find the station idle
    results = process_batch(
        conn,
        [
            _serial("NUT-M4", t),
            _serial("NUT-M4", t + 100),  # double read
            _serial("NUT-M4", t + 400),  # 300 ms after the last read: a new scan
            _serial("NUT-M4", t + 650),  # exactly 250 ms: still the same read
            _serial("NUT-M5", t + 700),  # another code
            _serial("NUT-M4", t + 710, scanner="rcv-2"),  # another scanner
        ],
    )
    assert [r.status for r in results] == [
        "accepted", "duplicate", "accepted", "duplicate", "accepted", "accepted",
    ]  # fmt: skip
    assert "double read" in results[1].message
    assert len(movements_after(conn, before)) == 4
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == 3
    # Each duplicate is journaled with its raw bytes.
    for r in results:
        assert bytes(outcome(conn, r.scan_id)["raw"]) in (b"NUT-M4", b"NUT-M5")


def test_double_read_across_commits(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    first = process_scan(conn, "RECEIVING", b"NUT-M4", source="serial", scanner="s", dedupe_ms=250)
    second = process_scan(conn, "RECEIVING", b"NUT-M4", source="serial", scanner="s", dedupe_ms=250)
    assert (first.status, second.status) == ("accepted", "duplicate")


@pytest.mark.parametrize("source", ["keyboard", "command"])
def test_keyboard_and_command_input_is_never_deduplicated(
    conn: sqlite3.Connection, source: Any
) -> None:
    accept(conn, "RECEIVING", "B1001")
    t = now_ms()  # just after the badge: a read years later would find the station idle
    for scanner in (None, "kiosk-1"):
        results = process_batch(
            conn,
            [
                ScanInput(
                    station="RECEIVING",
                    raw=b"NUT-M4",
                    source=source,
                    scanner=scanner,
                    at_ms=t + n,
                    dedupe_ms=250,
                )  # fmt: skip
                for n in range(3)
            ],
        )
        assert [r.status for r in results] == ["accepted"] * 3, (scanner, results)
    assert on_hand(conn, "NUT-M4", "RCV-DOCK") == 6


# ---------------------------------------------------------------- group commit


def test_a_batch_of_fifty_journals_fifty_rows_in_order(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    lines = []
    expected = []
    for n in range(50):
        if n % 10 == 7:
            lines.append(f"UNKNOWN-{n}")
            expected.append("rejected")
        elif n % 10 == 3:
            lines.append(f"QTY:{n}")
            expected.append("accepted")
        else:
            lines.append(f"(01){POWDER_GTIN14}(10)B{n:03d}")
            expected.append("accepted")
    first_id = int(conn.execute("SELECT COALESCE(MAX(id), 0) FROM scan_journal").fetchone()[0])
    before = last_movement(conn)
    results = process_batch(
        conn,
        [
            ScanInput(station="RECEIVING", raw=line.encode(), source="serial", scanner="rcv-1")
            for line in lines
        ],
    )
    assert [r.status for r in results] == expected
    rows = conn.execute(
        "SELECT j.id, j.raw, o.status FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
        "WHERE j.id > ? ORDER BY j.id",
        (first_id,),
    ).fetchall()
    assert [r["id"] for r in rows] == [r.scan_id for r in results]
    assert [r["id"] for r in rows] == list(range(first_id + 1, first_id + 51))
    assert [bytes(r["raw"]) for r in rows] == [line.encode() for line in lines]
    assert [r["status"] for r in rows] == expected
    # A QTY: line sets the quantity of the very next item of the batch.
    posted = movements_after(conn, before)
    assert len(posted) == expected.count("accepted") - 5
    by_lot = {m["lot"]: m["qty_milli"] for m in posted}
    assert by_lot["B004"] == 3000 and by_lot["B005"] == 1000
    assert by_lot["B014"] == 13000
    # The rejected lines' postings were not kept, the others' were.
    assert "B017" not in by_lot and "B018" in by_lot
    assert_check_passes(conn)


def test_a_batch_commits_together(db_path: Path, conn: sqlite3.Connection) -> None:
    """Another connection sees none of a batch until all of it is committed."""
    from db.connection import connect

    other = connect(db_path)
    count = journal_count(other)
    seen: list[int] = []

    def spy(statement: str) -> None:
        if statement.startswith("INSERT INTO scan_outcomes"):
            seen.append(journal_count(other))

    conn.set_trace_callback(spy)
    try:
        process_batch(conn, [ScanInput(station="RECEIVING", raw=b"NUT-M4") for _ in range(5)])
    finally:
        conn.set_trace_callback(None)
    other.close()
    # Trace may report a statement again for the append-only trigger it fires.
    assert len(seen) >= 5 and set(seen) == {count}


# ---------------------------------------------------------------- the inbox


def test_replay_after_fixing_master_data_posts_to_the_original_work_order(
    conn: sqlite3.Connection, tmp_path: Path
) -> None:
    accept(conn, "STORES", "B1001", CABINET_ORDER, "QTY:4")
    [rejected] = scan(conn, "STORES", "GRM-22")
    assert rejected.status == "rejected" and "replay" in rejected.message
    # The floor moves on: another order at the window.
    accept(conn, "STORES", "CMD:CANCEL", BRACKET_ORDER)
    live = session(conn, "STORES")

    # An operator may not replay.
    count = journal_count(conn)
    with pytest.raises(PermissionDenied):
        replay_scan(conn, rejected.scan_id, by="B2001")
    assert journal_count(conn) == count

    import_file(
        conn, "items", write_items_csv(tmp_path / "items.csv", [["GRM-22", "Grommet 22", "pcs"]])
    )
    # The grommets arrive into A-01 before the issue is replayed; the cabinet's bill does
    # not name them, so a supervisor allows them on this order too (db.unplanned).
    accept(conn, "RECEIVING", "B1002", "A-01", "QTY:10", "GRM-22")
    allow_unplanned(conn, CABINET_ORDER, "GRM-22", by="B3001", reason="grommets for the fan")
    before = last_movement(conn)
    result = replay_scan(conn, rejected.scan_id, by="B3001")
    assert result.status == "accepted", result.message
    [issued] = movements_after(conn, before)
    assert issued == issued | {
        "kind": "issue", "item": "GRM-22", "qty_milli": 4000, "from_location": "A-01",
        "work_order": CABINET_ORDER, "operator": "B1001", "station": "STORES",
        "scan": result.scan_id,
    }  # fmt: skip
    replay = outcome(conn, result.scan_id)
    assert (replay["source"], replay["replay_of"], bytes(replay["raw"])) == (
        "replay",
        rejected.scan_id,
        b"GRM-22",
    )
    resolution = conn.execute(
        "SELECT action, by_operator, replay_scan FROM inbox_resolutions WHERE scan = ?",
        (rejected.scan_id,),
    ).fetchone()
    assert tuple(resolution) == ("replayed", "B3001", result.scan_id)
    # The station's live session was not touched by the replay.
    assert session(conn, "STORES") == live
    # The original journal row still says rejected; a second replay is refused.
    assert outcome(conn, rejected.scan_id)["status"] == "rejected"
    with pytest.raises(LedgerError):
        replay_scan(conn, rejected.scan_id, by="B3001")
    assert_check_passes(conn)


def test_replay_that_still_fails_stays_in_the_inbox(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", CABINET_ORDER)
    [rejected] = scan(conn, "STORES", "GRM-22")
    again = replay_scan(conn, rejected.scan_id, by="B3002")
    assert again.status == "rejected"
    assert (
        conn.execute(
            "SELECT COUNT(*) FROM inbox_resolutions WHERE scan = ?", (rejected.scan_id,)
        ).fetchone()[0]
        == 0
    )


def test_dismiss_with_a_note(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    [rejected] = scan(conn, "RECEIVING", "SMUDGED-LABEL")
    [accepted] = accept(conn, "RECEIVING", "NUT-M4")
    with pytest.raises(PermissionDenied):
        dismiss_scan(conn, rejected.scan_id, by="B1001", note="label torn")
    with pytest.raises(LedgerError):
        dismiss_scan(conn, rejected.scan_id, by="B3001", note="  ")
    with pytest.raises(LedgerError):
        dismiss_scan(conn, accepted.scan_id, by="B3001", note="not a rejected scan")
    dismiss_scan(conn, rejected.scan_id, by="B3001", note="  label torn, rescanned  ")
    resolution = conn.execute(
        "SELECT action, by_operator, note FROM inbox_resolutions WHERE scan = ?",
        (rejected.scan_id,),
    ).fetchone()
    assert tuple(resolution) == ("dismissed", "B3001", "label torn, rescanned")
    with pytest.raises(LedgerError):
        dismiss_scan(conn, rejected.scan_id, by="B3001", note="again")
    with pytest.raises(LedgerError):
        replay_scan(conn, rejected.scan_id, by="B3001")


# ---------------------------------------------------------------- the command line


def test_scan_command_exit_zero_when_all_accepted(db_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["scan", "--db", str(db_path), "--station", "STORES", "B1001", JBOX_ORDER, SCREW]
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("✓ B1001: signed in Ana Ribeiro")
    assert lines[1].startswith(f"✓ {JBOX_ORDER}:")
    assert lines[2].startswith(f"✓ {SCREW}: issued 1 {SCREW}")
    assert lines[3].startswith("next: ")


def test_scan_command_exit_one_when_any_rejected(db_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["scan", "--db", str(db_path), "--station", "RECEIVING", "--json",
         "B1001", "NOPE-1", "NUT-M4"],
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert [(p["barcode"], p["status"]) for p in payload] == [
        ("B1001", "accepted"),
        ("NOPE-1", "rejected"),
        ("NUT-M4", "accepted"),
    ]
    assert "unknown barcode" in payload[1]["message"]
    human = runner.invoke(cli, ["scan", "--db", str(db_path), "--station", "RECEIVING", "NOPE-2"])
    assert human.exit_code == 1
    assert "✗ NOPE-2: unknown barcode" in human.stdout


def test_scans_json_rows(db_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["scan", "--db", str(db_path), "--station", "RECEIVING", "B1001", "NOPE"])
    result = runner.invoke(cli, ["scans", "--db", str(db_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [set(r) for r in rows] == [
        {"id", "time", "source", "station", "raw", "status", "message"}
    ] * 2
    assert [(r["source"], r["station"], r["raw"], r["status"]) for r in rows] == [
        ("command", "RECEIVING", "B1001", "accepted"),
        ("command", "RECEIVING", "NOPE", "rejected"),
    ]
    assert rows[0]["time"].endswith("Z")
    rejected = runner.invoke(cli, ["scans", "--db", str(db_path), "--json", "--status", "rejected"])
    assert [r["raw"] for r in json.loads(rejected.stdout)] == ["NOPE"]


def test_gs1_item_label_without_symbology_identifier_resolves(
    conn: sqlite3.Connection,
) -> None:
    """Scanners set to drop FNC1 and send no AIM id still deliver a usable GS1 item label."""
    sku, gtin = conn.execute(
        "SELECT sku, gtin FROM items WHERE gtin IS NOT NULL AND lot_tracked = 0 LIMIT 1"
    ).fetchone()
    before = conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
    results = [
        process_scan(conn, "RECEIVING", raw)
        for raw in (b"B1001", b"CMD:MODE:RECEIVE", f"01{gtin}37{4}".encode())
    ]
    assert [r.status for r in results] == ["accepted"] * 3, results[-1].message
    moved = conn.execute(
        "SELECT item, qty_milli FROM movements WHERE id > ? ORDER BY id", (before,)
    ).fetchall()
    assert [(m[0], m[1]) for m in moved] == [(sku, 4000)]


# ---------------------------------------------------------------- the demo's scanners


def test_the_demo_plant_and_its_simulated_scanners_keep_every_bin_stocked(
    conn: sqlite3.Connection,
) -> None:
    """A newcomer's demo shows no negative-stock warnings: the seeded history fits the
    deliveries, and the simulated stores issue from the bin that holds the material."""
    import random

    from db.demo import scan_script

    negative = "SELECT item, location, lot, qty_milli FROM stock WHERE qty_milli < 0"
    assert conn.execute(negative).fetchall() == []
    script = scan_script(conn, random.Random(5))
    issued = 0
    for _ in range(600):
        station, code = next(script)
        [result] = scan(conn, station, code)
        issued += (
            station == "STORES"
            and result.status == "accepted"
            and "issued" in (result.message or "")
        )
    assert issued >= 20, "the stores rounds issued material"
    assert [tuple(row) for row in conn.execute(negative)] == []


def test_an_order_that_takes_no_postings_is_refused_when_its_traveler_is_scanned(
    conn: sqlite3.Connection,
) -> None:
    """Found: a green ✓ for an order on hold first, the refusal only at the next item."""
    from db.supervision import set_hold

    set_hold(conn, CABINET_ORDER, True, by="B3001", reason="paint check")
    accept(conn, "STORES", "B1001")
    [refused] = scan(conn, "STORES", CABINET_ORDER)
    assert refused.status == "rejected" and "is on hold" in refused.message
    assert session(conn, "STORES")["work_order"] is None, "the order is not taken as context"
    # Nor is the order scanned before it left in place for the next item to post to.
    accept(conn, "STORES", BRACKET_ORDER)
    [again] = scan(conn, "STORES", CABINET_ORDER)
    assert again.status == "rejected" and session(conn, "STORES")["work_order"] is None
    # RETURN may still take material back from it.
    [taken] = scan(conn, "STORES", "CMD:MODE:RETURN", CABINET_ORDER)[1:]
    assert taken.status == "accepted"


def test_count_says_the_difference(conn: sqlite3.Connection) -> None:
    """Found: COUNT said only what was counted, not what changed."""
    accept(conn, "STORES", "B1001", "CMD:MODE:COUNT")
    [down] = accept(conn, "STORES", "REASON:DAMAGED", "QTY:7850", SCREW)[2:]
    assert down.message.endswith(
        "counted 7850 SCR-M4X10 in A-01, was 7880: −30 adjusted (reason DAMAGED)"
    )
    [up] = accept(conn, "STORES", "REASON:FOUND", "QTY:7852.5", SCREW)[2:]
    assert up.message.endswith("was 7850: +2.5 adjusted (reason FOUND)")


def test_returning_what_the_order_never_held_says_so(conn: sqlite3.Connection) -> None:
    accept(conn, "STORES", "B1001", "CMD:MODE:RETURN", CABINET_ORDER, "A-04")
    [refused] = scan(conn, "STORES", FAN)
    assert refused.status == "rejected"
    assert f"{CABINET_ORDER} holds none of {FAN}: nothing to return" in refused.message
