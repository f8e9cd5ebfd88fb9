"""The demo plant: a sheet-metal shop with six stages, sixty items and forty work orders.

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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from db import ledger, lots, progress, roles, supervision
from db.connection import clock, now_ms, write
from db.ledger import Origin
from db.masterdata import import_dir
from db.quantity import to_milli
from db.refusals import LedgerError

STAGES = [
    ("CUT", "Laser cutting", "WIP-CUT"),
    ("BEND", "Press brake", "WIP-BEND"),
    ("WELD", "Welding", "WIP-WELD"),
    ("PAINT", "Powder coating", "WIP-PAINT"),
    ("ASSY", "Assembly", "WIP-ASSY"),
    ("PACK", "Packing", "WIP-PACK"),
]

LOCATIONS = (
    [("RCV-DOCK", "Receiving dock", "receiving")]
    + [(f"A-{n:02d}", f"Stores aisle A bin {n}", "storeroom") for n in range(1, 7)]
    + [(f"B-{n:02d}", f"Stores aisle B bin {n}", "storeroom") for n in range(1, 5)]
    + [(loc, f"{name} WIP", "stage") for _, name, loc in STAGES]
    + [
        ("FG-01", "Finished goods", "finished"),
        ("SHIP-DOCK", "Shipping dock", "shipping"),
        ("SCRAP", "Scrap bin", "scrap"),
    ]
)

# sku, description, uom, lot tracked, has a GTIN, home bin
PURCHASED = [
    ("SH-ST-15", "Steel sheet 1.5mm 2000x1000", "sheet", False, False, "B-01"),
    ("SH-ST-20", "Steel sheet 2.0mm 2000x1000", "sheet", False, False, "B-01"),
    ("SH-ST-30", "Steel sheet 3.0mm 2000x1000", "sheet", False, False, "B-02"),
    ("SH-SS-15", "Stainless sheet 1.5mm 2000x1000", "sheet", True, False, "B-02"),
    ("SH-AL-20", "Aluminium sheet 2.0mm 2000x1000", "sheet", True, False, "B-02"),
    ("TB-SQ-30", "Square tube 30x30x2", "m", False, False, "B-03"),
    ("TB-SQ-40", "Square tube 40x40x2", "m", False, False, "B-03"),
    ("TB-RD-25", "Round tube 25x1.5", "m", False, False, "B-03"),
    ("FB-40X5", "Flat bar 40x5", "m", False, False, "B-03"),
    ("DIN-35", "DIN rail 35mm", "m", False, True, "A-04"),
    ("PWD-7035", "Powder coat RAL 7035 light grey", "kg", True, True, "B-04"),
    ("PWD-9005", "Powder coat RAL 9005 black", "kg", True, True, "B-04"),
    ("PWD-5010", "Powder coat RAL 5010 blue", "kg", True, True, "B-04"),
    ("SCR-M4X10", "Screw M4x10 pan head", "pcs", False, True, "A-01"),
    ("SCR-M5X12", "Screw M5x12 pan head", "pcs", False, True, "A-01"),
    ("SCR-M6X16", "Screw M6x16 hex", "pcs", False, True, "A-01"),
    ("NUT-M4", "Nut M4", "pcs", False, True, "A-01"),
    ("NUT-M5", "Nut M5", "pcs", False, True, "A-01"),
    ("NUT-M6", "Nut M6", "pcs", False, True, "A-01"),
    ("WSH-M6", "Washer M6", "pcs", False, True, "A-01"),
    ("RIV-48", "Blind rivet 4.8x10", "pcs", False, True, "A-02"),
    ("PEM-M5", "Press-in nut M5", "pcs", False, True, "A-02"),
    ("CN-M6", "Cage nut M6", "pcs", False, True, "A-02"),
    ("HNG-120", "Concealed hinge 120°", "pcs", False, True, "A-02"),
    ("LCK-QT", "Quarter-turn lock", "pcs", False, True, "A-03"),
    ("LCK-KEY", "Key lock with 2 keys", "pcs", False, True, "A-03"),
    ("HDL-200", "Pull handle 200mm", "pcs", False, True, "A-03"),
    ("GSK-PU", "PU foam gasket", "m", True, False, "A-03"),
    ("CG-M20", "Cable gland M20", "pcs", False, True, "A-04"),
    ("CG-M25", "Cable gland M25", "pcs", False, True, "A-04"),
    ("CST-100", "Castor 100mm swivel", "pcs", False, True, "A-05"),
    ("CST-100B", "Castor 100mm swivel braked", "pcs", False, True, "A-05"),
    ("SLD-450", "Drawer slide 450mm pair", "pcs", False, True, "A-05"),
    ("MP-300", "Mounting plate 300x300 galv.", "pcs", False, False, "A-05"),
    ("MP-600", "Mounting plate 600x400 galv.", "pcs", False, False, "A-05"),
    ("WW-08", "MIG welding wire 0.8mm", "kg", True, True, "A-06"),
    ("GAS-ARCO2", "Shielding gas Ar/CO2", "m3", False, False, "A-06"),
    ("LBL-CE", "Rating plate label", "pcs", False, False, "A-06"),
    ("BOX-S", "Carton small", "pcs", False, False, "A-06"),
    ("BOX-M", "Carton medium", "pcs", False, False, "A-06"),
    ("BOX-L", "Carton large", "pcs", False, False, "A-06"),
    ("PAL-EUR", "Euro pallet", "pcs", False, False, "B-04"),
    ("FOAM-PE", "PE foam wrap", "m", False, False, "A-06"),
    ("STRAP-PP", "PP strapping", "m", False, False, "A-06"),
    ("RR-24U", "Rack rail 24U pair", "pcs", False, True, "A-05"),
    ("ES-M6", "Earth stud M6", "pcs", False, True, "A-02"),
    ("EC-6", "Earth cable 6mm² green/yellow", "m", False, True, "A-04"),
    ("ADH-2K", "2K structural adhesive", "kg", True, True, "A-06"),
    ("TB-TERM", "Terminal block 4mm²", "pcs", True, True, "A-04"),
    ("FAN-120", "Filter fan 120mm", "pcs", False, True, "A-04"),
    ("FLT-120", "Filter mat 120mm", "pcs", False, True, "A-04"),
    ("THERM-1", "Thermostat NC 0-60°C", "pcs", False, True, "A-04"),
]

# stage: (hours per working day, units worked at once): two laser shifts, two press
# brakes, two welders, a powder line taking a rack of ten, three benches, two packers.
CAPACITY = {
    "CUT": (16, 1),
    "BEND": (8, 2),
    "WELD": (8, 2),
    "PAINT": (8, 10),
    "ASSY": (8, 3),
    "PACK": (8, 2),
}
# Standard times of a mid-sized product at each stage: (setup minutes, minutes per unit);
# a product's own are these times its size (SIZE). JBOX-150 has none: the forecast
# uses what its stages measurably did, else the plant-wide fallback.
STANDARD_MINUTES = {
    "CUT": (20, 4),
    "BEND": (15, 6),
    "WELD": (10, 25),
    "PAINT": (30, 8),
    "ASSY": (10, 30),
    "PACK": (5, 5),
}
SIZE = {
    "ENC-300": 0.5,
    "ENC-600": 1.0,
    "CAB-1200": 2.5,
    "CART-TL": 1.5,
    "BRKT-L": 0.2,
    "RACK-19": 2.0,
    "PANEL-DIN": 0.4,
}
# number, item, qty, days from today until due, supplier
PURCHASE_ORDERS = [
    ("PO-7101", "PWD-7035", 100, 2, "Coatings Nord"),
    ("PO-7101", "PWD-9005", 50, 2, "Coatings Nord"),
    ("PO-7102", "GSK-PU", 300, 4, "Sealtec"),
    ("PO-7103", "HNG-120", 500, 6, "Beschlag & Co"),
    ("PO-7103", "LCK-KEY", 200, 6, "Beschlag & Co"),
    ("PO-7104", "SH-ST-15", 120, 1, "Steel Service Center"),
    ("PO-7105", "FAN-120", 40, 9, "Klima Parts"),
]
CUSTOMERS = ["Nordwerk AG", "Voltaic Systems", "Hafen Logistics", "Brightline Data"]
# Every how-many-th demo work order is made for a customer's sales order.
SALES_ORDER_EVERY = 3

FULL_ROUTE = ["CUT", "BEND", "WELD", "PAINT", "ASSY", "PACK"]
# product, description, route, bill of materials: (component, qty per, stage)
PRODUCTS: list[tuple[str, str, list[str], list[tuple[str, str, str]]]] = [
    ("ENC-300", "Steel enclosure 300x300x150", FULL_ROUTE, [
        ("SH-ST-15", "0.25", "CUT"), ("WW-08", "0.05", "WELD"), ("PWD-7035", "0.4", "PAINT"),
        ("HNG-120", "2", "ASSY"), ("LCK-QT", "1", "ASSY"), ("GSK-PU", "1.2", "ASSY"),
        ("MP-300", "1", "ASSY"), ("ES-M6", "1", "ASSY"), ("BOX-M", "1", "PACK"),
        ("LBL-CE", "1", "PACK"),
    ]),
    ("ENC-600", "Steel enclosure 600x400x200", FULL_ROUTE, [
        ("SH-ST-15", "0.6", "CUT"), ("WW-08", "0.1", "WELD"), ("PWD-7035", "0.9", "PAINT"),
        ("HNG-120", "2", "ASSY"), ("LCK-KEY", "1", "ASSY"), ("GSK-PU", "2", "ASSY"),
        ("MP-600", "1", "ASSY"), ("ES-M6", "2", "ASSY"), ("CG-M25", "4", "ASSY"),
        ("BOX-L", "1", "PACK"), ("LBL-CE", "1", "PACK"),
    ]),
    ("CAB-1200", "Control cabinet 1200x800", FULL_ROUTE, [
        ("SH-ST-20", "2.5", "CUT"), ("TB-SQ-40", "4.8", "WELD"), ("WW-08", "0.4", "WELD"),
        ("PWD-7035", "3.2", "PAINT"), ("HNG-120", "3", "ASSY"), ("LCK-KEY", "2", "ASSY"),
        ("GSK-PU", "5.5", "ASSY"), ("FAN-120", "1", "ASSY"), ("FLT-120", "2", "ASSY"),
        ("THERM-1", "1", "ASSY"), ("DIN-35", "1.6", "ASSY"), ("TB-TERM", "24", "ASSY"),
        ("EC-6", "2.5", "ASSY"), ("PAL-EUR", "1", "PACK"), ("FOAM-PE", "6", "PACK"),
        ("STRAP-PP", "8", "PACK"),
    ]),
    ("CART-TL", "Tool cart, 3 drawers", FULL_ROUTE, [
        ("SH-ST-15", "1.2", "CUT"), ("TB-SQ-30", "3.2", "WELD"), ("WW-08", "0.2", "WELD"),
        ("PWD-5010", "1.5", "PAINT"), ("SLD-450", "3", "ASSY"), ("CST-100", "2", "ASSY"),
        ("CST-100B", "2", "ASSY"), ("HDL-200", "1", "ASSY"), ("SCR-M6X16", "16", "ASSY"),
        ("NUT-M6", "16", "ASSY"), ("BOX-L", "1", "PACK"),
    ]),
    ("BRKT-L", "Wall bracket L 200", ["CUT", "BEND", "PAINT", "PACK"], [
        ("SH-ST-30", "0.05", "CUT"), ("PWD-9005", "0.08", "PAINT"), ("BOX-S", "0.1", "PACK"),
    ]),
    ("RACK-19", "19-inch rack 24U", FULL_ROUTE, [
        ("SH-ST-20", "1.8", "CUT"), ("TB-SQ-40", "6", "WELD"), ("WW-08", "0.3", "WELD"),
        ("PWD-9005", "2.4", "PAINT"), ("RR-24U", "2", "ASSY"), ("CN-M6", "40", "ASSY"),
        ("SCR-M6X16", "40", "ASSY"), ("CST-100", "4", "ASSY"), ("LCK-KEY", "1", "ASSY"),
        ("PAL-EUR", "1", "PACK"), ("FOAM-PE", "4", "PACK"),
    ]),
    ("PANEL-DIN", "DIN rail mounting panel", ["CUT", "BEND", "ASSY", "PACK"], [
        ("SH-AL-20", "0.2", "CUT"), ("DIN-35", "0.5", "ASSY"), ("PEM-M5", "4", "ASSY"),
        ("SCR-M5X12", "4", "ASSY"), ("BOX-S", "1", "PACK"),
    ]),
    ("JBOX-150", "Stainless junction box 150", FULL_ROUTE, [
        ("SH-SS-15", "0.1", "CUT"), ("WW-08", "0.02", "WELD"), ("PWD-7035", "0.1", "PAINT"),
        ("GSK-PU", "0.6", "ASSY"), ("CG-M20", "2", "ASSY"), ("SCR-M4X10", "4", "ASSY"),
        ("NUT-M4", "4", "ASSY"), ("ADH-2K", "0.01", "ASSY"), ("BOX-S", "1", "PACK"),
    ]),
]  # fmt: skip

OPERATORS = [
    ("B1001", "Ana Ribeiro", "storeroom"),
    ("B1002", "Tom Walsh", "storeroom"),
    ("B2001", "Kemal Aydin", "operator"),
    ("B2002", "Grace Obi", "operator"),
    ("B2003", "Lukas Brandt", "operator"),
    ("B2004", "Mei Lin", "operator"),
    ("B2005", "Piotr Nowak", "operator"),
    ("B3001", "Sara Lindqvist", "supervisor"),
    ("B3002", "Omar Haddad", "supervisor"),
    ("B4001", "Julia Moreau", "coordinator"),
]

STATIONS = [
    ("STORES", "Stores window", "A-01", "", "ISSUE"),
    ("RECEIVING", "Receiving dock", "RCV-DOCK", "", "RECEIVE"),
    ("SHIPPING", "Shipping dock", "FG-01", "", "SHIP"),
] + [(f"{code}-1", f"{name} cell", loc, code, "PROGRESS") for code, name, loc in STAGES]

DEMO_WORK_ORDERS = 40
SEED = 20261122


def gtin_for(index: int) -> str:
    """A valid GTIN-13 in the 0950600 test prefix (GS1's example range)."""
    body = f"950600{index:06d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


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
                progress.report_progress(conn, number, stage, 1000, kind="scrap", origin=op)
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
