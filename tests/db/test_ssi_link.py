"""An SSI scanner read into the one pipeline: the ACK only after the journal row is
committed, the error beep after a rejection, a resent packet not posted twice, GS1 as
GS1, the scanner put in a known state at connect and its revision on its Devices row."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.connection import connect
from db.listen import ConfigError, ScannerLink, load_config
from db.pipeline import process_scan
from devices.reader import ScannerConfig
from devices.simulator import SsiScanner
from devices.ssi import (
    BEEP_REJECTED,
    PARAM_DECODE_DATA_PACKET_FORMAT,
    PARAM_SOFTWARE_HANDSHAKING,
    TYPE_CODE_128,
    TYPE_GS1_128,
)
from tests.conftest import wait_for

NAME = "ssi-1"
GTIN = "09506000000114"  # PWD-7035, lot-tracked


@pytest.fixture
def floor(demo_db: str) -> Iterator[sqlite3.Connection]:
    conn = connect(demo_db)
    assert process_scan(conn, "RECEIVING", b"B1001").status == "accepted"
    yield conn
    conn.close()


@pytest.fixture
def scanner() -> Iterator[SsiScanner]:
    sim = SsiScanner(ack_timeout_s=0.5)
    yield sim
    sim.close()


@pytest.fixture
def link(demo_db: str, scanner: SsiScanner, floor: sqlite3.Connection) -> Iterator[ScannerLink]:
    config = ScannerConfig(NAME, scanner.device_path, "RECEIVING", protocol="ssi")
    running = ScannerLink(demo_db, config, on_event=lambda _line: None)
    running.start()
    assert wait_for(lambda: _revision(floor) is not None, 10)
    yield running
    running.stop()


def _row(conn: sqlite3.Connection) -> sqlite3.Row | None:
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM scanners WHERE name = ?", (NAME,)
    ).fetchone()
    return row


def _revision(conn: sqlite3.Connection) -> str | None:
    row = _row(conn)
    return None if row is None else row["revision"]


def _journal(conn: sqlite3.Connection) -> list[tuple[bytes, str]]:
    rows = conn.execute(
        "SELECT j.raw, o.status FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
        "WHERE j.scanner = ? ORDER BY j.id",
        (NAME,),
    ).fetchall()
    return [(bytes(r[0]), r[1]) for r in rows]


def test_connect_sets_ssi_parameters_and_records_the_revision(
    link: ScannerLink, scanner: SsiScanner, floor: sqlite3.Connection
) -> None:
    assert scanner.parameters[PARAM_DECODE_DATA_PACKET_FORMAT] == 1
    assert scanner.parameters[PARAM_SOFTWARE_HANDSHAKING] == 1
    row = _row(floor)
    assert row is not None
    assert (row["protocol"], row["revision"]) == ("ssi", scanner.revision)


def test_ack_comes_after_the_commit_and_a_rejection_beeps(
    link: ScannerLink, scanner: SsiScanner, floor: sqlite3.Connection
) -> None:
    good = scanner.scan(f"01{GTIN}10L1", TYPE_GS1_128)
    assert good.acked_ns is not None and not good.failed and good.attempts == 1
    # Acknowledged means committed: another connection already sees the receipt.
    assert _journal(floor)[-1] == (f"]C101{GTIN}10L1".encode(), "accepted")
    assert floor.execute("SELECT COUNT(*) FROM movements WHERE lot = 'L1'").fetchone()[0] == 1
    assert good.beeps == []

    bad = scanner.scan("NO-SUCH-LABEL", TYPE_CODE_128)
    assert bad.acked_ns is not None and not bad.failed
    assert wait_for(lambda: bad.beeps == [BEEP_REJECTED], 5)
    assert _journal(floor)[-1] == (b"]C0NO-SUCH-LABEL", "rejected")

    link.stop()  # the counts are written at stop
    row = _row(floor)
    assert row is not None and (row["acks"], row["error_beeps"]) == (2, 1)


def test_resent_copy_of_a_committed_scan_is_acked_not_posted(
    link: ScannerLink, scanner: SsiScanner, floor: sqlite3.Connection
) -> None:
    first = scanner.scan(f"01{GTIN}10R1", TYPE_GS1_128)
    assert not first.failed
    # The scanner did not hear that ACK in time and sends the packet again: acknowledged,
    # not posted again.
    assert scanner.resend_last()
    # A new read of the same label (no retransmit bit, past the double-read window) is
    # posted: scan three times, issue three.
    time.sleep(0.3)
    again = scanner.scan(f"01{GTIN}10R1", TYPE_GS1_128)
    assert not again.failed
    lots = floor.execute("SELECT COUNT(*) FROM movements WHERE lot = 'R1'").fetchone()[0]
    assert lots == 2
    assert [status for raw, status in _journal(floor) if b"R1" in raw] == ["accepted"] * 2


def test_unknown_protocol_in_config_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "shopfloor.toml"
    config.write_text('[[scanner]]\nurl = "/dev/ttyACM0"\nstation = "S"\nprotocol = "ssl"\n')
    with pytest.raises(ConfigError, match='protocol must be "lines"'):
        load_config(config)
    config.write_text('[[scanner]]\nurl = "/dev/ttyACM0"\nstation = "S"\nprotocol = "ssi"\n')
    assert load_config(config)[0].protocol == "ssi"


def test_a_scanner_nobody_answers_sounds_its_transmit_error(
    demo_db: str, floor: sqlite3.Connection
) -> None:
    """The simulator behaves like the device: the first sending and two resends with the
    retransmit bit, a time-out apart, then the transmit error; the packets wait in the
    line, so the next reader still records the scan (heard, and recorded)."""
    sim = SsiScanner(ack_timeout_s=0.2, pause_after_error_s=0)
    try:
        started = time.monotonic()
        sent = sim.scan(f"01{GTIN}10T1", TYPE_GS1_128)
        took = time.monotonic() - started
        assert sent.failed and sent.attempts == 3 and sim.transmit_errors == 1
        assert 0.55 <= took < 2.0
        config = ScannerConfig(NAME, sim.device_path, "RECEIVING", protocol="ssi")
        late = ScannerLink(demo_db, config, on_event=lambda _line: None)
        late.start()
        try:
            assert wait_for(lambda: any(b"10T1" in raw for raw, _ in _journal(floor)), 10)
            time.sleep(0.3)  # the two resent copies are read and answered too
            assert [s for raw, s in _journal(floor) if raw.endswith(b"10T1")] == ["accepted"]
        finally:
            late.stop()
    finally:
        sim.close()


def test_a_garbled_packet_is_nakked_and_its_resend_posted_once(
    link: ScannerLink, scanner: SsiScanner, floor: sqlite3.Connection
) -> None:
    scanner.garble_next = 1
    sent = scanner.scan(f"01{GTIN}10N1", TYPE_GS1_128)
    # The host's CMD_NAK asked for it again at once: no time-out waited for.
    assert not sent.failed and sent.attempts == 2
    assert (sent.acked_ns or 0) - sent.decoded_ns < 0.5 * scanner.ack_timeout_s * 1e9
    assert [s for raw, s in _journal(floor) if raw.endswith(b"10N1")] == ["accepted"]


def test_a_decode_longer_than_a_packet_arrives_whole(
    link: ScannerLink, scanner: SsiScanner, floor: sqlite3.Connection
) -> None:
    long_label = "X" * 600  # three packets joined by the continuation bit
    sent = scanner.scan(long_label, TYPE_CODE_128)
    assert not sent.failed and sent.attempts == 3
    raw, status = _journal(floor)[-1]
    assert raw == b"]C0" + long_label.encode() and status == "rejected"
    assert wait_for(lambda: sent.beeps == [BEEP_REJECTED], 5)
