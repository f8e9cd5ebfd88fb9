"""The scanners' commands: `scan` (barcodes through the same path as a scanner, waiting
out another program's write lock), `listen` (headless readers into the record until
stopped) and `ports` (the serial ports on this machine)."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from db.connection import is_locked
from tui.cli.output import EXIT_STATUS, db_option, emit, json_option, open_db, table
from tui.plain import visible

_T = TypeVar("_T")

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


@click.command()
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


@click.command()
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


@click.command()
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
