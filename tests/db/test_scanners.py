"""The one rule for a scanner's link on the Devices screen (db/scanners.py), on a real
SQLite file: the reader's last word and the listener's heartbeat decide it."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.connection import clock, connect
from db.scanners import STALE_AFTER_MS, count_reads, mark_alive, record_scanner, scanner_rows
from db.schema import init_db

pytestmark = pytest.mark.timeout(30)

T0 = 1_700_000_000_000


def test_link_is_connected_lost_or_no_reader(tmp_path: Path) -> None:
    init_db(tmp_path / "floor.db").close()
    conn = connect(tmp_path / "floor.db")
    with clock(lambda: T0):
        record_scanner(conn, "rcv-1", station="RECEIVING", url="/dev/ttyACM0", connected=True)
        record_scanner(conn, "cut-1", station="CUT-1", url="/dev/ttyACM1", connected=False,
                       error="device unplugged")  # fmt: skip
    rows = {row.name: row for row in scanner_rows(conn)}
    assert rows["rcv-1"].link(T0 + STALE_AFTER_MS) == "connected"
    # The listener stopped saying it is alive: its scanner has no reader, whatever it last said.
    assert rows["rcv-1"].link(T0 + STALE_AFTER_MS + 1) == "no_reader"
    assert rows["cut-1"].link(T0) == "lost"
    assert rows["cut-1"].last_error == "device unplugged" and rows["cut-1"].errors == 1
    with clock(lambda: T0 + STALE_AFTER_MS):
        mark_alive(conn, ["rcv-1"])
    with conn:
        count_reads(conn, {"rcv-1": (3, T0 + 5)})
    (alive,) = [row for row in scanner_rows(conn) if row.name == "rcv-1"]
    assert alive.link(T0 + STALE_AFTER_MS + 1) == "connected"
    assert (alive.scans, alive.last_scan_ms) == (3, T0 + 5)
    conn.close()
