"""Zebra's Simple Serial Interface (SSI): the packets, and the reader that answers a scanner
only once its scan is durable.

SSI is what a Zebra scanner speaks when it is set to "SSI host" (RS-232 or USB CDC).
Each decode arrives as one `DECODE_DATA` packet (or several joined by the continuation
bit); the scanner waits for the host's `CMD_ACK`, resends the packet with the
retransmit bit when none comes within its serial response time-out (2 s by default),
twice, and then sounds a transmit error. So the host that acknowledges a scan only after
its journal row is committed never loses one in silence: it is recorded, or the
operator heard the error at the scanner.

A packet: length (bytes before the checksum, itself included), opcode, message source
(0 scanner, 4 host), status (bit 0 retransmit, bit 1 continuation; bit 3 on
`PARAM_SEND`: permanent), data, and two checksum bytes, high first: the two's
complement of the sum of the other bytes.

This module owns the bytes (`encode`, `PacketFramer`), the barcode types as AIM
identifiers (`aim_line`: what `devices.decode` already reads, so GS1 arrives as GS1),
and `SsiReader`: the line reader's connection handling with SSI framing instead of
lines. What a scan means and whether it was already posted belong to its receiver.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from devices.reader import LineRead, LinkChanged, ScannerConfig, ScannerReader

__all__ = [
    "Packet",
    "PacketFramer",
    "Reply",
    "SsiReader",
    "SsiScan",
    "aim_line",
    "checksum",
    "encode",
]

log = logging.getLogger(__name__)

# Opcodes of the SSI programmer's guide used here.
CMD_ACK = 0xD0
CMD_NAK = 0xD1
DECODE_DATA = 0xF3
BEEP = 0xE6
PARAM_SEND = 0xC6
REQUEST_REVISION = 0xA3
REPLY_REVISION = 0xA4
EVENT = 0xF6

SOURCE_SCANNER = 0x00
SOURCE_HOST = 0x04

STATUS_RETRANSMIT = 0x01
STATUS_CONTINUATION = 0x02
# On PARAM_SEND: 1 keeps the change over a power cycle. shopfloor sends its parameters
# at every connect, so it asks for temporary changes and spares the scanner's flash.
STATUS_PERMANENT = 0x08

# CMD_NAK causes.
NAK_RESEND = 0x01  # bad checksum: send it again
NAK_BAD_CONTEXT = 0x02
NAK_DENIED = 0x06

# BEEP codes (the guide's beep code table).
BEEP_ONE_SHORT_HIGH = 0x00
BEEP_FAST_WARBLE = 0x14
# A rejected scan: unlike anything a scanner sounds by itself, so the operator knows the
# host refused it and looks at the station screen for what to scan next.
BEEP_REJECTED = BEEP_FAST_WARBLE
NO_BEEP = 0xFF  # first data byte of PARAM_SEND: change parameters without a beep

# Parameter numbers (SSI host chapter of the product reference guides).
PARAM_SOFTWARE_HANDSHAKING = 0x9F  # 1: ACK/NAK
PARAM_DECODE_DATA_PACKET_FORMAT = 0xEE  # 1: packeted decode data
PARAM_SERIAL_RESPONSE_TIMEOUT = 0x9B  # tenths of a second the scanner waits for an ACK
PARAM_TRANSMIT_CODE_ID = 0x2D  # 0: none (the barcode type travels in the packet)

# The guide's defaults: the scanner waits 2 s for an ACK, then resends twice.
DEFAULT_ACK_TIMEOUT_S = 2.0
DEFAULT_RETRIES = 2

# What shopfloor sets at every connect: decodes as packets, ACK/NAK on, no code-id
# character glued to the data.
STARTUP_PARAMETERS: tuple[tuple[int, int], ...] = (
    (PARAM_DECODE_DATA_PACKET_FORMAT, 1),
    (PARAM_SOFTWARE_HANDSHAKING, 1),
    (PARAM_TRANSMIT_CODE_ID, 0),
)

# The most a packet's length byte can say; a longer decode comes in several packets.
MAX_LENGTH = 0xFF
HEADER = 4  # length, opcode, source, status
# How long the host waits for the scanner's answer to its own packets at connect.
ANSWER_TIMEOUT_S = DEFAULT_ACK_TIMEOUT_S
# A decode longer than this (joined packets) is cut: bounds memory.
MAX_DECODE = 64 * 1024
# Before answering, what is already waiting is read too, at most this much: a scanner
# waiting for an ACK has at most its packet's copies and one more scan in the line.
LOOKAHEAD_READS = 8
READ_AHEAD_BYTES = 4096

# SSI barcode type -> AIM symbology identifier (ISO/IEC 15424), as devices.decode reads
# it. The GS1 ones make the data parse as GS1 element strings.
AIM_BY_TYPE: dict[int, str] = {
    0x01: "]A0",  # Code 39
    0x02: "]F0",  # Codabar
    0x03: "]C0",  # Code 128
    0x04: "]S0",  # Discrete 2 of 5
    0x05: "]R0",  # IATA 2 of 5
    0x06: "]I0",  # Interleaved 2 of 5
    0x07: "]G0",  # Code 93
    0x08: "]E0",  # UPC-A
    0x09: "]E0",  # UPC-E0
    0x0A: "]E4",  # EAN-8
    0x0B: "]E0",  # EAN-13
    0x0C: "]H0",  # Code 11
    0x0E: "]M0",  # MSI
    0x0F: "]C1",  # GS1-128
    0x10: "]E0",  # UPC-E1
    0x11: "]L2",  # PDF417
    0x1A: "]L2",  # MicroPDF417
    0x1B: "]d1",  # Data Matrix
    0x1C: "]Q1",  # QR Code
    0x1D: "]U0",  # MaxiCode
    0x23: "]e0",  # GS1 DataBar Limited
    0x24: "]e0",  # GS1 DataBar
    0x25: "]e0",  # GS1 DataBar Expanded
    0x2D: "]z0",  # Aztec
    0xC1: "]d2",  # GS1 Data Matrix
    0xC2: "]Q3",  # GS1 QR
}
TYPE_CODE_128 = 0x03
TYPE_GS1_128 = 0x0F


def checksum(body: bytes) -> bytes:
    """The two's complement of the byte sum, as two bytes, high first."""
    return ((-sum(body)) & 0xFFFF).to_bytes(2, "big")


