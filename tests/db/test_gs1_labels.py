"""What a supplier's GS1 label does on the floor (issue 15): a Digital Link QR receives
like the element string it encodes, a variable-measure label gives the quantity in
the item's unit, and a lot keeps its expiry and production dates, which the pick order
and the issue of an expired lot follow.

Each test scans through `process_scan` on its own demo database, as a scanner would,
and reads the record back with SQL.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from db import lots
from db.connection import clock, connect
from db.demo import create_demo_db
from db.refusals import LedgerError
from db.roles import PermissionDenied
from tests.db.test_grammar import accept, last_movement, movements_after, scan

pytestmark = pytest.mark.timeout(60)

POWDER = "PWD-7035"  # kg, lot-tracked; 487 kg of lot L261110 and 1000 kg of L261210 in B-04
POWDER_GTIN = "09506000000114"
SCREW = "SCR-M4X10"  # pcs, not lot-tracked
SCREW_GTIN = "09506000000145"
PAINT_ORDER = "WO-24002"  # an open ENC-600 order whose bill has PWD-7035
# The floor's today in these tests: 2026-12-01.
TODAY_MS = int(datetime(2026, 12, 1, 9, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    path = tmp_path / "floor.db"
    create_demo_db(path).close()
    connection = connect(path)
    yield connection
    connection.close()


@pytest.fixture
def today(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    import time

    time.tzset()
    ticks = itertools.count(TODAY_MS, 1000)  # a second a scan: no two are a double read
    with clock(lambda: next(ticks)):
        yield
    monkeypatch.undo()
    time.tzset()


def receipt(conn: sqlite3.Connection, code: str) -> dict[str, object]:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    accept(conn, "RECEIVING", code)
    [posted] = movements_after(conn, before)
    return posted


def lot_row(conn: sqlite3.Connection, item: str, lot: str) -> tuple[str | None, str | None]:
    row = conn.execute(
        "SELECT expiry, produced FROM lots WHERE item = ? AND lot = ?", (item, lot)
    ).fetchone()
    assert row is not None, f"no lots row for {item} {lot}"
    return row["expiry"], row["produced"]


# ---------------------------------------------------------------- Digital Link


@pytest.mark.parametrize("symbology", ["]Q1", "]Q3", ""])
def test_a_digital_link_qr_receives_like_the_element_string(
    conn: sqlite3.Connection, symbology: str
) -> None:
    link = f"https://qr.powders.example/01/{POWDER_GTIN}/10/L88?17=270630&30=12&11=261115"
    posted = receipt(conn, symbology + link)
    assert (posted["kind"], posted["item"], posted["lot"], posted["qty_milli"]) == (
        "receive",
        POWDER,
        "L88",
        12000,
    )
    assert lot_row(conn, POWDER, "L88") == ("2027-06-30", "2026-11-15")
    # The same label as GS1-128 element strings posts the same.
    again = receipt(conn, f"]C101{POWDER_GTIN}10L88\x1d172706303012\x1d11261115")
    assert (again["item"], again["lot"]) == (POWDER, "L88")


def test_a_url_that_is_not_gs1_is_an_unknown_barcode(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    [result] = scan(conn, "RECEIVING", "]Q1https://www.powders.example/ral-7035")
    assert result.status == "rejected"
    assert "unknown barcode 'https://www.powders.example/ral-7035'" in result.message


# ---------------------------------------------------------------- variable measure


@pytest.mark.parametrize(
    "code",
    [
        f"]C101{POWDER_GTIN}10L90\x1d3103012500",
        f"(01){POWDER_GTIN}(10)L90(3101)000125",
        f"https://id.gs1.org/01/{POWDER_GTIN}/10/L90?3102=001250",
    ],
)
def test_a_net_weight_label_receives_its_weight_of_a_kg_item(
    conn: sqlite3.Connection, code: str
) -> None:
    posted = receipt(conn, code)
    assert (posted["item"], posted["lot"], posted["qty_milli"]) == (POWDER, "L90", 12500)


def test_a_measure_in_another_unit_is_refused_with_what_to_scan(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = last_movement(conn)
    [result] = scan(conn, "RECEIVING", f"]C101{SCREW_GTIN}3103012500")
    assert result.status == "rejected"
    assert result.message == (
        f"the label gives 12.5 kg, but {SCREW} is counted in pcs: "
        "scan QTY: with the quantity in pcs, then the label again"
    )
    assert movements_after(conn, before) == []
    # Told the quantity in its own unit, the same label receives.
    accept(conn, "RECEIVING", "QTY:500", f"]C101{SCREW_GTIN}3103012500")
    [posted] = movements_after(conn, before)
    assert (posted["item"], posted["qty_milli"]) == (SCREW, 500_000)


def test_a_count_wins_for_an_item_counted_in_pieces(conn: sqlite3.Connection) -> None:
    # 40 screws weighing 0.2 kg: the count is the quantity of a pcs item.
    posted = receipt(conn, f"]C101{SCREW_GTIN}3103000200\x1d3040")
    assert (posted["item"], posted["qty_milli"]) == (SCREW, 40_000)


def test_a_measure_finer_than_thousandths_is_refused(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001")
    [result] = scan(conn, "RECEIVING", f"]C101{POWDER_GTIN}10L91\x1d3105012345")
    assert result.status == "rejected"
    assert "0.12345 kg" in result.message and "QTY:" in result.message


# ---------------------------------------------------------------- lot dates


def test_expiry_and_production_dates_are_kept_with_the_lot(conn: sqlite3.Connection) -> None:
    receipt(conn, f"(01){POWDER_GTIN}(17)270300(11)261101(10)L92(30)5")
    assert lot_row(conn, POWDER, "L92") == ("2027-03-31", "2026-11-01")
    # A later receipt of the lot without dates keeps them; a different expiry is refused.
    receipt(conn, f"(01){POWDER_GTIN}(10)L92(30)5")
    assert lot_row(conn, POWDER, "L92") == ("2027-03-31", "2026-11-01")
    [result] = scan(conn, "RECEIVING", f"(01){POWDER_GTIN}(17)270331(10)L92(30)5")
    assert result.status == "accepted"  # the same day, written as the last day of the month
    [result] = scan(conn, "RECEIVING", f"(01){POWDER_GTIN}(17)270430(10)L92(30)5")
    assert result.status == "rejected"
    assert "expires 2027-03-31" in result.message and "2027-04-30" in result.message


def test_a_label_s_dates_stay_with_its_own_lot(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "LOT:OTHER")
    accept(conn, "RECEIVING", f"(01){POWDER_GTIN}(17)270300(10)L93(30)5")
    assert lot_row(conn, POWDER, "OTHER") == (None, None)


def issue_lot(conn: sqlite3.Connection, lot: str) -> str:
    accept(conn, "STORES", "B1002", "CMD:MODE:ISSUE", PAINT_ORDER, "B-04")
    [result] = scan(conn, "STORES", f"LOT:{lot}", "QTY:5", POWDER)[-1:]
    return result.message if result.status == "rejected" else ""


@pytest.mark.usefixtures("today")
def test_an_expired_lot_is_not_issued_until_a_supervisor_allows_it(
    conn: sqlite3.Connection,
) -> None:
    receipt(conn, f"(01){POWDER_GTIN}(17)261130(10)OLD(30)50")
    receipt(conn, f"(01){POWDER_GTIN}(17)270131(10)NEW(30)50")
    accept(conn, "STORES", "B1002", "CMD:MODE:MOVE", "RCV-DOCK", "B-04", "LOT:OLD", "QTY:50")
    accept(conn, "STORES", POWDER, "LOT:NEW", "QTY:50", POWDER)

    refused = issue_lot(conn, "OLD")
    assert refused.startswith(f"lot OLD of {POWDER} expired on 2026-11-30: issue lot NEW")
    assert "a supervisor" in refused
    assert issue_lot(conn, "NEW") == ""

    with pytest.raises(PermissionDenied):
        lots.allow_expired(conn, POWDER, "OLD", by="B1002", reason="tested, still good")
    with pytest.raises(LedgerError, match="say why"):
        lots.allow_expired(conn, POWDER, "OLD", by="B3001", reason=" ")
    lots.allow_expired(conn, POWDER, "OLD", by="B3001", reason="lab retest 2026-12-01 passed")
    assert issue_lot(conn, "OLD") == ""
    allowed = conn.execute("SELECT item, lot, by_operator, reason FROM lot_allowances").fetchall()
    assert [tuple(r) for r in allowed] == [(POWDER, "OLD", "B3001", "lab retest 2026-12-01 passed")]
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM lot_allowances")


@pytest.mark.usefixtures("today")
def test_the_pick_order_is_expiry_first_then_the_oldest_receipt(
    conn: sqlite3.Connection,
) -> None:
    receipt(conn, f"(01){POWDER_GTIN}(17)270630(10)LATE(30)10")
    receipt(conn, f"(01){POWDER_GTIN}(17)270131(10)SOON(30)10")
    receipt(conn, f"(01){POWDER_GTIN}(10)UNDATED(30)10")
    picks = lots.pick_order(conn, POWDER, location="RCV-DOCK")
    assert [(p.lot, p.expiry) for p in picks if p.qty_milli > 0] == [
        ("SOON", date(2027, 1, 31)),
        ("LATE", date(2027, 6, 30)),
        ("UNDATED", None),
    ]
    # Without dates, the lot that came in first goes first: the demo's two lots in B-04.
    in_bin = [p.lot for p in lots.pick_order(conn, POWDER, location="B-04")]
    assert in_bin == ["L261110", "L261210"]


def test_a_lot_tracked_issue_without_a_lot_names_the_lot_to_pick(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "STORES", "B1002", "CMD:MODE:ISSUE", PAINT_ORDER, "B-04")
    [result] = scan(conn, "STORES", POWDER)
    assert result.status == "rejected"
    assert "scan its LOT: label first" in result.message
    # The demo's first lot expires first (db/demo.py dates its deliveries).
    expiry, _ = lot_row(conn, POWDER, "L261110")
    assert f"pick lot L261110 first (expires {expiry})" in result.message


# ---------------------------------------------------------------- the upgrade


def test_a_database_of_schema_4_gets_its_lots_on_record(tmp_path: Path) -> None:
    """m006_lot_dates: every lot already in the ledger is on record, first seen at its
    first movement, so the pick order of an upgraded plant takes the oldest lot first."""
    from sqlite_utils import Database

    from db import schema
    from db.masterdata import import_dir
    from tests.plant import copy_plant

    path = tmp_path / "old.db"
    old_file = connect(path)
    old = schema.migrations()
    old._migrations = old._migrations[:4]  # m001..m004: the schema before lots
    old.apply(Database(old_file))
    old_file.execute("PRAGMA user_version = 4")
    plant = copy_plant(tmp_path / "plant")
    (plant / "reasons.csv").unlink()  # reasons came with schema 11
    import_dir(old_file, plant)
    # Gaskets (C2, lot-tracked) received as schema 4 recorded them: lot B came in before A.
    for time_ms, lot in ((2000, "A"), (1000, "B"), (3000, "A")):
        old_file.execute(
            "INSERT INTO movements (time_ms, kind, item, lot, qty_milli, to_location) "
            "VALUES (?, 'receive', 'C2', ?, 1000, 'S1')",
            (time_ms, lot),
        )
    old_file.execute(
        "INSERT INTO stock (item, location, lot, qty_milli) VALUES "
        "('C2', 'S1', 'A', 2000), ('C2', 'S1', 'B', 1000)"
    )
    old_file.commit()
    old_file.close()

    upgraded = schema.init_db(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    kept = upgraded.execute("SELECT item, lot, received_ms, expiry FROM lots ORDER BY lot")
    assert [tuple(r) for r in kept] == [("C2", "A", 2000, None), ("C2", "B", 1000, None)]
    assert [p.lot for p in lots.pick_order(upgraded, "C2")] == ["B", "A"]
    upgraded.close()
