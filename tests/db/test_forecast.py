"""The completion forecast (issue 11, item 2) on a small plant, every figure worked out
by hand below, through the real import and the real ledger into a WAL database file.

The plant (tests/plant's, with its own stages, routings and orders): CUT and ASSY work
06:00-14:00 (8 hours) on Monday to Friday; ASSY works two units at once.

    routing  P1: CUT setup 30 min + 6 min/unit, then ASSY 12 min/unit (÷2: 6 min/unit)
             P2: ASSY setup 60 min + 30 min/unit (÷2: 15 min/unit)

Monday 2030-01-07 06:00 (local time is UTC in the tests), nothing done yet:

    order  product qty due        P  CUT                    ASSY
    WA     P1      10  2030-01-07 1  0-1.5 h (90 min)       2-3 h (60 min; ready 1.5, WC has it)
    WB     P1      20  2030-01-09 2  1.5-4 h (150 min)      4.25-6.25 (120 min; ready 4, WE has it)
    WC     P2       4  2030-01-08 1  -                      0-2 h (60 + 60 min)
    WD     P1      40  2030-01-07 3  4-8.5 h (270 min)      8.5-12.5 (240 min)
    WE     P2       1  2030-01-04 5  -                      3-4.25 h (60 + 15 min)

(hours are each stage's working hours from Monday 06:00: 8 h is Monday 14:00, 8.5 h is
Tuesday 06:30.) ASSY takes, whenever it comes free, the most urgent order whose units
are there: WC at 0 (only WC and WE are there; WC is P1), WA at 2, WE at 3, WB at 4.25
(ready at 4), WD at 8.5.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from db import ledger, progress, supervision
from db.board import board_rows
from db.connection import clock, connect
from db.forecast import LiveForecast, forecast
from db.forecast_settings import ForecastSettings
from db.masterdata import import_dir
from db.roles import set_setting
from db.schema import init_db
from tests.plant import copy_plant, fixed

pytestmark = pytest.mark.timeout(60)

STAGES = (
    "code,name,location,hours_per_day,parallel\nCUT,Cutting,W-CUT,8,1\nASSY,Assembly,W-ASSY,8,2\n"
)
ROUTINGS = (
    "product,seq,stage,setup_min,run_min_per_unit\n"
    "P1,10,CUT,30,6\nP1,20,ASSY,,12\nP2,10,ASSY,60,30\n"
)
ORDERS = (
    "number,product,qty,due,priority,barcode\n"
    "WA,P1,10,2030-01-07,1,\nWB,P1,20,2030-01-09,2,\nWC,P2,4,2030-01-08,1,\n"
    "WD,P1,40,2030-01-07,3,\nWE,P2,1,2030-01-04,5,\n"
)
OPERATOR = ledger.Origin(operator="B-OP", station="CUT-1")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in January 2030 (local time is UTC in the tests)."""
    return datetime(2030, 1, day, hour, minute, tzinfo=UTC)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


MONDAY = at(7, 6)


def plant(tmp_path: Path, orders: str = ORDERS, routings: str = ROUTINGS) -> Path:
    folder = copy_plant(tmp_path / "plant")
    (folder / "stages.csv").write_text(STAGES)
    (folder / "routings.csv").write_text(routings)
    (folder / "workorders.csv").write_text(orders)
    path = tmp_path / "floor.db"
    conn = init_db(path)
    import_dir(conn, folder)
    conn.close()
    return path


def test_a_forecast_from_standard_times_alone(tmp_path: Path) -> None:
    conn = connect(plant(tmp_path))
    result = forecast(conn, now_ms=ms(MONDAY))
    assert {o.number: o.projected_finish for o in result.orders.values()} == {
        "WA": at(7, 9),
        "WB": at(7, 12, 15),
        "WC": at(7, 8),
        "WD": at(8, 10, 30),
        "WE": at(7, 10, 15),
    }
    # Slack: ASSY's working hours from the finish to the end of the due date.
    wa, wb, wc, wd, we = (result.orders[n] for n in ("WA", "WB", "WC", "WD", "WE"))
    assert (wa.slack_hours, wa.risk) == (5.0, "tight")  # 09:00-14:00: under a working day
    assert (wb.slack_hours, wb.risk) == (17.75, "on_track")  # 1.75 Mon + Tue + Wed
    assert (wc.slack_hours, wc.risk) == (14.0, "on_track")
    assert (wd.slack_hours, wd.risk) == (-4.5, "at_risk")  # Tue 10:30 is 4.5 h past Monday
    assert (we.slack_hours, we.risk) == (-4.25, "late")  # due last Friday
    # Holding: where the order waits longest, else where most of its work is.
    assert [o.holding_stage for o in (wa, wb, wc, wd, we)] == ["ASSY", "CUT", "ASSY", "CUT",
                                                                "ASSY"]  # fmt: skip
    assert [(s.stage, s.wait_hours, s.work_hours, s.source) for s in result.stages("WD")] == [
        ("CUT", 4.0, 4.5, "standard"), ("ASSY", 0.0, 4.0, "standard"),
    ]  # fmt: skip
    assert [(s.stage, s.orders_ahead, s.wait_hours, s.per_hour) for s in result.stages("WB")] == [
        ("CUT", 1, 1.5, 10.0), ("ASSY", 1, 0.25, 10.0),
    ]  # fmt: skip
    assert not any(o.idle for o in result.orders.values())


