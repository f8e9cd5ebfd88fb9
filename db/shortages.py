"""Shortages against stock and supply (MRP in small), and the pick list per order.

For every open work order, most urgent first (priority 1 first, then due date, then
number), each component of its bill:

- required: its quantity per unit times the units its consuming stage (the bill's
  stage; the route's first when the bill names none, as db.progress backflushes) has
  not yet completed or scrapped, to the nearest thousandth;
- issued: what the order holds of it now (issued, less returned, less consumed): the
  work in progress that will feed those units;
- to_issue: required less issued (never below zero);
- from_stock: what the storeroom and receiving locations hold that no more urgent
  order took first, taken bin by bin in picking order (`picking_order`);
- from_supply: what open purchase orders still bring (ordered less received) that no
  more urgent order took first, earliest due first;
- short: what is left: nothing covers it.

So one (work order, item) gets one answer (`Shortage.answer`): nothing to issue,
`to_pick` (the stock is there: its bins in `picks`), `on_order` / `supply_late` (a
purchase order covers it, arriving by / after the day the consuming stage is projected
to start), or `short`. The netting always runs over every open order, so an answer
for one order is the same as in the list of all of them.

The day a stage starts comes from the caller (`stage_starts`): the forecast's projected
stage start once it exists; until then, and for any stage it does not name, the
order's due date stands in — a purchase order arriving after the order is due is late
for it whatever the forecast says.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal, NamedTuple

from db import lots
from db.schema import OPEN_STATUSES

# Where stock waits to be picked for a work order (SPEC §3 location kinds): not the
# stages' WIP (held by orders already), finished goods, shipping or scrap.
PICKABLE_KINDS = ("storeroom", "receiving")

Answer = Literal["issued", "to_pick", "on_order", "supply_late", "short"]
ANSWERS: tuple[Answer, ...] = ("issued", "to_pick", "on_order", "supply_late", "short")

_OPEN = f"status IN {OPEN_STATUSES!r}"

# A named tuple's own constructor is a Python function wrapping this call: the netting
# builds one line per open order's bill line (47,500 on the benchmark), so it calls
# tuple.__new__ itself and skips that frame.
_new_line = tuple.__new__


# Plain named tuples, not frozen dataclasses: a netting builds tens of thousands, and a
# frozen dataclass sets each field through object.__setattr__ (several times slower).
class Pick(NamedTuple):
    """Stock to take from one bin (and lot) for one order's component."""

    location: str
    lot: str
    qty_milli: int


class Supply(NamedTuple):
    """What one purchase order brings towards one order's component."""

    number: str
    due: str
    supplier: str
    qty_milli: int
    in_time: bool  # due no later than the day the consuming stage is projected to start


class Shortage(NamedTuple):
    """One component of one open work order, netted (the module docstring defines each
    figure; quantities in thousandths of the item's unit)."""

    work_order: str
    priority: int
    due: str
    status: str
    item: str
    description: str
    uom: str
    stage: str | None  # where it is consumed; None: the order's route is empty
    needed_by: str  # the day the consuming stage is projected to start (ISO)
    required_milli: int
    issued_milli: int
    to_issue_milli: int
    from_stock_milli: int
    from_supply_milli: int
    short_milli: int
    picks: tuple[Pick, ...]
    supply: tuple[Supply, ...]

    @property
    def answer(self) -> Answer:
        """The one thing to say about it, worst first."""
        if self.short_milli > 0:
            return "short"
        if self.from_supply_milli > 0:
            return "on_order" if all(s.in_time for s in self.supply) else "supply_late"
        if self.from_stock_milli > 0:
            return "to_pick"
        return "issued"


@dataclass(slots=True)
class _OnOrder:
    """A purchase-order line while the netting hands it out."""

    number: str
    due: str
    supplier: str
    left_milli: int


