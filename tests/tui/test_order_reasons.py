"""Reasons on screen (issue 12 item 2): the order screen's Scrap tab groups the order's
scrap by reason and follows scrap posted at a station; its hold dialog offers the plant's
hold reasons and records a code's description; the scan station shows the reason for the
next scrap and asks for one.

Pilot over a fresh copy of the demo plant (its reasons: db/demo_plant.py), with scans
posted through the real pipeline on a connection of its own, as a station's reader would.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from textual.widgets import Static

from db.connection import connect
from db.orders import scrap_by_reason
from db.pipeline import process_scan
from tests.conftest import make_app, open_order, settle, wait_until
from tui.dialogs import SupervisorDialog
from tui.screens.scan import ScanScreen
from tui.widgets.cell_table import CellTable

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def waiting_at_cut(db: sqlite3.Connection) -> str:
    """An open order with units waiting at CUT and no scrap yet."""
    row = db.execute(
        "SELECT s.work_order FROM work_order_stages s JOIN work_orders w ON w.number = "
        "s.work_order WHERE s.stage = 'CUT' AND w.status IN ('released', 'in_progress') "
        "AND w.qty_milli - s.done_milli - s.scrap_milli >= 3000 AND NOT EXISTS (SELECT 1 "
        "FROM progress_entries p WHERE p.work_order = w.number AND p.kind = 'scrap') "
        "ORDER BY w.number LIMIT 1"
    ).fetchone()
    assert row is not None
    return str(row[0])


def scrap_at_cut(db: sqlite3.Connection, number: str, *codes: str) -> None:
    for code in ("B2001", "CMD:MODE:SCRAP", number, *codes):
        result = process_scan(db, "CUT-1", code.encode())
        assert result.status == "accepted", (code, result.message)


def rows_of(table: CellTable) -> list[list[str]]:
    return [table.cells_of(str(index)) for index in range(table.row_count)]


async def test_the_scrap_tab_groups_the_orders_scrap_by_reason_and_follows_the_floor(
    demo_db: str, db: sqlite3.Connection
) -> None:
    number = waiting_at_cut(db)
    scrap_at_cut(db, number, "REASON:BURR", "QTY:2", "CMD:DONE")
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        order = await open_order(pilot, number)
        order.query_one("#order-tabs").active = "tab-scrap"  # type: ignore[attr-defined]
        await settle(pilot)
        assert rows_of(order.scrap_table) == [["BURR", "2 units", "CUT", "Burr or bad cut edge"]]
        # Another station scraps one more, for another reason: the tab follows.
        scrap_at_cut(db, number, "REASON:DENT", "QTY:1", "CMD:DONE")
        await wait_until(pilot, lambda: order.scrap_table.row_count == 2)
        assert rows_of(order.scrap_table) == [
            ["BURR", "2 units", "CUT", "Burr or bad cut edge"],
            ["DENT", "1 unit", "CUT", "Dented or scratched in handling"],
        ]
        assert len(scrap_by_reason(db, number)) == order.scrap_table.row_count
        # Undone at the station, the BURR scrap leaves the tab.
        process_scan(db, "CUT-1", b"CMD:UNDO")
        await wait_until(pilot, lambda: order.scrap_table.row_count == 1)
        assert rows_of(order.scrap_table)[0][0] == "BURR"


async def test_the_hold_dialog_offers_the_hold_reasons_and_records_a_codes_description(
    demo_db: str, db: sqlite3.Connection
) -> None:
    number = waiting_at_cut(db)
    app = make_app(demo_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await open_order(pilot, number)
        await pilot.press("h")
        await settle(pilot)
        dialog = app.screen
        assert isinstance(dialog, SupervisorDialog)
        said = " ".join(str(s.render()) for s in dialog.query(Static))
        assert "WAIT-DWG: Waiting for the customer's drawing" in said
        assert "your own words" in said

        async def submit(reason: str) -> None:
            dialog.reason_input.value = reason
            dialog.badge_input.value = "B3001"
            dialog.badge_input.focus()
            await pilot.press("enter")
            await settle(pilot)

        await submit("")
        assert "Say why" in str(dialog.error.render())
        await submit("DENT")
        assert "DENT is a reason for scraps, not holds" in str(dialog.error.render())
        assert (
            db.execute(
                "SELECT COUNT(*) FROM status_changes WHERE work_order = ?", (number,)
            ).fetchone()[0]
            == 0
        )
        await submit("QA-HOLD")
        await wait_until(pilot, lambda: not isinstance(app.screen, SupervisorDialog))
        kept = db.execute(
            "SELECT new_status, by_operator, reason FROM status_changes WHERE work_order = ? "
            "ORDER BY id DESC LIMIT 1",
            (number,),
        ).fetchone()
        assert tuple(kept) == ("on_hold", "B3001", "Held by quality for inspection")


async def test_the_station_asks_for_a_reason_and_shows_the_one_scanned(
    demo_db: str, db: sqlite3.Connection
) -> None:
    number = waiting_at_cut(db)
    app = make_app(demo_db, station="CUT-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ScanScreen)

        def said(key: str) -> str:
            return str(screen.query_one(f"#context-{key}", Static).render())

        codes = ["B2001", "CMD:MODE:SCRAP", number, "QTY:1", "CMD:DONE"]
        await pilot.press(*[key for code in codes for key in [*code, "enter"]])
        await wait_until(pilot, lambda: "REASON:" in str(screen.result_line.render()))
        assert str(screen.result_line.render()).startswith(
            "✗ scan a REASON: for the scrap from the command sheet"
        )
        assert "Scan a REASON: for the scrap first" in str(screen.prompt.render())
        await pilot.press(*"REASON:WELD-POROS", "enter")
        await wait_until(pilot, lambda: "REASON WELD-POROS" in said("next"))
        assert said("next") == "QTY 1 · REASON WELD-POROS"
        await pilot.press(*"CMD:DONE", "enter")
        await wait_until(pilot, lambda: "REASON" not in said("next"))
        entry = db.execute(
            "SELECT kind, qty_milli, reason FROM progress_entries WHERE work_order = ? "
            "ORDER BY id DESC LIMIT 1",
            (number,),
        ).fetchone()
        assert tuple(entry) == ("scrap", 1_000, "WELD-POROS")
