"""A kiosk that stays up: every screen through terminal sizes from 60x20 to 200x60 while
scans arrive, the Devices table that crashed when the terminal narrowed, and the app
coming back to the station, locked, after an unexpected error instead of exiting.

Real parts throughout: the demo plant's SQLite file, scans committed by another
connection through the scan pipeline, the app driven by Pilot; the kiosk restart runs
the same `run_kiosk` the command line runs, headless, and then the command's own entry
point in a real terminal (tmux), with a screen broken by the test.
"""

from __future__ import annotations

import random
import shlex
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from db.connection import connect
from db.demo import scan_script
from db.pipeline import ScanInput, process_batch
from db.scanners import record_scanner
from tests.conftest import make_app, settle, wait_until
from tests.e2e.terminal import SHOPFLOOR, Terminal
from tui.app import ShopfloorApp, crash_log_path, run_kiosk
from tui.dialogs import SupervisorDialog
from tui.screens.devices import DevicesScreen
from tui.screens.order import OrderScreen
from tui.screens.scan import ScanScreen

pytestmark = pytest.mark.timeout(120)

# From the smallest terminal a kiosk may have to the largest, up and down, so every
# breakpoint (the screens change columns at 100 and 120) is crossed both ways.
SIZES = [(160, 48), (80, 24), (60, 20), (120, 40), (200, 60), (100, 30), (60, 20), (200, 60)]
SCREENS = ("board", "order", "scan", "stock", "stages", "inbox", "devices", "shortages",
           "schedule")  # fmt: skip


class LiveFloor:
    """Another process's worth of commits: the demo's plausible scans, and a scanner whose
    link comes and goes, every few tens of milliseconds until stopped (at most 2,000)."""

    def __init__(self, db_path: str) -> None:
        self.db_path = db_path
        self.committed = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="live-floor", daemon=True)

    def _run(self) -> None:
        conn = connect(self.db_path)
        script = scan_script(conn, random.Random(9))
        try:
            for n in range(2_000):
                if self._stop.wait(0.03):
                    return
                station, barcode = next(script)
                process_batch(
                    conn, [ScanInput(station=station, raw=barcode.encode(), source="serial")]
                )
                record_scanner(
                    conn,
                    f"{station}-A",
                    station=station,
                    url=f"rfc2217://10.0.4.{n % 50}:4001",
                    connected=n % 3 != 0,
                    error="port vanished" if n % 3 == 0 else None,
                )
                self.committed += 1
        finally:
            conn.close()

    def __enter__(self) -> LiveFloor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture
def live(demo_db: str) -> Iterator[LiveFloor]:
    with LiveFloor(demo_db) as floor:
        yield floor


async def show(pilot: Pilot[Any], app: ShopfloorApp, screen: str) -> None:
    if screen == "order":
        number = (
            sqlite3.connect(app.db_path)
            .execute("SELECT number FROM work_orders WHERE status = 'in_progress' LIMIT 1")
            .fetchone()[0]
        )
        await app.open_order(number)
        await wait_until(pilot, lambda: isinstance(app.screen, OrderScreen))
    else:
        await app._switch(screen)
    await settle(pilot)
    if screen == "stock":
        # An item with a long history: the movement table changes columns at 120.
        show_code = app.screen.show_code  # type: ignore[attr-defined]
        show_code("WW-08")
        await settle(pilot)


async def test_devices_survive_the_terminal_narrowing(demo_db: str) -> None:
    """Found: Devices open, 160 → 80 columns: IndexError in the column fitting, app gone."""
    conn = connect(demo_db)
    record_scanner(conn, "CUT-1-A", station="CUT-1", url="/dev/ttyACM0", connected=True)
    conn.close()
    app = make_app(demo_db, now_ms=None)
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("f6")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DevicesScreen)
        assert "url" in screen.table.column_keys
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        assert app.is_running and app.return_code is None
        assert "url" not in screen.table.column_keys
        assert screen.table.cells_of("CUT-1-A")[:2] == ["CUT-1-A", "CUT-1"]
        await pilot.resize_terminal(160, 48)
        await settle(pilot)
        assert screen.table.cells_of("CUT-1-A")[2] == "/dev/ttyACM0"


