"""The Shortages screen (SPEC §5, issue 11): short components, the orders they hold up
and their supply, live, on the demo plant with two components taken out of the stores
(hinges: a purchase order brings 500, more than the open orders need, some of it after
they need it; cable glands M25: nothing on order)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from db import ledger
from db.connection import connect
from db.ledger import Origin
from db.shortages import shortages
from tests.conftest import make_app, settle, wait_until
from tui.app import ShopfloorApp
from tui.screens.order import OrderScreen
from tui.screens.shortages import ShortagesScreen

pytestmark = pytest.mark.timeout(60)

HINGE, GLAND = "HNG-120", "CG-M25"
SUPERVISOR = Origin(operator="B3001")


def empty_the_stores(conn: sqlite3.Connection, *items: str) -> None:
    """Count every store bin holding the items to zero (a supervisor's adjustment)."""
    for item in items:
        for location, lot in conn.execute(
            "SELECT s.location, s.lot FROM stock s JOIN locations l ON l.code = s.location "
            "WHERE s.item = ? AND s.qty_milli > 0 AND l.kind IN ('storeroom', 'receiving')",
            (item,),
        ).fetchall():
            ledger.adjust(conn, item, location, 0, lot=lot, origin=SUPERVISOR)


@pytest.fixture
def plant(demo_db: str) -> Iterator[str]:
    conn = connect(demo_db)
    empty_the_stores(conn, HINGE, GLAND)
    conn.close()
    yield demo_db


def screen_of(app: ShopfloorApp) -> ShortagesScreen:
    assert isinstance(app.screen, ShortagesScreen)
    return app.screen


async def open_shortages(pilot: Pilot[Any]) -> ShortagesScreen:
    await settle(pilot)
    await pilot.press("f12")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, ShortagesScreen))
    screen = screen_of(pilot.app)  # type: ignore[arg-type]
    await wait_until(pilot, lambda: screen.items_table.row_count > 0)
    return screen


async def test_short_components_the_orders_they_hold_up_and_their_supply(plant: str) -> None:
    conn = connect(plant)
    lines = shortages(conn)
    hinge_short = sum(x.short_milli for x in lines if x.item == HINGE)
    hinge_supply = sum(x.from_supply_milli for x in lines if x.item == HINGE)
    gland_orders = [x.work_order for x in lines if x.item == GLAND and x.short_milli]
    # The hinges on order cover every order; the glands none.
    assert hinge_supply > 0 and hinge_short == 0 and gland_orders
    app = make_app(plant)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_shortages(pilot)
        keys = screen.items_table.keys
        assert set(keys) == {HINGE, GLAND}
        gland = dict(
            zip(screen.items_table.column_keys, screen.items_table.cells_of(GLAND), strict=True)
        )
        assert gland["mark"] == "✗ SHORT" and gland["pos"] == "none on order"
        assert gland["orders"].split()[0] == gland_orders[0]  # the most urgent first
        hinge = dict(
            zip(screen.items_table.column_keys, screen.items_table.cells_of(HINGE), strict=True)
        )
        assert hinge["mark"] == "◷ LATE"  # WO-24002 was due before PO-7103 arrives
        assert hinge["supply"] == str(hinge_supply // 1000) and hinge["short"] == "0"
        assert hinge["pos"].startswith("PO-7103 ")
        order_lines = screen.lines_table.keys
        assert f"{gland_orders[0]}\x1f{GLAND}" in order_lines
        heading = str(screen.heading.render())
        assert heading.startswith("✗ 1 component short · 3 orders held up")
        # Enter on an order's line opens the work order; Escape comes back.
        screen.lines_table.focus()
        screen.lines_table.move_cursor(order_lines.index(f"{gland_orders[0]}\x1f{GLAND}"))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))
        assert app.screen.number == gland_orders[0]  # type: ignore[attr-defined]
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)
        # Glands arrive (another process): they leave the screen at once.
        ledger.receive(conn, GLAND, 10_000_000, "RCV-DOCK", origin=Origin(operator="B1001"))
        await wait_until(pilot, lambda: GLAND not in screen.items_table.keys)
        assert screen.items_table.keys == [HINGE]
    conn.close()


async def test_nothing_short_says_so(demo_db: str) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("f12")
        await wait_until(pilot, lambda: isinstance(app.screen, ShortagesScreen))
        screen = screen_of(app)
        await wait_until(pilot, lambda: "Nothing short" in str(screen.heading.render()))
        assert screen.items_table.row_count == 0


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_shortages_snapshot(plant: str, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_shortages(pilot)
        await settle(pilot)

    app = make_app(plant, live=False)
    assert snap_compare(app, terminal_size=size, run_before=run_before)
