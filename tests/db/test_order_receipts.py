"""Receiving against purchase orders and shipping against sales orders (issue 11, SPEC §4):
`PO:number` in RECEIVE and `SO:number` in SHIP set the station's order context; each
receipt or shipment then counts against that order's line, on the demo plant."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from db.check import check
from db.connection import connect
from db.pipeline import ScanResult, process_scan
from db.shortages import shortages

pytestmark = pytest.mark.timeout(60)

# Demo purchase order PO-7104: 120 sheets of SH-ST-15 (no lots), none received yet.
SHEET = "SH-ST-15"


@pytest.fixture
def conn(demo_db: str) -> Iterator[sqlite3.Connection]:
    connection = connect(demo_db)
    yield connection
    connection.close()


def scan(conn: sqlite3.Connection, station: str, *codes: str) -> list[ScanResult]:
    return [process_scan(conn, station, code.encode("utf-8")) for code in codes]


def accept(conn: sqlite3.Connection, station: str, *codes: str) -> ScanResult:
    results = scan(conn, station, *codes)
    for code, result in zip(codes, results, strict=True):
        assert result.status == "accepted", (code, result.message)
    return results[-1]


def received(conn: sqlite3.Connection, number: str, item: str) -> int:
    return int(
        conn.execute(
            "SELECT received_milli FROM purchase_orders WHERE number = ? AND item = ?",
            (number, item),
        ).fetchone()[0]
    )


def movement_count(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0])


def test_receipts_count_against_the_purchase_order(conn: sqlite3.Connection) -> None:
    on_hand = conn.execute(
        "SELECT COALESCE(SUM(qty_milli), 0) FROM stock WHERE item = ? AND location = 'RCV-DOCK'",
        (SHEET,),
    ).fetchone()[0]
    first = accept(conn, "RECEIVING", "B1001", "PO:PO-7104")
    assert first.message == "purchase order PO-7104: 1 of 1 lines still to receive"
    assert "PO-7104" in first.prompt
    got = accept(conn, "RECEIVING", "QTY:100", SHEET)
    assert got.message == f"received 100 {SHEET} into RCV-DOCK on PO-7104 (100 of 120)"
    assert received(conn, "PO-7104", SHEET) == 100_000
    links = conn.execute(
        "SELECT r.purchase_order, m.kind, m.qty_milli FROM order_receipts r "
        "JOIN movements m ON m.id = r.movement"
    ).fetchall()
    assert [tuple(r) for r in links] == [("PO-7104", "receive", 100_000)]
    # The context stays: the next pallet counts too, and passing the order warns but posts.
    over = accept(conn, "RECEIVING", "QTY:30", SHEET)
    assert over.message == (
        f"received 30 {SHEET} into RCV-DOCK on PO-7104 (130 of 120); "
        "WARNING: 10 more received than ordered"
    )
    assert received(conn, "PO-7104", SHEET) == 130_000
    stock = conn.execute(
        "SELECT qty_milli FROM stock WHERE item = ? AND location = 'RCV-DOCK'", (SHEET,)
    ).fetchone()[0]
    assert stock == on_hand + 130_000
    # Undo uncounts the receipt it reverses.
    accept(conn, "RECEIVING", "CMD:UNDO")
    assert received(conn, "PO-7104", SHEET) == 100_000
    assert check(conn).ok


def test_what_cannot_count_against_a_purchase_order_is_refused(
    conn: sqlite3.Connection,
) -> None:
    accept(conn, "RECEIVING", "B1001")
    before = movement_count(conn)
    (unknown,) = scan(conn, "RECEIVING", "PO:PO-9999")
    assert unknown.status == "rejected" and "unknown purchase order 'PO-9999'" in unknown.message
    accept(conn, "RECEIVING", "PO:PO-7104")
    (other,) = scan(conn, "RECEIVING", "SCR-M4X10")
    assert other.status == "rejected"
    assert "SCR-M4X10 is not on purchase order PO-7104: scan CMD:CANCEL" in other.message
    assert movement_count(conn) == before
    # CMD:CANCEL drops the order: a receipt without one posts as before.
    accept(conn, "RECEIVING", "CMD:CANCEL", "SCR-M4X10")
    assert received(conn, "PO-7104", SHEET) == 0
    (wrong_mode,) = scan(conn, "STORES", "B1002", "PO:PO-7104")[1:]
    assert wrong_mode.status == "rejected" and "CMD:MODE:RECEIVE first" in wrong_mode.message


def test_the_purchase_order_context_survives_a_restart(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "PO:PO-7104")
    other = connect(conn.execute("PRAGMA database_list").fetchone()[2])
    try:
        accept(other, "RECEIVING", SHEET)  # another process: the session is in the file
    finally:
        other.close()
    assert received(conn, "PO-7104", SHEET) == 1_000


def test_receipts_leave_less_supply_to_net(conn: sqlite3.Connection) -> None:
    def from_po() -> int:
        return sum(
            s.qty_milli for line in shortages(conn) for s in line.supply if s.number == "PO-7104"
        )

    accept(conn, "RECEIVING", "B1001", "PO:PO-7104", "QTY:120", SHEET)
    assert received(conn, "PO-7104", SHEET) == 120_000
    assert from_po() == 0


def test_shipments_count_against_the_sales_order(conn: sqlite3.Connection) -> None:
    number, product, qty, customer, due = conn.execute(
        "SELECT o.number, o.product, o.qty_milli, o.customer, o.due FROM sales_orders o "
        "JOIN stock s ON s.item = o.product AND s.location = 'FG-01' AND s.qty_milli >= 2000 "
        "ORDER BY o.number LIMIT 1"
    ).fetchone()
    first = accept(conn, "SHIPPING", "B1001", f"SO:{number}")
    assert first.message == f"sales order {number} for {customer}, promised {due}"
    shipped = accept(conn, "SHIPPING", "QTY:2", product)
    assert shipped.message == (f"shipped 2 {product} from FG-01 on {number} (2 of {qty // 1000})")
    assert (
        conn.execute(
            "SELECT shipped_milli FROM sales_orders WHERE number = ?", (number,)
        ).fetchone()[0]
        == 2_000
    )
    (other,) = scan(conn, "SHIPPING", "SCR-M4X10")
    assert other.status == "rejected" and f"not on sales order {number}" in other.message
    (unknown,) = scan(conn, "SHIPPING", "SO:SO-0")
    assert unknown.status == "rejected" and "unknown sales order 'SO-0'" in unknown.message
    accept(conn, "SHIPPING", "CMD:UNDO")
    assert (
        conn.execute(
            "SELECT shipped_milli FROM sales_orders WHERE number = ?", (number,)
        ).fetchone()[0]
        == 0
    )


def test_order_links_are_append_only(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "PO:PO-7104", SHEET)
    for sql in ("UPDATE order_receipts SET item = 'X'", "DELETE FROM order_receipts"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute(sql)


def test_check_proves_what_an_order_received(conn: sqlite3.Connection) -> None:
    accept(conn, "RECEIVING", "B1001", "PO:PO-7104", "QTY:7", SHEET)
    assert check(conn).ok
    conn.execute("UPDATE purchase_orders SET received_milli = 9000 WHERE number = 'PO-7104'")
    report = check(conn)
    assert not report.ok
    assert report.differences == [
        f"purchase order PO-7104 {SHEET}: its linked movements sum to 7, the order says 9 received"
    ]


def test_a_bare_order_number_sets_the_order_where_nothing_else_is_called_that(
    conn: sqlite3.Connection,
) -> None:
    # The supplier's delivery note carries the purchase order's number as printed.
    got = accept(conn, "RECEIVING", "B1001", "PO-7104", "QTY:5", SHEET)
    assert got.message == f"received 5 {SHEET} into RCV-DOCK on PO-7104 (5 of 120)"
    # At the stores window (ISSUE) it means nothing: refused as an unknown barcode.
    (issue,) = scan(conn, "STORES", "B1002", "PO-7104")[1:]
    assert issue.status == "rejected" and "unknown barcode 'PO-7104'" in issue.message
    accept(conn, "SHIPPING", "B1001", "SO-5001")
    session = conn.execute(
        "SELECT sales_order FROM station_sessions WHERE station = 'SHIPPING'"
    ).fetchone()
    assert session[0] == "SO-5001"
