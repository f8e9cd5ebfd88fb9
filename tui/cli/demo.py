"""`shopfloor demo`: the demo plant (built once, kept between runs) with simulated
scanners on real ptys feeding a listener, opened in the app."""

from __future__ import annotations

from pathlib import Path

import click

from db.schema import init_db
from tui.cli.output import open_db


@click.command()
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
