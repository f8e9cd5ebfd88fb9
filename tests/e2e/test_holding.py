"""Nothing read is lost while the database refuses writes (SPEC §8, issue 9 item 1).

A real `shopfloor listen` reads a real pty while a second connection holds the write
lock (`BEGIN IMMEDIATE`) past the busy timeout, or while the disk is full (a
size-limited tmpfs: the tests run as root), or is killed with scans still held. Every
line must land once, in order, stamped with the time it was read.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from db.connection import connect
from db.demo import create_demo_db
from db.spool import held_scans, spool_dir
from tests.conftest import wait_for
from tests.e2e.conftest import (
    POWDER_GTIN14,
    SHOPFLOOR,
    Floor,
    ListenFactory,
    check_passes,
    sign_in,
    start_and_wait_connected,
)
from tests.serial_devices import Pty

pytestmark = pytest.mark.timeout(90)

NAME = "RECEIVING-1"


def lot_line(n: int, prefix: str = "H") -> bytes:
    """Receive one unit of the lot-tracked powder in lot <prefix><n>: each line unique."""
    return f"(01){POWDER_GTIN14}(10){prefix}{n:05d}".encode()


class WriteLock:
    """Another program holding the write lock, as a `sqlite3` shell in a transaction does."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.execute("ROLLBACK")
        self.conn.close()


def held_now(db: Path) -> int:
    return sum(report.held for report in held_scans(db))


def receipts(floor: Floor, prefix: str) -> list[str]:
    rows = floor.conn.execute(
        "SELECT lot FROM movements WHERE kind = 'receive' AND lot LIKE ? ORDER BY id",
        (f"{prefix}%",),
    ).fetchall()
    return [row[0] for row in rows]


