"""The app's own serial scanner (`shopfloor --station S --scanner URL`) and its Devices row."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.message import Message

from db.connection import connect, now_ms
from db.scanners import scanner_rows
from devices.simulator import PtyScanner
from tests.conftest import wait_for
from tui.watching import LocalScanner

pytestmark = pytest.mark.timeout(30)
BEAT_S = 0.1


@pytest.fixture
def scanner() -> Iterator[PtyScanner]:
    pty = PtyScanner()
    yield pty
    pty.close()


def test_a_kiosk_reading_its_own_scanner_keeps_saying_it_reads(
    demo_db: str, scanner: PtyScanner
) -> None:
    """Found: 15 s after the kiosk's own scanner connected, the station screen said "no
    reader since …, its scans are not arriving" while its scans went on arriving: only
    `shopfloor listen` wrote the heartbeat that tells a running reader from a dead one."""
    posted: list[Message] = []
    local = LocalScanner(
        demo_db, name="cut-1-local", url=scanner.device_path, station="CUT-1",
        post=posted.append, heartbeat_s=BEAT_S,
    )  # fmt: skip
    conn = connect(demo_db)

    def updated() -> int:
        row = conn.execute("SELECT updated_ms FROM scanners WHERE name = 'cut-1-local'")
        return int(row.fetchone()[0])

    try:
        local.start()
        assert wait_for(
            lambda: [r.connected for r in scanner_rows(conn) if r.name == "cut-1-local"] == [True],
            5,
        )
        connected_at = updated()
        # No scan, no change of link: the reader still says it is alive.
        assert wait_for(lambda: updated() > connected_at, 5, 0.02)
        (row,) = [r for r in scanner_rows(conn) if r.name == "cut-1-local"]
        assert row.link(now_ms()) == "connected"
        local.stop()
        # Stopped: no heartbeat after it, so a reader that is gone reads as gone.
        stopped_at = updated()
        assert not wait_for(lambda: updated() > stopped_at, 5 * BEAT_S, 0.02)
    finally:
        local.stop()
        conn.close()