def encode(opcode: int, data: bytes = b"", *, source: int = SOURCE_HOST, status: int = 0) -> bytes:
    if len(data) > MAX_LENGTH - HEADER:
        raise ValueError(f"SSI packet data of {len(data)} bytes: at most {MAX_LENGTH - HEADER}")
    body = bytes((HEADER + len(data), opcode, source, status)) + data
    return body + checksum(body)


def ack() -> bytes:
    return encode(CMD_ACK)


def nak(cause: int = NAK_RESEND) -> bytes:
    return encode(CMD_NAK, bytes((cause,)))


def beep(code: int) -> bytes:
    return encode(BEEP, bytes((code,)))


def param_send(parameters: tuple[tuple[int, int], ...], *, permanent: bool = False) -> bytes:
    data = bytes((NO_BEEP,)) + b"".join(bytes(pair) for pair in parameters)
    return encode(PARAM_SEND, data, status=STATUS_PERMANENT if permanent else 0)


def aim_line(barcode_type: int, data: bytes) -> bytes:
    """The decode as a line `devices.decode` reads: its AIM identifier, then the data.

    An unknown type gets no identifier: the data is read as it came, never guessed at.
    """
    prefix = AIM_BY_TYPE.get(barcode_type)
    return prefix.encode("ascii") + data if prefix else data


@dataclass(frozen=True, slots=True)
class Packet:
    opcode: int
    source: int
    status: int
    data: bytes

    @property
    def retransmitted(self) -> bool:
        return bool(self.status & STATUS_RETRANSMIT)

    @property
    def continued(self) -> bool:
        return bool(self.status & STATUS_CONTINUATION)


@dataclass(frozen=True, slots=True)
class BadPacket:
    """Bytes that claimed to be a packet but whose checksum does not add up."""

    length: int


