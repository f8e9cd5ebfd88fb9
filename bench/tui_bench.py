"""Benchmark: the screens (SPEC §7), each figure next to its reference from the same run.

Run with `python -m bench.tui_bench [--small] [--runs N] [--commits N]` (or
`python -m bench tui`).

1. Start to first paint of the board: the real `shopfloor --db X` command started on a
   pseudo-terminal of its own (120x40, TERM=xterm-256color), timed from the moment the
   process is spawned to the moment the terminal receives the board's first work-order
   row; against a bare Textual app with one `Static`, started and timed the same way
   (`python -c`, until its text reaches the terminal). Median of `--runs` (7) each,
   turn about, on the demo plant and on the big record (5,000 open orders,
   2,000,000 movements). Target ≤ 2×.
2. Board refresh on the big record: `db.board.board_rows(conn)` (every open order)
   against one bare indexed SELECT of the same rows (orders and their stages); and
   `LiveBoard.refresh` with the forecast's marks of the touched orders judged again
   (`LiveForecast.update`) after 50 orders were touched (50 issues posted through
   `db.ledger`, a fresh 50 for each run) against the bare SELECT of those 50 orders'
   rows. Target ≤ 3× and ≤ 50 ms.
3. Commit to screen: another process commits scans (db.pipeline) `--commits`
   (50) times at random intervals, writing `time.time()` right after each commit.
   a. the scan station in a real terminal: `shopfloor --station STORES` on a pty; the
      moment is when the terminal receives the scan's outcome ("issued k SKU ...",
      k unique per scan);
   b. the board in-process (`app.run_test()`), on the demo plant and on the big record
      (5,000 open orders): the moment is when the screen has been refreshed after
      `BoardScreen.show` put the touched order on it.
   c. the stages, stock, inbox and devices screens in-process on the big record, each
      open in turn: the moment is when the screen has painted the first read that
      began after the commit.
   p50/p95. Target p95 ≤ 100 ms.
4. Peak RSS (VmHWM) of the real app process on the big record, once the board has
   painted its rows (the bare Static app's for scale). Target ≤ 150 MB.

The big record is bench.record_bench's (built once, cached in bench/.cache/); it is
copied to a temporary folder first, since the refresh benchmark posts to it.
`--small` uses the 200,000-movement record and fewer runs.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import random
import select
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Figure, alternate, cache_dir, say
from bench.record_bench import FULL_MOVEMENTS, SMALL_MOVEMENTS, cached_record
from db import ledger
from db.board import LiveBoard, board_rows
from db.connection import connect, now_ms
from db.demo import create_demo_db
from db.forecast import LiveForecast
from db.ledger import Origin
from db.pipeline import process_scan

ROOT = Path(__file__).resolve().parent.parent
SHOPFLOOR = str(Path(sys.executable).parent / "shopfloor")
WIDTH, HEIGHT = 120, 40
TARGET_PAINT = 2.0
TARGET_REFRESH = 3.0
TARGET_REFRESH_MS = 50.0
TARGET_LATENCY_P95_MS = 100.0
TARGET_RSS_MB = 150.0
TOUCHED = 50
STATION = "STORES"
SCREENS = ("stages", "stock", "inbox", "devices")

BARE_TEXT = "bare static ready"
BARE_APP = f"""
from textual.app import App, ComposeResult
from textual.widgets import Static


class Bare(App[None]):
    def compose(self) -> ComposeResult:
        yield Static({BARE_TEXT!r})


Bare().run()
"""

# The board's rows without any of its work: each open order and its route, by index.
BARE_BOARD = """
SELECT w.number, w.product, w.qty_milli, w.due, w.priority, w.status, w.last_activity_ms,
       s.seq, s.stage, s.done_milli, s.scrap_milli
