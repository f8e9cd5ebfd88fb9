"""The services that come back: `listen` under systemd's notify protocol, read on a real
unix datagram socket as systemd would, and the units `shopfloor units` writes, checked
by `systemd-analyze verify`.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db.connection import connect
from db.notify import ServiceNotifier
from tests.e2e.conftest import SHOPFLOOR, Floor, ListenFactory, check_passes, sign_in
from tests.serial_devices import Pty

pytestmark = pytest.mark.timeout(60)


class NotifySocket:
    """systemd's end: a datagram socket the service writes `KEY=value` lines to."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))

    def next(self, timeout: float) -> tuple[float, dict[str, str]] | None:
        """The next message and when it came; None if none within `timeout`."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        except TimeoutError:
            return None
        fields = dict(line.split("=", 1) for line in data.decode().split("\n") if line)
        return time.monotonic(), fields

    def until(self, key: str, timeout: float) -> tuple[float, dict[str, str]]:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is not None and key in message[1]:
                return message
        raise AssertionError(f"no {key} within {timeout} s")

    def during(self, seconds: float) -> list[dict[str, str]]:
        """Every message that arrives in the next `seconds`."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            message = self.next(left)
            if message is not None:
                got.append(message[1])
        return got

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def notify_socket(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[NotifySocket]:
    """A NOTIFY_SOCKET with a 1 s watchdog, in the environment the listener inherits."""
    sock = NotifySocket(tmp_path / "notify.sock")
    monkeypatch.setenv("NOTIFY_SOCKET", str(sock.path))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    # A refused write is known in 0.3 s, not the default 15 s.
    monkeypatch.setenv("SHOPFLOOR_BUSY_TIMEOUT_MS", "300")
    yield sock
    sock.close()


def test_notify_sends_datagrams_to_a_path_and_to_an_abstract_socket(tmp_path: Path) -> None:
    at_path = NotifySocket(tmp_path / "n.sock")
    abstract = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"shopfloor-test-{time.monotonic_ns()}"
    abstract.bind("\0" + name)
    abstract.settimeout(2)
    try:
        by_path = ServiceNotifier({"NOTIFY_SOCKET": str(at_path.path), "WATCHDOG_USEC": "8000000"})
        assert by_path.ready("reading 2 of 2 scanner(s)")
        message = at_path.next(2)
        assert message is not None
        assert message[1] == {"READY": "1", "STATUS": "reading 2 of 2 scanner(s)"}
        assert by_path.ping_every_s == 4.0
        assert ServiceNotifier({"NOTIFY_SOCKET": "@" + name}).alive()
        assert abstract.recv(100) == b"WATCHDOG=1"
        # Not started by systemd, or a watchdog meant for another process: nothing sent.
        assert not ServiceNotifier({}).alive()
        assert ServiceNotifier({"WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"}).watchdog_s is None
        # A socket that went away is not the reader's problem.
        gone = ServiceNotifier({"NOTIFY_SOCKET": str(tmp_path / "gone.sock")})
        assert gone.alive() is False
    finally:
        at_path.close()
        abstract.close()


def test_listen_is_ready_once_its_scanners_are_open_and_pings_only_while_commits_succeed(
    listen: ListenFactory,
    floor: Floor,
    db_path: Path,
    ptys: Callable[[], Pty],
    notify_socket: NotifySocket,
) -> None:
    stores, cut = ptys(), ptys()
    listener = listen(
        db_path, "--scanner", f"STORES={stores.path}", "--scanner", f"CUT-1={cut.path}"
    )
    _, ready = notify_socket.until("READY", 15)
    # Ready means read: both scanners were opened and recorded before the word came.
    assert floor.connected("STORES-1") and floor.connected("CUT-1-2"), listener.output()
    assert ready["STATUS"] == "reading 2 of 2 scanner(s)"

    # The watchdog is fed every half second while the heartbeat commits.
    pings = [m for m in notify_socket.during(2.0) if "WATCHDOG" in m]
    assert len(pings) >= 3, pings

    # Another program holds the write lock: the listener's commits fail, the pings stop
    # (systemd would restart it after WatchdogSec), and come back once it is released.
    holder = connect(db_path)
    holder.execute("BEGIN IMMEDIATE")
    notify_socket.during(0.8)  # a heartbeat that committed just before the lock
    silent = [m for m in notify_socket.during(2.5) if "WATCHDOG" in m]
    holder.execute("ROLLBACK")
    holder.close()
    assert silent == [], "the watchdog was fed while no commit succeeded"
    notify_socket.until("WATCHDOG", 3)

    sign_in(db_path, "STORES", "B1001")
    stores.write(b"CMD:MODE:RECEIVE\r\n")
    assert floor.wait_journal("STORES-1", 1)
    assert listener.stop() == 0
    check_passes(db_path)


def test_listen_is_ready_with_a_missing_scanner_and_says_which(
    listen: ListenFactory, db_path: Path, pty: Pty, notify_socket: NotifySocket, tmp_path: Path
) -> None:
    # One unplugged scanner must not keep the others' reader from starting.
    missing = tmp_path / "no-such-scanner"
    listener = listen(db_path, "--scanner", f"STORES={pty.path}", "--scanner", f"CUT-1={missing}")
    _, ready = notify_socket.until("READY", 15)
    assert ready["STATUS"] == "reading 1 of 2 scanner(s); not there yet: CUT-1-2"
    assert listener.stop() == 0


def test_units_verify_and_say_what_a_plant_relies_on(db_path: Path, tmp_path: Path) -> None:
    out = tmp_path / "units"
    made = subprocess.run(
        [*SHOPFLOOR, "units", "--db", str(db_path), "--out", str(out), "--station", "CUT-1",
         "--host", "0.0.0.0"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    listen_unit = (out / "shopfloor-listen.service").read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "NotifyAccess=main"):
        assert f"\n{line}\n" in listen_unit
    serve_unit = (out / "shopfloor-serve.service").read_text()
    assert "--host 0.0.0.0" in serve_unit and "--passwords /etc/shopfloor/office.passwords" in (
        serve_unit
    ), serve_unit
    assert "--autologin shopfloor" in (out / "shopfloor-kiosk-getty@.service").read_text()
    shell = out / "shopfloor-kiosk-shell"
    assert shell.stat().st_mode & 0o111
    assert "--kiosk --station CUT-1" in shell.read_text()
    assert f"SHOPFLOOR_DB={db_path}" in listen_unit

    analyze = require_tool("systemd-analyze")
    # Verified as the instance a plant enables: shopfloor-kiosk-getty@tty2.
    (out / "shopfloor-kiosk-getty@tty2.service").symlink_to(out / "shopfloor-kiosk-getty@.service")
    for unit in ("shopfloor-listen.service", "shopfloor-serve.service",
                 "shopfloor-kiosk-getty@tty2.service"):  # fmt: skip
        verified = subprocess.run(
            [analyze, "verify", str(out / unit)], capture_output=True, text=True, timeout=60
        )
        assert (verified.returncode, verified.stderr) == (0, ""), (unit, verified.stderr)
    # The check can fail: a unit with a typo is refused.
    broken = out / "broken.service"
    broken.write_text(listen_unit.replace("Type=notify", "Type=notfy").replace(
        str(Path(SHOPFLOOR[0]).parent / "shopfloor"), "/nonexistent/shopfloor"))  # fmt: skip
    refused = subprocess.run(
        [analyze, "verify", str(broken)], capture_output=True, text=True, timeout=60
    )
    assert refused.returncode != 0 and "notfy" in refused.stderr, refused.stderr


def require_tool(name: str) -> str:
    """systemd-analyze comes with systemd, which .ci/run installs: never a silent skip."""
    import shutil

    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"{name} is not installed: install systemd to verify the units")
    return path
