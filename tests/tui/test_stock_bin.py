"""The Stock screen's bin view at the floor's small terminal (80x24): every row of a
full bin can be brought on screen, the negative one included.

Found (issue 12 item 7): the bin view clipped after 5 rows and hid the negative one.
A copy of the demo plant; a bin filled through the ledger; what the person sees is read
off the drawn screen.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console
from textual.app import App
from textual.pilot import Pilot

from db import ledger, roles
from db.connection import connect
from tests.conftest import BUILT_MS, settle
from tui.screens.stock import StockScreen

pytestmark = pytest.mark.timeout(60)

BIN = "RCV-DOCK"


class Host(App[None]):
    def __init__(self, screen: StockScreen) -> None:
        super().__init__()
        self.floor_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.floor_screen)


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def fill_the_bin(db: sqlite3.Connection) -> list[str]:
    """Twelve items in the bin, one each, and the last one 5 below zero (a supervisor
    allowed negative stock at receiving). The bin's rows in the order shown."""
    items = [
        str(r[0])
        for r in db.execute("SELECT sku FROM items WHERE lot_tracked = 0 ORDER BY sku LIMIT 12")
    ]
    for sku in items:
        ledger.receive(db, sku, 1000, BIN)
    roles.allow_negative_stock(db, ["receiving"], by="B3001", reason="dock counts lag")
    last = items[-1]
    ledger.transfer(db, last, ledger.on_hand(db, last, BIN) + 5000, BIN, "A-01")
    shown = db.execute(
        "SELECT item FROM stock WHERE location = ? AND qty_milli != 0 ORDER BY item", (BIN,)
    ).fetchall()
    return [str(r[0]) for r in shown]


def drawn(pilot: Pilot[Any]) -> str:
    strips = pilot.app.screen._compositor.render_update(full=True)  # as export_screenshot
    console = Console(width=pilot.app.size.width, record=True, file=io.StringIO())
    console.print(strips)
    return console.export_text(styles=False)


def row_on_screen(text: str, item: str) -> str | None:
    for line in text.splitlines():
        if line.lstrip("▏ ").startswith(item + " "):
            return line
    return None


async def test_a_full_bin_shows_what_fits_and_scrolls_to_its_negative_last_row(
    demo_db: str, db: sqlite3.Connection
) -> None:
    rows = fill_the_bin(db)
    negative = rows[-1]
    assert len(rows) >= 12
    screen = StockScreen(demo_db, now_ms=lambda: BUILT_MS)
    async with Host(screen).run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen.show_code(BIN)
        await settle(pilot)
        assert screen.on_hand_table.row_count == len(rows)

        # The bin takes the room its history would: not five rows above an empty half.
        text = drawn(pilot)
        visible = [item for item in rows if row_on_screen(text, item)]
        assert len(visible) >= 9, f"only {visible} of {len(rows)} rows on screen:\n{text}"

        # The arrows bring every row on screen, the negative one last, flagged.
        screen.on_hand_table.focus()
        for _ in rows:
            await pilot.press("down")
        await settle(pilot)
        line = row_on_screen(drawn(pilot), negative)
        assert line is not None, f"{negative} never came on screen:\n{drawn(pilot)}"
        assert "-5" in line and "⚠ negative" in line
