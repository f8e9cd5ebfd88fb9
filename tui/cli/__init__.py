"""The `shopfloor` command: thin click wrappers over db/ and devices/, and the TUI's entry.

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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

# Only what the TUI's start needs is imported here; each subcommand imports the rest of
# db/ itself, so `shopfloor` reaches the board's first paint without loading reports,
# checks and imports it will not run.
from db.connection import FileFault, file_fault, is_locked
from db.schema import init_db
from tui.cli import material, reports
from tui.cli.output import (
    EXIT_STATUS,
    OPENED,
    FileFaultExit,
    db_option,
    emit,
    json_option,
    open_db,
    table,
)
from tui.plain import visible

_T = TypeVar("_T")


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


@cli.command()
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


@cli.command(name="import")
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


@cli.command(name="negative-stock")
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


# After this long waiting for a lock, a person is told why nothing has happened yet.
SAY_WAITING_AFTER_S = 2.0


def _while_locked(
    conn: sqlite3.Connection, attempt: Callable[[], _T], wait_s: float, nothing_done: str
) -> _T:
    """Run a write, waiting up to `wait_s` while another program holds the write lock;
    says so after two seconds, and ends in one clear line (exit status "locked") if the
    lock outlasts the wait. Any other refusal of the file goes to the command group's
    one-line fault handling. Nothing is half-written either way."""
    import time

    started = time.monotonic()
    said = False
    conn.execute(f"PRAGMA busy_timeout = {int(min(SAY_WAITING_AFTER_S, wait_s) * 1000)}")
    while True:
        try:
            return attempt()
        except sqlite3.OperationalError as exc:
            if not is_locked(exc):
                raise
            waited = time.monotonic() - started
            if waited >= wait_s:
                click.echo(
                    f"shopfloor: the database is locked by another program's write (waited "
                    f"{waited:.0f} s); nothing was written ({nothing_done}): run it again "
                    "when that program is done, or raise --wait",
                    err=True,
                )
                sys.exit(EXIT_STATUS["locked"])
            if not said:
                said = True
                click.echo(
                    "shopfloor: waiting for the database: another program is writing to it…",
                    err=True,
                )
            left = max(0.05, min(1.0, wait_s - waited))
            conn.execute(f"PRAGMA busy_timeout = {int(left * 1000)}")


@cli.command()
@db_option
@json_option
@click.option("--station", required=True, help="The station whose session interprets the scans.")
@click.option(
    "--wait",
    "wait_s",
    type=click.FloatRange(0, 3600),
    default=60.0,
    show_default=True,
    help="Seconds to wait for another program's write lock before giving up.",
)
@click.argument("barcodes", nargs=-1, required=True)
def scan(
    db_path: str, as_json: bool, station: str, wait_s: float, barcodes: tuple[str, ...]
) -> None:
    """Feed barcodes through the same path as a scanner; exit 1 if any was rejected."""
    from db.pipeline import ScanInput, process_batch

    conn = open_db(db_path)
    inputs = [
        ScanInput(station=station, raw=code.encode("utf-8"), source="command") for code in barcodes
    ]
    results = _while_locked(
        conn, lambda: process_batch(conn, inputs), wait_s, "the scans were not recorded"
    )
    payload: list[dict[str, Any]] = [
        {"scan": r.scan_id, "barcode": code, "status": r.status, "message": r.message,
         "next": r.prompt}
        for code, r in zip(barcodes, results, strict=True)
    ]  # fmt: skip

    def human() -> str:
        marks = {"accepted": "✓", "rejected": "✗", "duplicate": "="}
        lines = [f"{marks[r['status']]} {r['barcode']}: {r['message']}" for r in payload]
        lines.append(f"next: {results[-1].prompt}")
        return "\n".join(lines)

    emit(as_json, payload, human)
    if any(r.status == "rejected" for r in results):
        sys.exit(1)


@cli.command()
@db_option
@click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False),
    help="TOML file with one [[scanner]] table per scanner.",
)
@click.option(
    "--scanner",
    "scanner_options",
    multiple=True,
    metavar="STATION=URL",
    help="A scanner bound to a station (repeatable).",
)
@click.option("--quiet", is_flag=True, help="Log only scanner state changes, not every scan.")
def listen(
    db_path: str, config_path: str | None, scanner_options: tuple[str, ...], quiet: bool
) -> None:
    """Headless: read scanners into the record until stopped (SIGINT/SIGTERM)."""  # fmt: skip
    import signal
    import threading
    import time

    from db.listen import ConfigError, Listener, load_config, parse_scanner_option
    from tui.cli.server import service_hooks

    open_db(db_path).close()
    try:
        scanners = load_config(config_path) if config_path else []
        scanners += [parse_scanner_option(o, n) for n, o in enumerate(scanner_options, start=1)]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not scanners:
        raise click.ClickException("no scanners: give --config FILE or --scanner STATION=URL")

    def say(line: str) -> None:
        stamp = time.strftime("%H:%M:%S")
        click.echo(f"{stamp} {visible(line)}", err=True)

    def say_nothing(line: str) -> None:
        pass

    listener = Listener(db_path, scanners, on_event=say, on_scan=say_nothing if quiet else None,
                        **service_hooks(len(scanners), say))  # fmt: skip
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    listener.start()
    say(f"listening to {len(scanners)} scanner(s); Ctrl+C stops")
    while not stop.wait(0.5):
        pass
    listener.stop()
    held = listener.held
    if held:
        say(f"stopped; {held} scans were waiting for the database: they are in the spool "
            "and are posted first at the next start")  # fmt: skip
    else:
        say("stopped; everything read was committed")


@cli.command()
@json_option
def ports(as_json: bool) -> None:
    """The serial ports on this machine, with USB vendor/product ids and serial numbers."""
    from devices.ports import list_scanner_ports

    found = list_scanner_ports()
    rows = [
        {
            "device": p.device,
            "vid_pid": f"{p.vid:04x}:{p.pid:04x}"
            if p.vid is not None and p.pid is not None
            else None,
            "serial_number": p.serial_number,
            "manufacturer": p.manufacturer,
            "description": p.description,
        }
        for p in found
    ]
    emit(
        as_json,
        rows,
        lambda: (
            table(
                [[r["device"], r["vid_pid"], r["serial_number"], r["description"]] for r in rows],
                ["device", "VID:PID", "serial", "description"],
            )
            if rows
            else "no serial ports found"
        ),
    )


@cli.command()
@click.option(
    "--db",
    "db_path",
    type=click.Path(dir_okay=False),
    default="shopfloor-demo.db",
    show_default=True,
    help="The demo plant's database: kept between runs, built when missing.",
)
@click.option("--fresh", is_flag=True, help="Build the demo plant anew, dropping what was scanned.")
@click.option(
    "--pace",
    type=float,
    default=1.2,
    show_default=True,
    help="Average seconds between simulated scans.",
)
@click.option("--station", help="Open the scan station screen for this station.")
def demo(db_path: str, pace: float, station: str | None, fresh: bool) -> None:
    """The demo plant with simulated scanners on real ptys, opened in the TUI."""  # fmt: skip
    import random
    import threading

    from db.demo import build_demo, scan_script
    from db.listen import Listener
    from db.roles import setting
    from devices.reader import ScannerConfig
    from devices.simulator import PtyScanner, SsiScanner
    from tui.app import create_app

    path = Path(db_path)
    if path.exists():
        existing = open_db(db_path)
        is_demo = setting(existing, "demo_plant") == "1"
        existing.close()
        if not is_demo:
            raise click.ClickException(f"{db_path} is not a demo database; choose another --db")
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    built = path.exists()
    conn = init_db(path)
    if not built:
        build_demo(conn)
    conn.close()
    stations = ["STORES", "RECEIVING"] + [f"{s}-1" for s in ("CUT", "BEND", "WELD", "PAINT",
                                                                "ASSY", "PACK")]  # fmt: skip
    # Receiving's scanner speaks SSI, as a Zebra set to SSI host would: each scan waits
    # for the record's acknowledgement, and a rejected one beeps at the scanner.
    simulated: dict[str, PtyScanner | SsiScanner] = {
        code: SsiScanner() if code == "RECEIVING" else PtyScanner() for code in stations
    }
    listener = Listener(
        db_path,
        [ScannerConfig(name=f"sim-{code.lower()}", url=sim.device_path, station=code,
                       protocol="ssi" if isinstance(sim, SsiScanner) else "lines")
         for code, sim in simulated.items()],
        on_event=lambda _line: None,
    )  # fmt: skip
    listener.start()
    stop = threading.Event()

    def feed() -> None:
        rnd = random.Random()
        script = scan_script(init_db(path), rnd)
        while not stop.is_set():
            code, barcode = next(script)
            simulated[code].send(barcode)
            stop.wait(rnd.uniform(0.3, 1.7) * pace)

    threading.Thread(target=feed, name="demo-scanners", daemon=True).start()
    try:
        create_app(db_path, station=station).run()
    finally:
        stop.set()
        listener.stop()
        for sim in simulated.values():
            sim.close()


for _report in (
    reports.status,
    reports.stock,
    reports.movements,
    reports.scans,
    reports.check,
    reports.progress,
    reports.report,
):
    cli.add_command(_report)
for _material in (material.shortages, material.picklist, material.packing_slip):
    cli.add_command(_material)


def main() -> None:
    cli()
