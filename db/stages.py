"""What the Stages screen reads: the route's stages in order, each one's load (what is
waiting, what was completed today and by the hour), and the orders queued at one stage.

Each read returns small frozen dataclasses for a screen's worker thread; quantities
stay integer thousandths (`*_milli`).
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from db.board import BoardRow, board_rows
from db.times import day_start_ms

HOUR_MS = 3_600_000


@dataclass(frozen=True)
class StageLoad:
    """One stage's load and output, for the coordinators' Stages screen."""

    code: str
    name: str
    wip_milli: int  # units that reached the stage, not yet done or scrapped there
    queued: int  # open orders with units waiting at the stage
    done_today_milli: int
    hourly_milli: tuple[int, ...]  # completions per hour, oldest first, the last is this hour
    daily_milli: tuple[int, ...]  # completions per local day, oldest first, the last is today


@dataclass(frozen=True)
class QueuedOrder:
    """An open order with units waiting at a stage."""

    number: str
    product: str
    waiting_milli: int
    done_milli: int
    qty_milli: int
    due: str
    priority: int
    status: str


def stage_sequence(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """Stages (code, name) in routing order.

    Routings only order stages within a product, and products skip stages, so the
    plant's order is a topological sort of "comes before" over all routings; ties
    (and stages no routing uses) keep the stage list's own order.
    """
    stages = [(r["code"], r["name"]) for r in conn.execute("SELECT code, name FROM stages")]
    rank = {code: n for n, (code, _) in enumerate(stages)}
    before: dict[str, set[str]] = defaultdict(set)
    incoming: dict[str, int] = dict.fromkeys(rank, 0)
    previous: tuple[str, str] | None = None
    for r in conn.execute("SELECT product, stage FROM routings ORDER BY product, seq"):
        if previous is not None and previous[0] == r["product"] and previous[1] != r["stage"]:
            a, b = previous[1], r["stage"]
            if b not in before[a] and a in rank and b in rank:
                before[a].add(b)
                incoming[b] += 1
        previous = (r["product"], r["stage"])
    ordered: list[str] = []
    ready = sorted((c for c, n in incoming.items() if n == 0), key=rank.__getitem__)
    while ready:
        code = ready.pop(0)
        ordered.append(code)
        for nxt in before[code]:
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                ready.append(nxt)
        ready.sort(key=rank.__getitem__)
    # Routings that contradict each other leave a cycle: those stages go last, as listed.
    ordered += [code for code, _ in stages if code not in ordered]
    names = dict(stages)
    return [(code, names[code]) for code in ordered]


# What reached a stage is the order quantity at its first stage, else what the stage
# before it completed (db.progress.stage_available, for every open order at once).
def _waiting_at_stages(
    orders: Sequence[BoardRow],
) -> Iterator[tuple[BoardRow, str, int, int]]:
    """(order, stage, units waiting there, units done there) for every stage of every open
    order's route. From the board's one row per order (its totals kept beside the order),
    not a window over every open order's stage rows: ~5x cheaper at 5,000 open orders."""
    for row in orders:
        arrived = row.qty_milli  # what reached the stage (db.board.arrived_at)
        for stage, done, scrap in row.stages:
            yield row, stage, arrived - done - scrap, done
            arrived = done


def stage_loads(
    conn: sqlite3.Connection,
    *,
    now_ms: int,
    hours: int = 24,
    days: int = 7,
    open_orders: Sequence[BoardRow] | None = None,
) -> list[StageLoad]:
    """Per stage, in routing order: WIP, orders queued, completed today, and throughput.

    Completions count `done` entries that still stand: a completion later undone
    drops out, and the undo entry itself is not output. `open_orders` (as board_rows
    reads them, in any order) saves reading them again.
    """
    wip: dict[str, tuple[int, int]] = {}
    orders = board_rows(conn) if open_orders is None else open_orders
    for _, stage, waiting, _ in _waiting_at_stages(orders):
        units, queued = wip.get(stage, (0, 0))
        wip[stage] = (units + waiting, queued + (waiting > 0))

    day_starts = [day_start_ms(now_ms, days_back=n) for n in range(days - 1, -1, -1)]
    hour_end = (now_ms // HOUR_MS + 1) * HOUR_MS
    hour_starts = [hour_end - (hours - n) * HOUR_MS for n in range(hours)]
    since = min(day_starts[0], hour_starts[0])
    hourly: dict[str, list[int]] = defaultdict(lambda: [0] * hours)
    daily: dict[str, list[int]] = defaultdict(lambda: [0] * days)
    for r in conn.execute(
        "SELECT p.stage, p.time_ms, p.qty_milli FROM progress_entries p "
        "WHERE p.kind = 'done' AND p.reverses IS NULL AND p.time_ms >= ? AND p.time_ms <= ? "
        "AND NOT EXISTS (SELECT 1 FROM progress_entries u WHERE u.reverses = p.id)",
        (since, now_ms),
    ):
        at, qty = int(r["time_ms"]), int(r["qty_milli"])
        if at >= hour_starts[0]:
            hourly[r["stage"]][bisect_right(hour_starts, at) - 1] += qty
        if at >= day_starts[0]:
            daily[r["stage"]][bisect_right(day_starts, at) - 1] += qty

    loads = []
    for code, name in stage_sequence(conn):
        stage_wip, queued = wip.get(code, (0, 0))
        per_day = daily[code]
        loads.append(
            StageLoad(
                code=code,
                name=name,
                wip_milli=stage_wip,
                queued=queued,
                done_today_milli=per_day[-1],
                hourly_milli=tuple(hourly[code]),
                daily_milli=tuple(per_day),
            )
        )
    return loads


def orders_at_stage(
    conn: sqlite3.Connection, stage: str, *, open_orders: Sequence[BoardRow] | None = None
) -> list[QueuedOrder]:
    """Open orders with units waiting at `stage`, most urgent first (the board's order:
    due, priority, number)."""
    orders = board_rows(conn) if open_orders is None else open_orders
    queue = [
        QueuedOrder(
            number=row.number,
            product=row.product,
            waiting_milli=waiting,
            done_milli=done,
            qty_milli=row.qty_milli,
            due=row.due,
            priority=row.priority,
            status=row.status,
        )
        for row, at, waiting, done in _waiting_at_stages(orders)
        if at == stage and waiting > 0
    ]
    queue.sort(key=lambda order: (order.due, order.priority, order.number))
    return queue