@pytest.mark.parametrize("screen", SCREENS)
async def test_every_screen_through_every_size_while_scans_arrive(
    demo_db: str, live: LiveFloor, screen: str
) -> None:
    app = make_app(demo_db, now_ms=None, station="CUT-1")
    async with app.run_test(size=SIZES[0]) as pilot:
        await show(pilot, app, screen)
        shown = app.screen
        before = live.committed
        for width, height in SIZES:
            await pilot.resize_terminal(width, height)
            await pilot.pause(0.15)  # reloads for the commits meanwhile land on this size
            assert app.is_running and app.return_code is None, (screen, width, height)
            assert app.screen is shown
            assert app.screen.size.width == width
        await settle(pilot)
        assert app.is_running and app.return_code is None
    assert live.committed > before, "no scan arrived while the sizes changed"


# ---------------------------------------------------------------- kiosk restart


async def _unlock_to_devices(pilot: Pilot[Any], app: ShopfloorApp) -> None:
    await settle(pilot)
    assert isinstance(app.screen, ScanScreen)
    await pilot.press("f6")
    assert isinstance(app.screen, SupervisorDialog)
    await pilot.press(*"B3001", "enter")
    await wait_until(pilot, lambda: isinstance(app.screen, DevicesScreen))


def test_a_kiosk_crash_restarts_at_the_station_locked(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A screen that fails comes back as the station screen, locked; the error is logged."""
    conn = connect(demo_db)
    record_scanner(conn, "CUT-1-A", station="CUT-1", url="/dev/ttyACM0", connected=True)
    conn.close()

    def broken_draw(self: DevicesScreen) -> None:
        raise RuntimeError("the devices screen fell over")

    # The fault lives in the real screen, inside the real app run, for this test only.
    monkeypatch.setattr(DevicesScreen, "redraw", broken_draw)
    runs: list[ShopfloorApp] = []
    seen: dict[str, object] = {}

    async def first_run(pilot: Pilot[Any]) -> None:
        await _unlock_to_devices(pilot, pilot.app)  # type: ignore[arg-type]
        # The draw raised: the app is on its way out, and run_kiosk starts it again.

    async def second_run(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, ShopfloorApp)
        await settle(pilot)
        seen["screen"] = type(app.screen)
        seen["station"] = getattr(app.screen, "station", None)
        await pilot.press("f1")  # locked again: another screen asks for a supervisor
        seen["asks"] = isinstance(app.screen, SupervisorDialog)
        app.exit()  # the test's way out; a person's is Ctrl+Q and a supervisor badge

    pilots = iter([first_run, second_run])

    def make() -> ShopfloorApp:
        app = make_app(demo_db, now_ms=None, station="CUT-1", kiosk=True)
        runs.append(app)
        return app

    def run(app: ShopfloorApp) -> None:
        app.run(headless=True, size=(100, 30), auto_pilot=next(pilots))

    status = run_kiosk(make, log_path=crash_log_path(demo_db), run=run)
    assert status == 0
    assert len(runs) == 2
    assert seen == {"screen": ScanScreen, "station": "CUT-1", "asks": True}
    log = Path(crash_log_path(demo_db)).read_text()
    assert "RuntimeError: the devices screen fell over" in log
    assert "restarted" in log


def test_a_kiosk_that_keeps_failing_gives_up_non_zero(
    demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fault on every start is not retried for ever: the kiosk exits non-zero, logged."""

    def broken_mount(self: ScanScreen) -> None:
        raise RuntimeError("the station screen cannot start")

    monkeypatch.setattr(ScanScreen, "on_mount", broken_mount)
    runs: list[ShopfloorApp] = []

    def make() -> ShopfloorApp:
        app = make_app(demo_db, now_ms=None, station="CUT-1", kiosk=True)
        runs.append(app)
        return app

    def run(app: ShopfloorApp) -> None:
        app.run(headless=True, size=(100, 30))

    started = time.monotonic()
    status = run_kiosk(make, log_path=crash_log_path(demo_db), run=run)
    assert status != 0
    assert 2 <= len(runs) <= 10
    assert time.monotonic() - started < 60
    log = Path(crash_log_path(demo_db)).read_text()
    assert log.count("RuntimeError: the station screen cannot start") == len(runs)
    assert "giving up" in log


# ---------------------------------------------------------------- in a real terminal

# The real command's entry point with one screen broken, for this test only: the
# Devices screen fails as soon as it draws.
BROKEN_DEVICES = """
import sys
from tui.screens.devices import DevicesScreen
def broken_draw(self):
    raise RuntimeError("the devices screen fell over")
DevicesScreen.redraw = broken_draw
from tui.cli import main
sys.argv = ["shopfloor", *sys.argv[1:]]
main()
"""


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A private tmux server (tests/e2e/test_tmux.py), killed afterwards."""
    term = Terminal(tmp_path)
    yield term
    term.stop()


def test_a_kiosk_in_a_terminal_comes_back_instead_of_a_shell(
    terminal: Terminal, tmp_path: Path
) -> None:
    db = tmp_path / "plant.db"
    subprocess.run(
        [SHOPFLOOR, "init", "--demo", "--db", str(db)], check=True, capture_output=True, timeout=60
    )
    command = shlex.join(
        ["env", "TERM=xterm-256color", sys.executable, "-c", BROKEN_DEVICES,
         "--db", str(db), "--kiosk", "--station", "CUT-1"]
    )  # fmt: skip
    status = shlex.quote(str(terminal.status_file))
    terminal.tmux(
        "new-session", "-d", "-s", terminal.session, "-x", "120", "-y", "40",
        f"{command}; echo $? > {status}; exec sh",
    )  # fmt: skip
    terminal.wait_text("SCAN · CUT-1", "Scan your badge to sign in")
    terminal.keys("F6")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.scan("B3001")  # unlocks; Devices opens and falls over
    log = crash_log_path(db)
    deadline = time.monotonic() + 15
    while not (log.exists() and "restarted" in log.read_text()):
        assert time.monotonic() < deadline, f"no crash logged\n{terminal.screen()}"
        time.sleep(0.05)
    assert "RuntimeError: the devices screen fell over" in log.read_text()
    terminal.wait_text("SCAN · CUT-1", "Scan your badge to sign in")
    assert terminal.exit_status() is None, "the kiosk process ended"

    # The next badge goes to the station, not to a shell; and the kiosk is locked again.
    terminal.scan("B2001")
    terminal.wait_text("Kemal Aydin")
    conn = sqlite3.connect(db)
    signed_in = conn.execute(
        "SELECT COUNT(*) FROM scan_journal WHERE station = 'CUT-1' AND raw = CAST('B2001' AS BLOB)"
    ).fetchone()[0]
    conn.close()
    assert signed_in == 1
    terminal.keys("F6")
    terminal.wait_text("Kiosk: supervisor badge")
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "Kiosk: supervisor badge" not in s, "the badge dialog closed")
    terminal.keys("C-q")
    terminal.wait_text("Kiosk: supervisor badge", "To close this kiosk")
    terminal.scan("B3001")
    assert terminal.wait_exit() == 0


def test_a_crash_outside_a_kiosk_exits_non_zero_with_one_line(
    terminal: Terminal, tmp_path: Path
) -> None:
    """Found: the app exited 0 after the Devices crash. Now: 1, one line, the log named."""
    db = tmp_path / "plant.db"
    subprocess.run(
        [SHOPFLOOR, "init", "--demo", "--db", str(db)], check=True, capture_output=True, timeout=60
    )
    command = shlex.join(
        ["env", "TERM=xterm-256color", sys.executable, "-c", BROKEN_DEVICES, "--db", str(db)]
    )
    status = shlex.quote(str(terminal.status_file))
    terminal.tmux(
        "new-session", "-d", "-s", terminal.session, "-x", "120", "-y", "40",
        f"{command}; echo $? > {status}",
        ";", "set-option", "-t", terminal.session, "remain-on-exit", "on",
    )  # fmt: skip
    terminal.wait_text("Board")
    terminal.keys("F6")
    assert terminal.wait_exit() == 1
    # With the lines the terminal scrolled away, wrapped lines joined.
    screen = terminal.tmux("capture-pane", "-p", "-J", "-S", "-200", "-t", terminal.session)
    assert "Traceback" not in screen, screen
    said = [line.strip() for line in screen.splitlines() if "unexpected error" in line]
    assert said == [
        "Error: shopfloor stopped on an unexpected error (RuntimeError: the devices screen "
        f"fell over); the details are in {crash_log_path(db)}"
    ], screen
    assert "RuntimeError: the devices screen fell over" in crash_log_path(db).read_text()