FROM work_orders w JOIN work_order_stages s ON s.work_order = w.number
WHERE w.status IN ('released', 'in_progress', 'on_hold') {only}
ORDER BY w.due, w.priority, w.number, s.seq
"""
BARE_ONLY = "AND w.number IN (SELECT value FROM json_each(?))"


def percentile(samples: Sequence[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# ---------------------------------------------------------------- a terminal of its own


class PtyProcess:
    """A process on a pseudo-terminal of its own, its output read as a terminal reads it.

    Every chunk read is kept with the moment it arrived, so "when did this text reach
    the terminal" can be answered afterwards.
    """

    def __init__(self, argv: Sequence[str], *, width: int = WIDTH, height: int = HEIGHT) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", height, width, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(width), "LINES": str(height)}
        # Bytecode cached, as an installed app has it (pip compiles on install), even where
        # the environment says not to write it: else every start compiles every module.
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(cache_dir() / "pycache")
        self.master = master
        self.output = bytearray()
        self.chunks: list[tuple[float, int]] = []  # (time.time() read, end offset)
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            list(argv), stdin=slave, stdout=slave, stderr=slave, env=env, cwd=ROOT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
        os.close(slave)

    def pump(self, timeout: float) -> bool:
        """Read what the terminal has within `timeout` seconds; False if nothing came."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 1 << 16)
        except OSError:  # EIO: the process is gone
            chunk = b""
        if not chunk:
            raise RuntimeError(f"the process ended ({self.proc.poll()}): {self.tail()}")
        self.output += chunk
        self.chunks.append((time.time(), len(self.output)))
        return True

    def wait_for(self, text: bytes, timeout: float = 60.0) -> float:
        """Seconds from spawn until `text` reached the terminal."""
        deadline = time.perf_counter() + timeout
        searched = 0
        while True:
            if self.output.find(text, searched) >= 0:
                return time.perf_counter() - self.started
            searched = max(len(self.output) - len(text) + 1, 0)
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{text!r} not on the terminal in {timeout} s: {self.tail()}")
            self.pump(0.005)

    def drain(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        while (left := deadline - time.perf_counter()) > 0:
            self.pump(left)

    def arrived(self, text: bytes, start: int = 0) -> float | None:
        """time.time() of the chunk that completed the first `text` after offset `start`."""
        at = self.output.find(text, start)
        if at < 0:
            return None
        end = at + len(text)
        return next(when for when, offset in self.chunks if offset >= end)

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
        return kb / 1024

    def tail(self) -> str:
        return repr(bytes(self.output[-400:]))

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)


@contextmanager
def on_pty(argv: Sequence[str]) -> Iterator[PtyProcess]:
    process = PtyProcess(argv)
    try:
        yield process
    finally:
        process.stop()


# ---------------------------------------------------------------- 1. first paint, 4. RSS


@dataclass(frozen=True)
class Paint:
    seconds: float
    peak_rss_mb: float


def paint_board(db_path: Path, *, settle: float = 0.0) -> Paint:
    with on_pty([SHOPFLOOR, "--db", str(db_path)]) as app:
        seconds = app.wait_for(b"WO-")  # a work order's row: only the table shows one
        app.drain(settle)
        return Paint(seconds, app.peak_rss_mb())


def paint_bare() -> Paint:
    with on_pty([sys.executable, "-c", BARE_APP]) as app:
        seconds = app.wait_for(BARE_TEXT.encode())
        return Paint(seconds, app.peak_rss_mb())


def first_paint(db_path: Path, runs: int, label: str) -> Figure:
    board: list[float] = []
    bare: list[float] = []
    paint_board(db_path)  # warm: the page cache and .pyc files, as on a terminal in use
    paint_bare()
    for _ in range(runs):
        board.append(paint_board(db_path).seconds * 1000)
        bare.append(paint_bare().seconds * 1000)
    return Figure(
        f"first paint  {label}", statistics.median(board), "bare Static",
        statistics.median(bare), TARGET_PAINT, f"(median of {runs})",
    )  # fmt: skip


# ---------------------------------------------------------------- 2. board refresh


def _open_orders(conn: sqlite3.Connection) -> list[str]:
    return [
        str(r[0])
        for r in conn.execute(
            "SELECT number FROM work_orders WHERE status IN ('released', 'in_progress')"
        )
    ]


def _plenty(conn: sqlite3.Connection) -> tuple[str, str]:
    """(item, storeroom bin) with the most stock of an item without lots."""
    row = conn.execute(
        "SELECT s.item, s.location FROM stock s JOIN items i ON i.sku = s.item "
        "JOIN locations l ON l.code = s.location "
        "WHERE l.kind = 'storeroom' AND s.lot = '' AND i.lot_tracked = 0 "
        "ORDER BY s.qty_milli DESC LIMIT 1"
    ).fetchone()
    return str(row[0]), str(row[1])


