"""The board's SHORT mark means short: a component neither the stores nor an open
purchase order covers (db.shortages), not merely material not issued yet.

Found (issue 11): on the demo plant the board marked orders "✗ SHORT" whose missing
material sat in the stores (1,487 kg of the "short" powder).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from db import ledger
from db.board import board_rows
from db.connection import connect
from db.ledger import Origin
from db.shortages import shortages
from tests.conftest import make_app, settle, wait_until
from tui.widgets.board_table import BoardTable

pytestmark = pytest.mark.timeout(60)

SHORT = "✗ SHORT"


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def stores_hold(db: sqlite3.Connection, item: str) -> int:
    return int(
        db.execute(
            "SELECT COALESCE(SUM(s.qty_milli), 0) FROM stock s JOIN locations l "
            "ON l.code = s.location WHERE s.item = ? AND l.kind IN ('storeroom', 'receiving')",
            (item,),
        ).fetchone()[0]
    )


async def test_material_in_the_stores_is_not_short(demo_db: str, db: sqlite3.Connection) -> None:
    # The demo's orders that completed units without their material: what the old mark
    # called short. Every component they still need is in the stores.
    unissued = [row.number for row in board_rows(db) if row.short]
    assert unissued
    for line in shortages(db):
        if line.work_order in unissued and line.to_issue_milli:
            assert stores_hold(db, line.item) >= line.to_issue_milli, line
    app = make_app(demo_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(BoardTable)
        await wait_until(pilot, lambda: len(table.orders) > len(unissued))
        await settle(pilot)
        for number in unissued:
            assert table.get_cell(number, "material").plain != SHORT, number
        assert "✗ 0 short" in str(app.screen.query_one("#board-summary").render())


async def test_short_when_nothing_covers_it_and_live(demo_db: str, db: sqlite3.Connection) -> None:
    # Cable glands M25: no purchase order brings any. Count the stores' bins to zero in
    # another connection: every open order still needing some is short, at once.
    item = "CG-M25"
    assert not db.execute("SELECT 1 FROM purchase_orders WHERE item = ?", (item,)).fetchone()
    needing = sorted(
        {line.work_order for line in shortages(db) if line.item == item and line.to_issue_milli}
    )
    assert needing
    app = make_app(demo_db)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(BoardTable)
        await wait_until(pilot, lambda: needing[0] in table.orders)
        await settle(pilot)
        assert all(table.get_cell(n, "material").plain != SHORT for n in needing)
        for location, lot in db.execute(
            "SELECT s.location, s.lot FROM stock s JOIN locations l ON l.code = s.location "
            "WHERE s.item = ? AND s.qty_milli > 0 AND l.kind IN ('storeroom', 'receiving')",
            (item,),
        ).fetchall():
            ledger.adjust(db, item, location, 0, lot=lot, origin=Origin(operator="B3001"))

        def marked() -> bool:
            """every order needing the glands is marked SHORT"""
            return all(table.get_cell(n, "material").plain == SHORT for n in needing)

        await wait_until(pilot, marked)
        summary = str(app.screen.query_one("#board-summary").render())
        assert f"✗ {len(needing)} short" in summary


async def test_an_order_made_for_a_customer_shows_who_and_the_promise(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """A sales order linked to a work order: its customer and promise date on the board
    (a column where there is room) and on the order screen."""
    from tui.screens.order import OrderScreen

    number, customer, due, work_order = db.execute(
        "SELECT o.number, o.customer, o.due, o.work_order FROM sales_orders o "
        "JOIN work_orders w ON w.number = o.work_order WHERE w.status = 'in_progress' "
        "ORDER BY o.number LIMIT 1"
    ).fetchone()
    app = make_app(demo_db)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        table = app.screen.query_one(BoardTable)

        def shown() -> bool:
            """the board names the customer and the promise date"""
            return table.get_cell(work_order, "customer").plain == f"{customer} {due[5:]}"

        await wait_until(pilot, shown)
        assert table.get_cell("WO-24002", "customer").plain == ""  # made for stock
        await app.open_order(work_order)
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))

        def on_order_screen() -> bool:
            """the order screen names the customer, the sales order and the promise"""
            facts = app.screen.query("#order-facts")
            return bool(facts) and f"for {customer} ({number}), promised {due}" in str(
                facts.first().render()
            )

        await wait_until(pilot, on_order_screen)
