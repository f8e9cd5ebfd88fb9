"""The `shopfloor` reports: status, stock, movements, scans, check and the day's stage
progress, read-only."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click

from tui.cli.output import db_option, emit, json_option, open_db, table
from tui.plain import visible


@click.command()
@db_option
@json_option
@click.option("--open", "open_only", is_flag=True, help="Only released, in progress, on hold.")
@click.option("--order", "number", help="One work order.")
def status(db_path: str, as_json: bool, open_only: bool, number: str | None) -> None:
    """Work orders and their stage progress, with each open order's forecast."""
    from db import reports

    try:
        rows = reports.status(open_db(db_path), open_only=open_only, number=number)
    except reports.UnknownOrder as exc:
        raise click.ClickException(
            f"{exc}: check the number (`shopfloor status` lists them)"
        ) from None

    def human() -> str:
        def stages(r: dict[str, Any]) -> str:
            return " ".join(f"{s['stage']}:{s['done']}" for s in r["stages"])

        def finish(r: dict[str, Any]) -> str:
            return (r["projected_finish"] or "")[:16].replace("T", " ")

        return table(
            [
                [r["number"], r["product"], r["qty"], r["due"], r["status"],
                 "LATE" if r["late"] else "", r["completed"], stages(r), finish(r),
                 (r["risk"] or "").replace("_", " "), "idle" if r["idle"] else "",
                 r["holding_stage"]]
                for r in rows
            ],
            ["order", "product", "qty", "due", "status", "late", "completed", "stages (done)",
             "projected finish", "risk", "idle", "holding"],
        )  # fmt: skip

    emit(as_json, rows, human)


@click.command()
@db_option
@json_option
@click.option("--item")
@click.option("--location")
def stock(db_path: str, as_json: bool, item: str | None, location: str | None) -> None:
    """Stock on hand by item, location and lot (non-zero rows)."""
    from db import reports

    rows = reports.stock(open_db(db_path), item=item, location=location)
    emit(
        as_json,
        rows,
        lambda: table(
            [[r["item"], r["location"], r["lot"], r["qty"]] for r in rows],
            ["item", "location", "lot", "qty"],
        ),
    )


@click.command()
@db_option
@json_option
@click.option("--limit", type=int, help="Only the last N.")
@click.option("--order", "work_order")
@click.option("--item")
def movements(
    db_path: str, as_json: bool, limit: int | None, work_order: str | None, item: str | None
) -> None:
    """The movement ledger."""
    from db import reports

    rows = reports.movements(open_db(db_path), limit=limit, work_order=work_order, item=item)
    emit(
        as_json,
        rows,
        lambda: table(
            [
                [r["id"], r["time"], r["kind"], r["item"], r["lot"], r["qty"],
                 r["from_location"], r["to_location"], r["work_order"], r["operator"],
                 r["reverses"]]
                for r in rows
            ],
            ["id", "time", "kind", "item", "lot", "qty", "from", "to", "order", "operator",
             "reverses"],
        ),
    )  # fmt: skip


@click.command()
@db_option
@json_option
@click.option("--limit", type=int, help="Only the last N.")
@click.option("--station")
@click.option("--status", "status_filter", type=click.Choice(["accepted", "rejected", "duplicate"]))
@click.option("--inbox", is_flag=True, help="Only the rejected scans waiting for a supervisor.")
def scans(
    db_path: str,
    as_json: bool,
    limit: int | None,
    station: str | None,
    status_filter: str | None,
    inbox: bool,
) -> None:
    """The scan journal: every line a scanner or keyboard delivered, with its outcome."""
    from db import reports

    if inbox:
        if status_filter:
            raise click.UsageError("--inbox holds only rejected scans: leave out --status")
        from db.inbox import waiting_rows

        waiting = waiting_rows(open_db(db_path), limit=limit, station=station)
        emit(
            as_json,
            waiting,
            lambda: table(
                [[r["id"], r["time"], r["station"], r["raw"], r["reason"], r["failed_replays"]]
                 for r in waiting],
                ["id", "time", "station", "raw", "reason", "replays refused"],
            ),
        )  # fmt: skip
        return
    rows = reports.scans(
        open_db(db_path), limit=limit, station=station, status_filter=status_filter
    )
    emit(
        as_json,
        rows,
        lambda: table(
            [[r["id"], r["time"], r["station"], r["source"], r["raw"], r["status"], r["message"]]
             for r in rows],
            ["id", "time", "station", "source", "raw", "status", "message"],
        ),
    )  # fmt: skip


