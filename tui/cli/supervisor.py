"""What a supervisor does from the command line, with the app's role rules: hold,
release and cancel a work order. Each names the badge that acts and says why (a hold
takes one of the plant's hold reasons or words); a badge without the role is refused in
db/'s words and nothing changes."""

from __future__ import annotations

import sqlite3
from typing import Any, Protocol

import click

from tui.cli.output import db_option, emit, json_option, open_db


class OrderChange(Protocol):
    def __call__(self, conn: sqlite3.Connection, number: str, *, by: str, reason: str) -> None: ...


def _order_command(
    name: str, verb: str, change: OrderChange, *, reason_required: bool, reason_help: str = ""
) -> click.Command:
    """One of hold / release / cancel: the same arguments, the same answer."""
    # Click takes any default given, even None, as the value of a missing option.
    optional: dict[str, Any] = {} if reason_required else {"default": ""}

    @click.command(name=name, help=f"{verb.capitalize()} a work order, with who and why.")
    @db_option
    @json_option
    @click.argument("number")
    @click.option(
        "--reason",
        required=reason_required,
        help=reason_help or f"Why; kept with the change.{'' if reason_required else ' (optional)'}",
        **optional,
    )
    @click.option("--badge", required=True, help="The supervisor's badge.")
    def command(db_path: str, as_json: bool, number: str, reason: str, badge: str) -> None:
        from db import lookups
        from db.refusals import LedgerError

        conn = open_db(db_path)
        try:
            before = lookups.work_order(conn, number)["status"]
            change(conn, number, by=badge, reason=reason)
        except LedgerError as exc:
            raise click.ClickException(f"{exc}; work order {number} is unchanged") from None
        after = lookups.work_order(conn, number)["status"]
        emit(
            as_json,
            {"number": number, "old_status": before, "new_status": after, "by": badge},
            lambda: f"work order {number}: {before.replace('_', ' ')} → {after.replace('_', ' ')}",
        )

    return command


def _hold(conn: sqlite3.Connection, number: str, *, by: str, reason: str) -> None:
    from db.supervision import set_hold

    set_hold(conn, number, True, by=by, reason=reason)


def _release(conn: sqlite3.Connection, number: str, *, by: str, reason: str) -> None:
    from db.supervision import set_hold

    set_hold(conn, number, False, by=by, reason=reason)


def _cancel(conn: sqlite3.Connection, number: str, *, by: str, reason: str) -> None:
    from db.supervision import cancel

    cancel(conn, number, by=by, reason=reason)


hold = _order_command(
    "hold", "hold", _hold, reason_required=True,
    reason_help="Why: a hold reason's code from reasons.csv (its description is kept), "
    "or words of your own.",
)  # fmt: skip
release = _order_command("release", "release", _release, reason_required=False)
cancel = _order_command("cancel", "cancel", _cancel, reason_required=True)
