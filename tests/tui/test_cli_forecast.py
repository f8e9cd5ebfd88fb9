"""The coordinator's commands (issue 11): `shopfloor forecast`, the forecast in `status`,
`shopfloor due`, run through the real `shopfloor` group with CliRunner on the small
plant of tests/db/test_forecast.py, whose every figure is worked out by hand there:

    order  due         P  projected finish   slack h  risk      holding
    WE     2030-01-04  5  Mon 7th 10:15      -4.25    late      ASSY
    WD     2030-01-07  3  Tue 8th 10:30      -4.5     at_risk   CUT
    WA     2030-01-07  1  Mon 7th 09:00       5.0     tight     ASSY
    WC     2030-01-08  1  Mon 7th 08:00      14.0     on_track  ASSY
    WB     2030-01-09  2  Mon 7th 12:15      17.75    on_track  CUT
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from db.connection import clock, connect
from db.supervision import cancel
from tests.db.test_forecast import MONDAY, ms, plant
from tests.plant import fixed
from tui.cli import cli

pytestmark = pytest.mark.timeout(60)

FORECAST_KEYS = [
    "number", "product", "due", "priority", "status", "projected_finish", "risk", "idle",
    "holding_stage", "slack_hours", "stages",
]  # fmt: skip
STAGE_KEYS = [
    "stage", "remaining", "waiting", "orders_ahead", "wait_hours", "work_hours",
    "rate_per_hour", "source", "start", "finish",
]  # fmt: skip


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Path]:
    path = plant(tmp_path)
    with clock(fixed(ms(MONDAY))):
        yield path


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def as_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_forecast_lists_every_open_order_most_at_risk_first(floor: Path) -> None:
    rows = as_json("forecast", "--db", str(floor))
    assert all(list(r) == FORECAST_KEYS for r in rows)
    assert [
        (r["number"], r["projected_finish"], r["slack_hours"], r["risk"], r["holding_stage"])
        for r in rows
    ] == [
        ("WE", "2030-01-07T10:15:00+00:00", -4.25, "late", "ASSY"),
        ("WD", "2030-01-08T10:30:00+00:00", -4.5, "at_risk", "CUT"),
        ("WA", "2030-01-07T09:00:00+00:00", 5.0, "tight", "ASSY"),
        ("WC", "2030-01-07T08:00:00+00:00", 14.0, "on_track", "ASSY"),
        ("WB", "2030-01-07T12:15:00+00:00", 17.75, "on_track", "CUT"),
    ]
    human = invoke("forecast", "--db", str(floor))
    assert human.exit_code == 0
    lines = human.stdout.splitlines()
    assert lines[0] == (
        "rates: measured over the last 5 working days once a stage has 5 completions, else "
        "standard times, else the plant default (2.00/h); idle after 1 working day(s); the "
        "working day starts 06:00"
    )
    lines = lines[2:]
    assert lines[0].split() == ["order", "product", "due", "P", "projected", "finish", "slack",
                                "h", "risk", "idle", "holding"]  # fmt: skip
    assert lines[3].split() == ["WD", "P1", "2030-01-07", "P3", "01-08", "10:30", "-4.5", "AT",
                                "RISK", "CUT"]  # fmt: skip


def test_forecast_of_one_order_explains_it_stage_by_stage(floor: Path) -> None:
    """WB: CUT 20 units (150 min) after WA's 1.5 h; ASSY after WE, 20 units at 10 an hour."""
    [wb] = as_json("forecast", "--db", str(floor), "--order", "WB")
    assert [list(s) for s in wb["stages"]] == [STAGE_KEYS] * 2
    assert wb["stages"] == [
        {"stage": "CUT", "remaining": 20, "waiting": 20, "orders_ahead": 1, "wait_hours": 1.5,
         "work_hours": 2.5, "rate_per_hour": 10.0, "source": "standard",
         "start": "2030-01-07T07:30:00+00:00", "finish": "2030-01-07T10:00:00+00:00"},
        {"stage": "ASSY", "remaining": 20, "waiting": 0, "orders_ahead": 1, "wait_hours": 0.25,
         "work_hours": 2.0, "rate_per_hour": 10.0, "source": "standard",
         "start": "2030-01-07T10:15:00+00:00", "finish": "2030-01-07T12:15:00+00:00"},
    ]  # fmt: skip
    human = invoke("forecast", "--db", str(floor), "--order", "WB")
    assert human.exit_code == 0
    text = human.stdout
    assert "projected finish 01-07 12:15, slack 17.8 working hours: on track, held at CUT" in text
    cut = next(line for line in text.splitlines() if line.startswith("CUT"))
    assert cut.split() == ["CUT", "20", "20", "1", "1.5", "10.00", "standard", "times", "2.5",
                           "01-07", "07:30", "01-07", "10:00"]  # fmt: skip


def test_forecast_of_an_unknown_or_closed_order_exits_1(floor: Path) -> None:
    unknown = invoke("forecast", "--db", str(floor), "--order", "WX")
    assert unknown.exit_code == 1
    assert "no work order WX" in unknown.stderr
    assert invoke("due", "--db", str(floor), "WA", "2030-01-31", "--reason", "x",
                  "--badge", "B-SUP").exit_code == 0  # fmt: skip
    conn = connect(floor)
    cancel(conn, "WA", by="B-SUP", reason="customer withdrew")
    conn.close()
    closed = invoke("forecast", "--db", str(floor), "--order", "WA")
    assert closed.exit_code == 1
    assert "work order WA is cancelled: only open orders are forecast" in closed.stderr