def board_refresh(db_path: Path, runs: int) -> tuple[Figure, Figure]:
    reader = connect(db_path)
    full_sql = BARE_BOARD.format(only="")
    full, bare_full = alternate(
        lambda: board_rows(reader), lambda: reader.execute(full_sql).fetchall(), runs, warmup=2
    )
    open_rows = len(board_rows(reader))
    stage_rows = len(reader.execute(full_sql).fetchall())

    writer = connect(db_path)
    item, store = _plenty(writer)
    orders = _open_orders(writer)
    origin = Origin(operator="B1002", station=STATION)
    rnd = random.Random(11)
    live = LiveBoard()
    live.refresh(reader)
    # The marks come with the refresh: the touched orders judged again against the last
    # forecast (a full forecast runs in a read of its own, bench/forecast_bench.py's
    # figure).
    marks = LiveForecast()
    frozen = now_ms()
    marks.update(reader, list(live.orders.values()), [], full=True, now_ms=frozen)
    delta_sql = BARE_BOARD.format(only=BARE_ONLY)
    refresh: list[float] = []
    bare: list[float] = []
    for _ in range(runs):
        touched = rnd.sample(orders, TOUCHED)
        for number in touched:
            ledger.issue(writer, number, item, 1000, store, origin=origin)
        started = time.perf_counter_ns()
        delta = live.refresh(reader)
        every, _ = marks.update(
            reader, list(live.orders.values()), delta.rows, full=delta.full, now_ms=frozen
        )
        refresh.append((time.perf_counter_ns() - started) / 1e6)
        if every:
            raise RuntimeError("the refresh forecast every order again instead of the touched")
        numbers = json.dumps(sorted(touched))
        started = time.perf_counter_ns()
        reader.execute(delta_sql, (numbers,)).fetchall()
        bare.append((time.perf_counter_ns() - started) / 1e6)
        got = {row.number for row in delta.rows} | set(delta.removed)
        if delta.full or got != set(touched):
            raise RuntimeError(f"LiveBoard.refresh saw {len(got)} of {TOUCHED} touched orders")
    writer.close()
    reader.close()
    whole = Figure(
        "board_rows (full)", full.median, "bare SELECT", bare_full.median, TARGET_REFRESH,
        f"({open_rows:,} orders, {stage_rows:,} stage rows)",
    )  # fmt: skip
    touched_figure = Figure(
        f"refresh + marks ({TOUCHED} touched)", statistics.median(refresh), "bare SELECT",
        statistics.median(bare), TARGET_REFRESH, f"(the {TOUCHED} orders' rows)",
    )  # fmt: skip
    return whole, touched_figure


# ---------------------------------------------------------------- 3. commit to screen


@dataclass(frozen=True)
class Plan:
    """What the writer process scans: `setup` once, then each cycle after a random pause."""

    db: str
    station: str
    setup: list[str]
    cycles: list[list[str]]
    pause: tuple[float, float] = (0.05, 0.35)
    seed: int = 5

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.__dict__))
        return path

    @classmethod
    def load(cls, path: Path) -> Plan:
        data = json.loads(path.read_text())
        return cls(
            data["db"], data["station"], data["setup"], data["cycles"], tuple(data["pause"]),
            data["seed"],
        )  # fmt: skip


def run_writer(plan_path: Path) -> int:
    """The other process: scans through the real pipeline, saying when each cycle committed.

    Prints `ready`, then per cycle `start I T` before its first scan and `done I T` right
    after its last scan's commit (T = time.time()), then `end`.
    """
    plan = Plan.load(plan_path)
    rnd = random.Random(plan.seed)
    conn = connect(plan.db)

    def scan(code: str) -> None:
        result = process_scan(conn, plan.station, code.encode())
        if result.status != "accepted":
            raise RuntimeError(f"writer scan {code!r} was {result.status}: {result.message}")

    for code in plan.setup:
        scan(code)
    print("ready", flush=True)
    for index, cycle in enumerate(plan.cycles):
        time.sleep(rnd.uniform(*plan.pause))
        print(f"start {index} {time.time()!r}", flush=True)
        for code in cycle:
            scan(code)
        print(f"done {index} {time.time()!r}", flush=True)
    print("end", flush=True)
    conn.close()
    return 0


