"""The `shopfloor` command group and the TUI's entry: thin click wrappers over db/ and
devices/. The group loads the slower commands only when asked for (`LAZY`); the
commands live by what they do: `plant` (init, import, negative-stock), `scanning`
(scan, listen, ports), `demo`, `reports`, `material`, `labels`, `supervisor`,
`coordinator`, `server`.

Every subcommand takes `--db` (else $SHOPFLOOR_DB, else ./shopfloor.db); reports take
`--json` for machines and print aligned tables for people. Errors a person can fix
exit 1 with one line saying what to do; a fault of the database file itself (not a
shopfloor database, newer, read-only, locked, disk full) exits with its own status
(`EXIT_STATUS`, listed in the README), one line, never a traceback. Words from scans,
files and the database are printed as text (tui.plain): a control character shows as
its escape.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

# Only what the TUI's start needs is imported here; each subcommand imports the rest of
# db/ itself, so `shopfloor` reaches the board's first paint without loading reports,
# checks and imports it will not run.
from db.connection import FileFault, file_fault
from tui.cli import demo, material, plant, reports, scanning
from tui.cli.output import OPENED, FileFaultExit, db_option, open_db
from tui.plain import visible


class _FloorGroup(click.Group):
    """Loads `labels` (Pillow, python-barcode), the supervisor's and the coordinator's
    commands (the forecast) only when asked for: the TUI starts faster.

    Every error message click prints quotes its input as text (a path, a code, a value).
    """

    LAZY = {
        "labels": ("tui.cli.labels", "labels"),
        "hold": ("tui.cli.supervisor", "hold"),
        "release": ("tui.cli.supervisor", "release"),
        "cancel": ("tui.cli.supervisor", "cancel"),
        "forecast": ("tui.cli.coordinator", "forecast_cmd"),
        "due": ("tui.cli.coordinator", "due_cmd"),
        "allow-unplanned": ("tui.cli.unplanned", "allow_unplanned_cmd"),
    } | {
        name: ("tui.cli.server", name) for name in ("serve", "passwd", "units", "backup", "restore")
    }

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _errors_as_text():
            return super().make_context(info_name, args, parent, **extra)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY:
            import importlib

            module, attribute = self.LAZY[cmd_name]
            command = getattr(importlib.import_module(module), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        """Every command's database faults as one line and their exit status, not a
        traceback; every error's words as text."""
        with _errors_as_text():
            try:
                return super().invoke(ctx)
            except FileFault as refused:
                raise FileFaultExit(refused) from None
            except sqlite3.Error as exc:
                where = ctx.meta.get(OPENED) or ctx.params.get("db_path") or "the database"
                fault = file_fault(exc, where)
                if fault is not None:
                    raise FileFaultExit(fault) from None
                raise click.ClickException(
                    f"{where}: {getattr(exc, 'sqlite_errorname', 'database error')}: {exc}"
                ) from None


@contextmanager
def _errors_as_text() -> Iterator[None]:
    try:
        yield
    except click.ClickException as exc:
        # In place: the exception keeps its class and exit status (a file fault's).
        exc.message = visible(exc.message)  # type: ignore[misc]
        raise


@click.group(cls=_FloorGroup, invoke_without_command=True)
@db_option
@click.option("--station", help="Open the scan station screen for this station code.")
@click.option(
    "--kiosk", is_flag=True, help="Lock the app to the station; a supervisor badge leaves."
)
@click.option("--scanner", "scanner_url", help="Read a local serial scanner (pyserial URL).")
@click.pass_context
def cli(
    ctx: click.Context, db_path: str, station: str | None, kiosk: bool, scanner_url: str | None
) -> None:
    """shopfloor: the factory floor's scans, stock and work orders in one terminal."""
    if ctx.invoked_subcommand is not None:
        return
    conn = open_db(db_path)
    conn.close()
    with _start_up_objects_kept():
        from tui.app import ShopfloorApp, crash_log_path, create_app, log_crash, run_kiosk

        first = create_app(db_path, station=station, kiosk=kiosk, scanner_url=scanner_url)
    log_path = crash_log_path(db_path)
    if kiosk:
        unused = [first]

        def next_app() -> ShopfloorApp:
            if unused:
                return unused.pop()
            return create_app(db_path, station=station, kiosk=True, scanner_url=scanner_url)

        status = run_kiosk(next_app, log_path=log_path)
        if status:
            sys.exit(status)
        return
    first.run()
    crash = first.crash
    if crash is None:
        sys.exit(first.return_code or 0)
    logged = log_crash(log_path, crash, "stopped")
    if isinstance(crash, FileFault | sqlite3.Error):
        fault = crash if isinstance(crash, FileFault) else file_fault(crash, db_path)
        if fault is not None:
            raise FileFaultExit(fault)
    raise click.ClickException(
        f"shopfloor stopped on an unexpected error ({type(crash).__name__}: {crash})"
        + (f"; the details are in {log_path}" if logged else "")
    )


@contextmanager
def _start_up_objects_kept() -> Iterator[None]:
    """Import and build the app without collecting garbage, then freeze what was built.

    Textual's modules, classes and style rules are tens of thousands of objects that live
    as long as the app, and start-up makes almost no garbage; left on, the collector walks
    them again and again (a full pass takes tens of milliseconds) before the first paint.
    Frozen, later collections, while the board paints and ever after, skip them.
    """
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


for _command in (
    plant.init,
    plant.import_cmd,
    plant.negative_stock,
    scanning.scan,
    scanning.listen,
    scanning.ports,
    demo.demo,
    reports.status,
    reports.stock,
    reports.movements,
    reports.scans,
    reports.check,
    reports.progress,
    reports.report,
    material.shortages,
    material.picklist,
    material.packing_slip,
):
    cli.add_command(_command)


def main() -> None:
    cli()
