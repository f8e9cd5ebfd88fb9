"""The scanner reader against real transports: ptys, socat, ser2net RFC 2217, loop://.

Nothing serial is mocked. socat and ser2net must be installed (CI installs them); a
missing tool fails the test rather than skipping it. External processes are stopped
by their fixtures, and every wait is bounded in time.
"""

from __future__ import annotations

import os
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import serial

from devices.framing import LineFramer, Terminator
from devices.ports import PortInfo, find_port, list_scanner_ports
from devices.reader import LineRead, LinkChanged, ScannerConfig, ScannerReader
from tests.conftest import wait_for
from tests.serial_devices import DeviceServer, Pty, VirtualCable

MB = 1_048_576


@dataclass
class Received:
    """What a reader handed over, collected across its thread and the test's."""

    batches: list[list[LineRead]] = field(default_factory=list)
    states: list[LinkChanged] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def on_lines(self, lines: list[LineRead]) -> None:
        with self.lock:
            self.batches.append(list(lines))

    def on_state(self, state: LinkChanged) -> None:
        with self.lock:
            self.states.append(state)

    @property
    def lines(self) -> list[LineRead]:
        with self.lock:
            return [line for batch in self.batches for line in batch]

    @property
    def raws(self) -> list[bytes]:
        return [line.raw for line in self.lines]

    @property
    def last_state(self) -> LinkChanged | None:
        with self.lock:
            return self.states[-1] if self.states else None

    def is_connected(self) -> bool:
        state = self.last_state
        return state is not None and state.connected

    def is_lost(self) -> bool:
        state = self.last_state
        return state is not None and not state.connected and state.error is not None

    def wait_lines(self, count: int, timeout: float = 5.0) -> list[bytes]:
        wait_for(lambda: len(self.lines) >= count, timeout)
        return self.raws


ReaderFactory = Callable[..., tuple[ScannerReader, Received]]


@pytest.fixture
def start_reader() -> Iterator[ReaderFactory]:
    """Start readers for a test; every one is stopped at teardown."""
    readers: list[ScannerReader] = []

    def start(url: str, **options: Any) -> tuple[ScannerReader, Received]:
        received = Received()
        config = ScannerConfig(name="stores-1", url=url, station="STORES", **options)
        reader = ScannerReader(config, received.on_lines, received.on_state)
        readers.append(reader)
        reader.start()
        return reader, received

    yield start
    for reader in readers:
        reader.stop()


@pytest.fixture
def pty() -> Iterator[Pty]:
    master, slave = os.openpty()
    try:
        yield Pty(master=master, slave=slave, path=os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)


def connected_reader_on(pty: Pty, start_reader: ReaderFactory, **options: Any) -> Received:
    # The pty is in cooked mode (echo, CR to LF) until the reader sets it raw on open.
    reader, received = start_reader(pty.path, **options)
    assert wait_for(received.is_connected, 5), received.states
    return received


# Line framing on a pty.


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("terminator", "sent"),
    [
        ("CR", b"WO-1001\rQTY:5\rLOT:A1\r"),
        ("LF", b"WO-1001\nQTY:5\nLOT:A1\n"),
        ("CRLF", b"WO-1001\r\nQTY:5\r\nLOT:A1\r\n"),
        ("auto", b"WO-1001\rQTY:5\nLOT:A1\r\n"),
        ("auto", b"WO-1001\r\n\r\nQTY:5\n\nLOT:A1\r"),
    ],
)
def test_terminators(
    pty: Pty, start_reader: ReaderFactory, terminator: Terminator, sent: bytes
) -> None:
    received = connected_reader_on(pty, start_reader, terminator=terminator)
    pty.write(sent)
    assert received.wait_lines(3) == [b"WO-1001", b"QTY:5", b"LOT:A1"]
    time.sleep(0.1)
    assert len(received.lines) == 3, "a CRLF or a blank line made an extra line"
    assert all(line.length == len(line.raw) for line in received.lines)
    assert all(line.scanner == "stores-1" for line in received.lines)


@pytest.mark.timeout(30)
def test_burst_of_5000_lines_arrives_whole_and_in_order(
    pty: Pty, start_reader: ReaderFactory
) -> None:
    received = connected_reader_on(pty, start_reader)
    sent = [f"WO-{n:05d}".encode() for n in range(5000)]
    pty.write(b"".join(line + b"\r\n" for line in sent))
    assert received.wait_lines(5000, timeout=15) == sent
    # Lines come in batches, one per read: that is what lets the record group-commit.
    assert len(received.batches) < len(sent)
    at = [line.at_ms for line in received.lines]
    assert at == sorted(at)


