"""The demo plant: a sheet-metal shop with six stages, sixty items and forty work orders
(its data: db/demo_plant.py), and the simulated scans of its live demo.

Its master data is written as the CSVs an ERP would export and loaded through the
real import; its few days of history are posted through the real ledger, so the
demo, the tests and the benchmarks all stand on the same code paths a plant uses.
Deterministic: the same seed gives the same plant.
"""

from __future__ import annotations

import csv
import random
import sqlite3
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from db import ledger, lots, progress, roles, supervision
from db.connection import clock, now_ms, write
from db.demo_plant import (
    CAPACITY,
    CUSTOMERS,
    DEMO_WORK_ORDERS,
    LOCATIONS,
    OPERATORS,
    PRODUCTS,
    PURCHASE_ORDERS,
    PURCHASED,
    REASONS,
    SALES_ORDER_EVERY,
    SCRAP_REASON_AT,
    SEED,
    SIZE,
    STAGES,
    STANDARD_MINUTES,
    STATIONS,
    gtin_for,
)
from db.ledger import Origin
from db.masterdata import import_dir
from db.quantity import to_milli
from db.refusals import LedgerError

__all__ = [
    "LOCATIONS",
    "PRODUCTS",
    "PURCHASED",
    "STAGES",
    "build_demo",
    "create_demo_db",
    "gtin_for",
    "scan_script",
    "write_csvs",
]


def write_csvs(folder: Path, *, work_orders: int = DEMO_WORK_ORDERS, seed: int = SEED) -> Path:
    """Write the demo plant's master data as ERP-style CSVs into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(seed)

    def put(name: str, header: list[str], rows: list[list[object]]) -> None:
        with (folder / name).open("w", newline="", encoding="utf-8") as handle:
            out = csv.writer(handle)
            out.writerow(header)
            out.writerows(rows)

    put("locations.csv", ["code", "name", "kind", "barcode"], [[*loc, ""] for loc in LOCATIONS])
    put(
        "stages.csv",
        ["code", "name", "location", "hours_per_day", "parallel"],
        [[code, name, loc, *CAPACITY[code]] for code, name, loc in STAGES],
    )
    items: list[list[object]] = [
        [sku, desc, uom, gtin_for(i + 1) if has_gtin else "", 1 if lot else 0, ""]
        for i, (sku, desc, uom, lot, has_gtin, _) in enumerate(PURCHASED)
    ]
    items += [[sku, desc, "pcs", "", 0, ""] for sku, desc, _, _ in PRODUCTS]
    put("items.csv", ["sku", "description", "uom", "gtin", "lot_tracked", "barcode"], items)
    put("operators.csv", ["badge", "name", "role"], [list(o) for o in OPERATORS])
    put(
        "routings.csv",
        ["product", "seq", "stage", "setup_min", "run_min_per_unit"],
        [
            [sku, (n + 1) * 10, stage, *_standard_minutes(sku, stage)]
            for sku, _, route, _ in PRODUCTS
            for n, stage in enumerate(route)
        ],
    )
    put(
        "bom.csv",
        ["product", "component", "qty_per", "stage"],
        [[sku, comp, qty, stage] for sku, _, _, bom in PRODUCTS for comp, qty, stage in bom],
    )
    put("stations.csv", ["code", "name", "location", "stage", "mode"], [list(s) for s in STATIONS])
    today = date.today()
    orders = []
    for n in range(work_orders):
        sku = PRODUCTS[n % len(PRODUCTS)][0]
        qty = rnd.choice([5, 8, 10, 12, 20, 24, 25, 40, 50])
        due = today + timedelta(days=rnd.randint(-3, 14))
        orders.append([f"WO-{24001 + n}", sku, qty, due.isoformat(), rnd.randint(1, 5), ""])
    put("workorders.csv", ["number", "product", "qty", "due", "priority", "barcode"], orders)
    put("calendar.csv", ["date", "working"], _calendar(today))
    put("reasons.csv", ["code", "description", "kind"], [list(r) for r in REASONS])
    put(
        "purchase_orders.csv",
        ["number", "item", "qty", "due", "supplier"],
        [[n, item, qty, (today + timedelta(days=d)).isoformat(), who]
         for n, item, qty, d, who in PURCHASE_ORDERS],
    )  # fmt: skip
    put(
        "sales_orders.csv",
        ["number", "customer", "product", "qty", "due", "work_order"],
        [
            [f"SO-{5001 + k}", CUSTOMERS[k % len(CUSTOMERS)], sku, qty, due, number]
            for k, (number, sku, qty, due, _, _) in enumerate(orders[::SALES_ORDER_EVERY])
        ],
    )
    return folder


def _standard_minutes(sku: str, stage: str) -> list[object]:
    if sku not in SIZE:
        return ["", ""]
    setup, run = STANDARD_MINUTES[stage]
    return [round(setup * SIZE[sku], 1), round(run * SIZE[sku], 1)]


def _calendar(today: date) -> list[list[object]]:
    """Two weeks' exceptions to Monday to Friday: the next Saturday worked as an extra
    shift, and a weekday ten or more days out a holiday."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    holiday = today + timedelta(days=10)
    while holiday.weekday() >= 5:
        holiday += timedelta(days=1)
    return [[saturday.isoformat(), 1], [holiday.isoformat(), 0]]


