"""Simulated barcode scanners for the demo, the tests and the benchmarks: a real
pseudo-terminal per scanner, whose far end is opened by the normal reader.

`PtyScanner` types barcode lines with a CR, as a USB-serial scanner in its factory
setting does. `SsiScanner` behaves like a Zebra scanner set to SSI: each scan goes out as
a `DECODE_DATA` packet, it waits for the host's `CMD_ACK` up to its serial response
time-out, resends with the retransmit bit up to its number of retries, and then sounds
its transmit error and records the scan as failed. It answers the host's parameters and
revision request, and records every beep the host asks for.
"""

from __future__ import annotations

import os
import select
import threading
import time
import tty
from dataclasses import dataclass, field

from devices.ssi import (
    BEEP,
    CMD_ACK,
    CMD_NAK,
    DECODE_DATA,
    DEFAULT_ACK_TIMEOUT_S,
    DEFAULT_RETRIES,
    HEADER,
    MAX_LENGTH,
    NAK_RESEND,
    PARAM_SEND,
    PARAM_SERIAL_RESPONSE_TIMEOUT,
    REPLY_REVISION,
    REQUEST_REVISION,
    SOURCE_SCANNER,
    STATUS_CONTINUATION,
    STATUS_RETRANSMIT,
    TYPE_CODE_128,
    BadPacket,
    PacketFramer,
    encode,
)

__all__ = ["PtyScanner", "SentScan", "SsiScanner"]


class _Pty:
    """One pty pair in raw mode: no echo, no line editing, the bytes as they were sent."""

    def __init__(self) -> None:
        self._controller, self._device = os.openpty()
        tty.setraw(self._device)
        self.device_path = os.ttyname(self._device)
        self._lock = threading.Lock()

    def _write(self, payload: bytes) -> None:
        with self._lock:
            view = memoryview(payload)
            while view:
                view = view[os.write(self._controller, view) :]

    def close(self) -> None:
        for fd in (self._controller, self._device):
            try:
                os.close(fd)
            except OSError:
                pass


class PtyScanner(_Pty):
    """The reader opens `device_path`; `send` writes a scanned line."""

    def __init__(self, terminator: bytes = b"\r") -> None:
        super().__init__()
        self._terminator = terminator

    def send(self, line: str | bytes) -> None:
        payload = line.encode("utf-8") if isinstance(line, str) else line
        self._write(payload + self._terminator)


@dataclass
class SentScan:
    """One scan as the simulated scanner lived it."""

    barcode_type: int
    data: bytes
    decoded_ns: int  # time.monotonic_ns() when it was decoded (first sent)
    acked_ns: int | None = None
    attempts: int = 0
    failed: bool = False  # no ACK after every retry: the transmit error sounded
    beeps: list[int] = field(default_factory=list)  # beeps the host asked for after it


