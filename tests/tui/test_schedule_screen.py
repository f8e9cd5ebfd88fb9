"""The Schedule screen (issue 11, item 5) in the real app on the demo plant, frozen in
time (tests/conftest.py): its orders are the forecast's, most at risk first, each bar
ends at the projected finish with the due date marked; a due date moved in another
connection changes the order's risk on screen at the next re-read; each stage shows the
hours the forecast plans at it against a day's hours, and the highlighted stage's
throughput is plotted. Snapshots at 80x24 and 160x48.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from db import supervision
from db.connection import clock, connect
from db.forecast import RISKS, forecast
from tests.conftest import fixed_now, make_app, settle, wait_until
from tui.messages import FloorChanged
from tui.screens.schedule import ScheduleScreen
from tui.widgets.schedule_table import RISK_WORDS, timeline

pytestmark = pytest.mark.timeout(60)


def test_a_bar_runs_to_the_finish_and_marks_the_due_date() -> None:
    # Scale 0..100 in 10 cells: the finish at 50 fills 5; the due date's end at 80 is cell 8.
    assert timeline(0, 50, 80, 100, 10) == ("█████···┃·", 5, 8)
    # The due date inside the filled part: marked there.
    assert timeline(0, 50, 20, 100, 10) == ("██┃██·····", 5, 2)
    # Due already passed: ◀ at the start; a finish beyond the scale: ▶ at the end.
    assert timeline(0, 150, -5, 100, 10) == ("◀████████▶", 10, 0)
    # A due date beyond the scale is not drawn; a finish now still shows one cell.
    assert timeline(0, 0, 500, 100, 10) == ("█·········", 1, None)


async def open_schedule(pilot: Pilot[Any]) -> ScheduleScreen:
    app = pilot.app
    await settle(pilot)
    await pilot.press("f11")
    await wait_until(pilot, lambda: isinstance(app.screen, ScheduleScreen))
    screen = app.screen
    assert isinstance(screen, ScheduleScreen)
    await wait_until(pilot, lambda: screen.orders_table.row_count > 0)
    await settle(pilot)
    return screen


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
async def test_orders_and_stages_are_the_forecast_s(demo_db: str, size: tuple[int, int]) -> None:
    expected = forecast(connect(demo_db), now_ms=fixed_now())
    ranked = sorted(
        expected.orders.values(), key=lambda o: (RISKS.index(o.risk), o.finish_ts, o.number)
    )
    app = make_app(demo_db, live=False)
    async with app.run_test(size=size) as pilot:
        screen = await open_schedule(pilot)
        table = screen.orders_table
        assert table.keys == [o.number for o in ranked]
        assert {o.risk for o in ranked} >= {"late", "at_risk", "on_track"}  # the demo has each
        for order in ranked:
            line = table.line_text(order.number)
            assert RISK_WORDS[order.risk] in line
            assert order.projected_finish.strftime("%m-%d %H:%M") in line
        heading = str(screen.query_one("#schedule-heading").render())
        late = sum(o.risk == "late" for o in ranked)
        at_risk = sum(o.risk == "at_risk" for o in ranked)
        assert f"{len(ranked)} open orders · {late} late · {at_risk} at risk" in heading

        # Per stage: the hours planned at it, and in days of its own hours.
        planned = expected.load()
        stages = screen.stages_table
        codes = [str(key.value) for key in stages.rows]
        assert codes == ["CUT", "BEND", "WELD", "PAINT", "ASSY", "PACK"]
        for code in codes:
            row = [cell.plain for cell in stages.get_row(code)]
            hours = sum(day.hours for day in planned[code])
            per_day = expected.rates[code].hours_per_day
            assert f"{hours:.1f}" in row and f"{hours / per_day:.1f}" in row, code

        # The highlighted stage's throughput is plotted; moving down plots the next.
        assert screen.stage == "CUT"
        assert "CUT: units completed per day" in str(screen.plot.render())
        stages.focus()
        await pilot.press("down")
        await settle(pilot)
        assert screen.stage == "BEND"
        assert "BEND: units completed per day" in str(screen.plot.render())


async def test_a_due_date_moved_out_shows_its_new_risk(demo_db: str) -> None:
    conn = connect(demo_db)
    before = forecast(conn, now_ms=fixed_now())
    order = min((o for o in before.orders.values() if o.risk == "at_risk"), key=lambda o: o.number)
    app = make_app(demo_db, live=False)
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_schedule(pilot)
        table = screen.orders_table
        assert "RISK" in table.line_text(order.number)
        later = order.projected_finish.date().replace(year=order.projected_finish.year + 1)
        with clock(fixed_now):
            supervision.change_due_date(
                conn, order.number, later.isoformat(), by="B3001", reason="customer agreed"
            )
        screen.post_message(FloorChanged(data_version=2))
        await wait_until(pilot, lambda: " ok " in table.line_text(order.number))
        assert later.isoformat() in table.line_text(order.number)
        # Now on track, it moves below every order still at risk.
        assert table.keys.index(order.number) > max(
            table.keys.index(o.number) for o in before.orders.values()
            if o.risk in ("late", "at_risk") and o.number != order.number
        )  # fmt: skip


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_schedule_snapshot(demo_db: str, snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_schedule(pilot)

    assert snap_compare(make_app(demo_db, live=False), terminal_size=size, run_before=run_before)


async def test_enter_on_an_order_opens_it(demo_db: str) -> None:
    from tui.screens.order import OrderScreen

    app = make_app(demo_db, live=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_schedule(pilot)
        first = screen.orders_table.keys[0]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))
        assert isinstance(app.screen, OrderScreen) and app.screen.number == first
