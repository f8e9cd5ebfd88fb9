"""Benchmark: the record (SPEC §7), each figure next to a bare-SQLite reference.

Run with `python -m bench record [--small] [--runs N]` (or `python -m bench.record_bench`).

1. Posting one movement durably: `db.ledger.receive` in its own `BEGIN IMMEDIATE`
   transaction on the floor's file (WAL, synchronous=FULL), against one bare
   single-row INSERT + commit with sqlite3 on its own WAL/FULL file in the same
   directory. Timed turn about. Target: median ≤ 4× (p99 printed against ≤ 8×).
2. Reports on a big record — 2,000,000 movements, 5,000 open work orders (and 1,000
   done): `db.reports.stock(item=X)` for one item and `db.reports.status(open_only=True)`
   for every open order (its rows as read from the record; the forecast each open row
   also carries is bench/forecast_bench.py's figure), each against a bare indexed SELECT
   of the same rows.
   Target ≤ 3×. (The board's own ≤ 50 ms budget belongs to the board's benchmark;
   this is the `status` report.) `--small` uses 200,000 movements for a quick run.

The big record is generated straight into the tables (executemany, then the running
totals — stock, held material, stage progress — by one aggregate INSERT ... SELECT
each, exactly what `shopfloor check` recomputes), in one transaction with
synchronous=OFF for the build only. It is cached in bench/.cache/, keyed by size and
by the schema's source, so reruns start at once.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import db.schema
from bench.common import Figure, Timings, alternate, cache_dir, say
from db import ledger, reports, roles
from db.check import check
from db.connection import connect, now_ms
from db.demo import write_csvs
from db.demo_plant import LOCATIONS, PRODUCTS, PURCHASED, STAGES
from db.ledger import Origin
from db.masterdata import import_dir
from db.schema import init_db

FULL_MOVEMENTS = 2_000_000
SMALL_MOVEMENTS = 200_000
OPEN_ORDERS = 5_000
DONE_ORDERS = 1_000
EXTRA_ITEMS = 1_940  # with the demo's 60: a plant of 2,000 items
BUILD_VERSION = 1
OPEN = ("released", "in_progress", "on_hold")


# ---------------------------------------------------------------- 1. one posting


def _bare_file(folder: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(folder / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE movements (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, "
        "item TEXT NOT NULL, qty_milli INTEGER NOT NULL, to_location TEXT)"
    )
    return conn


def post_one_movement(runs: int) -> tuple[Timings, Timings]:
    """(ledger.receive, bare insert + commit) in milliseconds, `runs` of each, turn about."""
    with tempfile.TemporaryDirectory(prefix="record-bench-") as tmp:
        folder = Path(tmp)
        floor = init_db(folder / "floor.db")
        import_dir(floor, write_csvs(folder / "plant"))
        bare = _bare_file(folder)
        origin = Origin(operator="B1001", station="RECEIVING")
        skus = [p[0] for p in PURCHASED if not p[3]]
        count = 0

        def post() -> None:
            nonlocal count
            count += 1
            ledger.receive(floor, skus[count % len(skus)], 1_000, "RCV-DOCK", origin=origin)

        def insert() -> None:
            bare.execute(
                "INSERT INTO movements (time_ms, item, qty_milli, to_location) VALUES (?, ?, ?, ?)",
                (now_ms(), skus[count % len(skus)], 1_000, "RCV-DOCK"),
            )

        result = alternate(post, insert, runs, warmup=20)
        floor.close()
        bare.close()
    return result


# ---------------------------------------------------------------- 2. the big record


def _schema_key() -> str:
    # Every file that writes the schema: a change to any of them builds the record anew.
    folder = Path(db.schema.__file__).parent
    files = sorted([*folder.glob("schema*.py"), *folder.glob("vocabulary.py")])
    files.append(folder / "board_columns.py")
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:10]


def cached_record(movements: int) -> Path:
    """The big record for this size, built once and kept in bench/.cache/."""
    name = f"record-{movements}-{OPEN_ORDERS}-v{BUILD_VERSION}-{_schema_key()}.db"
    path = cache_dir() / name
    if path.exists():
        say(f"  using {path}")
        return path
    say(f"  building {path} ({movements:,} movements, {OPEN_ORDERS:,} open orders) ...")
    started = time.monotonic()
    partial = path.with_suffix(".building")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    build_record(partial, movements)
    os.replace(partial, path)
    say(f"  built in {time.monotonic() - started:.0f} s, {path.stat().st_size / 1e6:.0f} MB")
    return path


def build_record(path: Path, movements: int, seed: int = 7) -> None:
    """A plant's year: master data by the real import, entries generated, totals aggregated."""
    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="record-plant-") as tmp:
        conn = init_db(path)
        import_dir(conn, write_csvs(Path(tmp), work_orders=OPEN_ORDERS + DONE_ORDERS))
        # The generated year is not stock-checked posting by posting: its bins may dip.
        roles.allow_negative_stock(
            conn, db.schema.LOCATION_KINDS, by="B3001", reason="bench: a generated year"
        )
        conn.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")  # the file is renamed into place only when whole
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -64000")
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("BEGIN")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'movements' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:  # loading first and indexing after is several times faster
        conn.execute(f"DROP INDEX {name}")
    items = _extra_items(conn)
    orders = [r[0] for r in conn.execute("SELECT number FROM work_orders ORDER BY number")]
    conn.executemany(
        "INSERT INTO movements (time_ms, kind, item, lot, qty_milli, from_location, to_location,"
        " work_order, stage, operator, station) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _movements(rnd, movements, items, orders),
    )
    _progress(conn, rnd, orders)
    conn.execute(
        "INSERT INTO stock (item, location, lot, qty_milli) "
        "SELECT item, location, lot, SUM(q) FROM ("
        " SELECT item, to_location AS location, lot, qty_milli AS q FROM movements"
        "  WHERE to_location IS NOT NULL"
        " UNION ALL SELECT item, from_location, lot, -qty_milli FROM movements"
        "  WHERE from_location IS NOT NULL"
        ") GROUP BY item, location, lot"
    )
    conn.execute(
        "INSERT INTO work_order_materials (work_order, item, lot, location, issued_milli, "
        "returned_milli, consumed_milli) "
        "SELECT work_order, item, lot, CASE kind WHEN 'issue' THEN to_location "
        "ELSE from_location END AS location, "
        "SUM(CASE kind WHEN 'issue' THEN qty_milli ELSE 0 END), "
        "SUM(CASE kind WHEN 'return' THEN qty_milli ELSE 0 END), "
        "SUM(CASE kind WHEN 'consume' THEN qty_milli ELSE 0 END) "
        "FROM movements WHERE work_order IS NOT NULL AND kind IN ('issue', 'return', 'consume') "
        "GROUP BY 1, 2, 3, 4"
    )
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()


