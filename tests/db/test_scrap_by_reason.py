"""Scrap grouped by reason (issue 12 item 2): per stage in the day's report (md, html, csv,
json) and per order for the order screen, every figure worked out by hand below.

The small plant of tests/plant, with one more scrap reason whose description is hostile
text (it comes from a file). On Monday 2026-01-05 (local time is UTC in the tests):

    08:00  WO1 CUT done 4
    08:30  WO1 CUT scrap 2, BURR
    09:00  WO1 CUT scrap 1, DENT
    09:10  WO1 CUT scrap 1, DENT, undone at 09:15       -> nets out
    09:30  WO1 CUT scrap 1 without a reason (posted before the plant kept reasons)
    10:00  WO3 ASSY scrap 1, INK
    10:30  3 sheets of C1 scrapped against WO1 from S1, DENT (material, not a stage's)

CUT scrapped 4: BURR 2, DENT 1, none 1. ASSY scrapped 1: INK 1.
WO1's scrap by reason: BURR 2 units at CUT; DENT 1 unit at CUT and 3 sheets of C1;
none 1 unit at CUT.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from db import ledger, progress
from db.connection import clock, connect
from db.day_report import DayReport, ScrapReason, day_report
from db.ledger import Origin
from db.masterdata import import_file
from db.orders import ScrapLine, scrap_by_reason
from tests.plant import fixed, plant_db
from tui.report import render

pytestmark = pytest.mark.timeout(60)

DAY = date(2026, 1, 5)
HOSTILE = "<script>ink</script> | *smudge* \x1b[31m"


def at(hour: int, minute: int = 0) -> int:
    return int(datetime(2026, 1, 5, hour, minute, tzinfo=UTC).timestamp() * 1000)


def cell(reason: str | None) -> Origin:
    return Origin(operator="B-OP", station="CUT-1", reason=reason)


@pytest.fixture
def floor(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    (tmp_path / "more.csv").write_text(
        f"code,description,kind\nINK,{HOSTILE},scrap\n", encoding="utf-8"
    )
    import_file(conn, "reasons", tmp_path / "more.csv")

    def post(when: int, order: str, stage: str, qty: int, kind: str, why: str | None) -> int:
        with clock(fixed(when)):
            return progress.report_progress(conn, order, stage, qty, kind=kind, origin=cell(why))

    with clock(fixed(at(7))):
        ledger.receive(conn, "C1", 10_000, "S1", origin=Origin(operator="B-STORE"))
    post(at(8), "WO1", "CUT", 4_000, "done", None)
    post(at(8, 30), "WO1", "CUT", 2_000, "scrap", "BURR")
    post(at(9), "WO1", "CUT", 1_000, "scrap", "DENT")
    undone = post(at(9, 10), "WO1", "CUT", 1_000, "scrap", "DENT")
    with clock(fixed(at(9, 15))):
        progress.reverse_progress(conn, undone, origin=cell(None))
    post(at(9, 30), "WO1", "CUT", 1_000, "scrap", None)
    post(at(10), "WO3", "ASSY", 1_000, "scrap", "INK")
    with clock(fixed(at(10, 30))):
        ledger.scrap_material(conn, "C1", 3_000, "S1", work_order_number="WO1", origin=cell("DENT"))
    conn.close()
    return path


@pytest.fixture
def report(floor: Path) -> DayReport:
    return day_report(connect(floor), DAY, now_ms=at(13), with_check=False)


def test_each_stage_s_scrap_by_reason(report: DayReport) -> None:
    cut, assy = report.stages
    assert cut.scrap_by_reason == (
        ScrapReason("BURR", "Burr on the cut edge", 2_000),
        ScrapReason("DENT", "Dented in handling", 1_000),
        ScrapReason(None, "no reason given", 1_000),
    )
    assert assy.scrap_by_reason == (ScrapReason("INK", HOSTILE, 1_000),)
    # The reasons add up to the stage's scrap.
    for stage in report.stages:
        assert sum(r.scrap_milli for r in stage.scrap_by_reason) == stage.scrap_milli


def test_the_report_s_formats_carry_scrap_by_reason(report: DayReport) -> None:
    markdown = render.markdown(report)
    assert "| BURR | Burr on the cut edge | 2 |" in markdown
    assert "| DENT | Dented in handling | 1 |" in markdown
    assert "| (none) | no reason given | 1 |" in markdown
    assert "<script>" not in markdown and "\\<script\\>ink\\</script\\>" in markdown
    html = render.html(report)
    assert "<caption>Scrap by reason</caption>" in html
    assert "<td>BURR</td><td>Burr on the cut edge</td>" in html
    assert "<script>" not in html and "&lt;script&gt;ink" in html
    rows = list(csv.DictReader(io.StringIO(render.csv_document(report))))
    assert [(r["stage"], r["scrap"], r["detail"]) for r in rows
            if r["section"] == "scrap_by_reason"][:3] == [
        ("CUT", "2", "BURR: Burr on the cut edge"),
        ("CUT", "1", "DENT: Dented in handling"),
        ("CUT", "1", "(none): no reason given"),
    ]  # fmt: skip
    document = json.loads(render.json_document(report))
    assert document["stages"][0]["scrap_by_reason"] == [
        {"reason": "BURR", "description": "Burr on the cut edge", "scrap": 2},
        {"reason": "DENT", "description": "Dented in handling", "scrap": 1},
        {"reason": None, "description": "no reason given", "scrap": 1},
    ]


def test_an_order_s_scrap_by_reason(floor: Path) -> None:
    conn = connect(floor)
    try:
        lines = scrap_by_reason(conn, "WO1")
        assert lines == (
            ScrapLine("BURR", "Burr on the cut edge", "CUT", None, "", 2_000),
            ScrapLine("DENT", "Dented in handling", "CUT", None, "", 1_000),
            ScrapLine("DENT", "Dented in handling", None, "C1", "sheet", 3_000),
            ScrapLine(None, "", "CUT", None, "", 1_000),
        )
        assert scrap_by_reason(conn, "WO2") == ()
    finally:
        conn.close()
