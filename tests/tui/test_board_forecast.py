"""The board's marks come from the forecast (issue 11): what the coordinator found on the
demo plant, reproduced, and the mark filter and the sort by stage in route order.

Found: "at risk" only meant due within two days and under half done, so two orders due
today at 58% and 73% carried no mark, nor did one idle for two days; and moving a due
date out hid the risk, whether or not the order could make the new date.

The demo plant is frozen at 2026-11-18 11:00 (a Wednesday; conftest), its stages work
06:00-14:00 (CUT to 22:00): three working hours are left today at most stages.
"""

from __future__ import annotations

import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import date

import pytest

from db.board import board_rows
from db.connection import connect
from db.forecast import forecast
from db.stages import stage_sequence
from tests.conftest import BUILT_MS, TODAY, make_app, open_order, settle, wait_until
from tests.e2e.conftest import SHOPFLOOR
from tests.tui.test_tui_app import board_of, cell_text, fill_dialog
from tui.screens.board import BoardScreen
from tui.widgets.board_table import AT_RISK, LATE

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def db(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    yield conn
    conn.close()


def due_today(db: sqlite3.Connection) -> dict[str, float]:
    """The open orders due today and how far along they are."""
    return {r.number: r.progress for r in board_rows(db) if r.due == TODAY.isoformat()}


async def test_orders_due_today_more_than_half_done_are_marked_at_risk(
    demo_db: str, db: sqlite3.Connection
) -> None:
    today = due_today(db)
    assert sorted(round(p * 100) for p in today.values()) == [58, 73], "the issue's two orders"
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        for number in today:
            # Three hours of today are left, and each has three stages of work to go.
            marks = cell_text(table, number, "marks")
            assert marks.startswith(("◷RISK", AT_RISK)), (number, marks)
        summary = str(app.screen.query_one("#board-summary").render())
        at_risk = sum(f.at_risk for f in table.flags.values())
        assert at_risk >= 2 and f"◷ {at_risk} at risk" in summary


async def test_an_order_idle_for_two_days_is_marked_idle(
    demo_db: str, db: sqlite3.Connection
) -> None:
    two_days = 2 * 86_400_000
    idle = [
        r.number for r in board_rows(db)
        if r.status == "in_progress" and r.last_activity_ms is not None
        and BUILT_MS - r.last_activity_ms > two_days
    ]  # fmt: skip
    assert idle, "the frozen demo plant has orders untouched for two days"
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        for number in idle:
            assert cell_text(table, number, "marks").endswith(("◌IDLE", "◌ IDLE")), number
        summary = str(app.screen.query_one("#board-summary").render())
        assert f"◌ {sum(f.idle for f in table.flags.values())} idle" in summary


async def test_moving_a_due_date_out_shows_the_risk_of_the_new_date_at_once(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """An order projected to finish after its date stays at risk when its date moves out
    but not past the projected finish, and loses the mark once the date is after it."""
    planned = forecast(db, now_ms=BUILT_MS)
    number, order = next(
        (n, o) for n, o in sorted(planned.orders.items())
        if o.risk == "at_risk" and o.status == "released"
    )  # fmt: skip
    finish = order.projected_finish.date()
    short_of_it = (finish.toordinal() - 1, finish.isoformat())
    assert short_of_it[0] > TODAY.toordinal() + 2, "a date out beyond the old two-day window"
    not_enough = date.fromordinal(short_of_it[0]).isoformat()
    enough = date.fromordinal(finish.toordinal() + 7).isoformat()
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert cell_text(board_of(app), number, "marks") == AT_RISK
        screen = await open_order(pilot, number)
        await pilot.press("d")
        await fill_dialog(pilot, due=not_enough, reason="customer agreed", badge="B4001")
        assert screen.forecast is not None and screen.forecast.due == not_enough
        assert screen.forecast.risk == "at_risk"
        assert AT_RISK in str(screen.title_bar.render())
        await pilot.press("d")
        await fill_dialog(pilot, due=enough, reason="customer agreed again", badge="B4001")
        assert screen.forecast is not None and screen.forecast.risk in ("on_track", "tight")
        assert AT_RISK not in str(screen.title_bar.render())
        await pilot.press("escape")
        await settle(pilot)
        table = board_of(app)
        assert table.orders[number].due == enough
        assert cell_text(table, number, "marks") == ""


async def test_the_board_filters_by_mark(demo_db: str, db: sqlite3.Connection) -> None:
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        everything = set(table.shown)
        expected = {
            "late": {n for n, r in table.orders.items() if r.late(TODAY)},
            "risk": {n for n, f in table.flags.items() if f.at_risk},
            # SHORT is db.shortages' answer (nothing covers a component): none on the demo.
            "short": {n for n, f in table.flags.items() if f.short},
            "idle": {n for n, f in table.flags.items() if f.idle},
        }
        for mark in ("late", "risk", "short", "idle"):
            await pilot.press("f10")
            assert expected[mark] or mark == "short", mark
            assert set(table.shown) == expected[mark], mark
            assert f"only {mark}" in str(app.screen.query_one("#board-sort").render())
        for number in expected["late"]:
            assert cell_text(table, number, "marks").startswith(("⚠LATE", LATE))
        await pilot.press("f10")
        assert set(table.shown) == everything


async def test_the_board_sorts_by_stage_in_the_plants_route_order(
    demo_db: str, db: sqlite3.Connection
) -> None:
    route = [code for code, _ in stage_sequence(db)]
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        shown = {b.binding.id for b in app.screen.active_bindings.values() if b.binding.show}
        assert {"sort_stage", "mark_filter"} <= shown, "both keys are in the footer"
        await pilot.press("f9")
        table = board_of(app)
        places = []
        for number in table.shown:
            stage = table.orders[number].current_stage
            places.append(route.index(stage) if stage else len(route))
        assert places == sorted(places)
        # PANEL-DIN skips WELD and PAINT: its ASSY still comes after every WELD.
        assert route.index("ASSY") > route.index("WELD")


async def test_a_due_date_moved_from_the_command_line_shows_on_an_open_board(
    demo_db: str, db: sqlite3.Connection
) -> None:
    """`shopfloor due` in another process: the open board's mark follows at once."""
    planned = forecast(db, now_ms=BUILT_MS)
    number, order = next(
        (n, o) for n, o in sorted(planned.orders.items())
        if o.risk == "at_risk" and o.status == "released"
    )  # fmt: skip
    later = date.fromordinal(order.projected_finish.date().toordinal() + 7).isoformat()
    app = make_app(demo_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = board_of(app)
        assert cell_text(table, number, "marks") == AT_RISK
        moved = subprocess.run(
            [*SHOPFLOOR, "due", "--db", demo_db, number, later, "--reason", "customer agreed",
             "--badge", "B4001"],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert moved.returncode == 0, moved.stderr
        await wait_until(pilot, lambda: table.orders[number].due == later, seconds=5)
        await wait_until(pilot, lambda: not table.flags[number].at_risk, seconds=2)
        assert cell_text(table, number, "marks") == ""