def _extra_items(conn: sqlite3.Connection) -> list[tuple[str, bool, str]]:
    """(sku, lot tracked, home bin) of every purchased item, the demo's and 1,940 more."""
    bins = [code for code, _, kind in LOCATIONS if kind == "storeroom"]
    extra = [(f"PART-{n:05d}", n % 10 == 0, bins[n % len(bins)]) for n in range(EXTRA_ITEMS)]
    conn.executemany(
        "INSERT INTO items (sku, description, uom, lot_tracked, barcode) "
        "VALUES (?, ?, 'pcs', ?, ?)",
        [(sku, f"Bought-in part {sku}", int(lot), sku) for sku, lot, _ in extra],
    )
    conn.executemany(
        "INSERT INTO barcodes (value, kind, code) VALUES (?, 'item', ?)",
        [(sku, sku) for sku, _, _ in extra],
    )
    demo = [(sku, lot, home) for sku, _, _, lot, _, home in PURCHASED]
    return demo + extra


Row = tuple[int, str, str, str, int, str | None, str | None, str | None, str | None, str, str]


def _movements(
    rnd: random.Random, count: int, items: list[tuple[str, bool, str]], orders: list[str]
) -> Iterator[Row]:
    """A year of a floor's movements, oldest first, in realistic proportions."""
    products = [p[0] for p in PRODUCTS]
    stages = [(code, wip) for code, _, wip in STAGES]
    storemen = ("B1001", "B1002")
    operators = ("B2001", "B2002", "B2003", "B2004", "B2005")
    start = now_ms() - 365 * 86_400_000
    step = 365 * 86_400_000 // count
    random_ = rnd.random
    choice = rnd.choice
    for i in range(count):
        at = start + i * step
        sku, tracked, home = items[int(random_() * len(items))]
        lot = f"L{i // 20_000:03d}{int(random_() * 4)}" if tracked else ""
        qty = (1 + int(random_() * 40)) * 250
        r = random_()
        if r < 0.12:
            yield (at, "receive", sku, lot, qty, None, "RCV-DOCK", None, None,
                   choice(storemen), "RECEIVING")  # fmt: skip
        elif r < 0.27:
            yield (at, "transfer", sku, lot, qty, "RCV-DOCK", home, None, None,
                   choice(storemen), "RECEIVING")  # fmt: skip
        elif r < 0.52:
            stage, wip = choice(stages)
            yield (at, "issue", sku, lot, qty, home, wip, choice(orders), stage,
                   choice(storemen), "STORES")  # fmt: skip
        elif r < 0.82:
            stage, wip = choice(stages)
            yield (at, "consume", sku, lot, qty, wip, None, choice(orders), stage,
                   choice(operators), f"{stage}-1")  # fmt: skip
        elif r < 0.85:
            stage, wip = choice(stages)
            yield (at, "return", sku, lot, qty, wip, home, choice(orders), stage,
                   choice(storemen), "STORES")  # fmt: skip
        elif r < 0.91:
            yield (at, "produce", choice(products), "", 1_000 * (1 + int(random_() * 20)), None,
                   "FG-01", choice(orders), "PACK", choice(operators), "PACK-1")  # fmt: skip
        elif r < 0.97:
            yield (at, "ship", choice(products), "", 1_000 * (1 + int(random_() * 20)), "FG-01",
                   None, None, None, choice(storemen), "SHIPPING")  # fmt: skip
        elif r < 0.985:
            yield (at, "scrap", sku, lot, qty, home, "SCRAP", None, None, choice(storemen),
                   "STORES")  # fmt: skip
        else:
            yield (at, "adjust", sku, lot, qty, None, home, None, None, choice(storemen),
                   "STORES")  # fmt: skip


