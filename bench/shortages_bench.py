"""Benchmark: shortages against stock and supply on the big record (issue 11, SPEC §7).

Run with `python -m bench shortages [--small] [--runs N]` (or `python -m bench.shortages_bench`).

`db.shortages.shortages(conn)` — every open order's bill lines netted most urgent first
against the stores' bins and the open purchase orders — on the big record (5,000 open
work orders, 2,000,000 movements: bench.record_bench's, cached in bench/.cache/),
against one bare SELECT of the same rows (each open order's bill lines, in netting
order), timed turn about; and `short_orders` (the board's SHORT marks: the same
netting without building the lines), on a plain connection and on one set up as the
board's netting worker sets up its own (a larger page cache). Target ≤ 200 ms each;
the ratio to the bare SELECT is printed beside it.

Exit status 0 when every target is met, 1 otherwise.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bench.common import alternate, say
from bench.record_bench import FULL_MOVEMENTS, OPEN, SMALL_MOVEMENTS, cached_record
from db.connection import connect
from db.shortages import short_orders, shortages
from tui.screens.board import NETTING_CACHE_KIB

TARGET_MS = 200.0

# The rows the netting reads, without any of its work: one per open order and bill line.
BARE_LINES = (
    "SELECT w.number, w.priority, w.due, w.qty_milli, b.component, b.qty_per_milli, b.stage "
    "FROM work_orders w JOIN bill_of_materials b ON b.product = w.product "
    f"WHERE w.status IN {OPEN!r} ORDER BY w.priority, w.due, w.number"
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench shortages", description=__doc__)
    parser.add_argument("--small", action="store_true", help="200,000 movements, a quick run")
    parser.add_argument("--runs", type=int, default=15, help="timed runs of each")
    args = parser.parse_args(argv)
    size = SMALL_MOVEMENTS if args.small else FULL_MOVEMENTS
    path = cached_record(size)
    conn = connect(path)
    lines = shortages(conn)
    orders = len({line.work_order for line in lines})
    short = sum(1 for line in lines if line.short_milli)
    bare_rows = len(conn.execute(BARE_LINES).fetchall())
    if bare_rows != len(lines):
        raise RuntimeError(f"the bare SELECT read {bare_rows} rows, the netting {len(lines)}")
    met = []
    board = connect(path)  # as the board's netting worker opens its own
    board.execute(f"PRAGMA cache_size = -{NETTING_CACHE_KIB}")
    calls: list[tuple[str, Callable[[], object]]] = [
        ("shortages (every line)", lambda: shortages(conn)),
        ("short_orders", lambda: short_orders(conn)),
        ("short_orders, board's reader", lambda: short_orders(board)),
    ]
    for label, call in calls:
        netted, bare = alternate(call, lambda: conn.execute(BARE_LINES).fetchall(), args.runs)
        within = netted.median <= TARGET_MS
        met.append(within)
        say(
            f"{label:<30} {netted.median:.1f} ms  bare SELECT {bare.median:.1f} ms  "
            f"ratio {netted.median / bare.median:.1f}x  (target ≤ {TARGET_MS:g} ms)"
            + ("" if within else "  MISSED")
            + f"  ({orders:,} orders, {len(lines):,} lines, {short:,} short, {size:,} movements)"
        )
    conn.close()
    board.close()
    return 0 if all(met) else 1


if __name__ == "__main__":
    raise SystemExit(main())