def test_load_per_stage_and_day_adds_up_to_the_planned_hours(tmp_path: Path) -> None:
    conn = connect(plant(tmp_path))
    load = forecast(conn, now_ms=ms(MONDAY)).load()
    # CUT: 1.5 + 2.5 + 4.5 = 8.5 h: a full Monday and half an hour on Tuesday.
    assert [(d.day.isoformat(), d.hours, d.capacity_hours) for d in load["CUT"]] == [
        ("2030-01-07", 8.0, 8.0), ("2030-01-08", 0.5, 8.0),
    ]  # fmt: skip
    # ASSY: 2 + 1 + 1.25 + 2 = 6.25 h on Monday, then WD's 4 h from Tuesday 06:30.
    assert [(d.day.isoformat(), d.hours) for d in load["ASSY"]] == [
        ("2030-01-07", 6.25), ("2030-01-08", 4.0),
    ]  # fmt: skip


def test_a_forecast_from_measured_rates(tmp_path: Path) -> None:
    """CUT completed 40 units in 5 postings over the last 5 working days (Tue 1 to Fri 4
    January: 32 working hours): 1.25 units an hour, used for every order at CUT. ASSY
    has no completions: its standard times.

    WM (P1, 80, due Thu 10th): 40 left at CUT = 32 h (Monday to Thursday 14:00); at ASSY
    the 40 waiting take 4 h now, the 40 to come 4 h after Thursday 14:00 = Friday 10:00.
    """
    path = plant(
        tmp_path, orders="number,product,qty,due,priority,barcode\nWM,P1,80,2030-01-10,1,\n"
    )
    conn = connect(path)
    for day in (1, 2, 3, 4, 4):
        with clock(fixed(ms(at(day, 10 if day != 4 else 12)))):
            progress.report_progress(conn, "WM", "CUT", 8_000, origin=OPERATOR)
    result = forecast(conn, now_ms=ms(MONDAY))
    cut = result.rates["CUT"]
    assert (cut.completions, cut.done_milli, cut.window_hours) == (5, 40_000, 32.0)
    assert cut.measured_per_hour == 1.25
    assert result.rates["ASSY"].measured_per_hour is None
    wm = result.orders["WM"]
    assert [(s.stage, s.remaining_milli, s.waiting_milli, s.work_hours, s.source, s.per_hour)
            for s in result.stages("WM")] == [
        ("CUT", 40_000, 40_000, 32.0, "measured", 1.25),
        ("ASSY", 80_000, 40_000, 8.0, "standard", 10.0),
    ]  # fmt: skip
    assert wm.projected_finish == at(11, 10)
    assert (wm.slack_hours, wm.risk, wm.holding_stage) == (-4.0, "at_risk", "CUT")
    # The plant-wide figure is the plant's measured average once it has the completions.
    assert (result.plant_per_hour, result.plant_basis) == (1.25, "plant average")


def test_a_stage_with_neither_measure_nor_standard_uses_the_plant_fallback(tmp_path: Path) -> None:
    routings = "product,seq,stage\nP1,10,CUT\nP1,20,ASSY\nP2,10,ASSY\n"
    conn = connect(plant(tmp_path, routings=routings))
    result = forecast(conn, now_ms=ms(MONDAY))
    assert (result.plant_per_hour, result.plant_basis) == (2.0, "plant default")
    wc = result.orders["WC"]  # 4 units at ASSY, 2 an hour, first in ASSY's queue
    assert [(s.source, s.per_hour, s.work_hours) for s in result.stages("WC")] == [
        ("plant", 2.0, 2.0)
    ]
    assert wc.projected_finish == at(7, 8)
    set_setting(conn, "forecast_fallback_per_hour", "4")
    assert forecast(conn, now_ms=ms(MONDAY)).orders["WC"].projected_finish == at(7, 7)


def test_idle_is_in_progress_without_a_posting_for_a_working_day(tmp_path: Path) -> None:
    """WA's last posting is Monday 10:00 at CUT (3 units). Its next stage is still CUT (7
    left): idle once CUT has worked more than 8 hours since, which is Tuesday after 10:00;
    the night and the weekend do not count."""
    conn = connect(plant(tmp_path))
    with clock(fixed(ms(at(7, 10)))):
        progress.report_progress(conn, "WA", "CUT", 3_000, origin=OPERATOR)

    def idle(moment: datetime) -> bool:
        return forecast(conn, now_ms=ms(moment)).orders["WA"].idle

    assert not idle(at(7, 13, 59))
    assert not idle(at(8, 10))  # 4 h Monday + 4 h Tuesday: exactly a day, not more
    assert idle(at(8, 10, 1))
    assert not forecast(conn, now_ms=ms(at(8, 11))).orders["WB"].idle  # never started
    set_setting(conn, "forecast_idle_days", "2")
    assert not idle(at(9, 9))
    assert idle(at(9, 10, 1))


