"""Benchmark: SSI scanners under kill -9 (issue 14), as figures.

Run with `python -m bench ssi [--scans N] [--scanners K] [--kill-every S]` (defaults
5,000 scans, 4 scanners, a kill every 3 s). Real parts throughout: simulated Zebra
scanners in SSI mode on ptys (devices.simulator.SsiScanner, the guide's 2 s ACK time-out
and two retries), a `shopfloor listen --config` process reading them, `kill -9`.

1. Against the lines protocol, no kills: the same scanners, one scan at a time each,
   through `listen` with `protocol = "lines"` and `"ssi"`: throughput, and p99 from
   decode to acknowledgement (for lines, to the journal row being visible: a lines
   scanner gets no acknowledgement at all).
2. The kill scene: the scanners send N scans while `listen` is killed with kill -9 and
   restarted every S seconds. Each scan is either acknowledged (then it must be posted
   exactly once) or failed after its retries (the scanner sounded its transmit error).
   Printed: silently lost (acknowledged, not posted; target 0), doubled (posted twice;
   target 0), the transmit-error beeps, and rejected scans that sounded the host's
   error beep (target all).

Exit status 0 when every target is met. `run_kill_scene` is also the CI test's scene
(tests/e2e/test_ssi.py), with a few hundred scans.
"""

from __future__ import annotations

import argparse
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import say
from db.connection import connect
from db.demo import create_demo_db
from db.pipeline import process_scan
from devices.simulator import PtyScanner, SentScan, SsiScanner
from devices.ssi import (
    BEEP_REJECTED,
    DEFAULT_ACK_TIMEOUT_S,
    TYPE_CODE_128,
    TYPE_GS1_128,
    aim_line,
)

SHOPFLOOR = [sys.executable, "-c", "from tui.cli import main; main()"]
STATION = "RECEIVING"
GTIN = "09506000000114"  # PWD-7035, lot-tracked: each lot a stock row, each receipt a lot
# One scan in this many is a label nobody knows: rejected, so the host must beep.
REJECT_EVERY = 50


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def plant(folder: Path) -> Path:
    """The demo plant, signed in at RECEIVING, where every good scan is a receipt."""
    db = folder / "floor.db"
    conn = create_demo_db(db)
    assert process_scan(conn, STATION, b"B1001").status == "accepted"
    conn.close()
    return db


def write_config(path: Path, devices: list[str], protocol: str) -> list[str]:
    names = [f"{protocol}-{n}" for n in range(1, len(devices) + 1)]
    path.write_text(
        "".join(
            f'[[scanner]]\nname = "{name}"\nurl = "{device}"\nstation = "{STATION}"\n'
            f'protocol = "{protocol}"\n\n'
            for name, device in zip(names, devices, strict=True)
        ),
        encoding="utf-8",
    )
    return names


class Listen:
    """One `shopfloor listen --config` process at a time, killed and started again."""

    def __init__(self, db: Path, config: Path, log: Path) -> None:
        self.argv = [*SHOPFLOOR, "listen", "--db", str(db), "--config", str(config), "--quiet"]
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.kills = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)
        self.kills += 1

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def connected(conn: sqlite3.Connection, names: list[str]) -> bool:
    marks = ", ".join("?" for _ in names)
    row = conn.execute(
        f"SELECT COUNT(*) FROM scanners WHERE connected = 1 AND name IN ({marks})", names
    ).fetchone()
    return int(row[0]) == len(names)


def journaled_line(scan: SentScan) -> bytes:
    return aim_line(scan.barcode_type, scan.data)


def kill_unanswered(
    listen: Listen, sims: list[SsiScanner], watch: sqlite3.Connection, tries: int = 400
) -> bool:
    """kill -9 the listener at a moment when a scan is committed and its ACK has not reached
    the scanner: stopped (SIGSTOP) at varied moments until one is, then killed. True if
    such a moment was caught; killed anyway after `tries`."""
    process = listen.process
    assert process is not None
    for attempt in range(tries):
        process.send_signal(signal.SIGSTOP)
        time.sleep(0.01)  # what it wrote before stopping reaches the scanners
        for sim in sims:
            waiting = sim.outstanding
            if waiting is None:
                continue
            try:
                row = watch.execute(
                    "SELECT 1 FROM scan_journal WHERE raw = ? LIMIT 1", (journaled_line(waiting),)
                ).fetchone()
            except sqlite3.OperationalError as exc:
                # Stopped halfway through writing the WAL index, the listener leaves a
                # header no reader can trust ("locking protocol"): not this moment.
                if "locking protocol" not in str(exc):
                    raise
                break
            if row is not None and sim.outstanding is waiting:
                listen.kill()
                return True
        process.send_signal(signal.SIGCONT)
        time.sleep(0.0005 * (attempt % 7))
    listen.kill()
    return False