def picking_order(
    conn: sqlite3.Connection, items: Iterable[str] | None = None
) -> dict[str, list[Pick]]:
    """On hand in the storeroom and receiving, per item, in the order to pick it: the
    lots' pick order (db.lots.pick_key: soonest expiry, then oldest receipt, expired
    lots nobody allowed last), then storeroom bins before the receiving dock, then by
    bin code."""
    kinds = ", ".join("?" for _ in PICKABLE_KINDS)
    only = "" if items is None else "AND s.item IN (SELECT value FROM json_each(?))"
    params: tuple[str, ...] = PICKABLE_KINDS
    if items is not None:
        params += (json.dumps(sorted(set(items))),)
    cursor = conn.execute(
        "SELECT s.item, s.location, s.lot, s.qty_milli, l.kind != 'storeroom', "
        "lt.expiry, lt.received_ms, "
        "EXISTS (SELECT 1 FROM lot_allowances a WHERE a.item = s.item AND a.lot = s.lot) "
        "FROM stock s JOIN locations l ON l.code = s.location "
        "LEFT JOIN lots lt ON lt.item = s.item AND lt.lot = s.lot "
        f"WHERE s.qty_milli > 0 AND l.kind IN ({kinds}) {only}",
        params,
    )
    cursor.row_factory = None  # plain tuples: the cheapest rows sqlite3 makes
    on = lots.today()
    ordered = sorted(
        cursor.fetchall(),
        key=lambda r: (
            r[0],
            *lots.pick_key(date.fromisoformat(r[5]) if r[5] else None, r[6], bool(r[7]), on),
            r[4],
            r[1],
        ),
    )
    picks: dict[str, list[Pick]] = {}
    for item, location, lot, qty, *_ in ordered:
        picks.setdefault(item, []).append(Pick(location, lot, qty))
    return picks


def _plain(conn: sqlite3.Connection, sql: str) -> list[tuple[Any, ...]]:
    cursor = conn.execute(sql)
    cursor.row_factory = None  # plain tuples: thousands of rows, cheapest as tuples
    return cursor.fetchall()


def _consumers(route: str) -> tuple[str | None, dict[str, tuple[int, int]]]:
    """From a board_stages string: the route's first stage, and per stage code its
    (done, scrap) — the last occurrence on the route, as the board reads it."""
    if not route:
        return None, {}
    parts = route.split("\x1f")
    totals = {
        code: (int(done), int(scrap))
        for code, done, scrap in zip(parts[0::3], parts[1::3], parts[2::3], strict=True)
    }
    return parts[0], totals


def shortages(
    conn: sqlite3.Connection,
    *,
    order: str | None = None,
    stage_starts: Mapping[tuple[str, str], str] | None = None,
) -> list[Shortage]:
    """Every bill line of every open order, netted most urgent first (the module
    docstring); with `order`, only that order's lines (netted among all the same).

    `stage_starts` maps (work order, stage) to the day (ISO date or date-time) that
    stage is projected to start; where it has none, the order's due date stands in.
    """
    return _net(conn, order=order, stage_starts=stage_starts, build=True)[0]


