"""The day's report (issue 11, item 6) on the small plant of tests/plant, every figure
worked out by hand below, through the real ledger into a WAL database file.

The plant: CUT and ASSY, 8 working hours a day from 06:00, Monday to Friday, no
standard times and too few completions to measure a rate: every stage works at the
plant default, 2 units an hour. P1 goes CUT then ASSY; P2 only ASSY.

    Friday 2026-01-02 15:00  WO2 (P1, 2.5, due 2020-01-10, priority 1): CUT done 1
    Monday 2026-01-05 (the report's day; local time is UTC in the tests):
      08:00  WO1 (P1, 10, priority 2): CUT done 4          (B-OP, Otto Operator)
      09:00  WO1: CUT scrap 1
      10:00  WO1: ASSY done 3
      11:00  WO3 (P2, 4): ASSY done 4 -> WO3 is done
      11:30  WO1: CUT done 2, undone at 11:45                -> neither counts
      12:00  WO1's due date 2030-01-15 -> 2026-01-05 (B-COORD, Cora Coord)
      12:30  a scan at CUT-1 with nobody signed in           -> rejected, in the inbox
    The report is made at 13:00.

Queue now: CUT has WO1's 5 (10 - 4 - 1) and WO2's 1.5 waiting: 2 orders, 6.5 units;
ASSY has WO1's 1 (4 - 3) and WO2's 1: 2 orders, 2 units.

The forecast from 13:00 (one hour left on Monday): CUT works WO2 (priority 1) 13:00-13:45
and WO1 13:45 to Tuesday 08:15 (2.5 h); ASSY works WO2's waiting unit 13:00-13:30,
WO1's 13:30-14:00, WO2's other 1.5 units (there at 13:45) Tuesday 06:00-06:45 and WO1's
last 5 (there Tuesday 08:15) 08:15-10:45. Planned hours: CUT 0.75 + 2.5 = 3.25, ASSY
0.5 + 0.5 + 0.75 + 2.5 = 4.25. WO1 finishes Tuesday 10:45, after its new due date
(Monday): at risk, 4.75 working hours late (Monday 14:00 to Tuesday 10:45); it waits
longest at CUT (0.75 h behind WO2). WO2 is late (due 2020); it waits longest at ASSY
(13:45-14:00 behind WO1).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from db import progress, reports, supervision
from db.check import check
from db.connection import clock, connect
from db.day_report import DayReport, day_report
from db.ledger import Origin
from db.pipeline import ScanInput, process_batch
from db.refusals import LedgerError
from tests.plant import fixed, plant_db

pytestmark = pytest.mark.timeout(60)

DAY = date(2026, 1, 5)
OPERATOR = Origin(operator="B-OP", station="CUT-1")
# An unknown barcode (it waits in the inbox) whose text is markup in every format; the
# control characters are the reason's and a stage code's (tests/tui/test_report_cli.py).
HOSTILE_SCAN = "=1+1<script>alert(1)</script>[b red]|*x*"
HOSTILE_REASON = "<b>customer</b> | *asked* [x](http://evil) \x07"


def at(day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 1, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


MADE = at(5, 13)


class _OnTheDay(date):
    @classmethod
    def today(cls) -> _OnTheDay:
        return cls(DAY.year, DAY.month, DAY.day)


def floor(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    conn = plant_db(path)

    def post(when: int, order: str, stage: str, qty: int, kind: str = "done") -> int:
        with clock(fixed(when)):
            return progress.report_progress(conn, order, stage, qty, kind=kind, origin=OPERATOR)

    post(at(2, 15), "WO2", "CUT", 1_000)
    post(at(5, 8), "WO1", "CUT", 4_000)
    post(at(5, 9), "WO1", "CUT", 1_000, kind="scrap")
    post(at(5, 10), "WO1", "ASSY", 3_000)
    post(at(5, 11), "WO3", "ASSY", 4_000)
    undone = post(at(5, 11, 30), "WO1", "CUT", 2_000)
    with clock(fixed(at(5, 11, 45))):
        progress.reverse_progress(conn, undone, origin=OPERATOR)
    with clock(fixed(at(5, 12))):
        supervision.change_due_date(conn, "WO1", "2026-01-05", by="B-COORD", reason=HOSTILE_REASON)
    scan = ScanInput(station="CUT-1", raw=HOSTILE_SCAN.encode(), at_ms=at(5, 12, 30))
    # Noise on the line is rejected at the station, not left for a supervisor to fix.
    noise = ScanInput(station="CUT-1", raw=b"\x1b[31m\x07", at_ms=at(5, 12, 31))
    process_batch(conn, [scan, noise])
    conn.close()
    return path


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, DayReport]:
    path = floor(tmp_path)
    return path, day_report(connect(path), DAY, now_ms=MADE)


def test_each_department_s_day_worked_out_by_hand(made: tuple[Path, DayReport]) -> None:
    _, report = made
    cut, assy = report.stages
    assert (cut.code, assy.code) == ("CUT", "ASSY")
    # The undone 2 at 11:30 and Friday's 1 of WO2 are not Monday's.
    assert [(o.number, o.units_milli, o.scrap_milli) for o in cut.by_order] == [
        ("WO1", 4_000, 1_000)
    ]
    assert (cut.completed_milli, cut.scrap_milli, cut.orders_completed) == (4_000, 1_000, 1)
    assert [(o.number, o.units_milli) for o in assy.by_order] == [("WO1", 3_000), ("WO3", 4_000)]
    assert (assy.completed_milli, assy.scrap_milli, assy.orders_completed) == (7_000, 0, 2)
    assert (cut.queue_orders, cut.waiting_milli, cut.planned_hours) == (2, 6_500, 3.25)
    assert (assy.queue_orders, assy.waiting_milli, assy.planned_hours) == (2, 2_000, 4.25)
    assert (cut.hours_per_day, assy.hours_per_day) == (8.0, 8.0)
    # The last of the week's days is the report's: Friday's 1 at CUT three days before.
    assert cut.daily_milli[-4:] == (1_000, 0, 0, 4_000)
    assert [o.number for o in cut.at_risk] == ["WO1"] and not cut.late
    assert [o.number for o in assy.late] == ["WO2"] and not assy.at_risk
    assert (report.completed_milli, report.scrap_milli) == (11_000, 1_000)


def test_the_plant_s_day_worked_out_by_hand(made: tuple[Path, DayReport]) -> None:
    _, report = made
    assert [(f.number, f.completed_milli, f.time_ms, f.after_due) for f in report.finished] == [
        ("WO3", 4_000, at(5, 11), False)
    ]
    assert report.open_orders == 2
    (wo2,) = report.late
    (wo1,) = report.at_risk
    assert (wo1.number, wo1.holding_stage, wo1.slack_hours) == ("WO1", "CUT", -4.75)
    assert wo1.projected_finish == datetime(2026, 1, 6, 10, 45, tzinfo=UTC)
    assert wo1.reasons[:2] == (
        "projected 2026-01-06 10:45: 4.8 h of working time after its due date",
        "waits 0.8 h at CUT behind 1 order",
    )
    assert (wo2.number, wo2.holding_stage, wo2.risk) == ("WO2", "ASSY", "late")
    assert wo2.reasons[0] == "due 2020-01-10 has passed"
    (change,) = report.due_changes
    assert (change.work_order, change.old_due, change.new_due) == (
        "WO1",
        "2030-01-15",
        "2026-01-05",
    )
    assert (change.by, change.reason) == ("Cora Coord", HOSTILE_REASON.strip())
    assert report.rejected_total == 1
    assert [(r.station, r.raw) for r in report.rejected] == [("CUT-1", HOSTILE_SCAN)]
    # Shortages are db.shortages' netting, line for line (what `shopfloor shortages` says).
    from db import shortages
    from db.connection import connect

    conn = connect(made[0])
    try:
        netted = [line for line in shortages.shortages(conn) if line.to_issue_milli > 0]
    finally:
        conn.close()
    assert report.shortages is not None
    assert [(s.work_order, s.item, s.to_issue_milli, s.short_milli) for s in report.shortages] == [
        (n.work_order, n.item, n.to_issue_milli, n.short_milli) for n in netted
    ]
    assert all((s.answer == "short") == (s.short_milli > 0) for s in report.shortages)


def test_the_figures_equal_status_and_check(made: tuple[Path, DayReport]) -> None:
    """Over every day with postings the report's completions and scrap add up to the
    stage totals `status` shows; its finished, late and at-risk orders, their projected
    finish and holding stage are status's; its check is `check`'s."""
    path, report = made
    conn = connect(path)
    friday = day_report(conn, date(2026, 1, 2), now_ms=MADE)
    done: dict[str, int] = defaultdict(int)
    scrap: dict[str, int] = defaultdict(int)
    for one in (friday, report):
        for stage in one.stages:
            done[stage.code] += stage.completed_milli
            scrap[stage.code] += stage.scrap_milli
    status = reports.status(conn)
    expected_done: dict[str, int] = defaultdict(int)
    expected_scrap: dict[str, int] = defaultdict(int)
    for row in status:
        for stage in row["stages"]:
            expected_done[stage["stage"]] += int(Decimal(str(stage["done"])) * 1000)
            expected_scrap[stage["stage"]] += int(Decimal(str(stage["scrap"])) * 1000)
    assert dict(done) == dict(expected_done) == {"CUT": 5_000, "ASSY": 7_000}
    assert dict(scrap) == dict(expected_scrap)
    assert [f.number for f in report.finished] == [
        r["number"] for r in status if r["status"] == "done"
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(reports, "date", _OnTheDay)  # status judges late against today
        judged = reports.status(conn, now_ms=MADE)
    assert {o.number for o in report.late} == {r["number"] for r in judged if r["late"]}
    for risk, orders in (("late", report.late), ("at_risk", report.at_risk)):
        assert [(o.number, o.projected_finish.isoformat(), o.holding_stage) for o in orders] == [
            (r["number"], r["projected_finish"], r["holding_stage"])
            for r in sorted(judged, key=lambda r: (r["projected_finish"] or "", r["number"]))
            if r["risk"] == risk
        ]
    found, recorded = check(conn), report.check
    assert recorded is not None and found.ok and recorded.ok
    assert (recorded.movements, recorded.progress_entries) == (
        found.movements, found.progress_entries,
    )  # fmt: skip
    assert recorded.progress_entries == 7  # six entries and one undo
    # Without the check (it reads the whole ledger) the report says it was not run.
    assert day_report(conn, DAY, now_ms=MADE, with_check=False).check is None


def test_one_department_and_a_stage_that_does_not_exist(tmp_path: Path) -> None:
    conn = connect(floor(tmp_path))
    only = day_report(conn, DAY, stage="ASSY", now_ms=MADE)
    assert [s.code for s in only.stages] == ["ASSY"]
    assert [(c.number, c.units_milli) for c in only.stages[0].by_order] == [
        ("WO1", 3_000), ("WO3", 4_000),
    ]  # fmt: skip
    with pytest.raises(LedgerError, match="no stage 'PAINT'; the stages are CUT, ASSY"):
        day_report(conn, DAY, stage="PAINT", now_ms=MADE)


def test_progress_lists_who_when_order_stage_units_scrap(tmp_path: Path) -> None:
    conn = connect(floor(tmp_path))
    rows = reports.progress(conn, DAY)
    assert [(r["time"], r["operator_name"], r["work_order"], r["stage"], r["units"], r["scrap"])
            for r in rows] == [
        ("2026-01-05T08:00:00.000Z", "Otto Operator", "WO1", "CUT", 4, 0),
        ("2026-01-05T09:00:00.000Z", "Otto Operator", "WO1", "CUT", 0, 1),
        ("2026-01-05T10:00:00.000Z", "Otto Operator", "WO1", "ASSY", 3, 0),
        ("2026-01-05T11:00:00.000Z", "Otto Operator", "WO3", "ASSY", 4, 0),
    ]  # fmt: skip
    assert [r["work_order"] for r in reports.progress(conn, DAY, stage="ASSY")] == ["WO1", "WO3"]
    assert [r["units"] for r in reports.progress(conn, date(2026, 1, 2))] == [1]