def label(scanner: int, n: int, tag: str) -> tuple[bytes, int]:
    """The n-th scan of a scanner: a receipt of its own lot, or now and then an unknown label."""
    if n % REJECT_EVERY == REJECT_EVERY - 1:
        return f"NO-SUCH-{tag}{scanner}-{n}".encode(), TYPE_CODE_128
    return f"01{GTIN}10{tag}{scanner}-{n}".encode(), TYPE_GS1_128


def lot_of(data: bytes) -> str | None:
    return data[18:].decode() if data.startswith(b"01") else None


@dataclass
class Scene:
    """What a kill scene produced, scan by scan."""

    sent: list[SentScan] = field(default_factory=list)
    kills: int = 0
    caught_unanswered: int = 0  # kills that hit a scan committed and not yet acknowledged
    seconds: float = 0.0
    postings: dict[str, int] = field(default_factory=dict)  # lot -> receipts
    rejected: set[bytes] = field(default_factory=set)  # raw lines journaled as rejected
    listen_output: str = ""

    @property
    def acked(self) -> list[SentScan]:
        return [s for s in self.sent if not s.failed]

    @property
    def failed(self) -> list[SentScan]:
        return [s for s in self.sent if s.failed]

    def posted(self, scan: SentScan) -> int:
        lot = lot_of(scan.data)
        return self.postings.get(lot, 0) if lot is not None else 0

    @property
    def silently_lost(self) -> int:
        return sum(1 for s in self.acked if lot_of(s.data) is not None and self.posted(s) == 0)

    @property
    def doubled(self) -> int:
        return sum(1 for s in self.sent if self.posted(s) > 1)

    @property
    def posted_after_error(self) -> int:
        return sum(1 for s in self.failed if self.posted(s) == 1)

    @property
    def rejections(self) -> list[SentScan]:
        return [s for s in self.acked if lot_of(s.data) is None]

    @property
    def rejections_beeped(self) -> int:
        return sum(1 for s in self.rejections if BEEP_REJECTED in s.beeps)

    @property
    def error_beeps_heard(self) -> int:
        return sum(len(s.beeps) for s in self.sent)


def _drive(
    scanners: list[SsiScanner], per_scanner: int, tag: str
) -> tuple[list[threading.Thread], list[list[SentScan]]]:
    sent: list[list[SentScan]] = [[] for _ in scanners]

    def run(index: int) -> None:
        for n in range(per_scanner):
            data, kind = label(index, n, tag)
            sent[index].append(scanners[index].scan(data, kind))

    threads = [
        threading.Thread(target=run, args=(i,), name=f"ssi-sim-{i}", daemon=True)
        for i in range(len(scanners))
    ]
    for thread in threads:
        thread.start()
    return threads, sent


def read_postings(db: Path, tag: str) -> tuple[dict[str, int], set[bytes]]:
    conn = connect(db)
    try:
        rows = conn.execute(
            "SELECT lot, COUNT(*) FROM movements WHERE kind = 'receive' AND lot LIKE ? "
            "GROUP BY lot",
            (f"{tag}%",),
        ).fetchall()
        rejected = conn.execute(
            "SELECT j.raw FROM scan_journal j JOIN scan_outcomes o ON o.scan = j.id "
            "WHERE o.status = 'rejected'"
        ).fetchall()
    finally:
        conn.close()
    return {r[0]: int(r[1]) for r in rows}, {bytes(r[0]) for r in rejected}


def _sent_at_least(sent: list[list[SentScan]], count: int) -> Callable[[], bool]:
    return lambda: sum(map(len, sent)) >= count