def test_the_calendar_moves_the_finish_past_a_holiday(tmp_path: Path) -> None:
    """WD finishes Tuesday 10:30; with Tuesday a holiday, the same 4.5 h of work after
    Monday 14:00 run on Wednesday: Wednesday 10:30."""
    path = plant(tmp_path)
    conn = connect(path)
    with conn:
        conn.execute("INSERT INTO calendar (date, working) VALUES ('2030-01-08', 0)")
    assert forecast(conn, now_ms=ms(MONDAY)).orders["WD"].projected_finish == at(9, 10, 30)


def test_an_order_on_hold_takes_no_capacity(tmp_path: Path) -> None:
    """WA on hold: CUT does WB first (0-2.5), WD (2.5-7), then WA (7-8.5)."""
    conn = connect(plant(tmp_path))
    supervision.set_hold(conn, "WA", True, by="B-SUP", reason="drawing")
    result = forecast(conn, now_ms=ms(MONDAY))
    assert [(s.stage, s.wait_hours) for s in result.stages("WA")][0] == ("CUT", 7.0)
    assert result.stages("WB")[0].wait_hours == 0.0


def test_a_due_date_moved_out_is_judged_again_at_once(tmp_path: Path) -> None:
    """rejudge: the same plan, the new due date: WD (finish Tuesday 10:30) due Wednesday
    has 3.5 + 8 = 11.5 h of slack: on track."""
    conn = connect(plant(tmp_path))
    result = forecast(conn, now_ms=ms(MONDAY))
    with clock(fixed(ms(MONDAY))):
        supervision.change_due_date(conn, "WD", "2030-01-09", by="B-COORD", reason="customer")
    row = next(r for r in board_rows(conn) if r.number == "WD")
    again = result.rejudge(row)
    assert again is not None
    assert (again.due, again.slack_hours, again.risk) == ("2030-01-09", 11.5, "on_track")
    assert again.projected_finish == at(8, 10, 30)


def test_settings_that_do_not_parse_keep_their_defaults(tmp_path: Path) -> None:
    conn = connect(plant(tmp_path))
    set_setting(conn, "forecast_days", "many")
    set_setting(conn, "forecast_shift_start", "07:30")
    settings = ForecastSettings.read(conn)
    assert (settings.days, settings.shift_start) == (5, "07:30")
    # The shift starts at 07:30: WC's 2 hours at ASSY end at 09:30.
    assert forecast(conn, now_ms=ms(at(7, 7, 30))).orders["WC"].projected_finish == at(7, 9, 30)


def test_priority_decides_at_a_stage_whatever_the_length_of_the_routes(tmp_path: Path) -> None:
    """At ASSY on Monday 06:00: W1 (P2's one-step route, priority 1), W2 (P1's two steps,
    CUT done, priority 2), W3 (one step, priority 3), all there. ASSY takes them in
    priority order: W1 60 + 4 × 15 min = 2 h, W2 10 × 6 min = 1 h (09:00), W3 60 + 15 min
    (10:15)."""
    orders = (
        "number,product,qty,due,priority,barcode\n"
        "W1,P2,4,2030-01-07,1,\nW2,P1,10,2030-01-07,2,\nW3,P2,1,2030-01-07,3,\n"
    )
    conn = connect(plant(tmp_path, orders=orders))
    with clock(fixed(ms(at(4, 10)))):
        progress.report_progress(conn, "W2", "CUT", 10_000, origin=OPERATOR)
    result = forecast(conn, now_ms=ms(MONDAY))
    assert [result.orders[n].projected_finish for n in ("W1", "W2", "W3")] == [
        at(7, 8), at(7, 9), at(7, 10, 15),
    ]  # fmt: skip


def test_a_live_forecast_judges_touched_orders_and_says_when_a_full_one_is_due(
    tmp_path: Path,
) -> None:
    conn = connect(plant(tmp_path))
    live = LiveForecast(after_change_ms=5_000, stale_ms=15_000)
    start = ms(MONDAY)
    assert not live.due(start)  # nothing before the board's first full read
    every, made = live.update(conn, board_rows(conn), [], full=True, now_ms=start)
    assert every and made["WD"].risk == "at_risk"
    assert not live.due(start + 14_999) and live.due(start + 15_000)
    with clock(fixed(start)):
        supervision.change_due_date(conn, "WD", "2030-01-09", by="B-COORD", reason="customer")
    wd = [r for r in board_rows(conn) if r.number == "WD"]
    every, made = live.update(conn, board_rows(conn), wd, full=False, now_ms=start + 1_000)
    assert not every and list(made) == ["WD"] and made["WD"].risk == "on_track"
    assert not live.due(start + 4_999) and live.due(start + 5_000)  # a change: sooner
    every, _ = live.update(conn, board_rows(conn), [], full=True, now_ms=start + 5_000)
    assert every and not live.due(start + 10_000)
