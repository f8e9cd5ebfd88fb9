"""Read-side queries behind the Stock, Stages, Inbox and Devices screens.

Each function reads in one short statement or two and returns small frozen
dataclasses, so a screen's worker thread can hand the result to the UI thread
without sharing a cursor. Quantities stay integer thousandths (`*_milli`); the
screens format them with db.quantity.text. The helpers at the end write times
the way a person on the floor reads them (local clock, "3 min ago").
No Textual here: the screens call this, never the other way round.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from db.board import BoardRow, board_rows
from db.masterdata import normalize_gtin
from db.reports import raw_text
from db.resolve import resolve
from devices.decode import decode

HitKind = Literal["item", "location"]

HOUR_MS = 3_600_000
HISTORY_PAGE = 200

# ---------------------------------------------------------------- stock


@dataclass(frozen=True)
class Hit:
    """One search result: an item or a location."""

    kind: HitKind
    code: str
    name: str
    detail: str  # item: its unit; location: its kind


@dataclass(frozen=True)
class OnHand:
    """Stock of one item at one location and lot ('' = no lot)."""

    item: str
    description: str
    uom: str
    location: str
    location_name: str
    lot: str
    qty_milli: int


@dataclass(frozen=True)
class Movement:
    """One ledger entry as the item history shows it."""

    id: int
    time_ms: int
    kind: str
    qty_milli: int
    lot: str
    from_location: str | None
    to_location: str | None
    work_order: str | None
    stage: str | None
    operator: str | None
    station: str | None
    reverses: int | None


@dataclass(frozen=True)
class ItemStock:
    """An item: where it is, and its newest movements."""

    sku: str
    description: str
    uom: str
    gtin: str | None
    barcode: str
    lot_tracked: bool
    on_hand: tuple[OnHand, ...]
    history: tuple[Movement, ...]
    history_total: int

    @property
    def total_milli(self) -> int:
        return sum(row.qty_milli for row in self.on_hand)


@dataclass(frozen=True)
class LocationStock:
    """A location and everything on hand in it."""

    code: str
    name: str
    kind: str
    barcode: str
    on_hand: tuple[OnHand, ...]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(conn: sqlite3.Connection, text: str, *, limit: int = 100) -> list[Hit]:
    """Items and locations whose code, name, barcode or GTIN contain `text`.

    Exact matches come first, then prefixes, then the rest, so a scanned or typed
    code is at the top even when it also appears inside longer codes.
    """
    needle = text.strip()
    if not needle:
        return []
    pattern = _like(needle)
    prefix = pattern[1:]
    gtin = normalize_gtin(needle) or ""
    rows = conn.execute(
        """
        SELECT kind, code, name, detail, rank FROM (
            SELECT 'item' AS kind, sku AS code, description AS name, uom AS detail,
                   CASE WHEN sku = :exact OR barcode = :exact OR gtin = :gtin THEN 0
                        WHEN sku LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END AS rank
            FROM items
            WHERE sku LIKE :pattern ESCAPE '\\' OR description LIKE :pattern ESCAPE '\\'
               OR barcode LIKE :pattern ESCAPE '\\' OR gtin LIKE :pattern ESCAPE '\\'
               OR gtin = :gtin
            UNION ALL
            SELECT 'location', code, name, kind,
                   CASE WHEN code = :exact OR barcode = :exact THEN 0
                        WHEN code LIKE :prefix ESCAPE '\\' THEN 1 ELSE 2 END
            FROM locations
            WHERE code LIKE :pattern ESCAPE '\\' OR name LIKE :pattern ESCAPE '\\'
               OR barcode LIKE :pattern ESCAPE '\\'
        )
        ORDER BY rank, kind, code
        LIMIT :limit
        """,
        {
            "exact": needle,
            "gtin": gtin,
            "prefix": prefix,
            "pattern": pattern,
            "limit": limit,
        },
    ).fetchall()
    return [Hit(r["kind"], r["code"], r["name"], r["detail"]) for r in rows]


def resolve_code(conn: sqlite3.Connection, code: str) -> Hit | None:
    """The item or location a scanned or typed code means, by the scan pipeline's own rules.

    Going through db.resolve keeps the Stock screen's idea of a barcode the
    same as the stations' (registry, sku, GTIN, GS1 element strings, AIM prefixes).
    """
    text = code.strip()
    if not text:
        return None
    scan = decode(text.encode("utf-8"))
    found = resolve(conn, scan) if scan.text is not None else None
    kind: HitKind
    if found is not None and found.kind in ("item", "location"):
        kind = "item" if found.kind == "item" else "location"
        key = found.code
    else:
        # A location whose label carries another value is still found by its code.
        row = conn.execute("SELECT code FROM locations WHERE code = ?", (text,)).fetchone()
        if row is None:
            return None
        kind, key = "location", str(row["code"])
    if kind == "item":
        item = conn.execute("SELECT description, uom FROM items WHERE sku = ?", (key,)).fetchone()
        return Hit("item", key, item["description"], item["uom"]) if item else None
    loc = conn.execute("SELECT name, kind FROM locations WHERE code = ?", (key,)).fetchone()
    return Hit("location", key, loc["name"], loc["kind"]) if loc else None


_ON_HAND = """
SELECT s.item, i.description, i.uom, s.location, l.name AS location_name, s.lot, s.qty_milli
FROM stock s JOIN items i ON i.sku = s.item JOIN locations l ON l.code = s.location
"""


def _on_hand(rows: list[sqlite3.Row]) -> tuple[OnHand, ...]:
    return tuple(
        OnHand(
            r["item"],
            r["description"],
            r["uom"],
            r["location"],
            r["location_name"],
            r["lot"],
            int(r["qty_milli"]),
        )
        for r in rows
    )


def item_stock(
    conn: sqlite3.Connection, sku: str, *, history_limit: int = HISTORY_PAGE
) -> ItemStock | None:
    """An item's stock by location and lot, and its newest `history_limit` movements."""
    item = conn.execute("SELECT * FROM items WHERE sku = ?", (sku,)).fetchone()
    if item is None:
        return None
    on_hand = conn.execute(
        _ON_HAND + "WHERE s.item = ? AND s.qty_milli != 0 ORDER BY s.location, s.lot", (sku,)
    ).fetchall()
    # Newest first through the (item, id) index: cheap even with millions of movements.
    history = conn.execute(
        "SELECT * FROM movements WHERE item = ? ORDER BY id DESC LIMIT ?",
        (sku, max(1, history_limit)),
    ).fetchall()
    total = conn.execute("SELECT COUNT(*) FROM movements WHERE item = ?", (sku,)).fetchone()[0]
    return ItemStock(
        sku=item["sku"],
        description=item["description"],
        uom=item["uom"],
        gtin=item["gtin"],
        barcode=item["barcode"],
        lot_tracked=bool(item["lot_tracked"]),
        on_hand=_on_hand(on_hand),
        history=tuple(
            Movement(
                id=int(m["id"]),
                time_ms=int(m["time_ms"]),
                kind=m["kind"],
                qty_milli=int(m["qty_milli"]),
                lot=m["lot"],
                from_location=m["from_location"],
                to_location=m["to_location"],
                work_order=m["work_order"],
                stage=m["stage"],
                operator=m["operator"],
                station=m["station"],
                reverses=m["reverses"],
            )
            for m in history
        ),
        history_total=int(total),
    )