def test_status_rows_carry_the_forecast(floor: Path) -> None:
    rows = {r["number"]: r for r in as_json("status", "--db", str(floor))}
    assert {n: (r["projected_finish"], r["risk"], r["idle"], r["holding_stage"])
            for n, r in rows.items()} == {
        "WA": ("2030-01-07T09:00:00+00:00", "tight", False, "ASSY"),
        "WB": ("2030-01-07T12:15:00+00:00", "on_track", False, "CUT"),
        "WC": ("2030-01-07T08:00:00+00:00", "on_track", False, "ASSY"),
        "WD": ("2030-01-08T10:30:00+00:00", "at_risk", False, "CUT"),
        "WE": ("2030-01-07T10:15:00+00:00", "late", False, "ASSY"),
    }  # fmt: skip


def test_status_of_an_unknown_order_exits_1_with_a_message(floor: Path) -> None:
    result = invoke("status", "--db", str(floor), "--order", "WX")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "no work order WX" in result.stderr
    assert "Traceback" not in result.output


def test_due_moves_a_date_with_the_apps_role_rule_and_shows_the_new_risk(floor: Path) -> None:
    """WD (projected Tuesday 10:30) moved to Wednesday: 3.5 + 8 h of slack, on track."""
    refused = invoke("due", "--db", str(floor), "WD", "2030-01-09", "--reason", "customer",
                     "--badge", "B-OP")  # fmt: skip
    assert refused.exit_code == 1
    assert "Otto Operator is operator; due date needs a supervisor or coordinator" in (
        refused.stderr
    )
    assert "the due date is unchanged" in refused.stderr
    no_reason = invoke("due", "--db", str(floor), "WD", "2030-01-09", "--reason", " ",
                       "--badge", "B-COORD")  # fmt: skip
    assert no_reason.exit_code == 1 and "say why" in no_reason.stderr
    bad_date = invoke("due", "--db", str(floor), "WD", "Wednesday", "--reason", "customer",
                      "--badge", "B-COORD")  # fmt: skip
    assert bad_date.exit_code == 1 and "YYYY-MM-DD" in bad_date.stderr
    assert as_json("status", "--db", str(floor), "--order", "WD")[0]["risk"] == "at_risk"
    moved = as_json("due", "--db", str(floor), "WD", "2030-01-09", "--reason", "customer",
                    "--badge", "B-COORD")  # fmt: skip
    assert moved == {
        "number": "WD", "old_due": "2030-01-07", "new_due": "2030-01-09",
        "projected_finish": "2030-01-08T10:30:00+00:00", "risk": "on_track",
        "holding_stage": "CUT",
    }  # fmt: skip
    [change] = as_json("forecast", "--db", str(floor), "--order", "WD")
    assert (change["due"], change["slack_hours"], change["risk"]) == ("2030-01-09", 11.5,
                                                                      "on_track")  # fmt: skip
    human = invoke("due", "--db", str(floor), "WD", "2030-01-07", "--reason", "back again",
                   "--badge", "B-SUP")  # fmt: skip
    assert human.exit_code == 0
    assert human.stdout == (
        "work order WD: due 2030-01-09 → 2030-01-07; projected finish 01-08 10:30: AT RISK\n"
    )
    conn = connect(floor)
    trail = conn.execute(
        "SELECT old_due, new_due, by_operator, reason FROM due_date_changes ORDER BY id"
    ).fetchall()
    conn.close()
    assert [tuple(r) for r in trail] == [
        ("2030-01-07", "2030-01-09", "B-COORD", "customer"),
        ("2030-01-09", "2030-01-07", "B-SUP", "back again"),
    ]


def test_a_supervisor_changes_the_forecasts_settings_with_a_reason(floor: Path) -> None:
    """The working day starting at 07:00: WC's two hours at ASSY end at 09:00, not 08:00."""
    refused = invoke("forecast", "--db", str(floor), "--set", "shift_start=07:00",
                     "--by", "B-COORD", "--reason", "new shift plan")  # fmt: skip
    assert refused.exit_code == 1
    assert "Cora Coord is coordinator; settings needs a supervisor" in refused.stderr
    for bad, words in (
        ("shift_start=7 o'clock", "HH:MM"),
        ("days=0", "from 1 to 60"),
        ("speed=2", "not a forecast setting"),
        ("idle_days=nan", "above 0"),
    ):
        result = invoke("forecast", "--db", str(floor), "--set", "days=7", "--set", bad,
                        "--by", "B-SUP", "--reason", "trial")  # fmt: skip
        assert result.exit_code == 1 and words in result.stderr, (bad, result.stderr)
        assert "no setting was changed" in result.stderr
    assert "the working day starts 06:00" in invoke("forecast", "--db", str(floor)).stdout
    moved = invoke("forecast", "--db", str(floor), "--set", "shift_start=07:00", "--by",
                   "B-SUP", "--reason", "new shift plan", "--order", "WC", "--json")  # fmt: skip
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)[0]["projected_finish"] == "2030-01-07T09:00:00+00:00"
    conn = connect(floor)
    kept = conn.execute(
        "SELECT key, old_value, new_value, by_operator, reason FROM setting_changes"
    ).fetchall()
    conn.close()
    assert [tuple(r) for r in kept] == [
        ("forecast_shift_start", "06:00", "07:00", "B-SUP", "new shift plan")
    ]
