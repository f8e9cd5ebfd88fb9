"""Shortages against stock and supply (db.shortages), figures worked out by hand on the
small plant (tests/plant/supply.py says what it holds).

Bill: P1 needs C1 0.5 at CUT, C2 2 at ASSY, C3 0.001 at the first stage; P2 needs
C1 1.25 at ASSY, C3 3 at the first stage (ASSY). Netting order: WO2 (priority 1),
WO1 (2), WO3 (3).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from db import ledger
from db.ledger import Origin
from db.shortages import Pick, Shortage, pick_list, picking_order, short_orders, shortages
from tests.plant.supply import supply_plant


@pytest.fixture
def plant(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    conn = supply_plant(tmp_path / "supply.db")
    yield conn
    conn.close()


def line(lines: list[Shortage], order: str, item: str) -> Shortage:
    (found,) = [x for x in lines if x.work_order == order and x.item == item]
    return found


def figures(x: Shortage) -> tuple[int, ...]:
    return (
        x.required_milli, x.issued_milli, x.to_issue_milli,
        x.from_stock_milli, x.from_supply_milli, x.short_milli,
    )  # fmt: skip


def test_netting_takes_stock_then_purchase_orders_most_urgent_first(
    plant: sqlite3.Connection,
) -> None:
    lines = shortages(plant)
    assert [(x.work_order, x.item) for x in lines] == [
        ("WO2", "C1"), ("WO2", "C2"), ("WO2", "C3"),
        ("WO1", "C1"), ("WO1", "C2"), ("WO1", "C3"),
        ("WO3", "C1"), ("WO3", "C3"),
    ]  # fmt: skip
    # C1 — stock S1 1 (3 less 2 issued), RCV 2; PO-1 4 (2030-01-10), PO-2 10 (2030-03-01).
    # WO2: 0.5 x 2.5 = 1.25, all from stock: S1's 1, then 0.25 off the receiving dock.
    wo2 = line(lines, "WO2", "C1")
    assert figures(wo2) == (1_250, 0, 1_250, 1_250, 0, 0)
    assert wo2.picks == (Pick("S1", "", 1_000), Pick("RCV", "", 250))
    assert wo2.answer == "to_pick"
    # WO1: CUT did 2 of 10: 0.5 x 8 = 4 required, 1 held; 3 to issue: the dock's 1.75,
    # then 1.25 of PO-1, due before WO1 (2030-01-15).
    wo1 = line(lines, "WO1", "C1")
    assert figures(wo1) == (4_000, 1_000, 3_000, 1_750, 1_250, 0)
    assert [(s.number, s.qty_milli, s.in_time) for s in wo1.supply] == [("PO-1", 1_250, True)]
    assert wo1.answer == "on_order"
    # WO3: 1.25 x 4 = 5, no stock left: PO-1's other 2.75, then 2.25 of PO-2, which
    # arrives after WO3 is due (2030-02-01): late.
    wo3 = line(lines, "WO3", "C1")
    assert figures(wo3) == (5_000, 0, 5_000, 0, 5_000, 0)
    assert [(s.number, s.qty_milli, s.in_time) for s in wo3.supply] == [
        ("PO-1", 2_750, True),
        ("PO-2", 2_250, False),
    ]
    assert wo3.answer == "supply_late"
    # C2 — lots: L-OLD 3 in S2 (first to arrive), L-NEW 4 in S1; no purchase order.
    # WO2: 2 x 2.5 = 5: the old lot first though its bin sorts after S1, then 2 new.
    c2 = line(lines, "WO2", "C2")
    assert figures(c2) == (5_000, 0, 5_000, 5_000, 0, 0)
    assert c2.picks == (Pick("S2", "L-OLD", 3_000), Pick("S1", "L-NEW", 2_000))
    # WO1: 2 x 10 = 20: the new lot's last 2, and 18 nothing covers.
    short = line(lines, "WO1", "C2")
    assert figures(short) == (20_000, 0, 20_000, 2_000, 0, 18_000)
    assert short.answer == "short" and short.supply == ()
    # C3 — 0.011 in S1: WO2 0.001 x 2.5 = 0.0025 → 0.003; WO1 0.001 x 10 less CUT's 2
    # (its first stage) → 0.008; WO3 3 x 4 = 12, none left.
    assert figures(line(lines, "WO2", "C3")) == (3, 0, 3, 3, 0, 0)
    assert figures(line(lines, "WO1", "C3")) == (8, 0, 8, 8, 0, 0)
    assert figures(line(lines, "WO3", "C3")) == (12_000, 0, 12_000, 0, 0, 12_000)
    assert short_orders(plant) == {"WO1", "WO3"}


def test_one_order_is_netted_among_all(plant: sqlite3.Connection) -> None:
    everything = shortages(plant)
    assert shortages(plant, order="WO3") == [x for x in everything if x.work_order == "WO3"]
    assert shortages(plant, order="WO-NOPE") == []


def test_a_projected_stage_start_decides_whether_supply_is_in_time(
    plant: sqlite3.Connection,
) -> None:
    # Without a forecast the order's due date stands in; with one, the stage's start.
    later = shortages(plant, order="WO3", stage_starts={("WO3", "ASSY"): "2030-03-02T08:00"})
    assert line(later, "WO3", "C1").answer == "on_order"
    assert line(later, "WO3", "C1").needed_by == "2030-03-02"
    sooner = shortages(plant, order="WO1", stage_starts={("WO1", "CUT"): "2030-01-09"})
    assert line(sooner, "WO1", "C1").answer == "supply_late"


def test_receipts_against_a_purchase_order_leave_only_what_is_still_to_come(
    plant: sqlite3.Connection,
) -> None:
    plant.execute("UPDATE purchase_orders SET received_milli = 4000 WHERE number = 'PO-1'")
    wo3 = line(shortages(plant), "WO3", "C1")
    # PO-1 all received (yet not in stock here): PO-2 brings WO1's 1.25 and WO3's 5.
    assert [(s.number, s.qty_milli) for s in wo3.supply] == [("PO-2", 5_000)]


def test_pick_list_oldest_lot_first(plant: sqlite3.Connection) -> None:
    assert picking_order(plant, ["C2"]) == {
        "C2": [Pick("S2", "L-OLD", 3_000), Pick("S1", "L-NEW", 4_000)]
    }
    picks = pick_list(plant, "WO2")
    assert [(x.item, x.picks) for x in picks] == [
        ("C1", (Pick("S1", "", 1_000), Pick("RCV", "", 250))),
        ("C2", (Pick("S2", "L-OLD", 3_000), Pick("S1", "L-NEW", 2_000))),
        ("C3", (Pick("S1", "", 3),)),
    ]
    # Issuing what the list says leaves WO2 nothing to issue.
    for x in picks:
        for p in x.picks:
            ledger.issue(plant, "WO2", x.item, p.qty_milli, p.location, lot=p.lot,
                         origin=Origin(operator="B-STORE"))  # fmt: skip
    assert pick_list(plant, "WO2") == []
    assert {x.answer for x in shortages(plant, order="WO2")} == {"issued"}


def test_a_finished_or_cancelled_order_needs_nothing(plant: sqlite3.Connection) -> None:
    from db import supervision

    supervision.cancel(plant, "WO2", by="B-SUP", reason="customer withdrew")
    lines = shortages(plant)
    assert "WO2" not in {x.work_order for x in lines}
    # WO2's stock goes to WO1 now: S1's 1 and the dock's 2 cover all its C1 (3).
    assert figures(line(lines, "WO1", "C1")) == (4_000, 1_000, 3_000, 3_000, 0, 0)


def test_what_an_order_holds_is_kept_with_every_posting_and_check_proves_it(
    plant: sqlite3.Connection,
) -> None:
    """The netting reads each order's held total (work_order_held) where it summed lots and
    locations: an issue and a return move it in the same statement (as consumption does), and
    `shopfloor check` finds a total that disagrees with the rows it stands for."""
    from db.check import check

    def held() -> int:
        row = plant.execute(
            "SELECT held_milli FROM work_order_held WHERE work_order = 'WO1' AND item = 'C1'"
        ).fetchone()
        return int(row[0]) if row else 0

    assert held() == line(shortages(plant), "WO1", "C1").issued_milli == 1_000
    clerk = Origin(operator="B-STORE")
    ledger.issue(plant, "WO1", "C1", 500, "S1", origin=clerk)
    assert held() == 1_500
    ledger.return_material(plant, "WO1", "C1", 250, "S1", origin=clerk)
    assert held() == 1_250 == line(shortages(plant), "WO1", "C1").issued_milli
    assert check(plant).differences == []
    plant.execute(
        "UPDATE work_order_held SET held_milli = 9000 WHERE work_order = 'WO1' AND item = 'C1'"
    )
    assert any("held for WO1" in d and "says 9" in d for d in check(plant).differences)