def test_a_write_lock_held_past_the_busy_timeout_loses_no_line(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    sign_in(db_path, "RECEIVING", "B1001")
    listener = start_and_wait_connected(
        listen, floor, "--scanner", f"RECEIVING={pty.path}", names=(NAME,)
    )
    before = floor.count(NAME)
    lock = WriteLock(db_path)
    written_at: list[int] = []
    # Ten scans, one every 0.4 s, through a lock of about five seconds; four of them
    # the same label (real repeats, 0.4 s apart: more than the 250 ms double-read window).
    lines = [lot_line(n) for n in range(6)] + [b"NUT-M4"] * 4
    try:
        for line in lines:
            pty.write(line + b"\r\n")
            written_at.append(time.time_ns() // 1_000_000)
            time.sleep(0.4)
        assert wait_for(lambda: held_now(db_path) == len(lines), 10), held_scans(db_path)
        assert floor.count(NAME) == before, "nothing can be journaled while the lock is held"
        assert wait_for(lambda: "waiting for the database: " in listener.output(), 5)
    finally:
        lock.release()
    rows = floor.wait_journal(NAME, before + len(lines), timeout=20)[before:]
    assert [r["raw"] for r in rows] == lines
    assert [r["status"] for r in rows] == ["accepted"] * len(lines), [r["message"] for r in rows]
    # Each line keeps the time it was read, not the time the lock was released.
    for row, sent in zip(rows, written_at, strict=True):
        assert abs(row["time_ms"] - sent) < 300, (row["time_ms"], sent)
    assert receipts(floor, "H") == [f"H{n:05d}" for n in range(6)]
    assert wait_for(lambda: held_now(db_path) == 0, 5)
    # The held count drops as the lines commit; the listener's line follows it.
    assert wait_for(lambda: "the database takes writes again" in listener.output(), 5)
    assert "Traceback" not in listener.output()
    assert listener.stop() == 0
    check_passes(db_path)


def test_scans_held_in_the_spool_survive_a_kill_9_and_post_once(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    sign_in(db_path, "RECEIVING", "B1001")
    args = ("--quiet", "--scanner", f"RECEIVING={pty.path}")
    first = start_and_wait_connected(listen, floor, *args, names=(NAME,))
    before = floor.count(NAME)
    lock = WriteLock(db_path)
    lines = [lot_line(n, "S") for n in range(200)]
    try:
        pty.write(b"".join(line + b"\n" for line in lines))
        assert wait_for(lambda: held_now(db_path) == len(lines), 15), held_scans(db_path)
        spool = spool_dir(db_path) / f"{NAME}.spool"
        assert spool.stat().st_size > 0
        assert oct(spool.stat().st_mode & 0o777) == "0o600"
        first.kill()
    finally:
        lock.release()
    assert floor.count(NAME) == before
    second = start_and_wait_connected(listen, floor, *args, names=(NAME,))
    rows = floor.wait_journal(NAME, before + len(lines), timeout=20)[before:]
    assert [r["raw"] for r in rows] == lines
    # A third start finds nothing left to post: the progress mark says it is all in.
    assert second.stop() == 0
    third = start_and_wait_connected(listen, floor, *args, names=(NAME,))
    time.sleep(0.5)
    assert third.stop() == 0
    assert floor.count(NAME) == before + len(lines)
    assert receipts(floor, "S") == [f"S{n:05d}" for n in range(200)]
    check_passes(db_path)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MB tmpfs: the database lives on it and the test fills it up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)], check=True
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of the disk; delete the file to give the room back."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
    try:
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_loses_no_line_once_space_returns(
    listen: ListenFactory, small_disk: Path, pty: Pty
) -> None:
    db = small_disk / "floor.db"
    create_demo_db(db).close()
    sign_in(db, "RECEIVING", "B1001")
    floor = Floor(db)
    try:
        listener = start_and_wait_connected(
            listen, floor, "--scanner", f"RECEIVING={pty.path}", names=(NAME,)
        )
        before = floor.count(NAME)
        filler = fill(small_disk)
        lines = [lot_line(n, "F") for n in range(700)]
        for start in range(0, len(lines), 50):
            pty.write(b"".join(line + b"\n" for line in lines[start : start + 50]))
            time.sleep(0.02)
        # The database cannot grow: the lines wait, counted where any screen can see them.
        assert wait_for(lambda: held_now(db) > 0, 10), listener.output()
        assert floor.count(NAME) < before + len(lines)
        filler.unlink()
        rows = floor.wait_journal(NAME, before + len(lines), timeout=30)[before:]
        assert [r["raw"] for r in rows] == lines, listener.output()[-2000:]
        assert wait_for(lambda: held_now(db) == 0, 10)
        assert "Traceback" not in listener.output()
        assert listener.stop() == 0
        assert receipts(floor, "F") == [f"F{n:05d}" for n in range(700)]
        check_passes(db)
    finally:
        floor.close()


def test_a_partial_line_followed_by_silence_is_rejected_and_the_next_scan_stands_alone(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    sign_in(db_path, "RECEIVING", "B1001")
    start_and_wait_connected(
        listen, floor, "--quiet", "--scanner", f"RECEIVING={pty.path}", names=(NAME,)
    )
    before = floor.count(NAME)
    pty.write(b"NUT-M")  # the scanner's cable was pulled mid-code
    time.sleep(0.8)
    pty.write(b"NUT-M4\r\n")
    big = b"Z" * (10 * 1_048_576)  # ten megabytes and no terminator
    pty.write(big)
    time.sleep(0.8)
    pty.write(b"NUT-M5\r\n")
    rows = floor.wait_journal(NAME, before + 4, timeout=20)[before:]
    assert wait_for(lambda: all(r["status"] for r in floor.journal(NAME)), 5)
    rows = floor.journal(NAME)[before:]
    assert [(r["raw"][:8], r["status"]) for r in rows] == [
        (b"NUT-M", "rejected"),
        (b"NUT-M4", "accepted"),
        (b"Z" * 8, "rejected"),
        (b"NUT-M5", "accepted"),
    ]
    assert "no terminator" in rows[0]["message"]
    assert rows[2]["raw_length"] == len(big)
    check_passes(db_path)


def test_shopfloor_scan_waits_for_a_lock_and_says_so(db_path: Path) -> None:
    sign_in(db_path, "RECEIVING", "B1001")
    lock = WriteLock(db_path)
    try:
        started = time.monotonic()
        scan = subprocess.Popen(
            [*SHOPFLOOR, "scan", "--db", str(db_path), "--station", "RECEIVING", "NUT-M4"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert scan.stderr is not None
        said = scan.stderr.readline().decode()
        assert "waiting for the database" in said
        assert time.monotonic() - started >= 1.9
        time.sleep(0.5)
    finally:
        lock.release()
    out, err = scan.communicate(timeout=20)
    assert scan.returncode == 0, err
    assert b"\xe2\x9c\x93 NUT-M4" in out
    conn = connect(db_path)
    try:
        assert (
            conn.execute(
                "SELECT COUNT(*) FROM scan_journal WHERE source = 'command' AND raw = ?",
                (b"NUT-M4",),
            ).fetchone()[0]
            == 1
        )
    finally:
        conn.close()


def test_shopfloor_scan_gives_up_on_a_long_lock_in_one_line(db_path: Path) -> None:
    lock = WriteLock(db_path)
    try:
        done = subprocess.run(
            [*SHOPFLOOR, "scan", "--db", str(db_path), "--station", "RECEIVING", "--wait", "3",
             "--json", "NUT-M4"],
            capture_output=True, timeout=30,
        )  # fmt: skip
    finally:
        lock.release()
    assert done.returncode == 6
    lines = done.stderr.decode().strip().splitlines()
    assert "Traceback" not in done.stderr.decode()
    assert lines[-1].startswith("shopfloor: the database is locked by another program's write")
    assert "nothing was written" in lines[-1]
    assert done.stdout == b""
    conn = connect(db_path)
    try:
        assert (
            conn.execute("SELECT COUNT(*) FROM scan_journal WHERE source = 'command'").fetchone()[0]
            == 0
        )
    finally:
        conn.close()


def test_a_feed_status_file_says_what_is_held(db_path: Path) -> None:
    """The file the screens read is plain JSON at a fixed size, rewritten in place."""
    from db.feed import ScanFeed, TypedLine

    feed = ScanFeed(db_path, name="keyboard-RECEIVING", source="keyboard", busy_ms=50)
    feed.start()
    lock = WriteLock(db_path)
    try:
        assert feed.give("RECEIVING", [TypedLine(b"NUT-M4", 1, 6)]) is None
        assert feed.give("RECEIVING", [TypedLine(b"NUT-M5", 2, 6)]) is None
        status = (spool_dir(db_path) / "keyboard-RECEIVING.held").read_bytes()
        assert len(status) == 1024
        assert json.loads(status)["held"] == 2
        assert [(r.held, r.stations) for r in held_scans(db_path)] == [(2, ("RECEIVING",))]
    finally:
        lock.release()
    assert wait_for(lambda: feed.held == 0, 10)
    assert held_scans(db_path) == []
    feed.close()
    assert os.path.exists(spool_dir(db_path) / "keyboard-RECEIVING.spool")


async def test_the_devices_screen_says_how_many_scans_wait_for_the_database(
    listen: ListenFactory, floor: Floor, db_path: Path, pty: Pty
) -> None:
    from tests.conftest import settle
    from tests.conftest import wait_until as wait_on_screen
    from tests.tui.test_tui_screens import Host
    from tui.screens.devices import DevicesScreen

    sign_in(db_path, "RECEIVING", "B1001")
    start_and_wait_connected(
        listen, floor, "--quiet", "--scanner", f"RECEIVING={pty.path}", names=(NAME,)
    )
    screen = DevicesScreen(str(db_path))
    async with Host(screen).run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        lock = WriteLock(db_path)
        try:
            pty.write(b"".join(lot_line(n, "D") + b"\n" for n in range(3)))
            await wait_on_screen(
                pilot,
                lambda: "waiting for the database: 3 scans held" in str(screen.heading.render()),
                10,
            )
            row = [cell.plain for cell in screen.table.row_cells(NAME)]
            assert "⏸ waiting for the database: 3 scans held" in row
        finally:
            lock.release()
        await wait_on_screen(pilot, lambda: "held" not in str(screen.heading.render()), 10)
    floor.wait_journal(NAME, 3)
    assert receipts(floor, "D") == ["D00000", "D00001", "D00002"]
