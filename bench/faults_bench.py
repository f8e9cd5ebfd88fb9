"""Benchmark: the record under faults (SPEC §8, issue 9), as figures.

Run with `python -m bench faults [--lock-s S] [--trials N] [--fuzz N]` (defaults 30 s,
5 trials, 10,000 lines). Each figure is a count next to what it is out of, measured in
this run on real parts: a `shopfloor listen` process reading a pty, a second
connection holding `BEGIN IMMEDIATE`, a size-limited tmpfs (only as root), `kill -9`.

1. kill -9 mid-burst, N trials of 3,000 lines: the most lines lost in one trial
   (target ≤ 64, one hand-over) and lines journaled or posted twice (target 0).
2. A write lock held for S seconds while a line is scanned every S/10 seconds: lines
   lost (target 0), real repeats taken for double reads (target 0), and the largest
   gap between a line's journal time and when it was written.
3. A full disk (a tmpfs filled to the last byte) while 700 lines arrive, then space
   returns: lines lost (target 0).
4. N fuzzed lines (random bytes, seeded) through the reader: listener crashes
   (target 0) and lines journaled (target all).
5. 8 writers at once (a listener burst and 7 `shopfloor scan` processes): lock
   errors or tracebacks that reach a person (target 0) and lines lost (target 0).

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import say
from db.connection import connect
from db.demo import create_demo_db
from db.feed import HANDOVER_LINES
from db.pipeline import process_scan

SHOPFLOOR = [sys.executable, "-c", "from tui.cli import main; main()"]
STATION = "RECEIVING"
SCANNER = "RECEIVING-1"
GTIN = "09506000000114"  # PWD-7035, lot-tracked: each lot a stock row of its own


def lot_line(n: int, prefix: str) -> bytes:
    return f"(01){GTIN}(10){prefix}{n:06d}".encode()


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class Result:
    label: str
    value: int | float
    out_of: str
    target: str
    met: bool

    def line(self) -> str:
        mark = "" if self.met else "  MISSED"
        return f"{self.label:<46} {self.value:>8}  {self.out_of:<28} target {self.target}{mark}"


class Pty:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def write_in_background(self, data: bytes) -> threading.Thread:
        thread = threading.Thread(target=self.write, args=(data,), daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)


class Listener:
    """A `shopfloor listen` process on one pty."""

    def __init__(self, db: Path, pty: Pty, log: Path) -> None:
        self.argv = [*SHOPFLOOR, "listen", "--db", str(db), "--quiet",
                     "--scanner", f"{STATION}={pty.path}"]  # fmt: skip
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, floor: Floor) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        if not wait_until(lambda: floor.connected(), 20):
            raise RuntimeError(f"listener did not connect: {self.output()[-500:]}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(20)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


class Floor:
    def __init__(self, db: Path) -> None:
        self.conn = connect(db)

    def connected(self) -> bool:
        row = self.conn.execute(
            "SELECT connected, updated_ms FROM scanners WHERE name = ?", (SCANNER,)
        ).fetchone()
        return row is not None and row[0] == 1

    def mark_disconnected(self) -> None:
        self.conn.execute("UPDATE scanners SET connected = 0 WHERE name = ?", (SCANNER,))

    def count(self) -> int:
        row = self.conn.execute(
            "SELECT COUNT(*) FROM scan_journal WHERE scanner = ?", (SCANNER,)
        ).fetchone()
        return int(row[0])

    def raws(self) -> list[bytes]:
        rows = self.conn.execute(
            "SELECT raw FROM scan_journal WHERE scanner = ? ORDER BY id", (SCANNER,)
        ).fetchall()
        return [bytes(r[0]) for r in rows]

    def journal(self) -> list[tuple[bytes, int, str | None]]:
        rows = self.conn.execute(
            "SELECT j.raw, j.time_ms, o.status FROM scan_journal j LEFT JOIN scan_outcomes o "
            "ON o.scan = j.id WHERE j.scanner = ? ORDER BY j.id",
            (SCANNER,),
        ).fetchall()
        return [(bytes(r[0]), int(r[1]), r[2]) for r in rows]

    def receipts(self, prefix: str) -> list[str]:
        rows = self.conn.execute(
            "SELECT lot FROM movements WHERE kind = 'receive' AND lot LIKE ? ORDER BY id",
            (f"{prefix}%",),
        ).fetchall()
        return [r[0] for r in rows]

    def close(self) -> None:
        self.conn.close()


def plant(folder: Path) -> Path:
    db = folder / "floor.db"
    conn = create_demo_db(db)
    assert process_scan(conn, STATION, b"B1001").status == "accepted"
    conn.close()
    return db


def check_ok(db: Path) -> bool:
    done = subprocess.run([*SHOPFLOOR, "check", "--db", str(db)], capture_output=True)
    return done.returncode == 0


@dataclass
class Scene:
    """A demo plant signed in at RECEIVING, and a listener reading a pty for it."""

    db: Path
    floor: Floor
    pty: Pty
    listener: Listener


@contextmanager
def scene(prefix: str, *, mount_size: str | None = None) -> Iterator[Scene]:
    """A scene in a temporary folder, or on a tmpfs of `mount_size` (root only)."""
    with tempfile.TemporaryDirectory(prefix=f"faults-{prefix}-") as tmp:
        home = Path(tmp) / "disk"
        home.mkdir()
        if mount_size:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={mount_size}", "tmpfs",
                            str(home)], check=True)  # fmt: skip
        try:
            db = plant(home)
            floor, pty = Floor(db), Pty()
            try:
                listener = Listener(db, pty, Path(tmp) / "listen.log")
                listener.start(floor)
                yield Scene(db, floor, pty, listener)
            finally:
                floor.close()
                pty.close()
        finally:
            if mount_size:
                subprocess.run(["umount", "-l", str(home)], check=False)


# ---------------------------------------------------------------- 1. kill -9


def kill_trial(trial: int, lines: int) -> tuple[int, int, bool]:
    """(lines lost, lines journaled or posted twice, check passed) of one trial."""
    with scene("kill") as at:
        burst = [lot_line(n, f"K{trial}") for n in range(lines)]
        writer = at.pty.write_in_background(b"".join(line + b"\n" for line in burst))
        kill_at = random.Random(trial).randint(lines // 8, lines // 2)
        wait_until(lambda: at.floor.count() >= kill_at, 30, 0.002)
        at.listener.kill()
        at.floor.mark_disconnected()
        at.listener.start(at.floor)
        writer.join(60)
        wait_until(lambda: at.floor.raws()[-1:] == [burst[-1]], 60, 0.05)
        at.listener.stop()
        wanted = set(burst)
        journaled = [raw for raw in at.floor.raws() if raw in wanted]
        posted = at.floor.receipts(f"K{trial}")
        doubled = len(journaled) - len(set(journaled)) + len(posted) - len(set(posted))
        return len(wanted - set(journaled)), doubled, check_ok(at.db)


def kill_trials(trials: int, lines: int = 3000) -> list[Result]:
    outcomes = [kill_trial(trial, lines) for trial in range(trials)]
    worst = max(lost for lost, _, _ in outcomes)
    doubled = sum(twice for _, twice, _ in outcomes)
    checks = sum(ok for _, _, ok in outcomes)
    return [
        Result("kill -9 mid-burst: most lines lost in a trial", worst,
               f"of {lines} per trial, {trials} trials", f"≤ {HANDOVER_LINES}",
               worst <= HANDOVER_LINES),
        Result("kill -9 mid-burst: lines journaled or posted twice", doubled,
               f"{trials} trials", "0", doubled == 0),
        Result("kill -9 mid-burst: `check` passed", checks, f"of {trials} trials",
               "all", checks == trials),
    ]  # fmt: skip


# ---------------------------------------------------------------- 2. a long write lock


def long_lock(lock_s: float, lines: int = 10) -> list[Result]:
    with scene("lock") as at:
        before = at.floor.count()
        # Half the lines are real repeats of one label, a spacing apart.
        sent = [lot_line(n, "W") if n % 2 else b"NUT-M4" for n in range(lines)]
        spacing = lock_s / (lines + 1)
        locker = sqlite3.connect(at.db, isolation_level=None)
        locker.execute("BEGIN IMMEDIATE")
        written_at: list[int] = []
        for line in sent:
            time.sleep(spacing)
            at.pty.write(line + b"\r\n")
            written_at.append(time.time_ns() // 1_000_000)
        time.sleep(max(0.0, lock_s - spacing * lines))
        locker.execute("ROLLBACK")
        locker.close()
        wait_until(lambda: at.floor.count() >= before + lines, 30)
        journal = at.floor.journal()[before:]
        at.listener.stop()
        lost = lines - sum(1 for raw, _, _ in journal if raw in set(sent))
        duplicates = sum(1 for _, _, status in journal if status == "duplicate")
        pairs = zip(journal, written_at, strict=False)
        skew = max((abs(at_ms - sent_ms) for (_, at_ms, _), sent_ms in pairs), default=0)
        said = "waiting for the database" in at.listener.output()
    return [
        Result(f"{lock_s:g} s write lock: lines lost", lost, f"of {lines} scanned during it",
               "0", lost == 0),
        Result(f"{lock_s:g} s write lock: repeats taken for double reads", duplicates,
               f"of {lines // 2} real repeats", "0", duplicates == 0),
        Result(f"{lock_s:g} s write lock: read time kept, worst ms", skew,
               "journal time − time written", "≤ 500", skew <= 500),
        Result(f"{lock_s:g} s write lock: listen said it waited", int(said), "1 = yes", "1",
               said),
    ]  # fmt: skip


# ---------------------------------------------------------------- 3. a full disk


def full_disk(lines: int = 700) -> list[Result]:
    if os.geteuid() != 0:
        say("  full disk: not run (mounting a tmpfs needs root)")
        return []
    with scene("disk", mount_size="24m") as at:
        before = at.floor.count()
        filler = at.db.parent / "filler"
        fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
        for size in (1 << 20, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
        os.close(fd)
        sent = [lot_line(n, "D") for n in range(lines)]
        for start in range(0, lines, 50):
            at.pty.write(b"".join(line + b"\n" for line in sent[start : start + 50]))
        time.sleep(1.0)
        held_while_full = at.floor.count() - before < lines
        filler.unlink()
        wait_until(lambda: at.floor.count() >= before + lines, 30)
        at.listener.stop()
        journaled = set(at.floor.raws()[before:])
        lost = sum(1 for line in sent if line not in journaled)
        ok = check_ok(at.db)
    return [
        Result("full disk: lines lost once space returns", lost, f"of {lines}", "0", lost == 0),
        Result("full disk: the disk really refused writes", int(held_while_full), "1 = yes",
               "1", held_while_full),
        Result("full disk: `check` passed", int(ok), "1 = yes", "1", ok),
    ]  # fmt: skip


# ---------------------------------------------------------------- 4. fuzz


def fuzzed_lines(count: int, seed: int) -> list[bytes]:
    rnd = random.Random(seed)
    alphabet = bytes(b for b in range(256) if b not in (0x0A, 0x0D))
    lines = []
    for n in range(count):
        kind = n % 4
        if kind == 0:
            line = bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 40)))
        elif kind == 1:
            line = f"QTY:{rnd.choice(['1e20', '-0', '9' * 30, '1.0001', 'nan', '12'])}".encode()
        elif kind == 2:
            line = lot_line(n, "Z")[: rnd.randint(1, 30)]
        else:
            line = rnd.choice([b"\x1b]0;x\x07", b"[/]", b"LOT:[@click=app.quit]x[/]",
                               b"CMD:MODE:RECEIVE", b"\xff\xfe", b"NUT-M4"])  # fmt: skip
        lines.append(line)
    return lines


def fuzz(count: int, seed: int = 9) -> list[Result]:
    lines = fuzzed_lines(count, seed)
    with scene("fuzz") as at:
        before = at.floor.count()
        writer = at.pty.write_in_background(b"".join(line + b"\n" for line in lines))
        writer.join(120)
        wait_until(lambda: at.floor.count() >= before + count, 120, 0.05)
        journaled = at.floor.count() - before
        crashes = 0 if at.listener.alive() else 1
        crashes += at.listener.output().count("Traceback")
        at.listener.stop()
    return [
        Result("fuzzed lines: listener crashes or tracebacks", crashes, f"over {count} lines",
               "0", crashes == 0),
        Result("fuzzed lines: journaled", journaled, f"of {count}", "all", journaled == count),
    ]  # fmt: skip


# ---------------------------------------------------------------- 5. writers at once

STATIONS = ("STORES", "SHIPPING", "RECEIVING", "CUT-1", "BEND-1", "PAINT-1", "ASSY-1")


def writers(burst: int = 2000, each: int = 60) -> list[Result]:
    with scene("writers") as at:
        sent = [lot_line(n, "M") for n in range(burst)]
        writer = at.pty.write_in_background(b"".join(line + b"\n" for line in sent))
        runs = [
            subprocess.Popen(
                [
                    *SHOPFLOOR,
                    "scan",
                    "--db",
                    str(at.db),
                    "--station",
                    station,
                    *["NO-SUCH-LABEL"] * each,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )  # fmt: skip
            for station in STATIONS
        ]
        errors = 0
        for run in runs:
            _, err = run.communicate(timeout=120)
            words = err.decode(errors="replace").lower()
            errors += ("locked" in words) + ("traceback" in words)
        writer.join(60)
        wait_until(lambda: at.floor.count() >= len(sent), 60)
        at.listener.stop()
        errors += at.listener.output().lower().count("traceback")
        journaled = set(at.floor.raws())
        lost = sum(1 for line in sent if line not in journaled)
        commands = at.floor.conn.execute(
            "SELECT COUNT(*) FROM scan_journal WHERE source = 'command'"
        ).fetchone()[0]
        lost += len(STATIONS) * each - commands
    return [
        Result("8 writers at once: lock errors reaching a person", errors,
               "7 scan commands + listen", "0", errors == 0),
        Result("8 writers at once: lines lost", lost,
               f"of {burst + len(STATIONS) * each}", "0", lost == 0),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench faults")
    parser.add_argument("--lock-s", type=float, default=30.0)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--fuzz", type=int, default=10_000)
    args = parser.parse_args(argv or [])
    results: list[Result] = []
    runs: list[tuple[str, Callable[[], list[Result]]]] = [
        ("kill -9 trials", lambda: kill_trials(args.trials)),
        ("long write lock", lambda: long_lock(args.lock_s)),
        ("full disk", full_disk),
        ("fuzz", lambda: fuzz(args.fuzz)),
        ("writers", writers),
    ]
    for name, run in runs:
        started = time.monotonic()
        found = run()
        for result in found:
            say(result.line())
        say(f"  ({name}: {time.monotonic() - started:.0f} s)")
        results += found
    return 0 if all(result.met for result in results) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
