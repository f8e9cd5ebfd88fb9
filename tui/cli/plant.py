"""Setting a plant's record up: `init` (create or migrate the file; `--demo` fills a new
one with the demo plant), `import` (the ERP's master-data CSVs, all or nothing) and
`negative-stock` (the kinds of location a supervisor lets go below zero)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from tui.cli.output import db_option, emit, json_option, open_db
from tui.plain import visible


@click.command()
@db_option
@click.option("--demo", is_flag=True, help="Fill a new database with the demo plant.")
def init(db_path: str, demo: bool) -> None:
    """Create or migrate the database."""
    fresh = not Path(db_path).exists() or Path(db_path).stat().st_size == 0
    conn = open_db(db_path, create=True)
    if demo:
        if not fresh and conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]:
            raise click.ClickException(
                f"{db_path} already holds a plant; use a new file for --demo"
            )
        from db.demo import build_demo

        build_demo(conn)
    click.echo(
        f"{'created' if fresh else 'migrated'} {visible(db_path)}"
        + (" with demo plant" if demo else "")
    )


@click.command(name="import")
@db_option
@click.argument("what")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--badge",
    help="Your supervisor or coordinator badge: due dates the files move are recorded as "
    "your changes (reason: import).",
)
@json_option
def import_cmd(db_path: str, what: str, file: str | None, badge: str | None, as_json: bool) -> None:
    """Load master data: `import DIR` (every CSV found) or `import KIND FILE`.

    KIND is one of: locations, stages, items, operators, routings, bom, stations, workorders,
    calendar, purchase_orders, sales_orders.
    """
    from db.import_rows import ImportError_
    from db.masterdata import import_dir, import_file

    conn = open_db(db_path)
    try:
        if file is None:
            results = import_dir(conn, what, badge=badge)
        else:
            results = [import_file(conn, what, file, badge=badge)]
    except ImportError_ as exc:
        click.echo(f"error: {visible(str(exc))}", err=True)
        click.echo("nothing was loaded; fix the row and run the import again", err=True)
        sys.exit(1)
    emit(
        as_json,
        [{"kind": r.kind, "file": r.file, "rows": r.rows} for r in results],
        lambda: "\n".join(f"{r.file}: {r.rows} rows" for r in results),
    )


@click.command(name="negative-stock")
@db_option
@click.argument("kinds", nargs=-1)
@click.option("--none", "refuse_everywhere", is_flag=True, help="Refuse it everywhere.")
@click.option("--by", "badge", help="The supervisor's badge (needed to change it).")
@click.option("--reason", default="", help="Why; kept with the change.")
def negative_stock(
    db_path: str, kinds: tuple[str, ...], refuse_everywhere: bool, badge: str | None, reason: str
) -> None:
    """Show, or let a supervisor choose, the kinds of location whose stock may go below zero."""
    from db.refusals import LedgerError
    from db.roles import allow_negative_stock, negative_stock_kinds

    conn = open_db(db_path)
    if kinds or refuse_everywhere:
        if kinds and refuse_everywhere:
            raise click.UsageError("give location kinds or --none, not both")
        if not badge:
            raise click.UsageError("a supervisor changes this: give --by BADGE and --reason")
        try:
            allow_negative_stock(conn, kinds, by=badge, reason=reason)
        except LedgerError as exc:
            raise click.ClickException(str(exc)) from None
    allowed = negative_stock_kinds(conn)
    click.echo(
        f"negative stock is allowed at {', '.join(sorted(allowed))} locations, refused elsewhere"
        if allowed
        else "negative stock is refused at every location"
    )
