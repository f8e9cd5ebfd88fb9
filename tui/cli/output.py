"""What every `shopfloor` command shares: opening the database, the exit status of each
fault of the file, the `--db` and `--json` options, and printing a table or JSON.

Words from scans, files and the database are printed as text (tui.plain): a control
character shows as its escape.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

import click

from db.connection import FaultKind, FileFault, busy_timeout_ms, default_db_path
from db.floorfile import open_floor
from tui.plain import json_text, visible

# The exit status of each fault of the database file (README, "Exit statuses"); 1 is a
# mistake a person fixes in the command (or a rejected scan), 2 a command misused.
EXIT_STATUS: dict[FaultKind, int] = {
    "not_shopfloor": 3,
    "newer": 4,
    "read_only": 5,
    "locked": 6,
    "disk_full": 7,
    "disk_error": 8,
}
# Shared by a command's contexts: which file it opened, to name it in a fault's line.
OPENED = "shopfloor.db_path"


class FileFaultExit(click.ClickException):
    """A `FileFault` on its way to the person: its line on stderr, its own exit status."""

    def __init__(self, fault: FileFault) -> None:
        super().__init__(str(fault))
        # click reads the status from the instance; its stubs declare it for the class only.
        self.exit_code = EXIT_STATUS[fault.kind]  # type: ignore[misc]


def db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=default_db_path,
        show_default="$SHOPFLOOR_DB or ./shopfloor.db",
        help="The floor's database file.",
    )(func)


def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def open_db(db_path: str, *, create: bool = False) -> sqlite3.Connection:
    """Open (and migrate) the database; refuse to invent one by a typo in --db.

    Only `init` passes `create`. A refused file is left exactly as it was.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta[OPENED] = db_path
    try:
        busy_timeout_ms()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    try:
        return open_floor(
            db_path, create=create, notice=lambda line: click.echo(f"notice: {line}", err=True)
        )
    except FileNotFoundError:
        raise click.ClickException(
            f"no database at {db_path}: run `shopfloor init --db {db_path}` first"
        ) from None
    except FileFault as fault:
        raise FileFaultExit(fault) from None


def table(rows: Sequence[Sequence[object]], headers: Sequence[str]) -> str:
    """An aligned plain-text table, numbers right-aligned, every cell shown as text."""
    cells = [[("" if v is None else visible(str(v))) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    numeric = [
        all(isinstance(row[i], int | float) or row[i] is None for row in rows) and bool(rows)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(widths[i]) if numeric[i] else v.ljust(widths[i]) for i, v in enumerate(values)
        ]
        return "  ".join(parts).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(row) for row in cells]
    return "\n".join(out)


def emit(as_json: bool, payload: Any, human: Callable[[], str]) -> None:
    if as_json:
        click.echo(json_text(payload))
    else:
        # Line by line: the lines are ours, whatever words they quote show as text.
        click.echo("\n".join(visible(line) for line in human().split("\n")))
