"""The coordinator's day with the real `shopfloor` command (issue 11): the Schedule screen
in tmux follows a due date another process moves, and the day's report is written as a
file a person hands out, by the installed command, with no traceback on a bad value.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.e2e.terminal import SHOPFLOOR, Terminal

pytestmark = pytest.mark.timeout(120)


def shopfloor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHOPFLOOR, *args], capture_output=True, text=True, timeout=60, check=False
    )


def at_risk_count(screen: str) -> int | None:
    found = re.search(r"(\d+) at risk", screen)
    return int(found.group(1)) if found else None


def test_schedule_follows_a_due_date_moved_by_another_process(
    terminal: Terminal, plant: Path
) -> None:
    status = json.loads(shopfloor("status", "--json", "--open", "--db", str(plant)).stdout)
    at_risk = [row for row in status if row["risk"] == "at_risk"]
    assert at_risk, "the demo plant has orders at risk"
    order = at_risk[0]
    terminal.start(["--db", str(plant)], width=120, height=40)
    terminal.wait_text("Order", "Quit")
    terminal.keys("F11")
    screen = terminal.wait_for(
        lambda s: "open orders ·" in s and "Next 10 days" in s and "units completed" in s,
        "the Schedule screen with its orders, stages and plot",
    )
    before = at_risk_count(screen)
    assert before == len(at_risk), screen
    lines = screen.splitlines()
    assert len(lines) <= 40 and all(len(line) <= 120 for line in lines), screen

    later = f"{int(order['projected_finish'][:4]) + 1}{order['projected_finish'][4:10]}"
    moved = shopfloor("due", order["number"], later, "--reason", "customer agreed",
                      "--badge", "B4001", "--db", str(plant))  # fmt: skip
    assert moved.returncode == 0, moved.stderr
    terminal.wait_for(lambda s: at_risk_count(s) == before - 1, "one order fewer at risk")
    terminal.keys("C-q")
    assert terminal.wait_exit() == 0


def test_the_report_is_written_by_the_command(plant: Path, tmp_path: Path) -> None:
    for fmt in ("md", "html", "csv", "json"):
        out = tmp_path / "reports" / f"today.{fmt}"
        done = shopfloor("report", "--db", str(plant), "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.stat().st_size > 0
        assert f"wrote {out}: {fmt}" in done.stderr
    report = json.loads((tmp_path / "reports" / "today.json").read_text())
    assert [s["code"] for s in report["stages"]] == ["CUT", "BEND", "WELD", "PAINT", "ASSY",
                                                     "PACK"]  # fmt: skip
    assert report["check"]["ok"] is True
    bad = shopfloor("report", "--db", str(plant), "--date", "yesterday")
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "Error: --date 'yesterday' is not a date: write it as YYYY-MM-DD, e.g. 2026-11-18"
    ]