def run_kill_scene(
    folder: Path,
    *,
    scans: int,
    scanners: int = 4,
    kill_every_s: float = 3.0,
    kill_after: Sequence[int] = (),
    outage_s: float = 0.0,
    ack_timeout_s: float = DEFAULT_ACK_TIMEOUT_S,
    timeout_s: float = 900.0,
) -> Scene:
    """`scans` scans over `scanners` SSI scanners while listen is killed every few seconds,
    or, with `kill_after`, once the scanners have sent each of those numbers of scans.
    With `outage_s`, the third kill keeps listen down that long: longer than the
    scanners' retries, so some of them sound their transmit error."""
    db = plant(folder)
    sims = [SsiScanner(ack_timeout_s=ack_timeout_s) for _ in range(scanners)]
    tag = "K"
    scene = Scene()
    try:
        config = folder / "ssi.toml"
        names = write_config(config, [sim.device_path for sim in sims], "ssi")
        listen = Listen(db, config, folder / "listen-ssi.log")
        watch = connect(db)
        try:
            listen.start()
            if not wait_until(lambda: connected(watch, names), 30):
                raise RuntimeError(f"listen did not connect: {listen.output()[-800:]}")
            started = time.monotonic()
            threads, sent = _drive(sims, scans // scanners, tag)
            deadline = started + timeout_s
            if kill_after:
                for count in kill_after:
                    wait_until(_sent_at_least(sent, count), timeout_s, 0.002)
                    scene.caught_unanswered += kill_unanswered(listen, sims, watch)
                    listen.start()
            else:
                # Killed at a different moment of its work each time: never in step with it.
                step = 0
                while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
                    step += 1
                    pause = kill_every_s * (0.6 + 0.8 * ((step * 7919) % 100) / 100)
                    for thread in threads:
                        thread.join(max(0.0, pause / len(threads)))
                    if any(t.is_alive() for t in threads):
                        # Every other kill waits for the narrowest moment: a scan
                        # committed and its ACK not yet out.
                        if step % 2:
                            listen.kill()
                        else:
                            scene.caught_unanswered += kill_unanswered(listen, sims, watch)
                        if step == 3 and outage_s:
                            time.sleep(outage_s)
                        listen.start()
            for thread in threads:
                thread.join(max(0.0, deadline - time.monotonic()))
            scene.seconds = time.monotonic() - started
            listen.stop()
            scene.kills = listen.kills
            scene.listen_output = listen.output()
        finally:
            watch.close()
        scene.sent = [record for per in sent for record in per]
        scene.postings, scene.rejected = read_postings(db, tag)
    finally:
        for sim in sims:
            sim.close()
    return scene


# ---------------------------------------------------------------- against lines


@dataclass(frozen=True)
class Pace:
    protocol: str
    scans: int
    seconds: float
    latencies_ms: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.scans / self.seconds

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms)


