"""Serial devices that come and go, for the device tests: a socat pty pair whose
scanner end vanishes and returns, and ser2net serving it over RFC 2217 on 127.0.0.1.

Shared by the reader tests and the listener fault tests, so both unplug the same way.
"""

from __future__ import annotations

import array
import fcntl
import os
import shutil
import socket
import subprocess
import termios
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import wait_for


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; these tests drive it for real (.ci/run installs it)")
    return path


@dataclass
class Pty:
    """A pty pair: the reader or listener opens `path` (the slave); the test writes the master."""

    master: int
    slave: int
    path: str

    def unread(self) -> int:
        """Bytes waiting in the device for the reader to take."""
        count = array.array("i", [0])
        fcntl.ioctl(self.slave, termios.FIONREAD, count)
        return count[0]

    def write(self, data: bytes, timeout: float = 20.0) -> None:
        """Write everything, from a helper thread: a full pty blocks until it is read."""
        failure: list[BaseException] = []

        def write_all() -> None:
            view = memoryview(data)
            try:
                while view:
                    view = view[os.write(self.master, view) :]
            except OSError as exc:
                failure.append(exc)

        writer = threading.Thread(target=write_all, daemon=True)
        writer.start()
        writer.join(timeout)
        assert not writer.is_alive(), f"writing {len(data)} bytes took over {timeout} s"
        assert not failure, failure


class Tool:
    """An external process a test starts and stops, possibly several times."""

    def __init__(self, argv: list[str], log: Path) -> None:
        self.argv = argv
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def tools() -> Iterator[Callable[[list[str], Path], Tool]]:
    started: list[Tool] = []

    def make(argv: list[str], log: Path) -> Tool:
        tool = Tool(argv, log)
        started.append(tool)
        return tool

    yield make
    for tool in reversed(started):
        tool.stop()


@dataclass
class VirtualCable:
    """A socat pty pair: the scanner end the reader opens, the feeder end the test writes."""

    socat: Tool
    scanner: Path
    feeder: Path

    def plug_in(self) -> None:
        self.socat.start()
        up = wait_for(lambda: self.scanner.exists() and self.feeder.exists(), 5)
        assert up, self.socat.log.read_text()

    def unplug(self) -> None:
        self.socat.stop()
        assert wait_for(lambda: not self.scanner.exists(), 5), "socat left its link behind"

    def send(self, data: bytes) -> None:
        fd = os.open(self.feeder, os.O_WRONLY | os.O_NOCTTY)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)


@pytest.fixture
def cable(tmp_path: Path, tools: Callable[[list[str], Path], Tool]) -> VirtualCable:
    socat = require_tool("socat")
    scanner, feeder = tmp_path / "scanner", tmp_path / "feeder"
    argv = [
        socat,
        "-d",
        "-d",
        f"pty,raw,echo=0,link={scanner}",
        f"pty,raw,echo=0,link={feeder}",
    ]
    return VirtualCable(tools(argv, tmp_path / "socat.log"), scanner, feeder)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def is_listening(port: int) -> bool:
    """From /proc/net/tcp, so that checking does not itself open a session on ser2net."""
    wanted = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as table:
        return any(
            fields[1] == wanted and fields[3] == "0A"  # 0A: LISTEN
            for fields in (row.split() for row in table.readlines()[1:])
        )


@dataclass
class DeviceServer:
    """ser2net sharing the cable's scanner end over RFC 2217 on a local TCP port."""

    ser2net: Tool
    port: int

    @property
    def url(self) -> str:
        # A pty has no modem lines, so ser2net never acknowledges DTR/RTS; pyserial
        # would otherwise wait for that answer and give up.
        return f"rfc2217://127.0.0.1:{self.port}?ign_set_control"

    def start(self) -> None:
        self.ser2net.start()
        up = wait_for(lambda: is_listening(self.port), 5)
        assert up, self.ser2net.log.read_text()

    def stop(self) -> None:
        self.ser2net.stop()


@pytest.fixture
def device_server(
    tmp_path: Path, cable: VirtualCable, tools: Callable[[list[str], Path], Tool]
) -> DeviceServer:
    ser2net = require_tool("ser2net")
    port = free_tcp_port()
    config = tmp_path / "ser2net.yaml"
    config.write_text(
        "%YAML 1.1\n"
        "---\n"
        "connection: &scanner\n"
        f"    accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n"
        "    enable: on\n"
        "    options:\n"
        "      kickolduser: true\n"
        f"    connector: serialdev,{cable.scanner},9600n81,local\n"
    )
    # -n -d: stay in the foreground, log to stdout; -u: no UUCP lock files in /var/lock.
    argv = [ser2net, "-n", "-d", "-u", "-c", str(config), "-P", str(tmp_path / "ser2net.pid")]
    return DeviceServer(tools(argv, tmp_path / "ser2net.log"), port)


Cable = VirtualCable