def _progress(conn: sqlite3.Connection, rnd: random.Random, orders: list[str]) -> None:
    """Stage progress entries for every order, then the stage totals and statuses from them."""
    stages = conn.execute(
        "SELECT s.work_order, s.seq, s.stage, w.qty_milli FROM work_order_stages s "
        "JOIN work_orders w ON w.number = s.work_order ORDER BY s.work_order, s.seq"
    ).fetchall()
    by_order: dict[str, list[tuple[int, str, int]]] = {}
    for number, seq, stage, qty in stages:
        by_order.setdefault(number, []).append((seq, stage, qty))
    done = set(orders[:DONE_ORDERS])
    start = now_ms() - 30 * 86_400_000
    entries = []
    statuses = []
    for n, number in enumerate(orders):
        route = by_order[number]
        qty = route[0][2]
        if number in done:
            reach, last = len(route), qty
        else:
            reach = int(rnd.random() * (len(route) + 1))
            last = qty // 2 // 1000 * 1000 or 1000
        for index, (seq, stage, _) in enumerate(route[:reach]):
            amount = qty if index < reach - 1 else last
            entries.append((start + n * 400 + index, number, seq, stage, "done", amount))
        if number in done:
            statuses.append(("done", number))
        elif reach == 0:
            statuses.append(("released", number))
        else:
            statuses.append(("on_hold" if n % 25 == 0 else "in_progress", number))
    conn.executemany(
        "INSERT INTO progress_entries (time_ms, work_order, seq, stage, kind, qty_milli) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        entries,
    )
    conn.execute(
        "UPDATE work_order_stages AS s SET done_milli = t.done, scrap_milli = t.scrap FROM ("
        " SELECT work_order, seq, SUM(CASE kind WHEN 'done' THEN qty_milli ELSE 0 END) AS done,"
        " SUM(CASE kind WHEN 'scrap' THEN qty_milli ELSE 0 END) AS scrap"
        " FROM progress_entries GROUP BY work_order, seq"
        ") AS t WHERE s.work_order = t.work_order AND s.seq = t.seq"
    )
    # A status moves only with its audit row (db/schema.py): the row first, then the order.
    conn.executemany(
        "INSERT INTO status_changes (time_ms, work_order, old_status, new_status, reason) "
        "VALUES (?, ?, 'released', ?, 'bench history')",
        [(start, number, status) for status, number in statuses if status != "released"],
    )
    conn.executemany("UPDATE work_orders SET status = ? WHERE number = ?", statuses)


