"""The order screen's side of unplanned material (issue 12 item 4): a supervisor allows
an item the bill does not name from the order screen (`u`, the supervisor dialog), and
the Material tab lists it as unplanned, with who allowed it and what was issued.

Found: an unplanned issue was accepted and invisible on the Material tab.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from db.connection import connect
from db.pipeline import process_scan
from tests.conftest import make_app, open_order, settle, wait_until
from tui.dialogs import SupervisorDialog
from tui.screens.order import OrderScreen

pytestmark = pytest.mark.timeout(60)

CABINET_ORDER = "WO-24003"  # CAB-1200 × 5; its bill does not name SCREW
SCREW = "SCR-M4X10"  # in A-01, the STORES station's own location
UNPLANNED_ROW = f"unplanned:{SCREW}"


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


async def fill_dialog(pilot: Pilot[Any], *, item: str, reason: str, badge: str) -> None:
    """As a wedge scanner fills it: whole values, the badge last, then Enter."""
    dialog = pilot.app.screen
    assert isinstance(dialog, SupervisorDialog)
    dialog.query_one("#dialog-item", Input).value = item
    dialog.reason_input.value = reason
    dialog.badge_input.value = badge
    dialog.badge_input.focus()
    await pilot.press("enter")
    await settle(pilot)


def issue_screws(db: sqlite3.Connection, qty: str) -> str:
    """The stores window issues screws to the cabinet order; the outcome's words."""
    results = [
        process_scan(db, "STORES", code.encode())
        for code in ("B1001", CABINET_ORDER, f"QTY:{qty}", SCREW)
    ]
    return results[-1].message


async def test_a_supervisor_allows_unplanned_material_and_the_tab_lists_it(
    demo_db: str, db: sqlite3.Connection
) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        order = await open_order(pilot, CABINET_ORDER)
        materials = order.materials_table
        bill_lines = list(materials.keys)
        assert UNPLANNED_ROW not in bill_lines
        # Refused at the stores window, with what to do.
        assert "a supervisor must allow unplanned material" in issue_screws(db, "6")

        await pilot.press("u")
        dialog = app.screen
        assert isinstance(dialog, SupervisorDialog)
        # A storeroom badge is refused inside the dialog; what was typed stays.
        await fill_dialog(pilot, item=SCREW, reason="fan bracket fixing", badge="B1001")
        assert app.screen is dialog
        assert "needs a supervisor" in str(dialog.query_one(".dialog-error").render())
        assert dialog.query_one("#dialog-item", Input).value == SCREW
        await fill_dialog(pilot, item=SCREW, reason="fan bracket fixing", badge="B3001")
        assert isinstance(app.screen, OrderScreen)
        leave = db.execute(
            "SELECT work_order, item, by_operator, reason FROM unplanned_allowances"
        ).fetchall()
        assert [tuple(r) for r in leave] == [(CABINET_ORDER, SCREW, "B3001", "fan bracket fixing")]
        await wait_until(pilot, lambda: UNPLANNED_ROW in materials.keys)
        assert materials.keys == [*bill_lines, UNPLANNED_ROW]  # after the bill's lines
        cells = materials.cells_of(UNPLANNED_ROW)
        assert cells[:3] == [SCREW, "unplanned", "0"]
        assert cells[-1].startswith("allowed by Sara Lindqvist (B3001): fan bracket fixing")

        # The issue now posts, and the line shows it, live.
        assert issue_screws(db, "6").startswith(f"issued 6 {SCREW}")
        await wait_until(pilot, lambda: materials.cells_of(UNPLANNED_ROW)[2] == "6")
        assert materials.cells_of(UNPLANNED_ROW)[4] == "6"  # held by the order


async def test_the_dialog_asks_for_the_item(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await open_order(pilot, CABINET_ORDER)
        await pilot.press("u")
        dialog = app.screen
        assert isinstance(dialog, SupervisorDialog)
        await fill_dialog(pilot, item="", reason="why", badge="B3001")
        assert app.screen is dialog
        assert "Scan or type the item" in str(dialog.query_one(".dialog-error").render())
        # An item on the bill is refused in db/'s words.
        await fill_dialog(pilot, item="FAN-120", reason="why", badge="B3001")
        assert "on WO-24003's bill already" in str(dialog.query_one(".dialog-error").render())
        assert db.execute("SELECT COUNT(*) FROM unplanned_allowances").fetchone()[0] == 0