@dataclass
class _Clock:
    ms: int

    def tick(self, rnd: random.Random, low_min: float = 1, high_min: float = 25) -> int:
        self.ms += int(rnd.uniform(low_min, high_min) * 60_000)
        return self.ms


def build_demo(conn: sqlite3.Connection, *, work_orders: int = DEMO_WORK_ORDERS) -> None:
    """Load the demo plant and post its last few days of history."""
    with tempfile.TemporaryDirectory() as tmp:
        import_dir(conn, write_csvs(Path(tmp), work_orders=work_orders))
    rnd = random.Random(SEED)
    days = 4
    stamp = _Clock(now_ms() - days * 86_400_000)
    with clock(lambda: stamp.ms), write(conn):
        _post_history(conn, rnd, stamp, work_orders)
    roles.set_setting(conn, "demo_plant", "1")


def _post_history(conn: sqlite3.Connection, rnd: random.Random, stamp: _Clock, count: int) -> None:
    receiver = Origin(operator="B1001", station="RECEIVING")
    # What every order of the plant needs of each component: the deliveries cover it
    # with room to spare, so the demo's history never drives a bin negative.
    needs = {
        str(sku): int(need)
        for sku, need in conn.execute(
            "SELECT b.component, SUM(b.qty_per_milli * w.qty_milli / 1000) "
            "FROM bill_of_materials b JOIN work_orders w ON w.product = b.product "
            "GROUP BY b.component"
        )
    }
    for index, (sku, _, uom, lot_tracked, _, bin_code) in enumerate(PURCHASED):
        stamp.tick(rnd, 0.5, 3)
        deliveries = 2 if lot_tracked else 1
        for delivery in range(deliveries):
            lot = f"L{2611 + delivery}{index:02d}" if lot_tracked else ""
            sizes = [5000, 8000, 10000] if uom == "pcs" else [200, 400, 500, 800, 1000]
            # Whole units, the bigger of a usual delivery and this delivery's share of
            # the need (lot-tracked items: the first lot alone must cover it, as the
            # history issues from the first lot with stock).
            share = needs.get(sku, 0) * 3 // 2
            amount = max(to_milli(rnd.choice(sizes)), (share + 999) // 1000 * 1000)
            # A lot's label carries its production and expiry dates; the first lot
            # expires first, so the pick order (db.lots) takes it first.
            made = datetime.fromtimestamp(stamp.ms / 1000, UTC).date() - timedelta(days=20)
            dates = {"produced": made, "expiry": made + timedelta(days=240 + 60 * delivery)}
            ledger.receive(conn, sku, amount, "RCV-DOCK", lot=lot, origin=receiver,
                           **(dates if lot else {}))  # fmt: skip
            ledger.transfer(conn, sku, amount, "RCV-DOCK", bin_code, lot=lot, origin=receiver)
    numbers = [f"WO-{24001 + n}" for n in range(count)]
    # Fates: done, in progress at various stages, on hold, cancelled, untouched.
    fates = ["done"] * 7 + ["progress"] * 20 + ["hold"] * 3 + ["cancel"] * 2
    fates += ["released"] * (count - len(fates))
    rnd.shuffle(fates)
    homes = {sku: (bin_code, lot) for sku, _, _, lot, _, bin_code in PURCHASED}
    for number, fate in zip(numbers, fates, strict=False):
        if fate == "released":
            continue
        order = ledger.work_order(conn, number)
        stages = [
            r["stage"]
            for r in conn.execute(
                "SELECT stage FROM work_order_stages WHERE work_order = ? ORDER BY seq", (number,)
            )
        ]
        if fate == "cancel":
            stamp.tick(rnd)
            supervision.cancel(conn, number, by="B3001", reason="customer withdrew the order")
            continue
        # Storeroom issues material; some orders are left short to show on the board.
        short = rnd.random() < 0.3
        store = Origin(operator="B1002", station="STORES")
        bom = conn.execute(
            "SELECT component, qty_per_milli FROM bill_of_materials WHERE product = ?",
            (order["product"],),
        ).fetchall()
        for line in bom:
            if short and rnd.random() < 0.4:
                continue
            stamp.tick(rnd, 0.2, 2)
            bin_code, lot_tracked = homes[line["component"]]
            need = line["qty_per_milli"] * order["qty_milli"] // 1000
            lot = ""
            if lot_tracked:
                first = lots.first_to_pick(conn, line["component"], bin_code)
                assert first is not None, f"no lot of {line['component']} in {bin_code}"
                lot = first.lot
            ledger.issue(conn, number, line["component"], max(need, 1), bin_code, lot=lot,
                         origin=store)  # fmt: skip
        reach = len(stages) if fate == "done" else rnd.randint(1, len(stages))
        for stage in stages[:reach]:
            station = f"{stage}-1"
            op = Origin(operator=rnd.choice(OPERATORS[2:7])[0], station=station)
            row = conn.execute(
                "SELECT seq FROM work_order_stages WHERE work_order = ? AND stage = ?",
                (number, stage),
            ).fetchone()
            available = progress.stage_available(conn, number, row["seq"])
            if available <= 0:
                break
            if rnd.random() < 0.15 and available > 2000:
                stamp.tick(rnd)
                why = replace(op, reason=SCRAP_REASON_AT[stage])
                progress.report_progress(conn, number, stage, 1000, kind="scrap", origin=why)
                available -= 1000
            last = stage == stages[reach - 1] and fate != "done"
            amount = available if not last else max(1000, available // 2 // 1000 * 1000)
            while amount > 0:
                part = min(amount, rnd.choice([5000, 10000, 20000]))
                stamp.tick(rnd)
                progress.report_progress(conn, number, stage, part, origin=op)
                amount -= part
        if fate == "hold":
            stamp.tick(rnd)
            supervision.set_hold(
                conn, number, True, by="B3002", reason="waiting for customer drawing"
            )
        if fate == "done" and rnd.random() < 0.6:
            stamp.tick(rnd)
            try:
                ledger.ship(
                    conn, order["product"], order["qty_milli"] // 2 // 1000 * 1000 or 1000,
                    origin=Origin(operator="B1001", station="SHIPPING"),
                )  # fmt: skip
            except LedgerError:
                pass


def create_demo_db(path: str | Path) -> sqlite3.Connection:
    """A fresh database file holding the demo plant."""
    from db.schema import init_db

    conn = init_db(path)
    build_demo(conn)
    return conn


def scan_script(conn: sqlite3.Connection, rnd: random.Random) -> Iterator[tuple[str, str]]:
    """An endless, plausible stream of (station, barcode) for the demo's simulated scanners.

    Reads the floor each round so the scans follow what is really waiting at each stage:
    operators report what reached them, stores issue what orders lack, receiving takes
    deliveries by GS1 label, and now and then someone scans a label the plant doesn't know.
    """
    while True:
        roll = rnd.random()
        if roll < 0.55:
            yield from _stage_round(conn, rnd)
        elif roll < 0.8:
            yield from _stores_round(conn, rnd)
        elif roll < 0.93:
            yield from _receiving_round(conn, rnd)
        else:
            station = rnd.choice(["STORES", "CUT-1", "ASSY-1"])
            yield station, rnd.choice(["SCR-M8X20", "WO-99999", "4006381333931"])


def _stage_round(conn: sqlite3.Connection, rnd: random.Random) -> Iterator[tuple[str, str]]:
    waiting = conn.execute(
        "SELECT s.work_order, s.stage, "
        " COALESCE((SELECT p.done_milli FROM work_order_stages p WHERE p.work_order = s.work_order"
        "   AND p.seq < s.seq ORDER BY p.seq DESC LIMIT 1), w.qty_milli)"
        " - s.done_milli - s.scrap_milli AS waiting "
        "FROM work_order_stages s JOIN work_orders w ON w.number = s.work_order "
        "WHERE w.status IN ('released', 'in_progress') ORDER BY s.work_order, s.seq"
    ).fetchall()
    candidates = [r for r in waiting if r["waiting"] >= 1000]
    if not candidates:
        return
    pick = rnd.choice(candidates)
    station = f"{pick['stage']}-1"
    yield station, rnd.choice(OPERATORS[2:7])[0]
    yield station, pick["work_order"]
    amount = min(int(pick["waiting"]) // 1000, rnd.choice([1, 2, 3, 5]))
    if rnd.random() < 0.08:
        yield station, "CMD:MODE:SCRAP"
        yield station, pick["work_order"]
        yield station, "QTY:1"
        yield station, f"REASON:{SCRAP_REASON_AT.get(pick['stage'], 'DENT')}"
        yield station, "CMD:DONE"
        yield station, "CMD:MODE:PROGRESS"
        return
    yield station, f"QTY:{amount}"
    yield station, "CMD:DONE"


def _stores_round(conn: sqlite3.Connection, rnd: random.Random) -> Iterator[tuple[str, str]]:
    short = conn.execute(
        "SELECT w.number, b.component, i.barcode, i.lot_tracked FROM work_orders w "
        "JOIN bill_of_materials b ON b.product = w.product JOIN items i ON i.sku = b.component "
        "WHERE w.status IN ('released', 'in_progress') AND i.uom = 'pcs' "
        "AND b.qty_per_milli * w.qty_milli / 1000 > COALESCE((SELECT SUM(m.issued_milli - "
        " m.returned_milli) FROM work_order_materials m WHERE m.work_order = w.number "
        " AND m.item = b.component), 0) LIMIT 50"
    ).fetchall()
    if not short:
        return
    pick = rnd.choice(short)
    # From the bin holding the most of it, as a storeman walks to the shelf: the stores
    # window's own location holds nothing.
    source = conn.execute(
        "SELECT location FROM stock WHERE item = ? AND qty_milli > 0 "
        "ORDER BY qty_milli DESC LIMIT 1",
        (pick["component"],),
    ).fetchone()
    if source is None:
        return
    yield "STORES", "B1002"
    yield "STORES", "CMD:MODE:ISSUE"
    yield "STORES", pick["number"]
    yield "STORES", source["location"]
    lot = None
    if pick["lot_tracked"]:
        lot = lots.first_to_pick(conn, pick["component"], source["location"])
        if lot is None:
            return
    for _ in range(rnd.randint(1, 3)):
        if pick["lot_tracked"]:
            # LOT: holds for the next action only, as on the floor.
            assert lot is not None
            yield "STORES", f"LOT:{lot.lot}"
        yield "STORES", pick["barcode"]


def _receiving_round(conn: sqlite3.Connection, rnd: random.Random) -> Iterator[tuple[str, str]]:
    rows = conn.execute(
        "SELECT sku, gtin, lot_tracked FROM items WHERE gtin IS NOT NULL"
    ).fetchall()
    pick = rnd.choice(rows)
    yield "RECEIVING", "B1001"
    yield "RECEIVING", "CMD:MODE:RECEIVE"
    gs1 = f"(01){pick['gtin']}"
    if pick["lot_tracked"]:
        number = rnd.randint(2700, 2799)
        # One lot, one expiry: the end of a month of 2027 that the lot number gives.
        gs1 += f"(17)27{number % 12 + 1:02d}00(10)L{number}"
    yield "RECEIVING", gs1 + f"(37){rnd.choice([10, 20, 50, 100])}"
