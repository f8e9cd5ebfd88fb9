"""Reading a scanner: the reader thread that opens its transport (devices.transport),
cuts the byte stream into lines (devices.framing), hands them over in order, and
reconnects when the device or link goes away; and what it hands over (`LineRead`,
`LinkChanged`) and how a scanner is reached (`ScannerConfig`).

One `ScannerReader` per scanner, each on its own daemon thread. It owns the port and
nothing else: what a line means (`devices.decode`), journaling, and double-read
suppression belong to whoever receives the lines. The reader hands over all the
complete lines of one read together and does not read again until the receiver
returns, so bytes it has not yet taken stay in the device's buffer and survive the
receiver being killed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

import serial

from devices import transport
from devices.framing import LineFramer, Terminator

__all__ = [
    "LineRead",
    "LinkChanged",
    "ScannerConfig",
    "ScannerProtocol",
    "ScannerReader",
]

log = logging.getLogger(__name__)

# "lines": a plain serial scanner, one decode per terminated line (this module);
# "ssi": Zebra's Simple Serial Interface, packets acknowledged by the host (devices.ssi).
ScannerProtocol = Literal["lines", "ssi"]

# One read never takes more than this, whatever the device has queued: it bounds
# memory.
READ_CHUNK = 65536
# Lines one read should bring at most: one hand-over (one group commit downstream), so a
# reader killed mid-burst has at most this many lines read and not yet durable. A read
# asks for this many of the shortest lines seen so far; a burst of even shorter ones is
# spooled to disk by the receiver before it commits.
HANDOVER_LINES = 64
# A partial line followed by this much silence is ended there, so the next scan is
# not glued to it (a scanner sends a whole code in well under this).
DEFAULT_GAP_MS = 300
# While the receiver cannot take more lines, the reader waits this long between asks.
PAUSE_S = 0.05
FIRST_RETRY_S = 0.1
MAX_RETRY_S = 0.5


@dataclass(frozen=True)
class ScannerConfig:
    """How to reach one scanner, and how it ends its lines."""

    name: str  # e.g. "stores-1"
    url: str  # anything serial.serial_for_url takes: a device path, rfc2217://, socket://
    station: str
    baud: int = 9600
    terminator: Terminator = "auto"
    max_line: int = 4096
    dedupe_ms: int = 250  # for the receiver's double-read check; the reader never dedupes
    gap_ms: int = DEFAULT_GAP_MS  # silence that ends a partial line
    # With USB ids set, the port is looked up on every (re)connect, because device
    # names move between plugs; `url` is then unused.
    vid: int | None = None
    pid: int | None = None
    serial_number: str | None = None
    protocol: ScannerProtocol = "lines"

    def __post_init__(self) -> None:
        if self.protocol not in get_args(ScannerProtocol):
            raise ValueError(
                f"scanner {self.name}: protocol must be one of "
                f"{', '.join(get_args(ScannerProtocol))}, not {self.protocol!r}"
            )
        if self.terminator not in get_args(Terminator):
            raise ValueError(
                f"scanner {self.name}: terminator must be one of "
                f"{', '.join(get_args(Terminator))}, not {self.terminator!r}"
            )
        if self.max_line < 1:
            raise ValueError(f"scanner {self.name}: max_line must be at least 1")
        if not 10 <= self.gap_ms <= 60_000:
            raise ValueError(f"scanner {self.name}: gap_ms must be between 10 and 60000")

    @property
    def by_usb_ids(self) -> bool:
        return self.vid is not None or self.pid is not None or self.serial_number is not None


@dataclass(frozen=True, slots=True)
class LineRead:
    """One line as it came off the wire, terminator stripped."""

    scanner: str
    raw: bytes  # for an over-long line, only its first max_line bytes
    at_ms: int  # UTC milliseconds when the line completed
    length: int  # full length in bytes; > len(raw) when the line was too long
    unterminated: bool = False  # ended by a silence, not a terminator


@dataclass(frozen=True)
class LinkChanged:
    """Whether a scanner is connected, and if not (or if something failed) why."""

    scanner: str
    connected: bool
    error: str | None
    at_ms: int


class _LinkDropped(Exception):
    """The far end of a network transport went away without an error on our side."""


class ScannerReader:
    """Reads one scanner on a daemon thread until stopped, reconnecting as needed.

    `on_lines` and `on_state` are called on the reader's thread. `on_lines` gets every
    complete line of one read, in order, and the reader waits for it to return.
    """

    def __init__(
        self,
        config: ScannerConfig,
        on_lines: Callable[[list[LineRead]], None],
        on_state: Callable[[LinkChanged], None],
        can_take: Callable[[], bool] | None = None,
    ) -> None:
        self._config = config
        self._on_lines = on_lines
        self._on_state = on_state
        # Asked before every read: False while the receiver holds all it may.
        self._can_take = can_take or (lambda: True)
        # The shortest line seen, terminator included: a read asks for HANDOVER_LINES
        # of these. Starts at the shortest a line can be (one byte and a terminator).
        self._line_bytes = 2
        self._last_byte_at = 0.0
        self._framer = LineFramer(config.terminator, config.max_line)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._connected = False
        self._last_state: tuple[bool, str | None] | None = None

    @property
    def connected(self) -> bool:
        return self._connected

    def start(self) -> None:
        # Also refuses while a stopped thread is still finishing: clearing the stop flag
        # under it would leave two threads reading one port.
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError(f"scanner {self._config.name} is already being read")
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._run, name=f"scanner {self._config.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Ask the thread to close the port and end; wait up to `timeout` for it.

        A thread still inside `on_lines` or a slow network open after `timeout` is left
        to finish on its own: it closes the port itself and reads nothing more.
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    # The reader thread.

    def _run(self) -> None:
        delay = FIRST_RETRY_S
        while not self._stopping.is_set():
            where = self._config.url
            try:
                where = self._where()
                port = self._open(where)
            except transport.Unavailable as exc:
                self._report(False, f"{exc}; retrying")
            except (serial.SerialException, OSError, ValueError) as exc:
                self._report(False, f"{transport.cannot_open(where, exc)}; retrying")
            except Exception as exc:
                # Whatever else goes wrong opening, the thread must live to retry.
                log.exception("scanner %s: opening %s failed", self._config.name, where)
                self._report(False, f"cannot open {where}: {exc!r}; retrying")
            else:
                self._connected = True
                self._report(True, None)
                if self._read_until_lost(port, where):
                    delay = FIRST_RETRY_S
                if self._stopping.is_set():
                    break
            self._stopping.wait(delay)
            delay = min(delay * 2, MAX_RETRY_S)
        self._report(False, None)

    def _where(self) -> str:
        config = self._config
        if not config.by_usb_ids:
            return config.url
        return transport.device_by_usb_ids(config.vid, config.pid, config.serial_number)

    def _open(self, where: str) -> Any:
        return transport.open_port(where, self._config.baud)

    def _read_until_lost(self, port: Any, where: str) -> bool:
        """Read until stopped or the port fails; True if any bytes arrived."""
        got_bytes = False
        lost: str | None = None
        gap_s = self._config.gap_ms / 1000
        try:
            self._connected_to(port)
            while not self._stopping.is_set():
                if not self._can_take():
                    self._stopping.wait(PAUSE_S)
                    continue
                chunk = self._read_chunk(port)
                now = time.monotonic()
                if not chunk:
                    if self._buffered and now - self._last_byte_at >= gap_s:
                        self._silence()
                    continue
                got_bytes = True
                self._last_byte_at = now
                self._take(port, chunk)
        except _LinkDropped:
            lost = f"connection to {where} dropped"
        except (serial.SerialException, OSError) as exc:
            lost = transport.lost(where, exc)
        except Exception as exc:
            # A fault of ours must not end the thread silently: say it, and start over.
            log.exception("scanner %s: reader failed", self._config.name)
            lost = f"reader failed: {exc!r}"
        finally:
            self._connected = False
            # A line cut off by the disconnect is dropped rather than joined to
            # whatever arrives after reconnecting: its head alone could be another
            # valid code, and the operator saw no confirmation for it anyway.
            self._framer.drop_partial()
            transport.close_port(port)
        if lost is not None and not self._stopping.is_set():
            self._report(False, f"{lost}; retrying")
        return got_bytes

    # What a protocol changes: the line protocol's are below; devices.ssi has the others.

    def _connected_to(self, port: Any) -> None:
        """Called once the port is open, before the first read."""

    def _take(self, port: Any, chunk: bytes) -> None:
        """Bytes just read."""
        completed = self._framer.feed(chunk)
        if completed:
            self._line_bytes = max(2, min(length for _, length in completed) + 1)
            self._hand_over(completed)

    @property
    def _buffered(self) -> int:
        """Bytes of something unfinished held, which a silence ends."""
        return self._framer.buffered

    def _silence(self) -> None:
        """Nothing came for gap_ms after an unfinished line."""
        self._end_partial()

    def _read_chunk(self, port: Any) -> bytes:
        # About one hand-over's worth: what is read is at risk until the receiver has it.
        # Two lines fewer, for the line finished by this read whose head came with the
        # last one, and the line this read cuts off: a kill loses those too.
        limit = min(READ_CHUNK, (HANDOVER_LINES - 2) * self._line_bytes)
        chunk = bytearray(port.read(min(max(1, port.in_waiting), limit)))
        if not chunk:
            if transport.link_dropped(port):
                raise _LinkDropped
            return b""
        # Take what else is already waiting, up to the limit, so a burst is handed over
        # in few, full batches.
        while len(chunk) < limit and (waiting := port.in_waiting) > 0:
            more = port.read(min(waiting, limit - len(chunk)))
            if not more:
                break
            chunk += more
        return bytes(chunk)

    def _end_partial(self) -> None:
        partial = self._framer.take_partial()
        if partial is None:
            return
        head, length = partial
        line = LineRead(self._config.name, head, time.time_ns() // 1_000_000, length, True)
        self._deliver([line])

    def _hand_over(self, completed: list[tuple[bytes, int]]) -> None:
        at_ms = time.time_ns() // 1_000_000
        name = self._config.name
        # Positional: a burst makes thousands of these, and keywords cost a third more.
        self._deliver([LineRead(name, raw, at_ms, length) for raw, length in completed])

    def _deliver(self, lines: list[LineRead]) -> None:
        name = self._config.name
        try:
            self._on_lines(lines)
        except Exception as exc:
            log.exception("scanner %s: handling %d lines failed", name, len(lines))
            self._report(True, f"handling {len(lines)} scanned lines failed: {exc!r}")
        else:
            self._report(True, None)

    def _report(self, connected: bool, error: str | None) -> None:
        # Repeated failed retries say the same thing; the screen needs it once.
        if self._last_state == (connected, error):
            return
        self._last_state = (connected, error)
        state = LinkChanged(
            scanner=self._config.name,
            connected=connected,
            error=error,
            at_ms=time.time_ns() // 1_000_000,
        )
        try:
            self._on_state(state)
        except Exception:
            log.exception("scanner %s: reporting state failed", self._config.name)