@pytest.mark.timeout(30)
def test_megabyte_line_without_terminator_is_cut_not_buffered(
    pty: Pty, start_reader: ReaderFactory
) -> None:
    received = connected_reader_on(pty, start_reader, max_line=4096)
    piece = b"X" * 65536
    tracemalloc.start()
    try:
        for _ in range(MB // len(piece)):
            pty.write(piece)
        pty.write(b"\r\nWO-1001\r\n")
        received.wait_lines(2, timeout=15)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines = received.lines
    assert [(line.raw, line.length) for line in lines] == [(b"X" * 4096, MB), (b"WO-1001", 7)]
    assert peak < MB // 2, f"reading a 1 MB line peaked at {peak} bytes"


@pytest.mark.timeout(30)
def test_noise_is_handed_over_raw(pty: Pty, start_reader: ReaderFactory) -> None:
    received = connected_reader_on(pty, start_reader)
    noise = bytes([0xFF, 0xFE, 0x00, 0x03, 0x11, 0x13, 0x1B, 0x7F, 0x80]) + b"caf\xc3"
    pty.write(noise + b"\r\n" + b"WO-1001\r\n")
    assert received.wait_lines(2) == [noise, b"WO-1001"]


@pytest.mark.timeout(30)
def test_a_failing_receiver_is_reported_and_reading_goes_on(
    pty: Pty, start_reader: ReaderFactory
) -> None:
    received = Received()
    calls = 0

    def fail_first(lines: list[LineRead]) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database is locked")
        received.on_lines(lines)

    config = ScannerConfig(name="stores-1", url=pty.path, station="STORES")
    reader = ScannerReader(config, fail_first, received.on_state)
    reader.start()
    try:
        assert wait_for(received.is_connected, 5)
        pty.write(b"WO-1\r\n")
        assert wait_for(lambda: calls == 1, 5)
        pty.write(b"WO-2\r\n")
        assert received.wait_lines(1) == [b"WO-2"]
        errors = [state.error for state in received.states if state.error]
        assert any("database is locked" in error for error in errors), received.states
        assert received.last_state is not None and received.last_state.error is None
        assert reader.connected
    finally:
        reader.stop()


@pytest.mark.timeout(30)
def test_lines_stay_in_the_device_until_the_receiver_returns(pty: Pty) -> None:
    # What makes a kill -9 of the receiver lose nothing it has not been handed.
    received = Received()
    release = threading.Event()
    first_call = threading.Event()

    def slow_receiver(lines: list[LineRead]) -> None:
        first_call.set()
        assert release.wait(10)
        received.on_lines(lines)

    config = ScannerConfig(name="stores-1", url=pty.path, station="STORES")
    reader = ScannerReader(config, slow_receiver, received.on_state)
    reader.start()
    try:
        assert wait_for(received.is_connected, 5)
        pty.write(b"WO-1\r\n")
        assert first_call.wait(5)
        pty.write(b"WO-2\r\nQTY:4\r\n")
        time.sleep(0.2)
        assert pty.unread() == len(b"WO-2\r\nQTY:4\r\n")
        release.set()
        assert received.wait_lines(3) == [b"WO-1", b"WO-2", b"QTY:4"]
        assert pty.unread() == 0
    finally:
        release.set()
        reader.stop()


@pytest.mark.timeout(30)
def test_port_is_held_exclusively_and_released_on_stop(
    pty: Pty, start_reader: ReaderFactory
) -> None:
    reader, received = start_reader(pty.path)
    assert wait_for(received.is_connected, 5)
    with pytest.raises(serial.SerialException):
        serial.Serial(pty.path, exclusive=True).close()
    started = time.monotonic()
    reader.stop()
    assert time.monotonic() - started < 1.0
    assert not reader.connected
    last = received.last_state
    assert last is not None and (last.connected, last.error) == (False, None)
    serial.Serial(pty.path, exclusive=True).close()


@pytest.mark.timeout(30)
def test_reader_can_be_started_again_after_stop(pty: Pty, start_reader: ReaderFactory) -> None:
    reader, received = start_reader(pty.path)
    assert wait_for(received.is_connected, 5)
    with pytest.raises(RuntimeError, match="already being read"):
        reader.start()
    reader.stop()
    reader.start()
    assert wait_for(received.is_connected, 5)
    pty.write(b"WO-1\r\n")
    assert received.wait_lines(1) == [b"WO-1"]


# Framing as a unit, through pyserial's loop:// transport.


def frame_through_loop(
    data: bytes, cut_every: int, terminator: Terminator = "auto", max_line: int = 4096
) -> list[tuple[bytes, int]]:
    port = serial.serial_for_url("loop://", timeout=0.05)
    framer = LineFramer(terminator, max_line)
    lines: list[tuple[bytes, int]] = []
    try:
        port.write(data)
        for _ in range(len(data) // cut_every + 1):
            lines += framer.feed(port.read(cut_every))
    finally:
        port.close()
    return lines


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cut_every", [1, 2, 3, 7, 64, 4096])
def test_framing_does_not_depend_on_where_reads_cut(cut_every: int) -> None:
    data = b"WO-1001\r\nQTY:5\rLOT:A1\n\r\n\nRM-STEEL-01\r\n" + b"Y" * 100 + b"\r\n"
    assert frame_through_loop(data, cut_every, max_line=10) == [
        (b"WO-1001", 7),
        (b"QTY:5", 5),
        (b"LOT:A1", 6),
        (b"RM-STEEL-01"[:10], 11),
        (b"Y" * 10, 100),
    ]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("cut_every", [1, 4, 5, 100])
def test_crlf_mode_keeps_a_lone_cr_and_joins_a_split_crlf(cut_every: int) -> None:
    data = b"WO-1\r\nA\rB\r\n\r\nQTY:2\r\n"
    assert frame_through_loop(data, cut_every, terminator="CRLF") == [
        (b"WO-1", 4),
        (b"A\rB", 3),
        (b"QTY:2", 5),
    ]


@pytest.mark.timeout(30)
def test_cr_and_lf_modes_split_only_on_their_own_byte() -> None:
    data = b"A\nB\rC\r"
    assert frame_through_loop(data, 2, terminator="CR") == [(b"A\nB", 3), (b"C", 1)]
    assert frame_through_loop(data + b"\n", 2, terminator="LF") == [(b"A", 1), (b"B\rC\r", 4)]


@pytest.mark.timeout(30)
def test_framer_holds_at_most_max_line_of_an_unfinished_line() -> None:
    framer = LineFramer("auto", max_line=64)
    for _ in range(1000):
        assert framer.feed(b"Z" * 1000) == []
        assert framer.buffered <= 64
    assert framer.feed(b"\n") == [(b"Z" * 64, 1_000_000)]
    framer.feed(b"partial")
    framer.drop_partial()
    assert framer.feed(b"WO-1\n") == [(b"WO-1", 4)]


@pytest.mark.timeout(30)
def test_reader_runs_on_loop_transport(start_reader: ReaderFactory) -> None:
    reader, received = start_reader("loop://")
    assert wait_for(received.is_connected, 5)
    reader.stop()
    assert received.last_state is not None and not received.last_state.connected


def test_bad_config_is_refused_at_once() -> None:
    with pytest.raises(ValueError, match="terminator"):
        ScannerConfig(name="s", url="loop://", station="X", terminator="ETX")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_line"):
        ScannerConfig(name="s", url="loop://", station="X", max_line=0)


# Ports by USB id.


def test_port_listing_and_lookup() -> None:
    ports = list_scanner_ports()
    assert all(isinstance(port, PortInfo) for port in ports)
    assert [port.device for port in ports] == sorted(port.device for port in ports)
    assert find_port(0xFFFF, 0xFFFE, "no-such-scanner") is None


@pytest.mark.timeout(30)
def test_scanner_by_usb_id_that_is_not_plugged_in(start_reader: ReaderFactory) -> None:
    _, received = start_reader("/dev/unused", vid=0xFFFF, pid=0xFFFE, serial_number="SN-1")
    assert wait_for(lambda: received.last_state is not None, 5)
    assert received.last_state is not None
    assert received.last_state.error == (
        "no scanner with USB id ffff:fffe and serial number SN-1 is plugged in; retrying"
    )


# Devices that vanish and return: socat ptys, and ser2net serving RFC 2217.


@pytest.mark.timeout(30)
def test_vanishing_device_is_reported_and_read_again_when_it_returns(
    cable: VirtualCable, start_reader: ReaderFactory
) -> None:
    cable.plug_in()
    reader, received = start_reader(str(cable.scanner))
    assert wait_for(received.is_connected, 5), received.states
    cable.send(b"WO-1\r\n")
    assert received.wait_lines(1) == [b"WO-1"]

    cable.unplug()
    assert wait_for(received.is_lost, 3), received.states
    assert not reader.connected
    assert received.last_state is not None and received.last_state.error is not None
    assert "retrying" in received.last_state.error

    cable.plug_in()
    returned = time.monotonic()
    assert wait_for(received.is_connected, 3), received.states
    assert time.monotonic() - returned < 2.0
    cable.send(b"WO-2\r\n")
    assert received.wait_lines(2) == [b"WO-1", b"WO-2"]


@pytest.mark.timeout(40)
def test_rfc2217_link_drop_is_reported_and_resumed(
    cable: VirtualCable, device_server: DeviceServer, start_reader: ReaderFactory
) -> None:
    cable.plug_in()
    device_server.start()
    reader, received = start_reader(device_server.url)
    assert wait_for(received.is_connected, 8), received.states
    cable.send(b"WO-1\r\nQTY:3\r\n")
    assert received.wait_lines(2) == [b"WO-1", b"QTY:3"]

    device_server.stop()
    assert wait_for(received.is_lost, 3), received.states
    assert received.last_state is not None and received.last_state.error is not None
    assert "dropped" in " ".join(str(state.error) for state in received.states)
    assert not reader.connected

    device_server.start()
    returned = time.monotonic()
    assert wait_for(received.is_connected, 3), received.states
    assert time.monotonic() - returned < 2.0
    cable.send(b"WO-2\r\n")
    assert received.wait_lines(3) == [b"WO-1", b"QTY:3", b"WO-2"]