def location_stock(conn: sqlite3.Connection, code: str) -> LocationStock | None:
    """Everything on hand at one location, by item and lot."""
    loc = conn.execute("SELECT * FROM locations WHERE code = ?", (code,)).fetchone()
    if loc is None:
        return None
    rows = conn.execute(
        _ON_HAND + "WHERE s.location = ? AND s.qty_milli != 0 ORDER BY s.item, s.lot", (code,)
    ).fetchall()
    return LocationStock(loc["code"], loc["name"], loc["kind"], loc["barcode"], _on_hand(rows))


# ---------------------------------------------------------------- stages


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
# before it completed (db.ledger.stage_available, for every open order at once).
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


# ---------------------------------------------------------------- inbox


@dataclass(frozen=True)
class RejectedScan:
    """A rejected scan waiting for a supervisor."""

    id: int
    time_ms: int
    station: str
    scanner: str | None
    source: str
    raw: str  # undecodable bytes shown as \\xNN, never dropped
    raw_length: int
    truncated: bool  # the line was longer than the journal keeps; `raw_length` says how long
    reason: str
    failed_replays: int = 0
    last_replay_reason: str | None = None  # why the newest replay was refused too


def rejected_scans(conn: sqlite3.Connection, *, limit: int = 500) -> tuple[list[RejectedScan], int]:
    """Unresolved rejected scans, newest first (at most `limit`), and how many there are.

    A replay that is refused again is journaled as a scan of its own; it is not a new
    problem but another try at the original, so it shows on the original's row.
    """
    where = (
        "FROM scan_outcomes o JOIN scan_journal j ON j.id = o.scan "
        "LEFT JOIN inbox_resolutions r ON r.scan = o.scan "
        "WHERE o.status = 'rejected' AND r.scan IS NULL"
    )
    total = conn.execute(f"SELECT COUNT(*) {where} AND j.source != 'replay'").fetchone()[0]
    rows = conn.execute(
        "SELECT j.id, j.time_ms, j.station, j.scanner, j.source, j.raw, j.raw_length, "
        f"o.message {where} AND j.source != 'replay' ORDER BY j.id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    retries: dict[int, list[str]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT j.replay_of, o.message {where} AND j.source = 'replay' ORDER BY j.id"
    ):
        retries[int(r["replay_of"])].append(r["message"])
    scans = [
        RejectedScan(
            id=int(r["id"]),
            time_ms=int(r["time_ms"]),
            station=r["station"],
            scanner=r["scanner"],
            source=r["source"],
            raw=raw_text(r["raw"]),
            raw_length=int(r["raw_length"]),
            truncated=int(r["raw_length"]) > len(bytes(r["raw"])),
            reason=r["message"],
            failed_replays=len(retries[int(r["id"])]),
            last_replay_reason=retries[int(r["id"])][-1] if retries[int(r["id"])] else None,
        )
        for r in rows
    ]
    return scans, int(total)


# ---------------------------------------------------------------- times for people


def day_start_ms(now_ms: int, *, days_back: int = 0) -> int:
    """Local midnight starting the day `days_back` days before the one holding `now_ms`."""
    local = datetime.fromtimestamp(now_ms / 1000).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)
    # Re-attach the zone of that date, so a DST change in between does not shift midnight.
    midnight = midnight.replace(tzinfo=None).astimezone()
    return int(midnight.timestamp() * 1000)


def clock_time(ms: int, *, now_ms: int) -> str:
    """Local time: "14:05:03" today, "11-20 14:05" on another day."""
    stamp = datetime.fromtimestamp(ms / 1000).astimezone()
    if day_start_ms(now_ms) <= ms < day_start_ms(now_ms, days_back=-1):
        return stamp.strftime("%H:%M:%S")
    return stamp.strftime("%m-%d %H:%M")


def ago(ms: int | None, *, now_ms: int) -> str:
    """How long ago, in the words a glance needs: "never", "just now", "12 s ago", "3 h ago"."""
    if ms is None:
        return "never"
    seconds = (now_ms - ms) // 1000
    if seconds < 2:
        return "just now"
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86_400} d ago"
