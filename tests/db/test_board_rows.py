"""The board's read (db.board.board_rows): its first screenful (`limit`), and the board
columns the triggers of db/schema.py keep on each work order, against the slow way of
working them out from the stages, the material held and the bill.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import replace

import pytest

from db import ledger, progress, supervision
from db.board import BoardRow, board_column_differences, board_rows
from db.connection import connect
from db.ledger import Origin
from db.orders import order_detail

STORE_ORIGIN = Origin(operator="B1002", station="STORES")


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def slow_board(conn: sqlite3.Connection) -> list[BoardRow]:
    """The board worked out from the order screen's read (by key, one order at a time),
    with the module docstring's definitions, in the board's order."""
    numbers = [
        str(r[0])
        for r in conn.execute(
            "SELECT number FROM work_orders WHERE status IN ('released', 'in_progress', "
            "'on_hold') ORDER BY due, priority, number"
        )
    ]
    rows = []
    for number in numbers:
        detail = order_detail(conn, number)
        assert detail is not None
        qty_per = dict(
            conn.execute(
                "SELECT component, qty_per_milli FROM bill_of_materials WHERE product = ?",
                (detail.product,),
            ).fetchall()
        )
        done = {code: d for code, d, _ in detail.stages}
        first = detail.stages[0][1] if detail.stages else 0
        short = any(
            units and m.issued_milli * 1000 + 1000 < qty_per[m.item] * units
            for m in detail.materials
            for units in [first if m.stage is None else done.get(m.stage, 0)]
        )
        rows.append(
            BoardRow(
                number=detail.number,
                product=detail.product,
                description=detail.description,
                qty_milli=detail.qty_milli,
                due=detail.due,
                priority=detail.priority,
                status=detail.status,
                last_activity_ms=detail.last_activity_ms,
                stages=detail.stages,
                material_required_milli=sum(m.required_milli for m in detail.materials),
                material_ready_milli=sum(
                    min(m.issued_milli, m.required_milli) for m in detail.materials
                ),
                short=short,
            )
        )
    return rows


def assert_board_agrees(conn: sqlite3.Connection) -> None:
    assert board_column_differences(conn) == []
    assert board_rows(conn) == slow_board(conn)


# ---------------------------------------------------------------- limit


def test_limit_is_the_start_of_the_full_board(db: sqlite3.Connection) -> None:
    rows = board_rows(db)
    assert len(rows) > 5, "the demo plant has open orders to page through"
    for limit in (0, 1, 2, 5, len(rows) - 1, len(rows), len(rows) + 10):
        assert board_rows(db, limit=limit) == rows[:limit], limit


def test_limit_among_numbers_is_the_start_of_those(db: sqlite3.Connection) -> None:
    rows = board_rows(db)
    some = [rows[-1].number, rows[3].number, rows[0].number, "WO-NOT-THERE"]
    chosen = board_rows(db, some)
    assert [r.number for r in chosen] == [rows[0].number, rows[3].number, rows[-1].number]
    for limit in (0, 1, 2, 3, 4):
        assert board_rows(db, some, limit=limit) == chosen[:limit]


def test_limit_follows_due_date_changes(db: sqlite3.Connection) -> None:
    first = board_rows(db, limit=1)[0]
    supervision.change_due_date(db, first.number, "2099-12-31", by="B3001", reason="customer asked")
    rows = board_rows(db)
    assert rows[-1].number == first.number
    assert board_rows(db, limit=3) == rows[:3]


def test_a_negative_limit_is_refused(db: sqlite3.Connection) -> None:
    with pytest.raises(ValueError, match="negative"):
        board_rows(db, limit=-1)


def plan(conn: sqlite3.Connection, sql: str, *params: object) -> str:
    return " / ".join(str(r[3]) for r in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


def test_limit_reads_the_board_index_without_sorting(db: sqlite3.Connection) -> None:
    """The first screenful costs the rows it returns, not every open order."""
    from db.board import _ALL, _ROWS

    indexed, where = _ALL
    steps = plan(db, _ROWS.format(indexed=indexed, where=where, limit="LIMIT ?"), 50)
    assert "USING INDEX work_orders_board" in steps and "TEMP B-TREE" not in steps, steps


def test_some_orders_are_read_by_key(db: sqlite3.Connection) -> None:
    """A live board's refresh costs the orders touched, not every open order."""
    from db.board import _ONLY, _ROWS

    indexed, where = _ONLY
    steps = plan(db, _ROWS.format(indexed=indexed, where=where, limit=""), '["WO-24002"]')
    assert "(number=?)" in steps and "work_orders_open" not in steps, steps


# ---------------------------------------------------------------- board columns


def test_the_demo_plant_board_agrees_with_the_slow_way(db: sqlite3.Connection) -> None:
    rows = board_rows(db)
    assert any(r.short for r in rows) and any(r.material_ready_milli for r in rows)
    assert_board_agrees(db)


