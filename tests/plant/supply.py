"""The test plant with stock in the stores and supply on order, for the shortage tests.

What it holds, restated so expectations never come from the code under test
(the plant itself: tests/plant/__init__.py; netting order by priority: WO2 (P1,
2.5 units), WO1 (P1, 10), WO3 (P2, 4)):

- C1 (sheet, no lots): 3 received into S1 and 2 into RCV; 2 issued from S1 to WO1,
  whose CUT then completed 2 (backflush: 0.5 x 2 = 1 consumed, 1 still held).
  Purchase orders: PO-1 brings 4 (due 2030-01-10), PO-2 brings 10 (due 2030-03-01).
- C2 (gasket, lots): lot L-OLD, 3 received at RCV and moved to S2, then lot L-NEW,
  4 received into S1. No purchase order.
- C3 (powder, no lots): 0.011 received into S1. No purchase order.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from db import ledger, progress
from db.connection import clock
from db.ledger import Origin
from db.masterdata import import_file
from tests.plant import Ticker, plant_db

PURCHASE_ORDERS = """number,item,qty,due,supplier
PO-2,C1,10,2030-03-01,Steel Service
PO-1,C1,4,2030-01-10,Steel Service
"""


def supply_plant(path: Path) -> sqlite3.Connection:
    """A new database file at `path` holding the plant and the history above."""
    conn = plant_db(path)
    orders = path.with_name("purchase_orders.csv")
    orders.write_text(PURCHASE_ORDERS, encoding="utf-8")
    import_file(conn, "purchase_orders", orders)
    store = Origin(operator="B-STORE", station="RECV")
    with clock(Ticker()):
        ledger.receive(conn, "C1", 3_000, "S1", origin=store)
        ledger.receive(conn, "C1", 2_000, "RCV", origin=store)
        ledger.receive(conn, "C2", 3_000, "RCV", lot="L-OLD", origin=store)
        ledger.transfer(conn, "C2", 3_000, "RCV", "S2", lot="L-OLD", origin=store)
        ledger.receive(conn, "C2", 4_000, "S1", lot="L-NEW", origin=store)
        ledger.receive(conn, "C3", 11, "S1", origin=store)
        ledger.issue(conn, "WO1", "C1", 2_000, "S1", origin=store)
        progress.report_progress(
            conn, "WO1", "CUT", 2_000, origin=Origin(operator="B-OP", station="CUT-1")
        )
    return conn
