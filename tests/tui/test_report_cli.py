"""`shopfloor report` and `shopfloor progress` as a person or a script runs them, on the
plant of tests/db/test_day_report.py (its figures are worked out there): every format
parses (JSON loads, CSV reads, HTML nests, Markdown has its sections), and the hostile
text in that plant (a scan and a due-date reason full of markup, Markdown, a formula
and control characters) comes out as text in each; bad arguments get one line.
"""

from __future__ import annotations

import csv
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.db.test_day_report import HOSTILE_REASON, HOSTILE_SCAN, floor
from tui.cli import cli
from tui.plain import visible

pytestmark = pytest.mark.timeout(60)

DAY = "2026-01-05"
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The report of the plant's day in every format, written by the command."""
    folder = tmp_path_factory.mktemp("report")
    path = floor(folder)
    out: dict[str, Path] = {}
    for fmt in ("md", "html", "csv", "json"):
        target = folder / "out" / f"day.{fmt}"
        result = invoke("report", "--db", str(path), "--date", DAY, "--out", str(target))
        assert result.exit_code == 0, result.output
        out[fmt] = target
    return out


class _Nesting(HTMLParser):
    """Fails on an end tag that does not close the element open last; keeps the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_json_loads_with_the_figures_and_the_hostile_text_as_it_was(
    written: dict[str, Path],
) -> None:
    report = json.loads(written["json"].read_text())
    assert report["day"] == DAY
    cut, assy = report["stages"]
    assert (cut["code"], cut["completed"], cut["scrap"], cut["orders_completed"]) == (
        "CUT",
        4,
        1,
        1,
    )
    assert (assy["completed"], assy["orders_completed"]) == (7, 2)
    assert cut["by_order"] == [{"number": "WO1", "product": "P1", "units": 4, "scrap": 1}]
    assert (report["completed"], report["scrap"]) == (11, 1)
    assert [f["number"] for f in report["finished"]] == ["WO3"]
    assert [r["raw"] for r in report["rejected"]] == [HOSTILE_SCAN]
    assert [c["reason"] for c in report["due_changes"]] == [HOSTILE_REASON.strip()]
    assert report["check"]["ok"] is True
    # The report is handed out: people by name, never by the badge that signs them in.
    for badge in ("B-COORD", "B-OP"):
        for fmt in ("md", "html", "csv", "json"):
            assert badge not in written[fmt].read_text(), (badge, fmt)
    assert "\x1b" not in written["json"].read_text()  # written as \u001b, read back as it was


def test_csv_reads_and_a_formula_stays_text(written: dict[str, Path]) -> None:
    with written["csv"].open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    sections = {row["section"] for row in rows}
    assert {"department", "completed", "order_finished", "rejected_scan", "due_change",
            "check"} <= sections  # fmt: skip
    department = {r["stage"]: r for r in rows if r["section"] == "department"}
    assert (department["CUT"]["units"], department["CUT"]["scrap"]) == ("4", "1")
    assert department["ASSY"]["units"] == "7"
    (rejected,) = [r for r in rows if r["section"] == "rejected_scan"]
    # A spreadsheet would run "=1+1..." as a formula: the apostrophe keeps it text.
    assert rejected["item"] == "'" + visible(HOSTILE_SCAN)
    assert "\x1b" not in written["csv"].read_text()


def test_html_nests_prints_and_shows_markup_from_the_record_as_text(
    written: dict[str, Path],
) -> None:
    page = written["html"].read_text()
    parsed = _Nesting()
    parsed.feed(page)
    parsed.close()
    assert parsed.open == ["html"] or parsed.open == []  # every element closed in order
    assert "script" not in parsed.tags  # neither the scan's nor pygal's
    assert parsed.tags.count("svg") == 3  # the charts, drawn into the page
    text = "".join(parsed.text)
    assert "=1+1<script>alert(1)</script>[b red]|*x*" in text  # the scan, as text
    assert "<b>customer</b> | *asked* [x](http://evil)" in text
    assert "\x1b" not in page and "\x07" not in page
    assert "@media print" in page and "@page" in page
    # Offline: nothing is fetched (only the SVG namespace names a web address).
    assert set(re.findall(r"(?:src|href)=\"([^\"]*)", page)) == set()


def test_markdown_has_its_sections_and_escapes_markup(written: dict[str, Path]) -> None:
    md = written["md"].read_text()
    headings = re.findall(r"^#+ .*$", md, re.M)
    assert headings[:3] == [f"# Day report {DAY}", "## Departments", "### CUT Cutting"]
    # (Which orders are late or at risk depends on the day the command runs: the forecast
    # is made now; tests/db/test_day_report.py makes it on the plant's day.)
    sections = (r"## Plant", r"### Orders finished \(1\)", r"### Late orders \(\d\)",
                r"### At-risk orders \(\d\)", r"### Shortages",
                r"### Rejected scans still open \(1\)", r"### Due-date changes \(1\)")  # fmt: skip
    for section in sections:
        assert any(re.fullmatch(section, heading) for heading in headings), section
    assert "<script>" not in md and "<b>" not in md and "\x1b" not in md
    assert "\\<script\\>alert(1)\\</script\\>\\[b red\\]\\|\\*x\\*" in md
    assert "\\[x\\](http://evil)" in md
    # A table row keeps its columns: the reason's | is escaped.
    (row,) = [line for line in md.splitlines() if line.startswith("| ") and "Cora Coord" in line]
    assert row.count(" | ") == 5


def test_without_the_check_every_format_says_it_was_not_run(tmp_path: Path) -> None:
    path = str(floor(tmp_path))
    for fmt in ("md", "html", "csv", "json"):
        result = invoke("report", "--db", path, "--date", DAY, "--no-check", "--format", fmt)
        assert result.exit_code == 0, result.output
        if fmt == "json":
            assert json.loads(result.output)["check"] is None
        elif fmt == "csv":
            assert "check" not in {
                row["section"] for row in csv.DictReader(result.output.splitlines())
            }
        else:
            assert "Record check: not run." in " ".join(result.output.split())


def test_bad_arguments_get_one_line(tmp_path: Path) -> None:
    path = str(floor(tmp_path))
    both, report = ("report", "progress"), ("report",)
    for args, says, commands in (
        (["--date", "2026-02-30"], "--date '2026-02-30' is not a date: write it as YYYY-MM-DD",
         both),
        (["--stage", "PAINT"], "no stage 'PAINT'; the stages are CUT, ASSY", both),
        (["--date", "2999-01-01"], "2999-01-01 has not come yet", report),
        (["--out", "/proc/nowhere/day.md"], "cannot write", report),
    ):  # fmt: skip
        for command in commands:
            result = invoke(command, "--db", path, *args)
            assert result.exit_code == 1, result.output
            assert len(result.output.strip().splitlines()) == 1
            assert says in result.output and "Traceback" not in result.output


def test_progress_for_a_person_and_a_script(tmp_path: Path) -> None:
    path = str(floor(tmp_path))
    table = invoke("progress", "--db", path, "--date", DAY, "--stage", "CUT")
    assert table.exit_code == 0
    lines = table.output.splitlines()
    assert lines[0].split() == [
        "time", "who", "order", "stage", "units", "scrap", "reason", "station",
    ]  # fmt: skip
    assert lines[2].split() == ["08:00:00", "Otto", "Operator", "WO1", "CUT", "4", "0", "CUT-1"]
    assert lines[-1] == f"2 entries on {DAY}: 4 units completed, 1 scrapped"
    rows = json.loads(invoke("progress", "--db", path, "--date", DAY, "--json").output)
    assert [(r["work_order"], r["stage"], r["units"], r["scrap"]) for r in rows] == [
        ("WO1", "CUT", 4, 0), ("WO1", "CUT", 0, 1), ("WO1", "ASSY", 3, 0), ("WO3", "ASSY", 4, 0),
    ]  # fmt: skip
    empty = invoke("progress", "--db", path, "--date", "2026-01-06")
    assert empty.output.strip() == "no stage completions on 2026-01-06"


def test_a_chart_label_from_the_record_is_text_in_well_formed_svg(tmp_path: Path) -> None:
    """A stage code with markup and a control character: each chart still parses as XML
    and shows the code as text."""
    import dataclasses
    import xml.etree.ElementTree as ET
    from datetime import date

    from db.connection import connect
    from db.day_report import day_report
    from tui.report.render import html

    report = day_report(connect(floor(tmp_path)), date(2026, 1, 5))
    hostile = "<i>CUT</i>\x1b"
    stages = (dataclasses.replace(report.stages[0], code=hostile), *report.stages[1:])
    page = html(dataclasses.replace(report, stages=stages))
    charts = re.findall(r"<svg.*?</svg>", page, re.S)
    assert len(charts) == 3
    for chart in charts:
        labels = "".join(ET.fromstring(chart).itertext())
        assert visible(hostile) in labels  # "<i>CUT</i>\x1b", as characters