class SsiScanner(_Pty):
    """A Zebra scanner in SSI mode on a pty. `scan` sends one decode and returns once it is
    acknowledged or has failed; a thread answers whatever the host sends meanwhile."""

    def __init__(
        self,
        *,
        ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
        retries: int = DEFAULT_RETRIES,
        revision: str = "NBRXXAAE 0 R 0 SIM",
        follow_host_timeout: bool = False,
        pause_after_error_s: float = 0.5,
    ) -> None:
        super().__init__()
        self.ack_timeout_s = ack_timeout_s
        self.retries = retries
        self.revision = revision
        # After a transmit error a person hears it and picks up the next item: the next
        # scan is never in the same instant.
        self.pause_after_error_s = pause_after_error_s
        # A real scanner takes the host's serial response time-out; tests that want a
        # short one keep their own.
        self._follow_host_timeout = follow_host_timeout
        # Packets still to be sent with one byte flipped, as noise on the line would.
        self.garble_next = 0
        self.parameters: dict[int, int] = {}
        self.beeps: list[int] = []
        self.transmit_errors = 0
        self.sent: list[SentScan] = []
        self._answer = threading.Condition()
        self._acks = 0
        self._naks = 0
        self._current: SentScan | None = None  # the scan being sent
        self._acked: SentScan | None = None  # the scan the host's last ACK answered
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="ssi scanner", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ scanning

    def send(self, line: str | bytes) -> None:
        """The demo's way in: one Code 128 scan (returns once acknowledged or failed)."""
        self.scan(line)

    def scan(self, data: str | bytes, barcode_type: int = TYPE_CODE_128) -> SentScan:
        payload = data.encode("utf-8") if isinstance(data, str) else data
        record = SentScan(barcode_type, payload, time.monotonic_ns())
        self.sent.append(record)
        with self._answer:
            self._current = record
        chunk = MAX_LENGTH - HEADER - 1
        pieces = [payload[n : n + chunk] for n in range(0, len(payload), chunk)] or [b""]
        for index, piece in enumerate(pieces):
            last = index == len(pieces) - 1
            status = 0 if last else STATUS_CONTINUATION
            if not self._deliver(record, bytes((barcode_type,)) + piece, status):
                record.failed = True
                self.transmit_errors += 1
                self._closed.wait(self.pause_after_error_s)
                return record
        record.acked_ns = time.monotonic_ns()
        return record

    def resend_last(self) -> bool:
        """Send the last scan's last packet again, retransmit bit set, as a scanner does
        when the host's ACK did not reach it in time; True once that copy is ACKed."""
        record = self.sent[-1]
        tail = record.data[-(MAX_LENGTH - HEADER - 1) :] if record.data else b""
        return self._deliver(record, bytes((record.barcode_type,)) + tail, 0, first_attempt=1)

    def _deliver(
        self, record: SentScan, data: bytes, status: int, *, first_attempt: int = 0
    ) -> bool:
        """Send one packet until ACKed: the first time and `retries` more."""
        attempt = first_attempt
        while attempt <= self.retries and not self._closed.is_set():
            with self._answer:
                # An ACK that arrived before this packet went out answers an earlier one.
                acks, naks = self._acks, self._naks
            flags = status | (STATUS_RETRANSMIT if attempt else 0)
            packet = bytearray(encode(DECODE_DATA, data, source=SOURCE_SCANNER, status=flags))
            if self.garble_next > 0:
                self.garble_next -= 1
                packet[-3] ^= 0x01
            self._write(bytes(packet))
            record.attempts += 1
            deadline = time.monotonic() + self.ack_timeout_s
            with self._answer:
                while self._acks == acks and self._naks == naks:
                    left = deadline - time.monotonic()
                    if left <= 0 or self._closed.is_set():
                        break
                    self._answer.wait(left)
                if self._acks != acks:
                    return True
                if self._naks != naks:
                    # A NAK asks for the packet again at once; it is not a retry used up.
                    continue
            attempt += 1
        return False

    @property
    def outstanding(self) -> SentScan | None:
        """The scan sent and waiting for its ACK, if any."""
        with self._answer:
            current = self._current
        if current is None or current.acked_ns is not None or current.failed:
            return None
        return current

    # ------------------------------------------------------------ answering the host

    def _listen(self) -> None:
        framer = PacketFramer()
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([self._controller], [], [], 0.1)
                if not ready:
                    framer.drop_partial()
                    continue
                chunk = os.read(self._controller, 4096)
            except OSError:
                if self._closed.is_set():
                    return
                time.sleep(0.05)
                continue
            for packet in framer.feed(chunk):
                if isinstance(packet, BadPacket):
                    self._reply(encode(CMD_NAK, bytes((NAK_RESEND,)), source=SOURCE_SCANNER))
                    continue
                self._from_host(packet.opcode, packet.data)

    def _from_host(self, opcode: int, data: bytes) -> None:
        if opcode == CMD_ACK:
            with self._answer:
                self._acks += 1
                self._acked = self._current
                self._answer.notify_all()
        elif opcode == CMD_NAK:
            with self._answer:
                self._naks += 1
                self._answer.notify_all()
        elif opcode == BEEP:
            code = data[0] if data else 0
            with self._answer:
                self.beeps.append(code)
                # The host beeps right after its ACK: the beep is about the scan it acked.
                if self._acked is not None:
                    self._acked.beeps.append(code)
            self._reply(encode(CMD_ACK, source=SOURCE_SCANNER))
        elif opcode == PARAM_SEND:
            pairs = data[1:]
            for n in range(0, len(pairs) - 1, 2):
                self.parameters[pairs[n]] = pairs[n + 1]
            timeout = self.parameters.get(PARAM_SERIAL_RESPONSE_TIMEOUT)
            if self._follow_host_timeout and timeout:
                self.ack_timeout_s = timeout / 10
            self._reply(encode(CMD_ACK, source=SOURCE_SCANNER))
        elif opcode == REQUEST_REVISION:
            self._reply(
                encode(REPLY_REVISION, self.revision.encode("ascii"), source=SOURCE_SCANNER)
            )

    def _reply(self, packet: bytes) -> None:
        try:
            self._write(packet)
        except OSError:
            pass

    def close(self) -> None:
        self._closed.set()
        with self._answer:
            self._answer.notify_all()
        self._thread.join(1.0)
        super().close()
