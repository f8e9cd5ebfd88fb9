"""The `shopfloor` reports: status, stock, movements, scans and check, read-only."""

from __future__ import annotations

import sys
from typing import Any

import click

from tui.cli.output import db_option, emit, json_option, open_db, table


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