class PacketFramer:
    """Cuts a byte stream into packets.

    A packet whose checksum fails is returned as `BadPacket` and everything buffered
    behind it is dropped: its length byte may be the corrupted one, so nothing after it
    can be trusted to start a packet, and the sender resends on the NAK that follows.
    Bytes that cannot start a packet (a length under 4, a WAKEUP's 0x00) are skipped.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def drop_partial(self) -> None:
        self._buffer.clear()

    def feed(self, chunk: bytes) -> list[Packet | BadPacket]:
        self._buffer += chunk
        found: list[Packet | BadPacket] = []
        buffer = self._buffer
        while buffer:
            length = buffer[0]
            if length < HEADER:
                del buffer[0]
                continue
            if len(buffer) < length + 2:
                break
            body, check = bytes(buffer[:length]), bytes(buffer[length : length + 2])
            if checksum(body) != check:
                found.append(BadPacket(length))
                buffer.clear()
                break
            del buffer[: length + 2]
            found.append(Packet(body[1], body[2], body[3], body[HEADER:]))
        return found


@dataclass(frozen=True, slots=True)
class SsiScan:
    """One whole decode from an SSI scanner."""

    barcode_type: int
    data: bytes  # the packets' data joined, barcode type bytes removed
    retransmitted: bool  # its last packet carried the retransmit bit
    at_ms: int  # UTC milliseconds when its last packet arrived

    @property
    def line(self) -> bytes:
        return aim_line(self.barcode_type, self.data)

    def as_line(self, scanner: str) -> LineRead:
        line = self.line
        return LineRead(scanner, line, self.at_ms, len(line))


# What the host answers a scan: "ack" (recorded), "reject" (recorded, refused: ACK and
# the error beep), "none" (not durable yet and the reader is stopping: no answer, so the
# scanner resends to whoever reads it next, or sounds its error).
Reply = Literal["ack", "reject", "none"]


def _next_decode(packets: list[Packet | BadPacket], index: int) -> Packet | None:
    for later in packets[index + 1 :]:
        if isinstance(later, Packet) and later.opcode == DECODE_DATA:
            return later
    return None


class SsiReader(ScannerReader):
    """Reads one SSI scanner: the line reader's connecting and reconnecting, SSI framing.

    At every connect it sends the parameters SSI needs and asks for the revision. For
    each decode it calls `on_scan` on its own thread and waits: the receiver returns
    once the scan is committed (or held and then committed), and only then is the ACK
    written, with the error beep after a rejected scan. `on_answered` hears each answer
    once it is on the wire; `on_revision` the scanner's revision string; `on_count`
    each protocol event ("ack", "nak", "resend", "error_beep") for the Devices screen.
    """

    def __init__(
        self,
        config: ScannerConfig,
        on_scan: Callable[[SsiScan], Reply],
        on_state: Callable[[LinkChanged], None],
        *,
        on_answered: Callable[[SsiScan, Reply], None] | None = None,
        on_revision: Callable[[str], None] | None = None,
        on_count: Callable[[str], None] | None = None,
        can_take: Callable[[], bool] | None = None,
    ) -> None:
        super().__init__(config, on_lines=lambda _lines: None, on_state=on_state, can_take=can_take)
        self._on_scan = on_scan
        self._on_answered = on_answered
        self._on_revision = on_revision
        self._on_count = on_count
        self._packets = PacketFramer()
        self._parts: list[bytes] = []  # data of a decode's packets before its last
        self._parts_size = 0
        self._waiting_for: int | None = None  # opcode the connect step waits for
        self._answered = False

    # The base class's read loop calls these.

    def _connected_to(self, port: Any) -> None:
        self._packets.drop_partial()
        self._parts.clear()
        self._parts_size = 0
        self._start_up(port)

    def _take(self, port: Any, chunk: bytes) -> None:
        packets = self._packets.feed(chunk)
        # Everything already waiting is framed before anything is answered: what follows a
        # decode in the line says whether the scanner still waits for its ACK (below).
        for _ in range(LOOKAHEAD_READS):
            waiting = port.in_waiting
            if not waiting:
                break
            packets += self._packets.feed(port.read(min(waiting, READ_AHEAD_BYTES)))
        for index, packet in enumerate(packets):
            if self._stopping.is_set():
                return
            if isinstance(packet, BadPacket):
                self._write(port, nak(NAK_RESEND))
                self._count("nak")
                continue
            if packet.opcode == DECODE_DATA and not packet.continued:
                later = _next_decode(packets, index)
                if later is not None and later.retransmitted and later.data == packet.data:
                    # A copy of this packet is already in line: the scanner waits for one
                    # ACK, for that copy. Answering both would acknowledge its next scan
                    # before the host has read it.
                    self._count("resend")
                    continue
                if later is not None:
                    # The scanner sent another scan after this one: it gave up on this one
                    # (its transmit error sounded). Recorded, but not answered: an ACK now
                    # would be taken for the next scan's.
                    self._decode_data(port, packet, answer=False)
                    continue
            self._handle(port, packet)

    def _silence(self) -> None:
        # Half a packet and then silence: what came is not trusted, the scanner resends.
        self._packets.drop_partial()

    @property
    def _buffered(self) -> int:
        return self._packets.buffered

    # Connecting.

    def _start_up(self, port: Any) -> None:
        """Put the scanner in a known state and ask its revision; a scanner that does not
        answer is read anyway (it may be asleep, or set to SSI by its own barcodes)."""
        self._write(port, param_send(STARTUP_PARAMETERS))
        if not self._await(port, CMD_ACK):
            log.info("scanner %s: no answer to its parameters", self._config.name)
        self._write(port, encode(REQUEST_REVISION))
        if not self._await(port, REPLY_REVISION):
            log.info("scanner %s: no answer to the revision request", self._config.name)

    def _await(self, port: Any, opcode: int) -> bool:
        self._waiting_for = opcode
        self._answered = False
        deadline = time.monotonic() + ANSWER_TIMEOUT_S
        try:
            while not self._answered and time.monotonic() < deadline:
                if self._stopping.is_set():
                    return False
                chunk = port.read(max(1, port.in_waiting))
                if chunk:
                    self._take(port, chunk)
            return self._answered
        finally:
            self._waiting_for = None

    # Answering.

    def _handle(self, port: Any, packet: Packet) -> None:
        opcode = packet.opcode
        if self._waiting_for is not None and opcode in (self._waiting_for, CMD_NAK):
            self._answered = True
            if opcode == REPLY_REVISION and self._on_revision is not None:
                text = packet.data.decode("ascii", errors="replace").strip()
                self._on_revision(text)
            return
        if opcode == DECODE_DATA:
            self._decode_data(port, packet)
        elif opcode == EVENT:
            self._write(port, ack())
        # An ACK or NAK nobody waits for, a late revision: nothing to answer.

    def _decode_data(self, port: Any, packet: Packet, *, answer: bool = True) -> None:
        if packet.retransmitted:
            self._count("resend")
        if not packet.data:
            self._write(port, ack())
            return
        part = packet.data[1:]
        if packet.continued:
            # A resent middle packet repeats the one the ACK did not reach.
            repeat = packet.retransmitted and self._parts and self._parts[-1] == part
            if not repeat and self._parts_size < MAX_DECODE:
                self._parts.append(part)
                self._parts_size += len(part)
            self._write(port, ack())
            return
        data = b"".join([*self._parts, part])[:MAX_DECODE]
        self._parts.clear()
        self._parts_size = 0
        scan = SsiScan(
            barcode_type=packet.data[0],
            data=data,
            retransmitted=packet.retransmitted,
            at_ms=time.time_ns() // 1_000_000,
        )
        try:
            reply = self._on_scan(scan)
        except Exception as exc:
            # Not known to be durable: no ACK, so the scanner resends or sounds its error.
            log.exception("scanner %s: handling a scan failed", self._config.name)
            self._report(True, f"handling a scan failed: {exc!r}")
            return
        if reply == "none" or not answer:
            return
        # One write for the ACK and the beep: a kill between two writes would leave the
        # scan acknowledged and its rejection never sounded.
        self._write(port, ack() + beep(BEEP_REJECTED) if reply == "reject" else ack())
        self._count("ack")
        if reply == "reject":
            self._count("error_beep")
        if self._on_answered is not None:
            try:
                self._on_answered(scan, reply)
            except Exception:
                log.exception("scanner %s: after an answer", self._config.name)

    def _write(self, port: Any, payload: bytes) -> None:
        port.write(payload)
        port.flush()

    def _count(self, event: str) -> None:
        if self._on_count is not None:
            try:
                self._on_count(event)
            except Exception:
                log.exception("scanner %s: counting %s failed", self._config.name, event)