def reports_on_the_record(path: Path, runs: int) -> tuple[Figure, Figure]:
    conn = connect(path)
    item, rows = conn.execute(
        "SELECT item, COUNT(*) FROM stock WHERE qty_milli != 0 GROUP BY item "
        "ORDER BY COUNT(*) DESC, item LIMIT 1"
    ).fetchone()
    bare_stock_sql = "SELECT * FROM stock WHERE item = ?"
    stock_ms, bare_stock_ms = alternate(
        lambda: reports.stock(conn, item=item),
        lambda: conn.execute(bare_stock_sql, (item,)).fetchall(),
        runs * 10,
    )
    bare_status_sql = (
        "SELECT w.number, w.product, w.qty_milli, w.due, w.status, s.seq, s.stage, "
        "s.done_milli, s.scrap_milli FROM work_orders w "
        "JOIN work_order_stages s ON s.work_order = w.number "
        f"WHERE w.status IN {OPEN!r} ORDER BY w.due, w.priority, w.number, s.seq"
    )
    status_ms, bare_status_ms = alternate(
        lambda: reports.status(conn, open_only=True, with_forecast=False),
        lambda: conn.execute(bare_status_sql).fetchall(),
        runs,
    )
    open_orders = len(reports.status(conn, open_only=True, with_forecast=False))
    stage_rows = len(conn.execute(bare_status_sql).fetchall())
    conn.close()
    stock = Figure(
        "stock of one item", stock_ms.median, "bare SELECT", bare_stock_ms.median, 3.0,
        f"({item}: {rows} rows)",
    )  # fmt: skip
    status = Figure(
        "status of open orders", status_ms.median, "bare SELECT", bare_status_ms.median, 3.0,
        f"({open_orders:,} orders, {stage_rows:,} stage rows)",
    )  # fmt: skip
    return stock, status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench record", description=__doc__)
    parser.add_argument("--small", action="store_true", help="200,000 movements, a quick run")
    parser.add_argument("--runs", type=int, default=50, help="timed runs of each report")
    parser.add_argument("--posts", type=int, default=500, help="timed postings")
    parser.add_argument("--check", action="store_true", help="run `check` on the built record")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached record")
    args = parser.parse_args(argv)

    posted, bare = post_one_movement(args.posts)
    figures = [
        Figure("post one movement  median", posted.median, "bare insert", bare.median, 4.0),
        Figure("post one movement  p99", posted.p99, "bare insert", bare.p99, 8.0),
    ]
    for figure in figures:
        say(figure.line(26))
    size = SMALL_MOVEMENTS if args.small else FULL_MOVEMENTS
    if args.rebuild:
        for old in cache_dir().glob(f"record-{size}-*"):
            old.unlink()
    path = cached_record(size)
    if args.check:
        conn = connect(path)
        started = time.monotonic()
        report = check(conn)
        took = time.monotonic() - started
        conn.close()
        say(f"  check: {'ok' if report.ok else report.differences[:3]} in {took:.1f} s")
    stock, status = reports_on_the_record(path, args.runs)
    for figure in (stock, status):
        say(figure.line(26))
    figures += [stock, status]
    return 0 if all(f.met for f in figures) else 1


if __name__ == "__main__":
    raise SystemExit(main())