def _net(
    conn: sqlite3.Connection,
    *,
    order: str | None,
    stage_starts: Mapping[tuple[str, str], str] | None,
    build: bool,
) -> tuple[list[Shortage], frozenset[str]]:
    """The netting: the lines (when `build`, of `order` or all) and the short orders."""
    own = not conn.in_transaction  # one commit's view of orders, stock and supply
    if own:
        conn.execute("BEGIN")
    try:
        bills: dict[str, list[tuple[str, int, str | None]]] = {}
        for product, component, qty_per, stage in conn.execute(
            "SELECT product, component, qty_per_milli, stage FROM bill_of_materials "
            "ORDER BY product, rowid"
        ):
            bills.setdefault(product, []).append((component, qty_per, stage))
        orders = _plain(
            conn,
            "SELECT number, product, qty_milli, due, priority, status, board_stages "
            f"FROM work_orders WHERE {_OPEN} ORDER BY priority, due, number",
        )
        # What each open order holds of its bill's components (work_order_held, kept by
        # the record's triggers): one row per bill line, not one per lot and location.
        held: dict[tuple[str, str], int] = {
            (number, item): qty
            for number, item, qty in _plain(
                conn,
                "SELECT w.number, b.component, h.held_milli "
                "FROM work_orders w JOIN bill_of_materials b ON b.product = w.product "
                "JOIN work_order_held h ON h.work_order = w.number AND h.item = b.component "
                f"WHERE w.{_OPEN}",
            )
        }
        items = {
            sku: (description, uom)
            for sku, description, uom in conn.execute("SELECT sku, description, uom FROM items")
        }
        needed = {component for lines in bills.values() for component, _, _ in lines}
        stock = picking_order(conn, needed)
        supply: dict[str, list[_OnOrder]] = {}
        for number, item, left, due, supplier in conn.execute(
            "SELECT number, item, qty_milli - received_milli, due, supplier "
            "FROM purchase_orders WHERE qty_milli > received_milli ORDER BY item, due, number"
        ):
            supply.setdefault(item, []).append(_OnOrder(number, due, supplier, int(left)))
    finally:
        if own:
            conn.execute("COMMIT")

    starts = stage_starts or {}
    bins = {item: _Bins(picks) for item, picks in stock.items()}
    on_order = {item: _Bins(lines) for item, lines in supply.items()}
    nothing = _Bins([])
    lines: list[Shortage] = []
    short: set[str] = set()
    routes: dict[str, tuple[str | None, dict[str, tuple[int, int]]]] = {}
    for number, product, qty, due, priority, status, route in orders:
        parsed = routes.get(route)
        if parsed is None:
            parsed = routes[route] = _consumers(route)
        first, totals = parsed
        keep = build and (order is None or number == order)
        for component, qty_per, bill_stage in bills.get(product, ()):
            stage = bill_stage or first
            done, scrap = totals.get(stage, (0, 0)) if stage else (0, 0)
            remaining = qty - done - scrap
            required = (qty_per * remaining + 500) // 1000 if remaining > 0 else 0
            issued = held.get((number, component), 0)
            if issued < 0:
                issued = 0
            to_issue = required - issued if required > issued else 0
            picks: tuple[Pick, ...] = ()
            covers: tuple[Supply, ...] = ()
            wanted = to_issue
            needed_by = due
            if wanted:
                pool = bins.get(component, nothing)
                if pool.at < pool.size:  # most lines of a starved item: nothing left
                    wanted, picks = pool.take_stock(wanted)
            from_stock = to_issue - wanted
            if stage and starts:
                needed_by = starts.get((number, stage), due)[:10]
            if wanted:
                pool = on_order.get(component, nothing)
                if pool.at < pool.size:
                    wanted, covers = pool.take_supply(wanted, needed_by)
                if wanted:
                    short.add(number)
            if not keep:
                continue
            description, uom = items[component]
            lines.append(
                _new_line(
                    Shortage,
                    (
                        number,
                        priority,
                        due,
                        status,
                        component,
                        description,
                        uom,
                        stage,
                        needed_by,
                        required,
                        issued,
                        to_issue,
                        from_stock,
                        to_issue - from_stock - wanted,
                        wanted,
                        picks,
                        covers,
                    ),
                )  # fmt: skip
            )
    return lines, frozenset(short)


class _Bins:
    """What is left to hand out of one item, in the order it is handed out (bins in
    picking order, or purchase-order lines by due date); spent ones are skipped once."""

    __slots__ = ("entries", "left", "at", "size")

    def __init__(self, entries: Sequence[Pick] | Sequence[_OnOrder]) -> None:
        self.entries = entries
        self.left = [e.qty_milli if isinstance(e, Pick) else e.left_milli for e in entries]
        self.at = 0
        self.size = len(self.left)

    def _take(self, wanted: int) -> Iterator[tuple[int, int]]:
        """(entry index, amount) until `wanted` is met or nothing is left."""
        left = self.left
        while wanted and self.at < len(left):
            take = min(left[self.at], wanted)
            left[self.at] -= take
            wanted -= take
            if take:
                yield self.at, take
            if not left[self.at]:
                self.at += 1

    def take_stock(self, wanted: int) -> tuple[int, tuple[Pick, ...]]:
        """What is still wanted after taking from the bins, and the picks taken."""
        picks = []
        for index, take in self._take(wanted):
            entry = self.entries[index]
            assert isinstance(entry, Pick)
            picks.append(Pick(entry.location, entry.lot, take))
            wanted -= take
        return wanted, tuple(picks)

    def take_supply(self, wanted: int, needed_by: str) -> tuple[int, tuple[Supply, ...]]:
        """What is still wanted after the purchase orders, and what each brings."""
        covers = []
        for index, take in self._take(wanted):
            po = self.entries[index]
            assert isinstance(po, _OnOrder)
            covers.append(Supply(po.number, po.due, po.supplier, take, po.due <= needed_by))
            wanted -= take
        return wanted, tuple(covers)


def short_orders(conn: sqlite3.Connection) -> frozenset[str]:
    """The open orders with a component nothing covers (the board's SHORT mark): the
    same netting, without building its lines."""
    return _net(conn, order=None, stage_starts=None, build=False)[1]


def pick_list(
    conn: sqlite3.Connection,
    order: str,
    *,
    stage_starts: Mapping[tuple[str, str], str] | None = None,
) -> list[Shortage]:
    """What to issue to `order` now from stock, bin by bin, oldest lot first: its lines
    with something to pick (the rest wait for supply or are issued already)."""
    return [line for line in shortages(conn, order=order, stage_starts=stage_starts) if line.picks]