def _writer(plan: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench.tui_bench", "--writer", str(plan)],
        cwd=ROOT, stdout=subprocess.PIPE,
    )  # fmt: skip


@dataclass
class Cycles:
    """The writer's `start` and `done` times per cycle."""

    start: dict[int, float]
    done: dict[int, float]

    def take(self, line: str) -> bool:
        """Note one line of the writer's; True at `end`."""
        word, *rest = line.split()
        if word in ("start", "done"):
            getattr(self, word)[int(rest[0])] = float(rest[1])
        return word == "end"


@dataclass(frozen=True)
class Latency:
    label: str
    ms: list[float]
    missing: int
    count: int

    @property
    def met(self) -> bool:
        return not self.missing and percentile(self.ms, 0.95) <= TARGET_LATENCY_P95_MS

    def line(self) -> str:
        if not self.ms:
            return f"commit → screen  {self.label}  nothing shown  MISSED"
        mark = "" if self.met else "  MISSED"
        lost = f", {self.missing} never shown" if self.missing else ""
        return (
            f"commit → screen  {self.label}  p50 {percentile(self.ms, 0.5):.0f} ms  "
            f"p95 {percentile(self.ms, 0.95):.0f} ms  max {max(self.ms):.0f} ms  "
            f"(target p95 ≤ {TARGET_LATENCY_P95_MS:g} ms; {self.count} commits{lost}){mark}"
        )


