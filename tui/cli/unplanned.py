"""`shopfloor allow-unplanned`: a supervisor lets an item the work order's bill does not
name be issued to that order, with who and why, under the app's role rules. A badge
without the role, or an item already on the bill, is refused in db/'s words and
nothing changes."""

from __future__ import annotations

import click

from tui.cli.output import db_option, emit, json_option, open_db


@click.command(name="allow-unplanned")
@db_option
@json_option
@click.argument("number", metavar="ORDER")
@click.argument("item")
@click.option("--reason", required=True, help="Why the order needs it; kept with the leave.")
@click.option("--badge", required=True, help="The supervisor's badge.")
def allow_unplanned_cmd(
    db_path: str, as_json: bool, number: str, item: str, reason: str, badge: str
) -> None:
    """Allow ITEM, which ORDER's bill does not name, to be issued to ORDER."""
    from db.refusals import LedgerError
    from db.unplanned import allow_unplanned

    conn = open_db(db_path)
    try:
        item = allow_unplanned(conn, number, item, by=badge, reason=reason)
    except LedgerError as exc:
        raise click.ClickException(f"{exc}; nothing was allowed") from None
    emit(
        as_json,
        {"work_order": number, "item": item, "by": badge, "reason": reason.strip()},
        lambda: f"{item} may be issued to {number} as unplanned material (allowed by {badge})",
    )