def pace_ssi(folder: Path, scans: int, scanners: int) -> Pace:
    db = plant(folder)
    sims = [SsiScanner() for _ in range(scanners)]
    try:
        config = folder / "pace-ssi.toml"
        names = write_config(config, [sim.device_path for sim in sims], "ssi")
        listen = Listen(db, config, folder / "pace-ssi.log")
        watch = connect(db)
        try:
            listen.start()
            if not wait_until(lambda: connected(watch, names), 30):
                raise RuntimeError(f"listen did not connect: {listen.output()[-800:]}")
            started = time.monotonic()
            threads, sent = _drive(sims, scans // scanners, "P")
            for thread in threads:
                thread.join(600)
            seconds = time.monotonic() - started
            listen.stop()
        finally:
            watch.close()
    finally:
        for sim in sims:
            sim.close()
    records = [r for per in sent for r in per if r.acked_ns is not None]
    latencies = tuple((r.acked_ns - r.decoded_ns) / 1e6 for r in records if r.acked_ns)
    return Pace("ssi", len(records), seconds, latencies)


def pace_lines(folder: Path, scans: int, scanners: int) -> Pace:
    """The same scans as plain lines, one at a time per scanner, each waited for until its
    journal row is visible (one watcher, polling every millisecond)."""
    db = plant(folder)
    sims = [PtyScanner() for _ in range(scanners)]
    per_scanner = scans // scanners
    waiting: dict[bytes, tuple[threading.Event, list[int]]] = {}
    lock = threading.Lock()
    done = threading.Event()
    try:
        config = folder / "pace-lines.toml"
        names = write_config(config, [sim.device_path for sim in sims], "lines")
        listen = Listen(db, config, folder / "pace-lines.log")
        watch = connect(db)
        try:
            listen.start()
            if not wait_until(lambda: connected(watch, names), 30):
                raise RuntimeError(f"listen did not connect: {listen.output()[-800:]}")
            last_id = int(
                watch.execute("SELECT COALESCE(MAX(id), 0) FROM scan_journal").fetchone()[0]
            )

            def watcher() -> None:
                seen = last_id
                while not done.is_set():
                    rows = watch.execute(
                        "SELECT id, raw FROM scan_journal WHERE id > ? ORDER BY id", (seen,)
                    ).fetchall()
                    now = time.monotonic_ns()
                    for row in rows:
                        seen = int(row[0])
                        with lock:
                            entry = waiting.get(bytes(row[1]))
                        if entry is not None:
                            entry[1].append(now)
                            entry[0].set()
                    time.sleep(0.001)

            latencies: list[float] = []

            def run(index: int) -> None:
                for n in range(per_scanner):
                    data, kind = label(index, n, "L")
                    line = aim_line(kind, data)
                    event: threading.Event = threading.Event()
                    stamp: list[int] = []
                    with lock:
                        waiting[line] = (event, stamp)
                    sent_ns = time.monotonic_ns()
                    sims[index].send(line)
                    if event.wait(30):
                        with lock:
                            latencies.append((stamp[0] - sent_ns) / 1e6)

            watching = threading.Thread(target=watcher, daemon=True)
            watching.start()
            started = time.monotonic()
            threads = [
                threading.Thread(target=run, args=(i,), daemon=True) for i in range(scanners)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(600)
            seconds = time.monotonic() - started
            done.set()
            watching.join(5)
            listen.stop()
        finally:
            watch.close()
    finally:
        for sim in sims:
            sim.close()
    return Pace("lines", len(latencies), seconds, tuple(latencies))


# ---------------------------------------------------------------- the report


def _line(label_text: str, value: object, out_of: str, target: str, met: bool) -> str:
    mark = "" if met else "  MISSED"
    return f"{label_text:<50} {value!s:>8}  {out_of:<30} target {target}{mark}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench ssi")
    parser.add_argument("--scans", type=int, default=5000)
    parser.add_argument("--scanners", type=int, default=4)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument(
        "--outage",
        type=float,
        default=3 * DEFAULT_ACK_TIMEOUT_S + 1,
        help="seconds listen stays down once (longer than the scanners' retries)",
    )
    parser.add_argument("--pace-scans", type=int, default=1000)
    args = parser.parse_args(argv or [])
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-ssi-") as tmp:
        root = Path(tmp)
        (root / "lines").mkdir()
        (root / "ssi").mkdir()
        (root / "kill").mkdir()
        lines = pace_lines(root / "lines", args.pace_scans, args.scanners)
        ssi = pace_ssi(root / "ssi", args.pace_scans, args.scanners)
        say(
            f"{args.scanners} scanners, one scan at a time each, {args.pace_scans} scans, no kills:"
        )
        for pace in (lines, ssi):
            say(
                f"  {pace.protocol:<5} {pace.per_second:8.0f} scans/s   decode→"
                f"{'ACK' if pace.protocol == 'ssi' else 'journaled'} median "
                f"{pace.median_ms:.2f} ms, p99 {pace.p99_ms:.2f} ms"
            )
        say(
            f"  ssi / lines: throughput {ssi.per_second / lines.per_second:.2f}x, "
            f"p99 {ssi.p99_ms / lines.p99_ms:.2f}x (lines measured to the journal row, "
            "polled every 1 ms; a lines scanner gets no acknowledgement)"
        )
        scene = run_kill_scene(
            root / "kill", scans=args.scans, scanners=args.scanners,
            kill_every_s=args.kill_every, outage_s=args.outage,
        )  # fmt: skip
    sent = len(scene.sent)
    say(
        f"kill scene: {sent} scans from {args.scanners} SSI scanners in {scene.seconds:.0f} s, "
        f"listen killed with kill -9 {scene.kills} times, {scene.caught_unanswered} of them "
        f"with a scan committed and its ACK not yet sent, once kept down {args.outage:g} s"
    )
    results = [
        ("acknowledged and posted once", len(scene.acked) - scene.silently_lost - scene.doubled,
         f"of {sent} sent", "—", True),
        ("silently lost (acknowledged, not posted)", scene.silently_lost,
         f"of {len(scene.acked)} acknowledged", "0", scene.silently_lost == 0),
        ("doubled (posted twice)", scene.doubled, f"of {sent} sent", "0", scene.doubled == 0),
        ("transmit-error beeps (the scanner gave up)", len(scene.failed),
         f"of {sent} sent", "—", True),
        ("  of those, posted anyway (heard and recorded)", scene.posted_after_error,
         f"of {len(scene.failed)}", "—", True),
        ("rejected scans that sounded the error beep", scene.rejections_beeped,
         f"of {len(scene.rejections)} rejected", "all",
         scene.rejections_beeped == len(scene.rejections)),
        ("tracebacks in listen's output", scene.listen_output.count("Traceback"),
         f"over {scene.kills + 1} runs", "0", "Traceback" not in scene.listen_output),
    ]  # fmt: skip
    for label_text, value, out_of, target, met in results:
        say(_line(label_text, value, out_of, target, met))
        ok = ok and met
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
