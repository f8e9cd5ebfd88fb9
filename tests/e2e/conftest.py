"""What the end-to-end tests share: ptys a test types into as a scanner would, the
`shopfloor listen` processes it starts and kills, the demo plant file they work on, and
the record read back from outside as a screen or a script would.

Every process a fixture starts is stopped or killed at teardown; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tty
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from db.connection import connect
from db.demo import create_demo_db
from db.pipeline import process_scan
from tests.conftest import wait_for
from tests.e2e.terminal import SHOPFLOOR as INSTALLED_SHOPFLOOR
from tests.e2e.terminal import Terminal
from tests.serial_devices import Pty
from tui.cli import cli

# The same interpreter and the installed project, whatever venv runs the tests.
SHOPFLOOR = [sys.executable, "-c", "from tui.cli import main; main()"]
POWDER_GTIN14 = "09506000000114"  # PWD-7035, lot-tracked


# ---------------------------------------------------------------- the scanner side


@pytest.fixture
def ptys() -> Iterator[Callable[[], Pty]]:
    opened: list[Pty] = []

    def make() -> Pty:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no CR→LF, no line editing, before anyone opens it
        pty = Pty(master=master, slave=slave, path=os.ttyname(slave))
        opened.append(pty)
        return pty

    yield make
    for pty in opened:
        os.close(pty.master)
        os.close(pty.slave)


@pytest.fixture
def pty(ptys: Callable[[], Pty]) -> Pty:
    return ptys()


# ---------------------------------------------------------------- the listener process


class Listen:
    """One `shopfloor listen` process, started, stopped and killed by the test."""

    def __init__(self, db: Path, args: list[str], log: Path) -> None:
        self.argv = [*SHOPFLOOR, "listen", "--db", str(db), *args]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM, as a service manager stops it; returns the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no handler, no cleanup
        self.process.wait(10)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


ListenFactory = Callable[..., Listen]


@pytest.fixture
def listen(tmp_path: Path) -> Iterator[ListenFactory]:
    """Start listener processes; any still running at teardown is killed."""
    started: list[Listen] = []

    def start(db: Path, *args: str, name: str = "listen") -> Listen:
        listener = Listen(db, list(args), tmp_path / f"{name}-{len(started)}.log")
        started.append(listener)
        listener.start()
        return listener

    yield start
    for listener in started:
        if listener.alive():
            listener.kill()


# ---------------------------------------------------------------- the record, read from outside


class Floor:
    """The database another process writes, read the way a screen would."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.conn = connect(path)

    def close(self) -> None:
        self.conn.close()

    def scalar(self, sql: str, *params: Any) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def scanner(self, name: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM scanners WHERE name = ?", (name,)).fetchone()
        return None if row is None else dict(row)

    def connected(self, name: str) -> bool:
        row = self.scanner(name)
        return row is not None and row["connected"] == 1

    def journal(self, scanner: str | None = None) -> list[dict[str, Any]]:
        """Journal rows with their outcomes (status None while a row has none)."""
        where, params = ("WHERE j.scanner = ?", (scanner,)) if scanner else ("", ())
        rows = self.conn.execute(
            "SELECT j.id, j.time_ms, j.source, j.scanner, j.station, j.raw, j.raw_length, "
            "o.status, o.message FROM scan_journal j LEFT JOIN scan_outcomes o ON o.scan = j.id "
            f"{where} ORDER BY j.id",
            params,
        ).fetchall()
        return [dict(r) | {"raw": bytes(r["raw"])} for r in rows]

    def count(self, scanner: str | None = None) -> int:
        if scanner is None:
            return int(self.scalar("SELECT COUNT(*) FROM scan_journal"))
        return int(self.scalar("SELECT COUNT(*) FROM scan_journal WHERE scanner = ?", scanner))

    def wait_journal(self, scanner: str, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        wait_for(lambda: self.count(scanner) >= count, timeout, 0.02)
        return self.journal(scanner)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    create_demo_db(path).close()
    return path


@pytest.fixture
def floor(db_path: Path) -> Iterator[Floor]:
    reader = Floor(db_path)
    yield reader
    reader.close()


def shopfloor_json(db_path: Path, *args: str) -> Any:
    """A report command's --json output, as a script would read it."""
    result = CliRunner().invoke(cli, [args[0], "--db", str(db_path), "--json", *args[1:]])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def check_passes(db_path: Path) -> None:
    result = CliRunner().invoke(cli, ["check", "--db", str(db_path)])
    assert result.exit_code == 0, result.output


def sign_in(db_path: Path, station: str, badge: str) -> None:
    conn = connect(db_path)
    try:
        assert process_scan(conn, station, badge.encode()).status == "accepted"
    finally:
        conn.close()


def stock_map(rows: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], float]:
    return {(r["item"], r["location"], r["lot"]): r["qty"] for r in rows}


def stock_changes(
    before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> dict[tuple[str, str, str | None], float]:
    old, new = stock_map(before), stock_map(after)
    return {
        key: round(new.get(key, 0) - old.get(key, 0), 3)
        for key in old.keys() | new.keys()
        if new.get(key, 0) != old.get(key, 0)
    }


def start_and_wait_connected(
    listen: ListenFactory, floor: Floor, *args: str, names: tuple[str, ...]
) -> Listen:
    listener = listen(floor.path, *args)
    up = wait_for(lambda: all(floor.connected(n) for n in names), 15, 0.02)
    assert up, listener.output()
    return listener


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        raise AssertionError("these tests drive the real terminal app through tmux: install it")
    term = Terminal(tmp_path)
    yield term
    term.stop()


@pytest.fixture
def plant(tmp_path: Path) -> Path:
    """A demo plant made by the command line, as a person would make one."""
    path = tmp_path / "plant.db"
    subprocess.run(
        [INSTALLED_SHOPFLOOR, "init", "--demo", "--db", str(path)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return path
