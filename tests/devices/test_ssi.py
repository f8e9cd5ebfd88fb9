"""SSI packets as the programmer's guide lays them out: checksum, framing, resync after a
corrupted packet, the barcode type as an AIM identifier that devices.decode reads."""

from __future__ import annotations

from devices.decode import decode
from devices.ssi import (
    CMD_ACK,
    DECODE_DATA,
    SOURCE_SCANNER,
    STATUS_CONTINUATION,
    STATUS_RETRANSMIT,
    TYPE_CODE_128,
    TYPE_GS1_128,
    BadPacket,
    Packet,
    PacketFramer,
    ack,
    aim_line,
    checksum,
    encode,
)


def test_host_ack_is_the_guides_six_bytes() -> None:
    # Length 4, CMD_ACK, source host, status 0; checksum 0x10000 - 0xD8 = 0xFF28.
    assert ack() == bytes.fromhex("04 D0 04 00 FF 28")


def test_checksum_makes_the_packet_sum_to_zero() -> None:
    packet = encode(DECODE_DATA, b"\x03NUT-M4", source=SOURCE_SCANNER, status=STATUS_RETRANSMIT)
    assert packet[0] == len(packet) - 2
    assert (sum(packet[:-2]) + int.from_bytes(packet[-2:], "big")) & 0xFFFF == 0
    assert checksum(b"") == b"\x00\x00"


def test_framer_cuts_packets_across_reads_and_skips_noise() -> None:
    first = encode(DECODE_DATA, b"\x03ABC", source=SOURCE_SCANNER, status=STATUS_CONTINUATION)
    second = ack()
    stream = b"\x00\x01" + first + second  # a WAKEUP byte and noise before
    framer = PacketFramer()
    found = framer.feed(stream[:5]) + framer.feed(stream[5:])
    assert found == [
        Packet(DECODE_DATA, SOURCE_SCANNER, STATUS_CONTINUATION, b"\x03ABC"),
        Packet(CMD_ACK, 4, 0, b""),
    ]
    assert isinstance(found[0], Packet) and found[0].continued and not found[0].retransmitted


def test_bad_checksum_is_reported_and_what_follows_is_dropped() -> None:
    packet = bytearray(encode(DECODE_DATA, b"\x03NUT-M4", source=SOURCE_SCANNER))
    packet[5] ^= 0x20  # one bit flipped on the wire
    framer = PacketFramer()
    assert framer.feed(bytes(packet) + ack()) == [BadPacket(len(packet) - 2)]
    assert framer.buffered == 0
    # The resent packet that follows the NAK is read normally.
    assert framer.feed(encode(DECODE_DATA, b"\x03NUT-M4", source=SOURCE_SCANNER)) == [
        Packet(DECODE_DATA, SOURCE_SCANNER, 0, b"\x03NUT-M4")
    ]


def test_gs1_128_arrives_as_gs1_and_code_128_as_text() -> None:
    data = b"0109506000000114" + b"10LOT7\x1d3705"
    gs1 = decode(aim_line(TYPE_GS1_128, data))
    assert gs1.symbology == "]C1"
    assert gs1.gs1 is not None and gs1.gs1.gtin == "09506000000114" and gs1.gs1.lot == "LOT7"
    plain = decode(aim_line(TYPE_CODE_128, b"NUT-M4"))
    assert (plain.symbology, plain.text, plain.gs1) == ("]C0", "NUT-M4", None)
    # An unknown type adds nothing: the data is read as it came.
    assert aim_line(0x99, b"NUT-M4") == b"NUT-M4"
