"""Fixtures the test modules share: a demo plant frozen in time, a steady terminal, and
serial devices that vanish and return (tests/serial_devices.py).

The demo plant draws its due dates from today and stamps its history from now, so
`demo_db` builds it as if it were `BUILT_MS` (2026-11-18 11:00 UTC): screens given
the same clock show the same words on any day, and snapshots hold. Local time is
UTC in every test, and the input cursor does not blink, for the same reason.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

import db.demo
from db.connection import clock
from db.demo import create_demo_db

# Fixtures kept beside their helpers: the printer's raw port, played by a TCP sink the
# label tests own; the socat and ser2net devices the device tests unplug and replug.
pytest_plugins = ["tests.label_reading", "tests.serial_devices"]

if TYPE_CHECKING:
    from tui.app import ShopfloorApp
    from tui.screens.order import OrderScreen

BUILT_MS = int(datetime(2026, 11, 18, 11, tzinfo=UTC).timestamp() * 1000)
TODAY = date(2026, 11, 18)


class _FrozenDate(date):
    """`date` whose today() is the plant's frozen day."""

    @classmethod
    def today(cls) -> _FrozenDate:
        return cls(TODAY.year, TODAY.month, TODAY.day)


class MovingClock:
    """The record's clock (db.connection.clock), moved on by the test."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def later(self, minutes: float) -> None:
        self.now += int(minutes * 60_000)


@pytest.fixture
def moments() -> Iterator[MovingClock]:
    """The record's clock an hour after the demo was built, moved by `later(minutes)`."""
    time = MovingClock(BUILT_MS + 3_600_000)
    with clock(time):
        yield time


def fixed_now() -> int:
    return BUILT_MS


@pytest.fixture(autouse=True)
def utc() -> Iterator[None]:
    """Local time is UTC in tests: clock times on screen do not depend on the host."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TZ", "UTC")
        time.tzset()
        yield
    time.tzset()


@pytest.fixture(autouse=True)
def steady_cursor() -> Iterator[None]:
    """The input cursor stays lit: a blink would make screenshots differ by timing."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("textual.widgets._input.Input._toggle_cursor", lambda self: None)
        yield


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo plant built once per run, as of `BUILT_MS`; tests get copies."""
    path = tmp_path_factory.mktemp("demo") / "plant.db"
    with pytest.MonkeyPatch.context() as patch, clock(fixed_now):
        patch.setattr(db.demo, "date", _FrozenDate)
        conn = create_demo_db(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return path


@pytest.fixture
def demo_db(tmp_path: Path, demo_template: Path) -> str:
    """A fresh demo database file for one test (a copy of the session's template)."""
    path = tmp_path / "plant.db"
    shutil.copy(demo_template, path)
    path.chmod(0o600)
    return str(path)


def make_app(db_path: str, **options: Any) -> ShopfloorApp:
    """The real app on `db_path`, its clock fixed to the tests' day unless `options` say
    otherwise (`now_ms=None` for the wall clock, `live=False` for no watcher, ...)."""
    from tui.app import create_app

    settings: dict[str, Any] = {"now_ms": fixed_now, "today": TODAY}
    settings.update(options)
    if settings["now_ms"] is None:
        del settings["now_ms"]
    return create_app(db_path, **settings)


async def settle(pilot: Pilot[Any]) -> None:
    """Let reads in thread workers finish and their results reach the screen."""
    for _ in range(3):
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:
            pass  # a newer reload (another commit landed) replaced it: wait for that one
        await pilot.pause()


async def open_order(pilot: Pilot[Any], number: str) -> OrderScreen:
    """Open work order `number`'s screen in the app and wait for its first read."""
    from tui.app import ShopfloorApp
    from tui.screens.order import OrderScreen

    app = pilot.app
    assert isinstance(app, ShopfloorApp)
    await app.open_order(number)
    await settle(pilot)
    screen = app.screen
    assert isinstance(screen, OrderScreen)
    return screen


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.01) -> bool:
    """Poll `condition` until it holds or `timeout` seconds pass; its last answer.

    For threads and processes; a Pilot test waits with `wait_until`, which lets the app run.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


async def wait_until(pilot: Pilot[Any], check: Callable[[], bool], seconds: float = 5.0) -> None:
    """Pause until `check()` holds; fail after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {seconds} s: {check.__doc__ or check}")
        await pilot.pause(0.02)
