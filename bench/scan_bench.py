"""Benchmark: scans in (SPEC §7), each figure next to its reference from the same run.

Run with `python -m bench.scan_bench [SAMPLES] [BURST]` (defaults 600 and 20000).

1. One scan: its bytes through `process_scan` — journaled, de-duplication checked,
   decoded, interpreted by the station session, posted to the ledger and committed
   durably (WAL, synchronous=FULL) — against one bare single-row INSERT + commit with
   sqlite3 on its own WAL/FULL file. The two are timed alternately, so both see the
   same machine at the same moment. Targets: median ≤ 4×, p99 ≤ 8×.
2. A burst of BURST scan lines written to a pty as fast as the pty takes them, read by
   the real listener (`db.listen.Listener`: a `ScannerReader` thread handing each read
   to `process_batch`, one durable group commit per read), timed until the last line
   is committed; against pyserial reading the same lines off a pty with `readline()`
   and doing nothing with them. Target: ≥ 0.5× that rate. For scale it also prints
   pyserial's bulk byte rate off the pty (no line splitting at all), which no
   per-line durable pipeline comes near.

The scans are a realistic stream: plain item codes and GS1 labels with lots, in
RECEIVE mode, every one posted (none is a double read).

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import serial

from db.connection import connect
from db.demo import create_demo_db
from db.listen import Listener
from db.pipeline import process_scan
from devices.reader import ScannerConfig

TARGET_MEDIAN = 4.0
TARGET_P99 = 8.0
TARGET_BURST = 0.5
STATION = "RECEIVING"
# Demo plant items; RECEIVE mode posts each scan at once.
PLAIN_ITEMS = ("NUT-M4", "NUT-M5", "NUT-M6", "WSH-M6", "SCR-M4X10", "SCR-M5X12", "RIV-48")
GTIN = "09506000000114"  # PWD-7035: lot-tracked, so each GS1 lot is a new stock row


def scan_line(n: int) -> bytes:
    """Scan n of a realistic stream: three plain item codes, then a GS1 label with its lot.

    No two neighbours are equal, so none is a double read: every line is posted.
    """
    if n % 4 == 3:
        return f"(01){GTIN}(10)L{n:07d}".encode()
    return PLAIN_ITEMS[n % len(PLAIN_ITEMS)].encode()


@dataclass(frozen=True)
class Timings:
    median_ms: float
    p99_ms: float

    @classmethod
    def of(cls, samples_ns: list[int]) -> Timings:
        ms = [s / 1e6 for s in samples_ns]
        return cls(statistics.median(ms), statistics.quantiles(ms, n=100)[98])


def _demo_floor(folder: Path) -> Path:
    path = folder / "floor.db"
    conn = create_demo_db(path)
    assert process_scan(conn, STATION, b"B1001").status == "accepted"
    conn.close()
    return path


def _bare_insert(folder: Path) -> Callable[[bytes], None]:
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE lines (id INTEGER PRIMARY KEY, raw BLOB NOT NULL)")

    def insert(raw: bytes) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO lines (raw) VALUES (?)", (raw,))
        conn.execute("COMMIT")

    return insert


def one_scan(samples: int) -> tuple[Timings, Timings]:
    """(process_scan, bare insert) timings over `samples` alternating runs of each."""
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        folder = Path(tmp)
        conn = connect(_demo_floor(folder))
        bare = _bare_insert(folder)

        def scan(n: int) -> None:
            result = process_scan(
                conn, STATION, scan_line(n), source="serial", scanner="bench-1", dedupe_ms=250
            )
            if result.status != "accepted":
                raise RuntimeError(f"benchmark scan {n} was {result.status}: {result.message}")

        warmup = 50
        for n in range(warmup):
            scan(n)
            bare(scan_line(n))
        pipeline_ns: list[int] = []
        bare_ns: list[int] = []
        for n in range(warmup, warmup + samples):
            raw = scan_line(n)
            start = time.perf_counter_ns()
            scan(n)
            pipeline_ns.append(time.perf_counter_ns() - start)
            start = time.perf_counter_ns()
            bare(raw)
            bare_ns.append(time.perf_counter_ns() - start)
        conn.close()
    return Timings.of(pipeline_ns), Timings.of(bare_ns)


class _Pty:
    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)

    def close(self) -> None:
        os.close(self.master)
        os.close(self.slave)

    def write_in_background(self, data: bytes) -> threading.Thread:
        def write_all() -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(self.master, view) :]

        writer = threading.Thread(target=write_all, name="burst writer", daemon=True)
        writer.start()
        return writer


def _burst_bytes(lines: int) -> bytes:
    return b"".join(scan_line(n) + b"\n" for n in range(lines))


def burst_through_pipeline(lines: int, timeout: float = 300.0) -> float:
    """Lines per second from the first byte written to the last line committed."""
    data = _burst_bytes(lines)
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        db_path = _demo_floor(Path(tmp))
        pty = _Pty()
        committed = 0
        connected = threading.Event()
        finished = threading.Event()
        failures: list[str] = []

        def on_event(message: str) -> None:
            nonlocal committed
            if " scan " in message:
                committed += 1
                if " accepted:" not in message:
                    failures.append(message)
                if committed >= lines:
                    finished.set()
            elif message.endswith(" connected"):
                connected.set()

        config = ScannerConfig(name="bench-1", url=pty.path, station=STATION)
        listener = Listener(str(db_path), [config], on_event=on_event)
        try:
            listener.start()
            if not connected.wait(10):
                raise RuntimeError(f"the listener did not open {pty.path}")
            start = time.perf_counter()
            pty.write_in_background(data)
            if not finished.wait(timeout):
                raise RuntimeError(f"only {committed} of {lines} lines committed in {timeout} s")
            elapsed = time.perf_counter() - start
        finally:
            listener.stop()
            pty.close()
        if failures:
            raise RuntimeError(f"{len(failures)} burst lines not accepted, e.g. {failures[0]}")
        conn = connect(db_path)
        journaled = conn.execute(
            "SELECT COUNT(*) FROM scan_journal WHERE scanner = 'bench-1'"
        ).fetchone()[0]
        conn.close()
        if journaled != lines:
            raise RuntimeError(f"{journaled} of {lines} burst lines journaled")
    return lines / elapsed


def burst_bare_read(lines: int, *, bulk: bool, timeout: float = 120.0) -> float:
    """Lines per second that pyserial reads off a pty, doing nothing with them.

    `bulk=False` reads them as lines with `readline()`, pyserial's way to read lines;
    `bulk=True` reads whatever bytes are waiting, as the scanner reader does, and does
    not even look for line ends: the ceiling of the pty and pyserial themselves.
    """
    data = _burst_bytes(lines)
    pty = _Pty()
    port = serial.Serial(pty.path, timeout=0.05)
    try:
        start = time.perf_counter()
        deadline = start + timeout
        pty.write_in_background(data)
        got = 0
        while got < (len(data) if bulk else lines):
            if bulk:
                got += len(port.read(max(1, port.in_waiting)))
            elif port.readline():
                got += 1
            if time.perf_counter() > deadline:
                raise RuntimeError(f"only {got} read in {timeout} s")
        elapsed = time.perf_counter() - start
    finally:
        port.close()
        pty.close()
    return lines / elapsed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    samples = int(args[0]) if args else 600
    lines = int(args[1]) if len(args) > 1 else 20_000

    scan, bare = one_scan(samples)
    median_ratio, p99_ratio = scan.median_ms / bare.median_ms, scan.p99_ms / bare.p99_ms
    print(
        f"one scan  median {scan.median_ms:.2f} ms  p99 {scan.p99_ms:.2f} ms | "
        f"bare insert median {bare.median_ms:.2f} ms p99 {bare.p99_ms:.2f} ms | "
        f"ratio median {median_ratio:.1f}x p99 {p99_ratio:.1f}x "
        f"(target ≤{TARGET_MEDIAN:.0f}x / ≤{TARGET_P99:.0f}x; {samples} samples)"
    )
    readline_rate = burst_bare_read(lines, bulk=False)
    bulk_rate = burst_bare_read(lines, bulk=True)
    pipeline_rate = burst_through_pipeline(lines)
    burst_ratio = pipeline_rate / readline_rate
    print(
        f"burst {lines} lines  reader + group commit {pipeline_rate:,.0f} lines/s | "
        f"bare pyserial readline {readline_rate:,.0f} lines/s | ratio {burst_ratio:.2f}x "
        f"(target ≥{TARGET_BURST}x)"
    )
    print(
        f"  (pyserial bulk read, no line splitting: {bulk_rate:,.0f} lines/s; "
        f"ratio to it {pipeline_rate / bulk_rate:.3f}x)"
    )
    met = median_ratio <= TARGET_MEDIAN and p99_ratio <= TARGET_P99 and burst_ratio >= TARGET_BURST
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
