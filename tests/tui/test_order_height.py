"""The order screen uses the height of a large terminal (issue 12 item 7).

Found: at 160x48 the order screen looked half empty. Each of its tabs' tables must
reach down to the key bar, whatever it holds, so a long list of movements or scans
shows as many rows as the terminal has, and the stage table above shows every stage.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from textual.widgets import TabbedContent

from db.connection import connect
from tests.conftest import make_app, settle
from tui.screens.order import OrderScreen
from tui.widgets.key_bar import KeyBar

pytestmark = pytest.mark.timeout(60)

ORDER = "WO-24002"  # in progress at ASSY: material, movements, scans and history


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


@pytest.mark.parametrize("size", [(160, 48), (80, 24)], ids=["160x48", "80x24"])
async def test_every_tab_of_the_order_fills_the_terminal_down_to_the_keys(
    demo_db: str, db: sqlite3.Connection, size: tuple[int, int]
) -> None:
    app = make_app(demo_db, live=False)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await app.open_order(ORDER)
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, OrderScreen)
        stages = db.execute(
            "SELECT COUNT(*) FROM work_order_stages WHERE work_order = ?", (ORDER,)
        ).fetchone()[0]
        # Every stage on screen (a heading line above them).
        assert screen.stages_table.region.height == stages + 1
        keys_top = screen.query_one(KeyBar).region.y
        for pane, table in (
            ("tab-material", screen.materials_table),
            ("tab-movements", screen.movements_table),
            ("tab-scans", screen.scans_table),
            ("tab-history", screen.history_table),
        ):
            screen.query_one(TabbedContent).active = pane
            await settle(pilot)
            region = table.region
            assert region.bottom == keys_top, f"{pane}: ends at {region.bottom}, keys at {keys_top}"
            if size == (160, 48):
                assert region.height > 30, f"{pane}: {region.height} rows of 48"