def test_board_columns_follow_the_ledger(db: sqlite3.Connection) -> None:
    stocked = {
        str(r[0]): str(r[1])
        for r in db.execute(
            "SELECT s.item, s.location FROM stock s JOIN items i ON i.sku = s.item "
            "JOIN locations l ON l.code = s.location AND l.kind = 'storeroom' "
            "WHERE i.lot_tracked = 0 AND s.lot = '' AND s.qty_milli >= 2000"
        )
    }
    # An order still short of a component the stores have: issuing it makes it readier.
    order, component = next(
        (row, line.item)
        for row in board_rows(db)
        for line in order_detail(db, row.number).materials  # type: ignore[union-attr]
        if line.short_milli >= 2_000 and line.item in stocked
    )
    store = stocked[component]
    before = order.material_ready_milli

    issued = ledger.issue(db, order.number, component, 2_000, store, origin=STORE_ORIGIN)
    assert_board_agrees(db)
    after = next(r for r in board_rows(db) if r.number == order.number)
    assert after.material_ready_milli > before

    ledger.return_material(db, order.number, component, 500, store, origin=STORE_ORIGIN)
    assert_board_agrees(db)
    ledger.reverse_movement(db, issued, origin=STORE_ORIGIN)
    assert_board_agrees(db)

    stage = after.current_stage
    assert stage is not None
    entry = progress.report_progress(db, order.number, stage, 1_000, origin=STORE_ORIGIN)
    assert_board_agrees(db)
    progress.report_progress(db, order.number, stage, 1_000, kind="scrap", origin=STORE_ORIGIN)
    assert_board_agrees(db)
    progress.reverse_progress(db, entry, origin=STORE_ORIGIN)
    assert_board_agrees(db)


def test_material_off_the_bill_leaves_the_board_as_it_was(db: sqlite3.Connection) -> None:
    order = board_rows(db)[0]
    off = db.execute(
        "SELECT s.item, s.location FROM stock s JOIN items i ON i.sku = s.item "
        "JOIN locations l ON l.code = s.location AND l.kind = 'storeroom' "
        "WHERE i.lot_tracked = 0 AND s.lot = '' AND s.qty_milli > 1000 AND s.item NOT IN "
        "(SELECT component FROM bill_of_materials WHERE product = ?) LIMIT 1",
        (order.product,),
    ).fetchone()
    assert off is not None
    ledger.issue(db, order.number, off[0], 1_000, off[1], origin=STORE_ORIGIN)
    assert_board_agrees(db)
    after = next(r for r in board_rows(db) if r.number == order.number)
    assert after.last_activity_ms != order.last_activity_ms  # it was touched, nothing more
    assert replace(after, last_activity_ms=order.last_activity_ms) == order


def test_board_columns_follow_bill_and_order_changes(db: sqlite3.Connection) -> None:
    order = board_rows(db)[0]
    component = db.execute(
        "SELECT component FROM bill_of_materials WHERE product = ? ORDER BY component LIMIT 1",
        (order.product,),
    ).fetchone()[0]
    # A line leaves the bill, a new one joins it, a line changes its component.
    db.execute(
        "DELETE FROM bill_of_materials WHERE product = ? AND component = ?",
        (order.product, component),
    )
    assert_board_agrees(db)
    db.execute(
        "INSERT INTO bill_of_materials (product, component, qty_per_milli) VALUES (?, ?, 2000)",
        (order.product, component),
    )
    assert_board_agrees(db)
    spare = db.execute(
        "SELECT sku FROM items WHERE sku NOT IN "
        "(SELECT component FROM bill_of_materials WHERE product = ?) AND sku != ? LIMIT 1",
        (order.product, order.product),
    ).fetchone()[0]
    db.execute(
        "UPDATE bill_of_materials SET component = ? WHERE product = ? AND component = ?",
        (spare, order.product, component),
    )
    assert_board_agrees(db)
    # A quantity change alone changes no column, only what board_rows works out.
    db.execute(
        "UPDATE bill_of_materials SET qty_per_milli = qty_per_milli * 3 WHERE product = ?",
        (order.product,),
    )
    assert_board_agrees(db)
    # An untouched order's product and stages change, as a re-import of it does.
    number, product = db.execute(
        "SELECT number, product FROM work_orders w WHERE status = 'released' AND NOT EXISTS "
        "(SELECT 1 FROM progress_entries p WHERE p.work_order = w.number) LIMIT 1"
    ).fetchone()
    other = db.execute(
        "SELECT product FROM work_orders WHERE product != ? LIMIT 1", (product,)
    ).fetchone()[0]
    db.execute("BEGIN")
    db.execute("UPDATE work_orders SET product = ? WHERE number = ?", (other, number))
    db.execute("DELETE FROM work_order_stages WHERE work_order = ?", (number,))
    db.execute(
        "INSERT INTO work_order_stages (work_order, seq, stage) "
        "SELECT ?, seq, stage FROM routings WHERE product = ?",
        (number, other),
    )
    db.execute("COMMIT")
    assert_board_agrees(db)


def test_a_new_work_order_starts_with_its_bill(db: sqlite3.Connection) -> None:
    product, qty = db.execute(
        "SELECT w.product, w.qty_milli FROM work_orders w WHERE EXISTS "
        "(SELECT 1 FROM bill_of_materials b WHERE b.product = w.product) LIMIT 1"
    ).fetchone()
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO work_orders (number, product, qty_milli, due, barcode, created_ms) "
        "VALUES ('WO-NEW', ?, ?, '2000-01-01', 'WO-NEW', 0)",
        (product, qty),
    )
    db.execute(
        "INSERT INTO work_order_stages (work_order, seq, stage) "
        "SELECT 'WO-NEW', seq, stage FROM routings WHERE product = ?",
        (product,),
    )
    db.execute("COMMIT")
    assert_board_agrees(db)
    new = board_rows(db, limit=1)[0]
    assert new.number == "WO-NEW" and new.material_required_milli > 0
    assert new.material_ready_milli == 0 and not new.short


def test_a_stale_column_is_reported(db: sqlite3.Connection) -> None:
    number = board_rows(db, limit=1)[0].number
    db.execute("UPDATE work_orders SET board_stages = 'X' WHERE number = ?", (number,))
    assert board_column_differences(db) == [
        f"work order {number}: the board's stages columns disagree"
    ]