def _issue_pairs(conn: sqlite3.Connection) -> list[tuple[str, str, str, int]]:
    """(order, item sku, item barcode, stock): each open order with the component on its
    bill that has the most stock (no lots) at the stores window."""
    rows = conn.execute(
        "SELECT w.number, i.sku, i.barcode, MAX(s.qty_milli) FROM work_orders w "
        "JOIN bill_of_materials b ON b.product = w.product JOIN items i ON i.sku = b.component "
        "JOIN stations st ON st.code = ? "
        "JOIN stock s ON s.item = i.sku AND s.location = st.location AND s.lot = '' "
        "WHERE w.status IN ('released', 'in_progress') AND i.lot_tracked = 0 "
        "GROUP BY w.number ORDER BY w.number",
        (STATION,),
    ).fetchall()
    return [(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def scan_screen_latency(folder: Path, commits: int) -> Latency:
    """3a: the scan station in a real terminal, the outcome's words as the moment."""
    db_path = folder / "station.db"
    create_demo_db(db_path).close()
    conn = connect(db_path)
    order, sku, barcode, stock = max(_issue_pairs(conn), key=lambda pair: pair[3])
    conn.close()
    if stock < commits * (commits + 1) // 2 * 1000:
        raise RuntimeError(f"{stock // 1000} {sku} at the stores window: too few to issue")
    # QTY:k then the item: "issued k SKU from ..." is on screen once, for that cycle only.
    plan = Plan(
        str(db_path), STATION, ["B1002", "CMD:MODE:ISSUE", order],
        [[f"QTY:{k}", barcode] for k in range(1, commits + 1)],
    ).save(folder / "station-plan.json")  # fmt: skip
    cycles = Cycles({}, {})
    starts: dict[int, int] = {}  # cycle -> terminal output offset when it started
    with on_pty([SHOPFLOOR, "--db", str(db_path), "--station", STATION]) as app:
        app.wait_for(b"Stores window")
        writer = _writer(plan)
        assert writer.stdout is not None
        said = writer.stdout.fileno()
        pending = b""
        ended = False
        try:
            while not ended:
                ready, _, _ = select.select([app.master, said], [], [], 30)
                if not ready:
                    raise RuntimeError(f"the writer went quiet: {app.tail()}")
                if said in ready:
                    data = os.read(said, 4096)
                    if not data:
                        raise RuntimeError(f"the writer ended early ({writer.wait()})")
                    pending += data
                    *lines, pending = pending.split(b"\n")
                    for line in lines:
                        ended = cycles.take(line.decode()) or ended
                        if line.startswith(b"start "):
                            starts[int(line.split()[1])] = len(app.output)
                if app.master in ready:
                    app.pump(0)
            app.drain(1.0)
        finally:
            writer.wait(timeout=30)
        latencies: list[float] = []
        for index in range(commits):
            seen = app.arrived(f"issued {index + 1} {sku} from".encode(), starts[index])
            if seen is not None:
                latencies.append(max(seen - cycles.done[index], 0.0) * 1000)
    return Latency("scan station (real terminal)", latencies, commits - len(latencies), commits)


async def _write_while_open(plan: Path) -> Cycles:
    """Run the writer process to its end, noting its cycles, then let the screen catch up."""
    cycles = Cycles({}, {})
    writer = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.tui_bench", "--writer", str(plan),
        cwd=ROOT, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert writer.stdout is not None
    while line := await writer.stdout.readline():
        if cycles.take(line.decode()):
            break
    await writer.wait()
    await asyncio.sleep(1.0)
    return cycles


async def _board_latency(db_path: Path, plan: Path, orders: list[str], label: str) -> Latency:
    from tui.app import create_app
    from tui.screens.board import BoardRead, BoardScreen, FirstScreenful

    painted: list[tuple[float, bool, frozenset[str]]] = []
    original = BoardScreen.show

    def show(self: BoardScreen, read: BoardRead | FirstScreenful) -> None:
        original(self, read)
        if not isinstance(read, BoardRead):
            return  # the first screenful: the full read follows
        result = read.delta
        numbers = frozenset(row.number for row in result.rows)
        self.call_after_refresh(lambda: painted.append((time.time(), result.full, numbers)))

    setattr(BoardScreen, "show", show)  # noqa: B010 (a method, swapped for the run)
    try:
        app = create_app(db_path)
        async with app.run_test(size=(WIDTH, HEIGHT)):
            deadline = time.monotonic() + 30
            while not any(full for _, full, _ in painted):
                if time.monotonic() > deadline:
                    raise RuntimeError("the board never painted")
                await asyncio.sleep(0.01)
            cycles = await _write_while_open(plan)
    finally:
        setattr(BoardScreen, "show", original)  # noqa: B010
    latencies: list[float] = []
    for index, order in enumerate(orders):
        seen = next(
            (t for t, _, numbers in painted if t >= cycles.start[index] and order in numbers),
            None,
        )
        if seen is not None:
            latencies.append(max(seen - cycles.done[index], 0.0) * 1000)
    lost = len(orders) - len(latencies)
    return Latency(f"board {label} (run_test)", latencies, lost, len(orders))


def issue_plan(db_path: Path, folder: Path, commits: int, name: str) -> tuple[Path, list[str]]:
    """A writer's plan of `commits` issues at the stores window (an order, then an item on
    its bill), and the order each commit touches."""
    conn = connect(db_path)
    pairs = _issue_pairs(conn)
    conn.close()
    # Round the orders in turn, so one order comes back only after all the others.
    chosen = [pairs[n % len(pairs)] for n in range(commits)]
    plan = Plan(
        str(db_path), STATION, ["B1002", "CMD:MODE:ISSUE"],
        [[order, barcode] for order, _, barcode, _ in chosen],
    ).save(folder / f"{name}-plan-{db_path.stem}.json")  # fmt: skip
    return plan, [order for order, *_ in chosen]


def board_latency(db_path: Path, folder: Path, commits: int, label: str) -> Latency:
    """3b: the board in-process, the refresh after `show` as the moment."""
    plan, orders = issue_plan(db_path, folder, commits, "board")
    return asyncio.run(_board_latency(db_path, plan, orders, label))


async def _screen_latency(
    db_path: Path, plan: Path, modes: Sequence[str], label: str
) -> list[Latency]:
    """Each floor screen in `modes` open in turn while the writer commits: the moment is
    when the screen has painted what it read in the first read that began after the
    commit (whatever the screen shows of it)."""
    from tui.app import create_app
    from tui.floor_screen import FloorScreen

    reads: dict[int, float] = {}  # id(result) -> when its read began
    painted: list[tuple[float, float]] = []  # (read began, painted)
    results: list[Latency] = []
    app = create_app(db_path)
    async with app.run_test(size=(WIDTH, HEIGHT)):
        for mode in modes:
            app.action_go(mode)
            await asyncio.sleep(1.5)  # the screen's first read, at any size of plant
            screen = app.screen
            if not isinstance(screen, FloorScreen):
                raise RuntimeError(f"{mode} did not open a floor screen: {screen!r}")
            screen_type = type(screen)
            load, show = screen_type.load, screen_type.show

            def timed_load(self: FloorScreen, conn: sqlite3.Connection, load: Any = load) -> Any:
                began = time.time()
                result = load(self, conn)
                reads[id(result)] = began
                return result

            def timed_show(self: FloorScreen, result: Any, show: Any = show) -> None:
                show(self, result)
                began = reads.pop(id(result), None)
                if began is not None:
                    self.call_after_refresh(lambda: painted.append((began, time.time())))

            setattr(screen_type, "load", timed_load)  # noqa: B010 (swapped for the run)
            setattr(screen_type, "show", timed_show)  # noqa: B010
            painted.clear()
            try:
                cycles = await _write_while_open(plan)
            finally:
                setattr(screen_type, "load", load)  # noqa: B010
                setattr(screen_type, "show", show)  # noqa: B010
            latencies = []
            for done in cycles.done.values():
                seen = min((t for began, t in painted if began >= done), default=None)
                if seen is not None:
                    latencies.append((seen - done) * 1000)
            count = len(cycles.done)
            results.append(
                Latency(f"{mode} {label} (run_test)", latencies, count - len(latencies), count)
            )
    return results


def screens_latency(db_path: Path, folder: Path, commits: int, label: str) -> list[Latency]:
    """3c: the stages, stock, inbox and devices screens, each while commits land."""
    plan, _ = issue_plan(db_path, folder, commits, "screens")
    return asyncio.run(_screen_latency(db_path, plan, SCREENS, label))


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tui_bench", description=__doc__)
    parser.add_argument("--small", action="store_true", help="the 200,000-movement record")
    parser.add_argument("--runs", type=int, help="first-paint and refresh runs (7 / 20)")
    parser.add_argument("--commits", type=int, help="commits timed to the screen (50)")
    parser.add_argument("--writer", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.writer is not None:
        return run_writer(args.writer)

    paint_runs = args.runs or (4 if args.small else 7)
    refresh_runs = args.runs or (10 if args.small else 20)
    commits = args.commits or (20 if args.small else 50)
    movements = SMALL_MOVEMENTS if args.small else FULL_MOVEMENTS
    results: list[bool] = []
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        folder = Path(tmp)
        demo = folder / "demo.db"
        create_demo_db(demo).close()
        big = folder / "record.db"
        shutil.copyfile(cached_record(movements), big)
        big.chmod(0o600)
        size = f"{movements:,} movements"

        # 1. first paint
        for figure in (
            first_paint(demo, paint_runs, "board (demo plant)"),
            first_paint(big, max(paint_runs // 2, 3), f"board ({size})"),
        ):
            say(figure.line(36))
            results.append(figure.met)

        # 2. board refresh
        conn = connect(big)
        open_orders = len(board_rows(conn))
        conn.close()
        for figure in board_refresh(big, refresh_runs):
            within = figure.value_ms <= TARGET_REFRESH_MS
            say(f"{figure.line(36)}  {'' if within else 'OVER '}≤ {TARGET_REFRESH_MS:g} ms")
            results.append(figure.met and within)

        # 3. commit to screen
        board_db = folder / "board.db"
        create_demo_db(board_db).close()
        for latency in (
            scan_screen_latency(folder, commits),
            board_latency(board_db, folder, commits, "demo plant"),
            board_latency(big, folder, commits, f"{open_orders:,} open orders"),
            *screens_latency(big, folder, commits, f"{open_orders:,} open orders"),
        ):
            say(latency.line())
            results.append(latency.met)

        # 4. memory: the board painted on the big record, then a moment to settle
        board = paint_board(big, settle=1.0)
        bare = paint_bare()
        met = board.peak_rss_mb <= TARGET_RSS_MB
        say(
            f"peak RSS  board on {size}  {board.peak_rss_mb:.0f} MB  "
            f"(bare Static {bare.peak_rss_mb:.0f} MB)  (target ≤ {TARGET_RSS_MB:g} MB)"
            + ("" if met else "  MISSED")
        )
        results.append(met)
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
