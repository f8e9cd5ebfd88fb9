"""Several processes writing one WAL file at once (SPEC §2, §8).

No "database is locked" may reach a person, no posting may be lost, and a reader
sees a consistent record while the writers work. The workers are real processes
(multiprocessing with spawn), each with its own connection from db.connection.
"""

from __future__ import annotations

import multiprocessing
import queue
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Barrier, Event
from pathlib import Path
from typing import Any

import pytest

from db import balances, ledger
from db.check import check
from db.connection import connect
from db.ledger import Origin
from tests.plant import plant_db

pytestmark = pytest.mark.timeout(180)

WORKERS = 4
RECEIPTS = 200
SPAWN = multiprocessing.get_context("spawn")


def _receipts(path: str, worker: int, start: Barrier, results: Any) -> None:
    """One process: 200 receipts, each in its own durable transaction."""
    try:
        conn = connect(path)
        origin = Origin(operator="B-STORE", station="RECV")
        start.wait(timeout=60)
        ids = [
            # the same stock row in every process: the most contended write there is
            ledger.receive(conn, "C1", 1_000 + worker, "RCV", origin=origin)
            for _ in range(RECEIPTS)
        ]
        conn.close()
        results.put((worker, ids, None))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((worker, [], f"{type(exc).__name__}: {exc}"))


def _shuffler(path: str, worker: int, start: Barrier, results: Any) -> None:
    """Receive, move back and forth, and undo: postings touching several rows at once."""
    try:
        conn = connect(path)
        start.wait(timeout=60)
        posted = 0
        for n in range(60):
            received = ledger.receive(conn, "C1", 1_000, "S1")
            ledger.transfer(conn, "C1", 500, "S1", "S2")
            # All of it back, so the receipt's undo finds the 1,000 it takes away in S1
            # (stock never goes below zero).
            ledger.transfer(conn, "C1", 500, "S2", "S1")
            if n % 3 == worker % 3:
                ledger.reverse_movement(conn, received)
                posted += 1
            posted += 3
        conn.close()
        results.put((worker, posted, None))
    except BaseException as exc:  # noqa: BLE001
        results.put((worker, 0, f"{type(exc).__name__}: {exc}"))


def _checker(path: str, start: Barrier, stop: Event, results: Any) -> None:
    """A reader running `check` over and over while the writers post."""
    try:
        conn = connect(path)
        start.wait(timeout=60)
        runs, failures = 0, []
        while not stop.is_set() or runs == 0:
            report = check(conn)
            runs += 1
            if not report.ok:
                failures.extend(report.differences)
        conn.close()
        results.put(("checker", runs, "; ".join(failures) or None))
    except BaseException as exc:  # noqa: BLE001
        results.put(("checker", 0, f"{type(exc).__name__}: {exc}"))


def _collect(processes: list[SpawnProcess], results: Any, expected: int) -> list[Any]:
    got = []
    try:
        for _ in range(expected):
            got.append(results.get(timeout=150))
    except queue.Empty:
        pytest.fail(f"only {len(got)} of {expected} processes reported within the time limit")
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join(timeout=5)
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return got


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "floor.db"
    plant_db(path).close()
    return path


def test_four_processes_posting_receipts_at_once(db_path: Path) -> None:
    start = SPAWN.Barrier(WORKERS)
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_receipts, args=(str(db_path), n, start, results))
        for n in range(WORKERS)
    ]
    for process in processes:
        process.start()
    reports = _collect(processes, results, WORKERS)
    assert [error for _, _, error in reports] == [None] * WORKERS
    ids = sorted(i for _, worker_ids, _ in reports for i in worker_ids)
    assert ids == list(range(1, WORKERS * RECEIPTS + 1))
    conn = connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0] == WORKERS * RECEIPTS
    per_worker = conn.execute(
        "SELECT qty_milli, COUNT(*) FROM movements GROUP BY qty_milli ORDER BY qty_milli"
    ).fetchall()
    assert [tuple(r) for r in per_worker] == [(1_000 + n, RECEIPTS) for n in range(WORKERS)]
    expected = sum((1_000 + n) * RECEIPTS for n in range(WORKERS))
    assert balances.on_hand(conn, "C1", "RCV") == expected
    report = check(conn)
    assert report.ok, report.differences
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_writers_and_a_checking_reader_at_once(db_path: Path) -> None:
    writers = 3
    start = SPAWN.Barrier(writers + 1)
    stop = SPAWN.Event()
    results = SPAWN.Queue()
    processes = [
        SPAWN.Process(target=_shuffler, args=(str(db_path), n, start, results))
        for n in range(writers)
    ]
    reader = SPAWN.Process(target=_checker, args=(str(db_path), start, stop, results))
    for process in [*processes, reader]:
        process.start()
    reports = []
    try:
        for _ in range(writers):
            reports.append(results.get(timeout=150))
    except queue.Empty:
        pytest.fail("a writer did not finish within the time limit")
    finally:
        stop.set()
    reports += _collect([*processes, reader], results, 1)
    errors = {who: error for who, _, error in reports if error is not None}
    assert errors == {}
    posted = sum(count for who, count, _ in reports if who != "checker")
    runs = next(count for who, count, _ in reports if who == "checker")
    assert runs >= 1
    conn = connect(db_path)
    assert conn.execute("SELECT COUNT(*) FROM movements").fetchone()[0] == posted
    assert check(conn).ok
    conn.close()
