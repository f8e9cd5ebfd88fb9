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

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from db.schema import OPEN_STATUSES

# Where stock waits to be picked for a work order (SPEC §3 location kinds): not the
# stages' WIP (held by orders already), finished goods, shipping or scrap.
PICKABLE_KINDS = ("storeroom", "receiving")

Answer = Literal["issued", "to_pick", "on_order", "supply_late", "short"]
ANSWERS: tuple[Answer, ...] = ("issued", "to_pick", "on_order", "supply_late", "short")

_OPEN = f"status IN {OPEN_STATUSES!r}"


@dataclass(frozen=True, slots=True)
class Pick:
    """Stock to take from one bin (and lot) for one order's component."""

    location: str
    lot: str
    qty_milli: int


@dataclass(frozen=True, slots=True)
class Supply:
    """What one purchase order brings towards one order's component."""

    number: str
    due: str
    supplier: str
    qty_milli: int
    in_time: bool  # due no later than the day the consuming stage is projected to start


@dataclass(frozen=True, slots=True)
class Shortage:
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
    """On hand in the storeroom and receiving, per item, in the order to pick it: oldest
    lot first, then storeroom bins before the receiving dock, then by bin code.

    A lot's age is when it first landed anywhere in the plant: db.ledger writes a stock
    row the first time a lot reaches a bin and never deletes one, so the lowest rowid
    among a lot's rows marks its arrival, read off the small stock table rather than
    the movement ledger. (The GS1 work's expiry, when an item's lots carry one, belongs
    in front of this age: merge the two orders there.)
    """
    wanted = None if items is None else set(items)
    kinds = ", ".join("?" for _ in PICKABLE_KINDS)
    rows = conn.execute(
        "SELECT s.item, s.location, s.lot, s.qty_milli, l.kind, "
        "(SELECT MIN(a.rowid) FROM stock a WHERE a.item = s.item AND a.lot = s.lot) AS arrived "
        f"FROM stock s JOIN locations l ON l.code = s.location "
        f"WHERE s.qty_milli > 0 AND l.kind IN ({kinds})",
        PICKABLE_KINDS,
    ).fetchall()
    ordered = sorted(
        (tuple(r) for r in rows if wanted is None or r[0] in wanted),
        key=lambda r: (r[0], r[5], r[4] != "storeroom", r[1]),
    )
    picks: dict[str, list[Pick]] = {}
    for item, location, lot, qty, _, _ in ordered:
        picks.setdefault(item, []).append(Pick(location, lot, int(qty)))
    return picks


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
    own = not conn.in_transaction  # one commit's view of orders, stock and supply
    if own:
        conn.execute("BEGIN")
    try:
        orders = conn.execute(
            "SELECT number, product, qty_milli, due, priority, status, board_stages "
            f"FROM work_orders WHERE {_OPEN} ORDER BY priority, due, number"
        ).fetchall()
        bills: dict[str, list[tuple[str, int, str | None]]] = {}
        for product, component, qty_per, stage in conn.execute(
            "SELECT product, component, qty_per_milli, stage FROM bill_of_materials "
            "ORDER BY product, rowid"
        ):
            bills.setdefault(product, []).append((component, qty_per, stage))
        held: dict[tuple[str, str], int] = {
            (number, item): int(qty)
            for number, item, qty in conn.execute(
                "SELECT m.work_order, m.item, "
                "SUM(m.issued_milli - m.returned_milli - m.consumed_milli) "
                "FROM work_order_materials m JOIN work_orders w ON w.number = m.work_order "
                f"WHERE w.{_OPEN} GROUP BY m.work_order, m.item"
            )
        }
        items = {
            sku: (description, uom)
            for sku, description, uom in conn.execute("SELECT sku, description, uom FROM items")
        }
        stock = picking_order(conn)
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
    left_in_bin = {item: [p.qty_milli for p in bins] for item, bins in stock.items()}
    lines: list[Shortage] = []
    routes: dict[str, tuple[str | None, dict[str, tuple[int, int]]]] = {}
    for number, product, qty, due, priority, status, route in orders:
        parsed = routes.get(route)
        if parsed is None:
            parsed = routes[route] = _consumers(route)
        first, totals = parsed
        for component, qty_per, bill_stage in bills.get(product, ()):
            stage = bill_stage or first
            done, scrap = totals.get(stage, (0, 0)) if stage else (0, 0)
            remaining = max(qty - done - scrap, 0)
            required = (qty_per * remaining + 500) // 1000
            issued = max(held.get((number, component), 0), 0)
            to_issue = max(required - issued, 0)
            wanted = to_issue
            picks: list[Pick] = []
            if wanted:
                bins = stock.get(component, ())
                amounts = left_in_bin.get(component, [])
                for index, bin_ in enumerate(bins):
                    if not wanted:
                        break
                    take = min(amounts[index], wanted)
                    if take > 0:
                        amounts[index] -= take
                        wanted -= take
                        picks.append(Pick(bin_.location, bin_.lot, take))
            from_stock = to_issue - wanted
            needed_by = starts.get((number, stage), due) if stage else due
            covers: list[Supply] = []
            if wanted:
                for po in supply.get(component, ()):
                    if not wanted:
                        break
                    take = min(po.left_milli, wanted)
                    if take > 0:
                        po.left_milli -= take
                        wanted -= take
                        covers.append(
                            Supply(po.number, po.due, po.supplier, take, po.due <= needed_by[:10])
                        )
            from_supply = to_issue - from_stock - wanted
            if order is not None and number != order:
                continue
            description, uom = items[component]
            lines.append(
                Shortage(
                    number,
                    priority,
                    due,
                    status,
                    component,
                    description,
                    uom,
                    stage,
                    needed_by[:10],
                    required,
                    issued,
                    to_issue,
                    from_stock,
                    from_supply,
                    wanted,
                    tuple(picks),
                    tuple(covers),
                )  # fmt: skip
            )
    return lines


def short_orders(conn: sqlite3.Connection) -> frozenset[str]:
    """The open orders with a component nothing covers (the board's SHORT mark)."""
    return frozenset(line.work_order for line in shortages(conn) if line.short_milli > 0)


def pick_list(
    conn: sqlite3.Connection,
    order: str,
    *,
    stage_starts: Mapping[tuple[str, str], str] | None = None,
) -> list[Shortage]:
    """What to issue to `order` now from stock, bin by bin, oldest lot first: its lines
    with something to pick (the rest wait for supply or are issued already)."""
    return [line for line in shortages(conn, order=order, stage_starts=stage_starts) if line.picks]