@click.command()
@db_option
@json_option
def check(db_path: str, as_json: bool) -> None:
    """Verify that stock and progress equal the sum of their entries; exit 1 otherwise."""
    from db.check import check as run_check

    report = run_check(open_db(db_path))
    payload = {
        "ok": report.ok,
        "movements": report.movements,
        "progress_entries": report.progress_entries,
        "differences": report.differences,
        "warnings": report.warnings,
    }

    def human() -> str:
        lines = [
            f"checked {report.movements} movements and {report.progress_entries} progress entries"
        ]
        lines += [f"DIFFERENCE: {d}" for d in report.differences]
        lines += [f"warning: {w}" for w in report.warnings]
        lines.append("ok: every total equals its entries" if report.ok else "FAILED")
        return "\n".join(lines)

    emit(as_json, payload, human)
    if not report.ok:
        sys.exit(1)


def parse_day(text: str | None) -> date | None:
    """A --date value, or a one-line refusal saying how to write it."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.ClickException(
            f"--date {text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-11-18"
        ) from None


def date_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--date", "day", metavar="YYYY-MM-DD", help="The day (default today).")(
        func
    )


def stage_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--stage", help="One stage (department) only, by its code.")(func)


@click.command()
@db_option
@json_option
@date_option
@stage_option
def progress(db_path: str, as_json: bool, day: str | None, stage: str | None) -> None:
    """Stage completions of a day: who, when, order, stage, units, scrap and its reason."""
    from db import reports
    from db.refusals import LedgerError
    from db.times import local_date

    chosen = parse_day(day) or local_date(int(time.time() * 1000))
    conn = open_db(db_path)
    try:
        rows = reports.progress(conn, chosen, stage=stage)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None

    def human() -> str:
        if not rows:
            where = f" at {stage}" if stage else ""
            return f"no stage completions{where} on {chosen.isoformat()}"
        units = sum(Decimal(str(r["units"])) for r in rows)
        scrap = sum(Decimal(str(r["scrap"])) for r in rows)
        return "\n".join(
            [
                table(
                    [[_local_clock(r["time"]), r["operator_name"] or r["operator"],
                      r["work_order"], r["stage"], r["units"], r["scrap"], r["reason"] or "",
                      r["station"]]
                     for r in rows],
                    ["time", "who", "order", "stage", "units", "scrap", "reason", "station"],
                ),
                f"{len(rows)} entries on {chosen.isoformat()}: {units} units completed, "
                f"{scrap} scrapped",
            ]
        )  # fmt: skip

    emit(as_json, rows, human)


def _local_clock(iso: str) -> str:
    """An ISO-8601 UTC time as the local clock time a person on the floor reads."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%H:%M:%S")


@click.command()
@db_option
@date_option
@click.option("--stage", help="Only this department (stage code); the plant's part stays whole.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["md", "html", "csv", "json"]),
    help="What to write (default: from the --out file's extension, else md).",
)
@click.option(
    "--out", default="-", show_default=True, metavar="PATH", help="The file to write; - for stdout."
)
@click.option(
    "--check/--no-check",
    "with_check",
    default=True,
    show_default=True,
    help="Run `shopfloor check` and report what it found (it reads the whole ledger).",
)
def report(
    db_path: str, day: str | None, stage: str | None, fmt: str | None, out: str, with_check: bool
) -> None:
    """The day's report for every department (or one) and the plant.

    Per department: what it completed (orders, units), scrap, its queue and the hours
    planned at it, its late and at-risk orders and why. For the plant: orders finished,
    late and at-risk orders with their projected finish and the stage holding them,
    shortages with their supply, rejected scans still open, due-date changes with who
    and why, and what `check` found. HTML prints on A4 and carries its charts (SVG).
    """
    from pathlib import Path

    from db.day_report import day_report
    from db.refusals import LedgerError
    from devices.labels.files import write_file
    from tui.report.render import FORMATS, render

    chosen = parse_day(day)
    suffix = Path(out).suffix.lstrip(".").lower() if out != "-" else ""
    fmt = fmt or (suffix if suffix in FORMATS else "md")
    conn = open_db(db_path)
    try:
        made = day_report(conn, chosen, stage=stage, with_check=with_check)
    except LedgerError as exc:
        raise click.ClickException(str(exc)) from None
    document = render(made, fmt)
    if out == "-":
        # Every format already shows a control character from the record as its escape.
        click.echo(document, nl=False)
        return
    try:
        write_file(Path(out), document.encode("utf-8"))
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename or out}: {exc.strerror}") from None
    click.echo(f"wrote {visible(out)}: {fmt}, {made.day.isoformat()}", err=True)
