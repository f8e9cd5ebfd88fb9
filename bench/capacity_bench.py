"""Benchmark: how much one server carries (issue 13): N scanners through ser2net, one
`shopfloor listen`, and app instances on the board, all on this machine.

Run with `python -m bench capacity [--scanners 50,100,200] [--seconds 30] [--apps 8]`.

For each number of scanners:
1. N pty pairs play the scanners; one `ser2net` serves each over RFC 2217 on its own
   port on 127.0.0.1 (as a device server on the floor does); one real `shopfloor
   listen` reads all N through `rfc2217://` URLs, each bound to a station of its own.
2. Each scanner scans every 1/`--rate` s (2/s), phases spread, a realistic mix at a
   receiving point: badge, mode and location commands, item barcodes, QTY:, GS1 labels
   with GTIN, lot and quantity, an unknown label now and then (rejected), CMD:CANCEL.
3. `--apps` real app processes (headless, `App.run_test`) have the board open. Twice a
   second this process commits an issue to a work order as another terminal would
   (db.pipeline), and each app reports when its board has painted that order.
4. Measured over the run: sustained scans per second (journaled) against those offered,
   scan-to-commit (written to the pty → its journal row visible to a reader; the
   reader polls every 10 ms, which is in the figure), commit-to-screen on every app,
   and CPU (share of one core) and peak memory of every process.

A load is carried when at least 98% of what was offered is committed within the run
and p99 scan-to-commit stays under 1 s. No reference ratio here: the figure is what
this machine carries, and the README's sizing paragraph is drawn from it.
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tty
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import cache_dir, say
from bench.tui_bench import STATION, _issue_pairs, percentile
from db.connection import connect
from db.demo import create_demo_db
from db.pipeline import ScanInput, process_batch

POLL_S = 0.01
CARRIED_SHARE = 0.98
CARRIED_P99_MS = 1000.0


# ---------------------------------------------------------------- the plant and its scanners


def plant(folder: Path, scanners: int) -> tuple[Path, list[str]]:
    """The demo plant with one receiving station per scanner (at stores bin A-04)."""
    db = folder / "plant.db"
    conn = create_demo_db(db)
    stations = [f"BENCH-{n:03d}" for n in range(1, scanners + 1)]
    with conn:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO stations (code, name, location, stage, mode) "
            "VALUES (?, ?, 'A-04', NULL, 'RECEIVE')",
            [(code, f"bench receiving {code}") for code in stations],
        )
    conn.close()
    return db, stations


def script(conn: sqlite3.Connection, rnd: random.Random) -> list[bytes]:
    """One round at a receiving point, as a storeman scans it."""
    gtins = conn.execute("SELECT gtin, lot_tracked FROM items WHERE gtin IS NOT NULL").fetchall()
    plain = [
        r[0]
        for r in conn.execute(
            "SELECT barcode FROM items WHERE lot_tracked = 0 AND gtin IS NULL LIMIT 12"
        )
    ]
    lines = ["B1001", "CMD:MODE:RECEIVE", "A-04"]
    for _ in range(rnd.randint(4, 8)):
        roll = rnd.random()
        if roll < 0.5:
            lines.append(rnd.choice(plain))
        elif roll < 0.65:
            lines += [f"QTY:{rnd.choice([2, 3, 5, 10])}", rnd.choice(plain)]
        elif roll < 0.9:
            gtin, lot = rnd.choice(gtins)
            label = f"(01){gtin}" + (f"(10)L{rnd.randint(2700, 2799)}" if lot else "")
            lines.append(label + f"(37){rnd.choice([10, 20, 50])}")
        else:
            lines.append(rnd.choice(["4006381333931", "SCR-M8X20"]))  # unknown: rejected
    lines.append("CMD:CANCEL")
    return [line.encode() for line in lines]


@dataclass
class Scanner:
    station: str
    master: int
    slave: int
    path: str
    port: int
    lines: list[bytes]
    sent: deque[float] = field(default_factory=deque)  # monotonic write times, in order
    count: int = 0


def free_ports(n: int) -> list[int]:
    probes = []
    for _ in range(n):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        probes.append(probe)
    ports = [int(p.getsockname()[1]) for p in probes]
    for probe in probes:
        probe.close()
    return ports


def ser2net_config(scanners: Sequence[Scanner]) -> str:
    parts = ["%YAML 1.1\n---\n"]
    for s in scanners:
        parts.append(
            f"connection: &{s.station.lower().replace('-', '')}\n"
            f"    accepter: telnet(rfc2217),tcp,127.0.0.1,{s.port}\n"
            "    enable: on\n"
            "    options:\n"
            "      kickolduser: true\n"
            f"    connector: serialdev,{s.path},9600n81,local\n"
        )
    return "".join(parts)


def listen_config(scanners: Sequence[Scanner]) -> str:
    return "".join(
        f'[[scanner]]\nname = "{s.station}"\nstation = "{s.station}"\n'
        f'url = "rfc2217://127.0.0.1:{s.port}?ign_set_control"\n\n'
        for s in scanners
    )


# ---------------------------------------------------------------- processes and their cost


@dataclass
class Cost:
    """CPU seconds and peak memory of one process, read from /proc."""

    name: str
    pid: int
    cpu_start: float = 0.0
    cpu_end: float = 0.0
    peak_mb: float = 0.0

    @staticmethod
    def cpu(pid: int) -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self.cpu_start = self.cpu(self.pid)

    def end(self) -> None:
        self.cpu_end = self.cpu(self.pid)
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                self.peak_mb = int(line.split()[1]) / 1024


def wait_until(condition: object, timeout: float, what: str) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.05)


# ---------------------------------------------------------------- one app on the board


async def _board_app(db: str, out: Path, stop: Path) -> None:
    from tui.app import create_app
    from tui.screens.board import BoardRead, BoardScreen, FirstScreenful

    original = BoardScreen.show
    log = out.open("a", buffering=1)

    def show(self: BoardScreen, result: BoardRead | FirstScreenful) -> None:
        original(self, result)
        delta = result.delta if isinstance(result, BoardRead) else None
        if delta is not None and delta.rows:
            numbers = " ".join(row.number for row in delta.rows) if not delta.full else "*"
            self.call_after_refresh(lambda: log.write(f"{time.time()} {numbers}\n"))

    setattr(BoardScreen, "show", show)  # noqa: B010 (a method, swapped in this process)
    app = create_app(db)
    async with app.run_test(size=(120, 40)):
        deadline = time.monotonic() + 900
        while not stop.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    log.close()


# ---------------------------------------------------------------- one run


@dataclass
class Result:
    scanners: int
    seconds: float
    offered: int
    committed: int
    scan_to_commit_ms: list[float]
    commit_to_screen_ms: list[float]
    probes: int
    screens_missed: int
    costs: list[Cost]

    @property
    def carried(self) -> bool:
        return (
            self.committed >= CARRIED_SHARE * self.offered
            and _pct(self.scan_to_commit_ms, 0.99) < CARRIED_P99_MS
        )


def run(folder: Path, scanners: int, seconds: float, apps: int, rate: float) -> Result:
    ser2net = shutil.which("ser2net")
    if ser2net is None:
        raise SystemExit("ser2net is not installed (apt-get install ser2net)")
    db, stations = plant(folder, scanners)
    conn = connect(db)
    rnd = random.Random(13)
    ports = free_ports(scanners)
    fleet = []
    for station, port in zip(stations, ports, strict=True):
        master, slave = os.openpty()
        tty.setraw(slave)
        lines = [line for _ in range(40) for line in script(conn, rnd)]
        fleet.append(Scanner(station, master, slave, os.ttyname(slave), port, lines))
    (folder / "ser2net.yaml").write_text(ser2net_config(fleet))
    (folder / "scanners.toml").write_text(listen_config(fleet))
    children: list[subprocess.Popen[bytes]] = []
    stop = folder / "stop"
    try:
        children.append(subprocess.Popen(
            [ser2net, "-n", "-d", "-c", str(folder / "ser2net.yaml")],
            stdout=subprocess.DEVNULL, stderr=(folder / "ser2net.log").open("wb"),
        ))  # fmt: skip
        listen = subprocess.Popen(
            [sys.executable, "-c", "from tui.cli import main; main()", "listen", "--db",
             str(db), "--config", str(folder / "scanners.toml"), "--quiet"],
            stdout=subprocess.DEVNULL, stderr=(folder / "listen.log").open("wb"),
        )  # fmt: skip
        children.append(listen)
        wait_until(
            lambda: (
                conn.execute("SELECT COUNT(*) FROM scanners WHERE connected = 1").fetchone()[0]
                == scanners
            ),
            120,
            "every scanner connected through ser2net",
        )
        screens = []
        for n in range(apps):
            out = folder / f"app-{n}.log"
            out.touch()
            screens.append(out)
            children.append(subprocess.Popen(
                [sys.executable, "-m", "bench.capacity_bench", "--app", str(db), str(out),
                 str(stop)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))  # fmt: skip
        wait_until(
            lambda: all(out.read_text() for out in screens), 120, "every app painted the board"
        )
        costs = [Cost("ser2net", children[0].pid), Cost("listen", listen.pid)]
        costs += [Cost(f"app {n + 1}", p.pid) for n, p in enumerate(children[2:])]
        result = _measure(conn, db, fleet, seconds, rate, screens, costs)
    finally:
        stop.touch()
        for child in reversed(children):
            child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(5)
        for s in fleet:
            os.close(s.master)
            os.close(s.slave)
        conn.close()
    return result


def _measure(
    conn: sqlite3.Connection,
    db: Path,
    fleet: list[Scanner],
    seconds: float,
    rate: float,
    screens: list[Path],
    costs: list[Cost],
) -> Result:
    by_station = {s.station: s for s in fleet}
    last_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM scan_journal").fetchone()[0]
    latencies: list[float] = []
    finished = threading.Event()

    def watch() -> None:
        nonlocal last_id
        reader = connect(db, readonly=True)
        while not finished.is_set():
            rows = reader.execute(
                "SELECT id, station FROM scan_journal WHERE id > ? AND source = 'serial' "
                "ORDER BY id",
                (last_id,),
            ).fetchall()
            now = time.monotonic()
            for row in rows:
                last_id = row[0]
                scanner = by_station.get(row[1])
                if scanner is not None and scanner.sent:
                    latencies.append((now - scanner.sent.popleft()) * 1000)
            time.sleep(POLL_S)
        reader.close()

    # The probe: another terminal issuing to work orders, twice a second.
    probe_conn = connect(db)
    pairs = _issue_pairs(probe_conn)
    process_batch(probe_conn, [ScanInput(STATION, b"B1002"), ScanInput(STATION, b"CMD:MODE:ISSUE")])
    probes: list[tuple[float, str]] = []
    watcher = threading.Thread(target=watch, daemon=True)
    for cost in costs:
        cost.start()
    started = time.monotonic()
    watcher.start()
    interval = 1 / rate
    # Each scanner's next scan, soonest first: the feeder sleeps until one is due, so
    # this process's own load stays small beside what it measures.
    due = [(started + n * interval / len(fleet), n) for n in range(len(fleet))]
    heapq.heapify(due)
    next_probe = started + 0.25
    deadline = started + seconds
    offered = 0
    while (now := time.monotonic()) < deadline:
        at, n = due[0]
        if at > now and next_probe > now:
            time.sleep(min(at, next_probe, deadline) - now)
            continue
        if at <= now:
            s = fleet[n]
            s.sent.append(now)
            os.write(s.master, s.lines[s.count % len(s.lines)] + b"\r\n")
            s.count += 1
            offered += 1
            heapq.heapreplace(due, (at + interval, n))
        if next_probe <= now:
            order, _, barcode, _ = pairs[len(probes) % len(pairs)]
            process_batch(
                probe_conn,
                [ScanInput(STATION, order.encode()), ScanInput(STATION, barcode.encode())],
            )
            probes.append((time.time(), order))
            next_probe += 0.5
    elapsed = time.monotonic() - started
    for cost in costs:
        cost.end()
    # What was offered and not yet committed gets 3 s more, then counts as not carried.
    grace = time.monotonic() + 3
    while any(s.sent for s in fleet) and time.monotonic() < grace:
        time.sleep(0.05)
    finished.set()
    watcher.join(5)
    probe_conn.close()
    missing = sum(len(s.sent) for s in fleet)
    screen_ms: list[float] = []
    missed = 0
    for out in screens:
        painted: list[tuple[float, set[str]]] = []
        for line in out.read_text().splitlines():
            stamp, _, numbers = line.partition(" ")
            painted.append((float(stamp), set(numbers.split())))
        for committed_at, order in probes:
            seen = next(
                (t for t, orders in painted
                 if t >= committed_at and (order in orders or "*" in orders)),
                None,
            )  # fmt: skip
            if seen is None:
                missed += 1
            else:
                screen_ms.append((seen - committed_at) * 1000)
    return Result(
        scanners=len(fleet), seconds=elapsed, offered=offered, committed=offered - missing,
        scan_to_commit_ms=latencies, commit_to_screen_ms=screen_ms,
        probes=len(probes) * len(screens), screens_missed=missed, costs=costs,
    )  # fmt: skip


def _pct(samples: Sequence[float], share: float) -> float:
    return percentile(samples, share) if samples else float("nan")


def report(result: Result) -> None:
    p = _pct
    s2c, c2s = result.scan_to_commit_ms, result.commit_to_screen_ms
    say(
        f"{result.scanners} scanners: offered {result.offered / result.seconds:.0f} scans/s, "
        f"committed {result.committed / result.seconds:.0f}/s "
        f"({result.committed}/{result.offered}); "
        f"scan-to-commit p50 {p(s2c, 0.5):.0f} ms p99 {p(s2c, 0.99):.0f} ms; "
        f"commit-to-screen p50 {p(c2s, 0.5):.0f} ms p95 {p(c2s, 0.95):.0f} ms "
        f"p99 {p(c2s, 0.99):.0f} ms ({result.screens_missed}/{result.probes} not seen)"
        + ("" if result.carried else "  NOT CARRIED")
    )
    for cost in result.costs:
        share = (cost.cpu_end - cost.cpu_start) / result.seconds * 100
        say(f"    {cost.name:<8} CPU {share:5.1f}% of a core   peak RSS {cost.peak_mb:6.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench capacity")
    parser.add_argument("--scanners", default="50,100,200", help="comma-separated loads")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--apps", type=int, default=8)
    parser.add_argument("--rate", type=float, default=2.0, help="scans per second per scanner")
    parser.add_argument("--app", nargs=3, metavar=("DB", "OUT", "STOP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.app:
        asyncio.run(_board_app(args.app[0], Path(args.app[1]), Path(args.app[2])))
        return 0
    loads = [int(n) for n in args.scanners.split(",")]
    say(f"capacity: {os.cpu_count()} cores; {args.apps} apps on the board; "
        f"{args.rate:g} scans/s per scanner; {args.seconds:g} s per load")  # fmt: skip
    carried = 0
    for load in loads:
        # On disk (bench/.cache), not /tmp: a tmpfs would make every fsync free.
        with tempfile.TemporaryDirectory(dir=cache_dir()) as folder:
            result = run(Path(folder), load, args.seconds, args.apps, args.rate)
        report(result)
        if result.carried:
            carried = max(carried, load)
    say(f"carried: {carried} scanners" if carried else "carried: none of the loads tried")
    return 0 if carried == max(loads) else 1


if __name__ == "__main__":
    raise SystemExit(main())
