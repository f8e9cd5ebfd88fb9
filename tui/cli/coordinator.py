"""What a coordinator runs from the command line: the forecast (`shopfloor forecast`), and a
due date moved with who and why (`shopfloor due`), with the order's new risk at once."""

from __future__ import annotations

from typing import Any

import click

from tui.cli.output import db_option, emit, json_option, open_db, table

RISK_WORDS = {"late": "LATE", "at_risk": "AT RISK", "tight": "tight", "on_track": "on track"}


def _when(iso: str | None) -> str:
    """ "2026-11-20T11:05:00+00:00" as a person reads it: "11-20 11:05"."""
    return "" if iso is None else iso[5:16].replace("T", " ")


def _hours(value: float) -> str:
    return f"{value:.1f}"


@click.command(name="forecast")
@db_option
@json_option
@click.option("--order", "number", help="One work order, explained stage by stage.")
@click.option(
    "--set",
    "changes",
    multiple=True,
    metavar="NAME=VALUE",
    help="A supervisor changes a setting: days, min_completions, fallback_per_hour, "
    "idle_days, shift_start (with --by and --reason).",
)
@click.option("--by", "badge", help="The supervisor's badge, for --set.")
@click.option("--reason", default="", help="Why, for --set; kept with the change.")
def forecast_cmd(
    db_path: str,
    as_json: bool,
    number: str | None,
    changes: tuple[str, ...],
    badge: str | None,
    reason: str,
) -> None:
    """Projected finish, slack, holding stage and risk of each open work order."""
    from db import reports

    conn = open_db(db_path)
    if changes:
        _change_settings(conn, changes, badge, reason)
    try:
        made, rows = reports.forecast_report(conn, number=number)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from None

    def overview() -> str:
        knobs = made.settings
        basis = (
            f"rates: measured over the last {knobs.days} working days once a stage has "
            f"{knobs.min_completions} completions, else standard times, else the "
            f"{made.plant_basis} ({made.plant_per_hour:.2f}/h); idle after "
            f"{knobs.idle_days:g} working day(s); the working day starts {knobs.shift_start}"
        )
        return basis + "\n\n" + table(
            [
                [r["number"], r["product"], r["due"], f"P{r['priority']}",
                 _when(r["projected_finish"]), _hours(r["slack_hours"]),
                 RISK_WORDS[r["risk"]], "idle" if r["idle"] else "", r["holding_stage"]]
                for r in rows
            ],
            ["order", "product", "due", "P", "projected finish", "slack h", "risk", "idle",
             "holding"],
        )  # fmt: skip

    def explained() -> str:
        [order] = rows
        held = order["holding_stage"]
        lines = [
            f"work order {order['number']} ({order['product']}), due {order['due']}, "
            f"priority {order['priority']}, {order['status'].replace('_', ' ')}",
            f"projected finish {_when(order['projected_finish'])}, slack "
            f"{_hours(order['slack_hours'])} working hours: {RISK_WORDS[order['risk']]}"
            + (f", held at {held}" if held else "")
            + (", idle" if order["idle"] else ""),
            "",
            table(
                [
                    [s["stage"], s["remaining"], s["waiting"], s["orders_ahead"],
                     _hours(s["wait_hours"]), _rate(s), _source(made, s), _hours(s["work_hours"]),
                     _when(s["start"]), _when(s["finish"])]
                    for s in order["stages"]
                ],
                ["stage", "to do", "there", "ahead", "wait h", "rate/h", "rate from", "work h",
                 "start", "finish"],
            ),
        ]  # fmt: skip
        return "\n".join(lines)

    emit(as_json, rows, explained if number is not None else overview)


def _change_settings(conn: Any, changes: tuple[str, ...], badge: str | None, reason: str) -> None:
    """Each NAME=VALUE of --set, all or none, as the supervisor's recorded changes."""
    from db.connection import transaction
    from db.forecast_settings import set_forecast_setting
    from db.refusals import LedgerError

    if not badge:
        raise click.UsageError("a supervisor changes the forecast's settings: give --by BADGE")
    pairs = []
    for change in changes:
        name, sep, value = change.partition("=")
        if not sep:
            raise click.UsageError(f"--set {change}: write it as NAME=VALUE, e.g. days=7")
        pairs.append((name.strip(), value))
    try:
        with transaction(conn):
            for name, value in pairs:
                set_forecast_setting(conn, name, value, by=badge, reason=reason)
    except LedgerError as exc:
        raise click.ClickException(f"{exc}; no setting was changed") from None


def _rate(stage: dict[str, Any]) -> str:
    rate = stage["rate_per_hour"]
    return "setup only" if rate is None else f"{rate:.2f}"


def _source(made: Any, stage: dict[str, Any]) -> str:
    """Where a stage's rate comes from, in words: measured over how many days and
    completions, the routing's standard times, or the plant's figure."""
    if stage["source"] == "measured":
        rate = made.rates[stage["stage"]]
        return f"measured: {rate.completions} completions in {made.settings.days} working days"
    if stage["source"] == "standard":
        return "standard times"
    return str(made.plant_basis)


@click.command(name="due")
@db_option
@json_option
@click.argument("number")
@click.argument("new_due", metavar="DATE")
@click.option("--reason", required=True, help="Why the date moves; kept with the change.")
@click.option("--badge", required=True, help="A supervisor's or coordinator's badge.")
def due_cmd(
    db_path: str, as_json: bool, number: str, new_due: str, reason: str, badge: str
) -> None:
    """Move a work order's due date (YYYY-MM-DD), with who and why, as the app does."""
    from db import lookups, reports
    from db.refusals import LedgerError
    from db.supervision import change_due_date

    conn = open_db(db_path)
    try:
        old = lookups.work_order(conn, number)["due"]
        change_due_date(conn, number, new_due, by=badge, reason=reason)
    except LedgerError as exc:
        raise click.ClickException(f"{exc}; the due date is unchanged") from None
    [row] = reports.status(conn, number=number)
    payload = {
        "number": number,
        "old_due": old,
        "new_due": new_due,
        "projected_finish": row["projected_finish"],
        "risk": row["risk"],
        "holding_stage": row["holding_stage"],
    }

    def human() -> str:
        line = f"work order {number}: due {old} → {new_due}"
        if row["risk"] is None:
            return line
        return (
            f"{line}; projected finish {_when(row['projected_finish'])}: {RISK_WORDS[row['risk']]}"
        )

    emit(as_json, payload, human)
