"""The database file as a command meets it: what is refused, with which exit status, and
that a refused file keeps every byte (issue 9, item 8).

Every case runs this venv's real `shopfloor` in a subprocess, every subcommand that
opens the database and the TUI's start, against a real file: random bytes, an empty
file, another program's SQLite, a newer shopfloor's database, a read-only bind mount,
a write lock held by another connection, a size-limited tmpfs filled to the brim.
"Nothing written" is the folder's files compared before and after: names (no -wal or
-shm appears), SHA-256 of the bytes, modification times and modes.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from db.connection import connect
from db.demo import write_csvs
from db.floorfile import open_floor
from db.schema import SCHEMA_VERSION
from tests.plant import PLANT_DIR, plant_db

pytestmark = pytest.mark.timeout(120)

SHOPFLOOR = str(Path(sys.executable).with_name("shopfloor"))
# The README's table; a script tells the faults apart by these.
NOT_SHOPFLOOR, NEWER, READ_ONLY, LOCKED, DISK_FULL = 3, 4, 5, 6, 7
FileState = dict[str, tuple[str, int, int]]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SHOPFLOOR, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        check=False,
    )


def commands(db: Path, out: Path) -> dict[str, list[str]]:
    """Every way in that opens the database: the TUI, reports, writers, readers of scanners."""
    d = str(db)
    return {
        "tui": ["--db", d],
        "kiosk": ["--db", d, "--kiosk", "--station", "CUT"],
        "status": ["status", "--db", d],
        "stock": ["stock", "--db", d],
        "movements": ["movements", "--db", d],
        "scans": ["scans", "--db", d],
        "check": ["check", "--db", d],
        "scan": ["scan", "--db", d, "--station", "RECV", "B-STORE"],
        "import": ["import", "--db", d, str(PLANT_DIR)],
        "listen": ["listen", "--db", d, "--scanner", "RECV=loop://"],
        "labels": ["labels", "items", "--db", d, "--format", "png", "--out", str(out)],
        "init": ["init", "--db", d],
    }


def files_in(folder: Path) -> FileState:
    return {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns,
                 stat.S_IMODE(p.stat().st_mode))
        for p in sorted(folder.iterdir())
    }  # fmt: skip


def assert_one_line(done: subprocess.CompletedProcess[str], status: int, *words: str) -> str:
    """The command exited `status` with one line on stderr holding `words`, no traceback."""
    said = f"exit {done.returncode}\nstdout: {done.stdout}\nstderr: {done.stderr}"
    assert done.returncode == status, said
    assert "Traceback" not in done.stdout + done.stderr, said
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, said
    for word in words:
        assert word in lines[0], said
    return lines[0]


def make_plant(path: Path, *, journal: str = "WAL") -> None:
    """The test plant, closed with everything in the main file (no -wal, no -shm)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = plant_db(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if journal != "WAL":
        conn.execute(f"PRAGMA journal_mode = {journal}")
    conn.close()
    path.chmod(0o600)


def newer_plant(path: Path, *, journal: str) -> None:
    make_plant(path, journal=journal)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()


def foreign_sqlite(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO customers (name) VALUES ('Acme')")
    conn.commit()
    conn.close()


# ---------------------------------------------------------------- refused files


REFUSED: dict[str, tuple[Callable[[Path], object], int, str]] = {
    "random bytes": (lambda p: p.write_bytes(os.urandom(8192)), NOT_SHOPFLOOR, "not SQLite"),
    "a CSV": (lambda p: p.write_bytes(b"number,qty\nWO1,3\n"), NOT_SHOPFLOOR, "not SQLite"),
    "another program's SQLite": (foreign_sqlite, NOT_SHOPFLOOR, "another program"),
    # Found: `user_version = 999` was "migrated": opened read-write, switched to WAL.
    "a newer shopfloor's (rollback journal)": (
        lambda p: newer_plant(p, journal="DELETE"), NEWER, "newer shopfloor"),
    "a newer shopfloor's (WAL)": (lambda p: newer_plant(p, journal="WAL"), NEWER, "schema 999"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_refused_file_is_one_line_its_status_and_untouched(tmp_path: Path, case: str) -> None:
    make, status, words = REFUSED[case]
    folder = tmp_path / "floor"
    folder.mkdir()
    db = folder / "plant.db"
    make(db)
    before = files_in(folder)
    for name, args in commands(db, tmp_path / "out").items():
        done = run(*args)
        assert_one_line(done, status, words, str(db))
        assert files_in(folder) == before, f"{name} wrote to the refused file"
    assert not (tmp_path / "out").exists()


def test_the_newer_version_says_which_schemas(tmp_path: Path) -> None:
    db = tmp_path / "plant.db"
    newer_plant(db, journal="DELETE")
    line = assert_one_line(run("status", "--db", str(db)), NEWER)
    assert f"schema 999; this one knows up to {SCHEMA_VERSION}" in line
    assert "nothing was changed" in line


def test_an_empty_file_is_refused_by_all_but_init(tmp_path: Path) -> None:
    """Found: `status` turned an empty file into a database."""
    folder = tmp_path / "floor"
    folder.mkdir()
    db = folder / "plant.db"
    db.write_bytes(b"")
    db.chmod(0o600)
    before = files_in(folder)
    everything = commands(db, tmp_path / "out")
    init = everything.pop("init")
    for name, args in everything.items():
        assert_one_line(run(*args), NOT_SHOPFLOOR, "empty file", "shopfloor init")
        assert files_in(folder) == before, f"{name} wrote to the empty file"
    made = run(*init)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == f"created {db}"
    assert run("status", "--db", str(db), "--json").stdout.strip() == "[]"


def test_no_command_but_init_creates_a_database(tmp_path: Path) -> None:
    db = tmp_path / "floor" / "typo.db"
    db.parent.mkdir()
    everything = commands(db, tmp_path / "out")
    everything.pop("init")
    for name, args in everything.items():
        assert_one_line(run(*args), 1, f"no database at {db}", "shopfloor init")
        assert list(db.parent.iterdir()) == [], f"{name} created {list(db.parent.iterdir())}"


# ---------------------------------------------------------------- read-only


@pytest.fixture
def read_only_plant(tmp_path: Path) -> Iterator[Path]:
    """The plant seen through a read-only bind mount: a file nobody, not root, can write."""
    source = tmp_path / "source"
    make_plant(source / "plant.db")
    view = tmp_path / "read-only"
    view.mkdir()
    subprocess.run(["mount", "--bind", str(source), str(view)], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(view)], check=True)
        yield view / "plant.db"
    finally:
        subprocess.run(["umount", str(view)], check=True)


def test_a_read_only_database_is_refused_before_anything(
    tmp_path: Path, read_only_plant: Path
) -> None:
    before = files_in(read_only_plant.parent)
    for name, args in commands(read_only_plant, tmp_path / "out").items():
        assert_one_line(run(*args), READ_ONLY, "read-only", "writable")
        assert files_in(read_only_plant.parent) == before, name


# ---------------------------------------------------------------- locked


def test_a_write_lock_held_elsewhere_is_one_line_and_its_status(tmp_path: Path) -> None:
    """Another connection holds the write lock: writers say so; readers still read."""
    folder = tmp_path / "floor"
    db = folder / "plant.db"
    make_plant(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        env = {"SHOPFLOOR_BUSY_TIMEOUT_MS": "300"}
        scans_before = holder.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0]
        for args in (
            ["import", "--db", str(db), str(PLANT_DIR)],
            # scan waits for a lock (tests/e2e/test_holding.py): here, one second at most.
            ["scan", "--db", str(db), "--station", "RECV", "--wait", "1", "B-STORE"],
        ):
            started = time.monotonic()
            assert_one_line(run(*args, env=env), LOCKED, "locked", "nothing was written")
            assert time.monotonic() - started < 20
        report = run("status", "--db", str(db), "--json", env=env)
        assert report.returncode == 0, report.stderr
        assert holder.execute("SELECT COUNT(*) FROM scan_journal").fetchone()[0] == scans_before
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_busy_timeout_that_is_not_a_number_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "plant.db"
    make_plant(db)
    done = run("status", "--db", str(db), env={"SHOPFLOOR_BUSY_TIMEOUT_MS": "15s"})
    assert_one_line(done, 1, "SHOPFLOOR_BUSY_TIMEOUT_MS", "milliseconds")


# ---------------------------------------------------------------- disk full


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB tmpfs, unmounted afterwards."""
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2M,mode=0700", "tmpfs", str(disk)],
                   check=True)  # fmt: skip
    try:
        yield disk
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def fill(disk: Path, *, leave: int = 0) -> None:
    """Fill the disk with a file until fewer than `leave` bytes are free."""
    with (disk / "filler").open("wb") as filler:
        chunk = b"\0" * 4096
        try:
            while True:
                free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
                if free <= leave:
                    break
                filler.write(chunk)
                filler.flush()
        except OSError:
            pass  # full


def test_a_full_disk_is_one_line_and_its_status(tmp_path: Path, small_disk: Path) -> None:
    """Found: reported as a "disk I/O error" traceback."""
    db = small_disk / "plant.db"
    make_plant(db)
    fill(small_disk)
    before = files_in(small_disk)
    for name, args in commands(db, tmp_path / "out").items():
        assert_one_line(run(*args), DISK_FULL, "disk holding", "is full", "free some space")
        assert files_in(small_disk) == before, name


def test_a_write_that_fills_the_disk_leaves_nothing_half_done(
    tmp_path: Path, small_disk: Path
) -> None:
    """Room to open, not to load: the import fails whole and says the disk is full."""
    db = small_disk / "plant.db"
    made = run("init", "--db", str(db))
    assert made.returncode == 0, made.stderr
    plant = write_csvs(tmp_path / "csv", work_orders=3000)
    fill(small_disk, leave=160 * 1024)
    main_file = hashlib.sha256(db.read_bytes()).hexdigest()
    assert_one_line(run("import", "--db", str(db), str(plant)), DISK_FULL, "is full")
    assert hashlib.sha256(db.read_bytes()).hexdigest() == main_file
    assert sorted(p.name for p in small_disk.iterdir()) == ["filler", "plant.db"]
    (small_disk / "filler").unlink()
    after = run("status", "--db", str(db), "--json")
    assert after.returncode == 0, after.stderr
    assert after.stdout.strip() == "[]"


# ---------------------------------------------------------------- permissions


def test_a_database_open_to_others_is_made_owner_only_with_a_notice(tmp_path: Path) -> None:
    db = tmp_path / "plant.db"
    make_plant(db)
    keeper = sqlite3.connect(db)  # keeps a -wal and -shm beside it, as a running kiosk does
    try:
        keeper.execute("SELECT COUNT(*) FROM items").fetchone()
        siblings = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        for file in siblings:
            file.chmod(0o644)
        done = run("status", "--db", str(db))
        assert done.returncode == 0, done.stderr
        assert "WO1" in done.stdout
        notice = [line for line in done.stderr.splitlines() if line.strip()]
        assert len(notice) == 1 and notice[0].startswith("notice:"), done.stderr
        assert "(0644); made it 0600" in notice[0]
        assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in siblings} == {
            f.name: 0o600 for f in siblings
        }
    finally:
        keeper.close()
    again = run("status", "--db", str(db))
    assert again.returncode == 0 and again.stderr == ""


def test_badge_labels_are_written_owner_only(tmp_path: Path) -> None:
    """A badge label is a credential: nobody else on the machine may read it."""
    db = tmp_path / "plant.db"
    make_plant(db)
    for fmt, out in (("png", tmp_path / "badges"), ("pdf", tmp_path / "badges.pdf"),
                     ("zpl", tmp_path / "badges.zpl")):  # fmt: skip
        done = run("labels", "badges", "--db", str(db), "--format", fmt, "--out", str(out))
        assert done.returncode == 0, done.stderr
        written = sorted(out.iterdir()) if out.is_dir() else [out]
        assert written
        for file in written:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, (file, oct(file.stat().st_mode))


def test_opening_keeps_the_other_connections_of_the_process_live(tmp_path: Path) -> None:
    """The file check must not close a plain handle on the database: that drops the POSIX
    locks of every connection of the process, and another process then takes the file
    for its own (found: a report run in-process left a listener's writes unseen)."""
    db = tmp_path / "plant.db"
    make_plant(db)
    screen = connect(db)  # a live screen's connection in this process, its pages read
    try:
        assert screen.execute("SELECT COUNT(*) FROM settings").fetchone()[0] >= 1
        open_floor(db).close()
        # Another process, as `listen` does: a first connection opens, writes and closes,
        # a second writes and stays open.
        writer = (
            "import sqlite3, sys, time\n"
            "first = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "first.execute(\"INSERT INTO settings (key, value) VALUES ('first', '1')\")\n"
            "first.close()\n"
            "second = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "second.execute(\"INSERT INTO settings (key, value) VALUES ('seen', 'yes')\")\n"
            "print('written', flush=True)\n"
            "sys.stdin.read()\n"
        )
        process = subprocess.Popen(
            [sys.executable, "-c", writer, str(db)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert process.stdout is not None and process.stdout.readline() == "written\n"
            row = screen.execute("SELECT value FROM settings WHERE key = 'seen'").fetchone()
            assert row is not None and row[0] == "yes", "the other process's commit is unseen"
        finally:
            process.communicate("", timeout=30)
    finally:
        screen.close()
