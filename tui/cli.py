"""The `shopfloor` command: thin click wrappers over db/ and devices/, and the TUI's entry.

Every subcommand takes `--db` (else $SHOPFLOOR_DB, else ./shopfloor.db); reports take
`--json` for machines and print aligned tables for people. Errors a person can fix
exit 1 with one line saying what to do. Words from scans, files and the database are
printed as text (tui.plain): a control character shows as its escape.
"""

from __future__ import annotations

import gc
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

# Only what the TUI's start needs is imported here; each subcommand imports the rest of
# db/ itself, so `shopfloor` reaches the board's first paint without loading reports,
# checks and imports it will not run.
from db.connection import default_db_path
from db.schema import init_db
from tui.plain import json_text, visible


def _db_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db_path",
        type=click.Path(dir_okay=False),
        default=default_db_path,
        show_default="$SHOPFLOOR_DB or ./shopfloor.db",
        help="The floor's database file.",
    )(func)


def _json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")(func)


def open_db(db_path: str, *, create: bool = False) -> sqlite3.Connection:
    """Open (and migrate) the database; refuse to invent an empty one by a typo in --db."""
    if not create and not Path(db_path).exists():
        raise click.ClickException(
            f"no database at {db_path}: run `shopfloor init --db {db_path}` first"
        )
    return init_db(db_path)


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


class _FloorGroup(click.Group):
    """Loads `labels` (Pillow, python-barcode) only when asked for: the TUI starts faster.

    Every error message click prints quotes its input as text (a path, a code, a value).
    """

    LAZY = {"labels": ("tui.labels_cli", "labels")}

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _errors_as_text():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _errors_as_text():
            return super().invoke(ctx)

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


@contextmanager
def _errors_as_text() -> Iterator[None]:
    try:
        yield
    except click.UsageError as exc:
        raise click.UsageError(visible(exc.format_message()), exc.ctx) from None
    except click.ClickException as exc:
        raise click.ClickException(visible(exc.format_message())) from None


@click.group(cls=_FloorGroup, invoke_without_command=True)
@_db_option
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
        from tui.app import create_app

        app = create_app(db_path, station=station, kiosk=kiosk, scanner_url=scanner_url)
    app.run()


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
@_db_option
@click.option("--demo", is_flag=True, help="Fill a new database with the demo plant.")
def init(db_path: str, demo: bool) -> None:
    """Create or migrate the database."""
    fresh = not Path(db_path).exists()
    conn = init_db(db_path)
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
@_db_option
@click.argument("what")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@_json_option
def import_cmd(db_path: str, what: str, file: str | None, as_json: bool) -> None:
    """Load master data: `import DIR` (every CSV found) or `import KIND FILE`.

    KIND is one of: locations, stages, items, operators, routings, bom, stations, workorders.
    """
    from db.masterdata import ImportError_, import_dir, import_file

    conn = open_db(db_path, create=True)
    try:
        if file is None:
            results = import_dir(conn, what)
        else:
            results = [import_file(conn, what, file)]
    except ImportError_ as exc:
        click.echo(f"error: {visible(str(exc))}", err=True)
        click.echo("nothing was loaded; fix the row and run the import again", err=True)
        sys.exit(1)
    emit(
        as_json,
        [{"kind": r.kind, "file": r.file, "rows": r.rows} for r in results],
        lambda: "\n".join(f"{r.file}: {r.rows} rows" for r in results),
    )


@cli.command()
@_db_option
@_json_option
@click.option("--open", "open_only", is_flag=True, help="Only released, in progress, on hold.")
@click.option("--order", "number", help="One work order.")
def status(db_path: str, as_json: bool, open_only: bool, number: str | None) -> None:
    """Work orders and their stage progress."""
    from db import reports

    rows = reports.status(open_db(db_path), open_only=open_only, number=number)

    def human() -> str:
        def stages(r: dict[str, Any]) -> str:
            return " ".join(f"{s['stage']}:{s['done']}" for s in r["stages"])

        return table(
            [
                [r["number"], r["product"], r["qty"], r["due"], r["status"],
                 "LATE" if r["late"] else "", r["completed"], stages(r)]
                for r in rows
            ],
            ["order", "product", "qty", "due", "status", "late", "completed", "stages (done)"],
        )  # fmt: skip

    emit(as_json, rows, human)


@cli.command()
@_db_option
@_json_option
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


@cli.command()
@_db_option
@_json_option
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


@cli.command()
@_db_option
@_json_option
@click.option("--limit", type=int, help="Only the last N.")
@click.option("--station")
@click.option("--status", "status_filter", type=click.Choice(["accepted", "rejected", "duplicate"]))
def scans(
    db_path: str, as_json: bool, limit: int | None, station: str | None, status_filter: str | None
) -> None:
    """The scan journal: every line a scanner or keyboard delivered, with its outcome."""
    from db import reports

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


@cli.command()
@_db_option
@_json_option
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


@cli.command()
@_db_option
@_json_option
@click.option("--station", required=True, help="The station whose session interprets the scans.")
@click.argument("barcodes", nargs=-1, required=True)
def scan(db_path: str, as_json: bool, station: str, barcodes: tuple[str, ...]) -> None:
    """Feed barcodes through the same path as a scanner; exit 1 if any was rejected."""
    from db.scanning import ScanInput, process_batch

    conn = open_db(db_path)
    results = process_batch(
        conn,
        [
            ScanInput(station=station, raw=code.encode("utf-8"), source="command")
            for code in barcodes
        ],
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
@_db_option
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

    open_db(db_path).close()
    try:
        scanners = load_config(config_path) if config_path else []
        scanners += [parse_scanner_option(o, n) for n, o in enumerate(scanner_options, start=1)]
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if not scanners:
        raise click.ClickException("no scanners: give --config FILE or --scanner STATION=URL")

    def say(line: str) -> None:
        if quiet and " scan " in line:
            return
        stamp = time.strftime("%H:%M:%S")
        click.echo(f"{stamp} {visible(line)}", err=True)

    listener = Listener(db_path, scanners, on_event=say)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    listener.start()
    say(f"listening to {len(scanners)} scanner(s); Ctrl+C stops")
    while not stop.wait(0.5):
        pass
    listener.stop()
    say("stopped; everything read was committed")


@cli.command()
@_json_option
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
    help="Where to build the demo plant (rebuilt on every run).",
)
@click.option(
    "--pace",
    type=float,
    default=1.2,
    show_default=True,
    help="Average seconds between simulated scans.",
)
@click.option("--station", help="Open the scan station screen for this station.")
def demo(db_path: str, pace: float, station: str | None) -> None:
    """The demo plant with simulated scanners on real ptys, opened in the TUI."""  # fmt: skip
    import random
    import threading

    from db.demo import build_demo, scan_script
    from db.ledger import setting
    from db.listen import Listener
    from devices.reader import ScannerConfig
    from devices.simulator import PtyScanner
    from tui.app import create_app

    path = Path(db_path)
    if path.exists():
        existing = init_db(path)
        is_demo = setting(existing, "demo_plant") == "1"
        existing.close()
        if not is_demo:
            raise click.ClickException(f"{db_path} is not a demo database; choose another --db")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    conn = init_db(path)
    build_demo(conn)
    stations = ["STORES", "RECEIVING"] + [f"{s}-1" for s in ("CUT", "BEND", "WELD", "PAINT",
                                                                "ASSY", "PACK")]  # fmt: skip
    simulated = {code: PtyScanner() for code in stations}
    listener = Listener(
        db_path,
        [ScannerConfig(name=f"sim-{code.lower()}", url=sim.device_path, station=code)
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


def main() -> None:
    cli()
