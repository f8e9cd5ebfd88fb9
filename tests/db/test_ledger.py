"""The movement ledger and stage progress (SPEC §3): exact, append-only, always balanced.

The property test drives random sequences of postings and reversals against the
ledger and, side by side, against a small model written from the spec (stock is the
sum of what was posted, backflush takes issued lots first-in first-out, a reversal
swaps source and destination). After every step the database must agree with the
model, entry by entry and total by total, and `db.check` must pass.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from db import balances, ledger, lookups
from db.check import check
from db.connection import clock, connect, write
from db.inbox import dismiss_scan
from db.ledger import Origin
from db.pipeline import ScanInput, process_batch
from db.progress import report_progress, reverse_progress, stage_available
from db.quantity import MAX_MILLI, MAX_TOTAL_MILLI, QuantityError, json_number, to_milli
from db.refusals import LedgerError
from db.reports import status as status_report
from db.reports import stock as stock_report
from db.roles import PermissionDenied, allow_negative_stock, negative_stock_kinds, setting
from db.supervision import cancel, change_due_date, set_hold
from tests.plant import (
    BOM,
    EPOCH_MS,
    FINISHED,
    LOT_TRACKED,
    ORDERS,
    ROUTES,
    SCRAP,
    STAGE_LOCATION,
    Ticker,
    plant_db,
)

pytestmark = pytest.mark.timeout(120)

APPEND_ONLY = (
    "movements",
    "progress_entries",
    "scan_journal",
    "scan_outcomes",
    # the audit tables: who changed what beyond the ledger
    "due_date_changes",
    "status_changes",
    "inbox_resolutions",
    "setting_changes",
)


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """The test plant in a fresh database file."""
    connection = plant_db(tmp_path / "floor.db")
    yield connection
    connection.close()


def _stock(conn: sqlite3.Connection, item: str, location: str, lot: str = "") -> int:
    return balances.on_hand(conn, item, location, lot)


def _movements(conn: sqlite3.Connection, **where: Any) -> list[dict[str, Any]]:
    clause = " AND ".join(f"{k} = ?" for k in where) or "1"
    rows = conn.execute(
        f"SELECT * FROM movements WHERE {clause} ORDER BY id", tuple(where.values())
    ).fetchall()
    return [dict(r) for r in rows]


# ---------------------------------------------------------------- the model


class Refused(Exception):
    """The model says the ledger must refuse this posting."""


@dataclass(frozen=True)
class Mv:
    kind: str
    item: str
    lot: str
    qty: int
    frm: str | None
    to: str | None
    wo: str | None
    stage: str | None
    reverses: int | None
    entry: int | None


@dataclass(frozen=True)
class Pe:
    wo: str
    seq: int
    stage: str
    kind: str
    qty: int
    reverses: int | None


@dataclass
class Model:
    """What the record must hold after a sequence of postings, from the spec's rules."""

    # the location kinds where stock may go below zero (a supervisor's setting)
    negative_kinds: frozenset[str]
    stock: dict[tuple[str, str, str], int] = field(default_factory=dict)
    # (work order, item, lot, WIP location) -> [issued, returned, consumed], in first-issue order
    held: dict[tuple[str, str, str, str], list[int]] = field(default_factory=dict)
    movements: list[Mv] = field(default_factory=list)
    entries: list[Pe] = field(default_factory=list)
    progress: dict[str, list[list[int]]] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)
    held_from: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for number, (product, _, _) in ORDERS.items():
            self.progress.setdefault(number, [[0, 0] for _ in ROUTES[product]])
            self.status.setdefault(number, "released")

    def clone(self) -> Model:
        """A copy to try an operation on (entries are immutable; totals are copied)."""
        return Model(
            negative_kinds=self.negative_kinds,
            stock=dict(self.stock),
            held={key: list(totals) for key, totals in self.held.items()},
            movements=list(self.movements),
            entries=list(self.entries),
            progress={wo: [list(s) for s in stages] for wo, stages in self.progress.items()},
            status=dict(self.status),
            held_from=dict(self.held_from),
        )

    # -- the one posting rule
    def post(
        self,
        kind: str,
        item: str,
        qty: int,
        frm: str | None,
        to: str | None,
        lot: str = "",
        wo: str | None = None,
        stage: str | None = None,
        reverses: int | None = None,
        entry: int | None = None,
    ) -> int:
        if qty <= 0:
            raise Refused("quantity")
        if frm is not None and self.on_hand_limit(item, frm, lot) < qty:
            raise Refused("not enough stock")
        self.movements.append(Mv(kind, item, lot, qty, frm, to, wo, stage, reverses, entry))
        if to is not None:
            self.stock[(item, to, lot)] = self.stock.get((item, to, lot), 0) + qty
        if frm is not None:
            self.stock[(item, frm, lot)] = self.stock.get((item, frm, lot), 0) - qty
        if wo is not None and kind in ("issue", "return", "consume"):
            # an issue lands in WIP, a return or consumption leaves it; a reversal swaps.
            into_wip = (kind == "issue") != (reverses is not None)
            wip = to if into_wip else frm
            assert wip is not None
            column = ("issue", "return", "consume").index(kind)
            totals = self.held.setdefault((wo, item, lot, wip), [0, 0, 0])
            totals[column] += -qty if reverses is not None else qty
        if wo is not None:
            self.touch(wo)
        return len(self.movements)

    def on_hand_limit(self, item: str, location: str, lot: str) -> int:
        """What may leave a bin: no limit (in a test's range) where negative is allowed."""
        have = self.stock.get((item, location, lot), 0)
        return have + 10**15 if KIND[location] in self.negative_kinds else have

    def touch(self, wo: str) -> None:
        if self.status[wo] == "released":
            self.status[wo] = "in_progress"

    def need_lot(self, item: str, lot: str) -> None:
        if item in LOT_TRACKED and not lot:
            raise Refused("lot")

    def need_active(self, wo: str) -> None:
        if self.status[wo] in ("on_hold", "cancelled", "done"):
            raise Refused(self.status[wo])

    def held_now(self, key: tuple[str, str, str, str]) -> int:
        issued, returned, consumed = self.held[key]
        return issued - returned - consumed

    # -- movements
    def receive(self, item: str, qty: int, to: str, lot: str) -> int:
        self.need_lot(item, lot)
        return self.post("receive", item, qty, None, to, lot)

    def transfer(self, item: str, qty: int, frm: str, to: str, lot: str) -> int:
        self.need_lot(item, lot)
        if frm == to:
            raise Refused("same bin")
        return self.post("transfer", item, qty, frm, to, lot)

    def issue(self, wo: str, item: str, qty: int, frm: str, lot: str) -> int:
        self.need_active(wo)
        self.need_lot(item, lot)
        product = ORDERS[wo][0]
        stage = next((s for c, _, s in BOM[product] if c == item and s), ROUTES[product][0][1])
        return self.post("issue", item, qty, frm, STAGE_LOCATION[stage], lot, wo, stage)

    def return_material(self, wo: str, item: str, qty: int, to: str, lot: str) -> int:
        self.need_lot(item, lot)
        keys = [k for k in self.held if k[:3] == (wo, item, lot)]
        if not keys:
            raise Refused("nothing held")
        key = max(keys, key=self.held_now)
        if self.held_now(key) < qty:
            raise Refused("holds less")
        return self.post("return", item, qty, key[3], to, lot, wo)

    def scrap(self, item: str, qty: int, frm: str, lot: str, wo: str | None) -> int:
        self.need_lot(item, lot)
        return self.post("scrap", item, qty, frm, SCRAP, lot, wo)

    def adjust(self, item: str, location: str, counted: int, lot: str) -> int | None:
        self.need_lot(item, lot)
        difference = counted - self.stock.get((item, location, lot), 0)
        if difference == 0:
            return None
        if difference > 0:
            return self.post("adjust", item, difference, None, location, lot)
        return self.post("adjust", item, -difference, location, None, lot)

    def ship(self, item: str, qty: int, lot: str) -> int:
        self.need_lot(item, lot)
        return self.post("ship", item, qty, FINISHED, None, lot)

    def reverse_movement(self, movement: int) -> int:
        original = self.movements[movement - 1]
        if original.reverses is not None or original.entry is not None:
            raise Refused("a reversal or part of a completion")
        if any(m.reverses == movement for m in self.movements):
            raise Refused("already reversed")
        return self._reverse(movement)

    def _reverse(self, movement: int) -> int:
        m = self.movements[movement - 1]
        return self.post(m.kind, m.item, m.qty, m.to, m.frm, m.lot, m.wo, m.stage, movement)

    # -- stage progress
    def report_progress(self, wo: str, stage: str | None, qty: int | None, kind: str) -> int:
        self.need_active(wo)
        product, ordered, _ = ORDERS[wo]
        route = ROUTES[product]
        index = 0 if stage is None else [s for _, s in route].index(stage)
        seq, code = route[index]
        arrived = ordered if index == 0 else self.progress[wo][index - 1][0]
        available = arrived - sum(self.progress[wo][index])
        qty = available if qty is None else qty
        if available <= 0 or qty <= 0 or qty > available:
            raise Refused("more than reached the stage")
        self.entries.append(Pe(wo, seq, code, kind, qty, None))
        entry = len(self.entries)
        self.progress[wo][index][0 if kind == "done" else 1] += qty
        self.touch(wo)
        if kind == "done":
            for component, per, used_at in sorted(BOM[product]):
                if used_at != code and not (used_at is None and index == 0):
                    continue
                needed = (per * qty + 500) // 1000
                for key in [k for k in self.held if k[:2] == (wo, component)]:
                    have = self.held_now(key)
                    if have <= 0:
                        continue
                    if needed <= 0:
                        break
                    take = min(needed, have, self.on_hand_limit(component, key[3], key[2]))
                    if take <= 0:
                        continue
                    self.post("consume", component, take, key[3], None, key[2], wo, code, None,
                              entry)  # fmt: skip
                    needed -= take
            if index == len(route) - 1:
                lot = wo if product in LOT_TRACKED else ""
                self.post("produce", product, qty, None, FINISHED, lot, wo, code, None, entry)
        self.update_done(wo)
        return entry

    def reverse_progress(self, entry: int) -> int:
        original = self.entries[entry - 1]
        if original.reverses is not None or any(e.reverses == entry for e in self.entries):
            raise Refused("a reversal, or already undone")
        route = ROUTES[ORDERS[original.wo][0]]
        index = [s for s, _ in route].index(original.seq)
        stages = self.progress[original.wo]
        if original.kind == "done" and index + 1 < len(route):
            if stages[index][0] - original.qty < sum(stages[index + 1]):
                raise Refused("the next stage used these units")
        self.entries.append(replace_reverses(original, entry))
        stages[index][0 if original.kind == "done" else 1] -= original.qty
        for number, m in list(enumerate(self.movements, start=1)):
            if m.entry == entry and m.reverses is None:
                self._reverse(number)
        self.touch(original.wo)
        self.update_done(original.wo)
        return len(self.entries)

    def update_done(self, wo: str) -> None:
        stages = self.progress[wo]
        finished = stages[-1][0] >= ORDERS[wo][1] - sum(s[1] for s in stages)
        if finished and self.status[wo] == "in_progress":
            self.status[wo] = "done"
        elif not finished and self.status[wo] == "done":
            self.status[wo] = "in_progress"

    # -- supervision
    def hold(self, wo: str, hold: bool) -> None:
        if hold:
            if self.status[wo] in ("done", "cancelled", "on_hold"):
                raise Refused("cannot hold")
            self.held_from[wo] = self.status[wo]
            self.status[wo] = "on_hold"
        else:
            if self.status[wo] != "on_hold":
                raise Refused("not on hold")
            self.status[wo] = self.held_from[wo]

    def cancel(self, wo: str) -> None:
        if self.status[wo] in ("done", "cancelled"):
            raise Refused("finished")
        self.status[wo] = "cancelled"


def replace_reverses(entry: Pe, reverses: int) -> Pe:
    return Pe(entry.wo, entry.seq, entry.stage, entry.kind, entry.qty, reverses)


# ---------------------------------------------------------------- operations

ITEMS = ("C1", "C2", "C3", "X1", "P1", "P2")
COMPONENTS = ("C1", "C2", "C3", "X1")
BINS = ("RCV", "S1", "S2", "W-CUT", "FG")
# The kind of each location of the plant (tests/plant/locations.csv).
KIND = {
    "RCV": "receiving", "S1": "storeroom", "S2": "storeroom", "W-CUT": "stage",
    "W-ASSY": "stage", "FG": "finished", "SHIP": "shipping", "SCRAP": "scrap",
}  # fmt: skip
KINDS = ("receiving", "storeroom", "stage", "finished", "shipping", "scrap")
LOTS = ("", "L1", "L2")
WOS = tuple(ORDERS)
SUPERVISOR = "B-SUP"

quantities = st.one_of(
    st.sampled_from(["0.5", "0.001", "1234.567", "1", "2.5", "0.1", "7"]).map(to_milli),
    st.integers(min_value=1, max_value=20_000),
)
Op = tuple[Any, ...]
receives = st.tuples(
    st.just("receive"),
    st.sampled_from(ITEMS),
    quantities,
    st.sampled_from(BINS),
    st.sampled_from(LOTS),
)
transfers = st.tuples(
    st.just("transfer"),
    st.sampled_from(ITEMS),
    quantities,
    st.sampled_from(BINS),
    st.sampled_from(BINS),
    st.sampled_from(LOTS),
)
issues = st.tuples(
    st.just("issue"),
    st.sampled_from(WOS),
    st.sampled_from(COMPONENTS),
    quantities,
    st.sampled_from(("S1", "S2", "RCV")),
    st.sampled_from(LOTS),
)
returns = st.tuples(
    st.just("return"),
    st.sampled_from(WOS),
    st.sampled_from(COMPONENTS),
    st.one_of(quantities, st.sampled_from([1, 500, 1000])),
    st.sampled_from(("S1", "S2")),
    st.sampled_from(LOTS),
)
scraps = st.tuples(
    st.just("scrap"),
    st.sampled_from(ITEMS),
    quantities,
    st.sampled_from(BINS),
    st.sampled_from(LOTS),
    st.sampled_from((None, *WOS)),
)
adjusts = st.tuples(
    st.just("adjust"),
    st.sampled_from(ITEMS),
    st.sampled_from(BINS),
    st.integers(min_value=0, max_value=20_000),
    st.sampled_from(LOTS),
)
ships = st.tuples(
    st.just("ship"), st.sampled_from(("P1", "P2")), quantities, st.sampled_from(("", "", "WO3"))
)
progress = st.tuples(
    st.just("progress"),
    st.sampled_from(WOS),
    st.sampled_from((None, "CUT", "ASSY", "ASSY")),
    st.one_of(st.none(), quantities, st.sampled_from([1000, 2000, 2500, 500])),
    st.sampled_from(("done", "done", "done", "scrap")),
)
reversals = st.tuples(
    st.sampled_from(("reverse_movement", "reverse_progress")),
    st.integers(min_value=0, max_value=10_000),
)
supervision = st.one_of(
    st.tuples(st.just("hold"), st.sampled_from(WOS), st.booleans()),
    st.tuples(st.just("cancel"), st.sampled_from(WOS)),
)
# Weighted: cancelling is rare on a floor (and ends an order's part of the test).
_WEIGHTED: dict[str, tuple[int, st.SearchStrategy[Op]]] = {
    "receive": (4, receives),
    "issue": (4, issues),
    "progress": (5, progress),
    "transfer": (2, transfers),
    "return": (2, returns),
    "reversal": (3, reversals),
    "scrap": (1, scraps),
    "adjust": (1, adjusts),
    "ship": (2, ships),
    "supervision": (1, supervision),
}
operations: st.SearchStrategy[Op] = st.sampled_from(
    [name for name, (weight, _) in _WEIGHTED.items() for _ in range(weight)]
).flatmap(lambda name: _WEIGHTED[name][1])


def _apply_model(model: Model, op: Op) -> Any:
    name, args = op[0], op[1:]
    if name == "receive":
        return model.receive(*args)
    if name == "transfer":
        return model.transfer(*args)
    if name == "issue":
        return model.issue(*args)
    if name == "return":
        return model.return_material(*args)
    if name == "scrap":
        return model.scrap(*args)
    if name == "adjust":
        return model.adjust(*args)
    if name == "ship":
        return model.ship(*args)
    if name == "progress":
        wo, stage, qty, kind = args
        if stage is not None and stage not in [s for _, s in ROUTES[ORDERS[wo][0]]]:
            raise Refused("not on the route")
        return model.report_progress(wo, stage, qty, kind)
    if name == "reverse_movement":
        return model.reverse_movement(args[0])
    if name == "reverse_progress":
        return model.reverse_progress(args[0])
    if name == "hold":
        return model.hold(*args)
    if name == "cancel":
        return model.cancel(args[0])
    raise AssertionError(name)


def _apply_ledger(conn: sqlite3.Connection, op: Op) -> Any:
    name, args = op[0], op[1:]
    who = Origin(operator="B-STORE", station="STORES")
    if name == "receive":
        item, qty, to, lot = args
        return ledger.receive(conn, item, qty, to, lot=lot, origin=who)
    if name == "transfer":
        item, qty, frm, to, lot = args
        return ledger.transfer(conn, item, qty, frm, to, lot=lot, origin=who)
    if name == "issue":
        wo, item, qty, frm, lot = args
        return ledger.issue(conn, wo, item, qty, frm, lot=lot, origin=who)
    if name == "return":
        wo, item, qty, to, lot = args
        return ledger.return_material(conn, wo, item, qty, to, lot=lot, origin=who)
    if name == "scrap":
        item, qty, frm, lot, wo = args
        return ledger.scrap_material(conn, item, qty, frm, lot=lot, work_order_number=wo)
    if name == "adjust":
        item, location, counted, lot = args
        return ledger.adjust(conn, item, location, counted, lot=lot, origin=who)
    if name == "ship":
        item, qty, lot = args
        return ledger.ship(conn, item, qty, lot=lot, origin=who)
    if name == "progress":
        wo, stage, qty, kind = args
        return report_progress(conn, wo, stage, qty, kind=kind,
                                      origin=Origin(operator="B-OP", station="CUT-1"))  # fmt: skip
    if name == "reverse_movement":
        return ledger.reverse_movement(conn, args[0])
    if name == "reverse_progress":
        return reverse_progress(conn, args[0])
    if name == "hold":
        wo, hold = args
        return set_hold(conn, wo, hold, by=SUPERVISOR, reason="property test")
    if name == "cancel":
        return cancel(conn, args[0], by=SUPERVISOR, reason="property test")
    raise AssertionError(name)


def _pick(op: Op, count: int) -> Op:
    """Reversal ops carry a random number; make it one of the entries that exist (1-based)."""
    if op[0] in ("reverse_movement", "reverse_progress"):
        return (op[0], op[1] % count + 1)
    return op


def _assert_agrees(conn: sqlite3.Connection, model: Model) -> None:
    movements = [
        Mv(*r)
        for r in conn.execute(
            "SELECT kind, item, lot, qty_milli, from_location, to_location, work_order, stage, "
            "reverses, progress_entry FROM movements ORDER BY id"
        )
    ]
    assert movements == model.movements
    entries = [
        Pe(*r)
        for r in conn.execute(
            "SELECT work_order, seq, stage, kind, qty_milli, reverses FROM progress_entries "
            "ORDER BY id"
        )
    ]
    assert entries == model.entries
    expected_stock = [
        {"item": item, "location": loc, "lot": lot or None, "qty": json_number(qty)}
        for (item, loc, lot), qty in sorted(model.stock.items())
        if qty != 0
    ]
    assert stock_report(conn) == expected_stock
    held = {
        (r[0], r[1], r[2], r[3]): [r[4], r[5], r[6]]
        for r in conn.execute(
            "SELECT work_order, item, lot, location, issued_milli, returned_milli, "
            "consumed_milli FROM work_order_materials"
        )
    }
    assert held == model.held
    for order in status_report(conn):
        number = order["number"]
        assert order["status"] == model.status[number], number
        assert [(s["done"], s["scrap"]) for s in order["stages"]] == [
            (json_number(d), json_number(s)) for d, s in model.progress[number]
        ]
    report = check(conn)
    assert report.ok, report.differences


def _memory_copy(template: Path) -> sqlite3.Connection:
    """A private in-memory copy of the plant: the same schema, triggers and data."""
    source = sqlite3.connect(template)
    target = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    source.backup(target)
    source.close()
    target.row_factory = sqlite3.Row
    target.execute("PRAGMA foreign_keys = ON")
    return target


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.db"
    plant_db(path).close()
    return path


# A passing run takes ~10 s; a failing one shrinks its example for a few minutes more.
@pytest.mark.timeout(600)
@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    ops=st.lists(operations, min_size=10, max_size=90),
    negative_kinds=st.one_of(st.just(frozenset()), st.frozensets(st.sampled_from(KINDS))),
)
def test_random_postings_and_reversals_agree_with_the_model(
    template: Path, ops: list[Op], negative_kinds: frozenset[str]
) -> None:
    conn = _memory_copy(template)
    if negative_kinds:
        allow_negative_stock(conn, negative_kinds, by=SUPERVISOR, reason="property test")
    model = Model(negative_kinds=negative_kinds)
    event(f"length {len(ops) // 10 * 10}")
    for raw in ops:
        count = len(model.entries if raw[0] == "reverse_progress" else model.movements)
        if raw[0].startswith("reverse") and count == 0:
            continue
        op = _pick(raw, count)
        trial = model.clone()
        try:
            expected = _apply_model(trial, op)
        except Refused:
            event(f"{op[0]} refused")
            with pytest.raises(LedgerError):
                _apply_ledger(conn, op)
            assert not conn.in_transaction
        else:
            event(f"{op[0]} posted")
            got = _apply_ledger(conn, op)
            if op[0] not in ("hold", "cancel"):
                assert got == expected, op
            model = trial
        _assert_agrees(conn, model)
    conn.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    issued=st.lists(
        st.tuples(st.sampled_from(("L1", "L2", "L3")), st.integers(min_value=1, max_value=6_000)),
        min_size=1,
        max_size=6,
    ),
    completions=st.lists(st.integers(min_value=1, max_value=4_000), min_size=1, max_size=4),
)
def test_backflush_consumes_lots_in_the_order_they_were_issued(
    template: Path, issued: list[tuple[str, int]], completions: list[int]
) -> None:
    conn = _memory_copy(template)
    model = Model(negative_kinds=frozenset(KINDS))
    allow_negative_stock(conn, KINDS, by=SUPERVISOR, reason="issue from empty bins")
    for lot, qty in issued:
        for target in (conn, model):
            if isinstance(target, Model):
                target.issue("WO1", "C2", qty, "S1", lot)
            else:
                ledger.issue(target, "WO1", "C2", qty, "S1", lot=lot)
    model.report_progress("WO1", "CUT", None, "done")
    report_progress(conn, "WO1", "CUT", None)
    for qty in completions:
        if qty > stage_available(conn, "WO1", 20):
            break
        model.report_progress("WO1", "ASSY", qty, "done")
        report_progress(conn, "WO1", "ASSY", qty)
    _assert_agrees(conn, model)
    conn.close()


# ---------------------------------------------------------------- exact quantities


def test_ten_thousand_tenths_are_exactly_one_thousand(conn: sqlite3.Connection) -> None:
    tenth = to_milli("0.1")
    with write(conn):
        for _ in range(10_000):
            ledger.receive(conn, "C3", tenth, "S1")
    assert _stock(conn, "C3", "S1") == 1_000_000
    assert stock_report(conn, item="C3") == [
        {"item": "C3", "location": "S1", "lot": None, "qty": 1000}
    ]
    assert check(conn).ok


def test_mixed_decimals_sum_exactly(conn: sqlite3.Connection) -> None:
    amounts = ["0.5", "0.001", "1234.567", "0.1", "0.2", "0.3"] * 100
    with write(conn):
        for amount in amounts:
            ledger.receive(conn, "C1", to_milli(amount), "S2")
        for _ in range(300):
            ledger.transfer(conn, "C1", to_milli("0.1"), "S2", "S1")
    total = sum(Decimal(a) for a in amounts)
    assert total == Decimal("123566.800")
    assert stock_report(conn, item="C1") == [
        {"item": "C1", "location": "S1", "lot": None, "qty": 30},
        {"item": "C1", "location": "S2", "lot": None, "qty": 123536.8},
    ]
    assert check(conn).ok


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(
        st.decimals(min_value=Decimal("0.001"), max_value=Decimal("99999.999"), places=3),
        min_size=1,
        max_size=60,
    )
)
def test_any_three_decimal_quantities_sum_exactly(template: Path, amounts: list[Decimal]) -> None:
    conn = _memory_copy(template)
    for amount in amounts:
        ledger.receive(conn, "C3", to_milli(amount), "S1")
    expected = sum(amounts, Decimal(0))
    [row] = stock_report(conn, item="C3")
    assert Decimal(str(row["qty"])) == expected
    assert _stock(conn, "C3", "S1") == int(expected * 1000)
    conn.close()


def test_finer_than_a_thousandth_is_refused_not_rounded() -> None:
    for value in ("0.0001", "1.2345", "nan", "inf", "ten", ""):
        with pytest.raises(QuantityError):
            to_milli(value)
    assert to_milli("1234.567") == 1_234_567
    assert to_milli(" 0.5 ") == 500


def test_zero_or_negative_quantity_is_refused(conn: sqlite3.Connection) -> None:
    for qty in (0, -1000):
        with pytest.raises(LedgerError):
            ledger.receive(conn, "C1", qty, "S1")
    assert _movements(conn) == []


# ---------------------------------------------------------------- append-only


def _fill_every_append_only_table(conn: sqlite3.Connection) -> None:
    ledger.receive(conn, "C1", 5000, "S1")
    ledger.issue(conn, "WO1", "C1", 2000, "S1")
    report_progress(conn, "WO1", "CUT", 1000)
    [scan] = process_batch(conn, [ScanInput(station="RECV", raw=b"C1", source="command")])
    dismiss_scan(conn, scan.scan_id, by="B-SUP", note="nobody was signed in")
    change_due_date(conn, "WO1", "2030-03-01", by="B-COORD", reason="late steel")
    set_hold(conn, "WO2", True, by="B-SUP", reason="drawing")
    allow_negative_stock(conn, ["stage"], by="B-SUP", reason="backflush")
    for table in APPEND_ONLY:
        assert conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] > 0, table


def _dump(conn: sqlite3.Connection) -> list[str]:
    return list(conn.iterdump())


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_triggers_refuse_update_and_delete_from_python(
    conn: sqlite3.Connection, table: str
) -> None:
    _fill_every_append_only_table(conn)
    before = _dump(conn)
    first_column = conn.execute(f"SELECT * FROM {table}").description[0][0]
    for sql in (
        f"UPDATE {table} SET {first_column} = {first_column}",
        f"DELETE FROM {table}",
        f"DELETE FROM {table} WHERE rowid = (SELECT MAX(rowid) FROM {table})",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(sql)
    # A raw connection, without the project's connection factory, is refused too.
    raw = sqlite3.connect(conn.execute("PRAGMA database_list").fetchone()[2])
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute(f"DELETE FROM {table}")
    raw.close()
    assert _dump(conn) == before


def _sqlite3_shell() -> str:
    shell = shutil.which("sqlite3")
    assert shell is not None, "the sqlite3 shell is needed: apt-get install sqlite3"
    return shell


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_triggers_refuse_update_and_delete_from_the_sqlite3_shell(
    tmp_path: Path, table: str
) -> None:
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    _fill_every_append_only_table(conn)
    before = _dump(conn)
    shell = _sqlite3_shell()
    first_column = conn.execute(f"SELECT * FROM {table}").description[0][0]
    for sql in (f"UPDATE {table} SET {first_column} = {first_column};", f"DELETE FROM {table};"):
        done = subprocess.run(
            [shell, "-bail", str(path), sql], capture_output=True, text=True, timeout=30
        )
        assert done.returncode != 0, (sql, done.stdout)
        assert "append-only" in done.stderr
    assert _dump(conn) == before
    conn.close()


def test_insert_or_replace_cannot_rewrite_history(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    plant_db(path).close()
    conn = connect(path)  # an ordinary connection, as every process opens it
    first = ledger.receive(conn, "C1", 5000, "S1")
    conn.execute(
        "INSERT INTO scan_journal (id, time_ms, source, station, raw, raw_length) "
        "VALUES (1, 0, 'keyboard', 'RECV', 'genuine', 7)"
    )
    before = _dump(conn)
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT OR REPLACE INTO movements (id, time_ms, kind, item, lot, qty_milli, "
            "to_location) VALUES (?, 0, 'receive', 'C1', '', 99000, 'S1')",
            (first,),
        )
    done = subprocess.run(
        [_sqlite3_shell(), str(path),
         "REPLACE INTO scan_journal (id, time_ms, source, station, raw, raw_length) "
         "VALUES (1, 0, 'keyboard', 'RECV', 'forged', 6);"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0
    assert _dump(conn) == before
    conn.close()


@pytest.mark.parametrize(
    ("table", "columns"),
    [
        ("status_changes", "(id, time_ms, work_order, old_status, new_status, reason) "
         "VALUES (1, 0, 'WO2', 'released', 'cancelled', 'forged')"),
        ("due_date_changes", "(id, time_ms, work_order, old_due, new_due, by_operator, reason) "
         "VALUES (1, 0, 'WO1', '2030-01-15', '2031-01-01', 'B-SUP', 'forged')"),
        ("inbox_resolutions", "(scan, action, by_operator, note, time_ms) "
         "VALUES (1, 'dismissed', 'B-OP', 'forged', 0)"),
        ("setting_changes", "(id, time_ms, key, old_value, new_value, by_operator, reason) "
         "VALUES (1, 0, 'negative_stock_kinds', '', '', 'B-OP', 'forged')"),
    ],
)  # fmt: skip
def test_insert_or_replace_cannot_rewrite_an_audit_row(
    tmp_path: Path, table: str, columns: str
) -> None:
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    _fill_every_append_only_table(conn)
    before = _dump(conn)
    done = subprocess.run(
        [_sqlite3_shell(), str(path), f"REPLACE INTO {table} {columns};"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode != 0 and "append-only" in done.stderr, done.stderr
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(f"INSERT OR REPLACE INTO {table} {columns}")
    assert _dump(conn) == before
    conn.close()


def test_a_status_changes_only_with_its_audit_row(tmp_path: Path) -> None:
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    set_hold(conn, "WO1", True, by="B-SUP", reason="drawing")
    before = _dump(conn)
    shell = _sqlite3_shell()
    for sql in (
        # a bare status edit, from the shell and from Python
        "UPDATE work_orders SET status = 'released' WHERE number = 'WO1';",
        "UPDATE work_orders SET status = 'cancelled';",
        # an audit row that does not start from where the order is
        "INSERT INTO status_changes (time_ms, work_order, old_status, new_status, reason) "
        "VALUES (0, 'WO1', 'released', 'cancelled', 'forged');",
    ):
        done = subprocess.run(
            [shell, "-bail", str(path), sql], capture_output=True, text=True, timeout=30
        )
        assert done.returncode != 0, (sql, done.stdout)
        assert "status" in done.stderr
        with pytest.raises(sqlite3.IntegrityError, match="status"):
            conn.execute(sql)
    assert _dump(conn) == before
    # With its audit row, from the status it is in, the change goes through (as the ledger
    # makes it): the trail and the state agree, and check says so.
    with write(conn):
        conn.execute(
            "INSERT INTO status_changes (time_ms, work_order, old_status, new_status, "
            "by_operator, reason) VALUES (0, 'WO1', 'on_hold', 'cancelled', 'B-SUP', 'gone')"
        )
        conn.execute("UPDATE work_orders SET status = 'cancelled' WHERE number = 'WO1'")
    assert _status(conn, "WO1") == "cancelled"
    assert check(conn).ok
    conn.close()


def test_check_proves_each_order_is_where_its_audit_trail_leads(tmp_path: Path) -> None:
    """A status edited past the triggers (dropped, as a hand with the schema can) fails
    `check`, naming the order, and so does a trail with a link missing."""
    path = tmp_path / "floor.db"
    conn = plant_db(path)
    set_hold(conn, "WO1", True, by="B-SUP", reason="drawing")
    set_hold(conn, "WO1", False, by="B-SUP", reason="drawing ok")
    assert check(conn).ok
    conn.execute("DROP TRIGGER work_orders_status_audited")
    conn.execute("DROP TRIGGER status_changes_from_current")
    conn.execute("UPDATE work_orders SET status = 'done' WHERE number = 'WO2'")
    conn.execute(
        "INSERT INTO status_changes (time_ms, work_order, old_status, new_status, reason) "
        "VALUES (0, 'WO3', 'on_hold', 'released', 'forged')"
    )
    report = check(conn)
    assert not report.ok
    assert sorted(report.differences) == [
        "status of WO2 is done, but its status changes end at released",
        f"status trail of WO3: change {_last_change(conn)} starts from on_hold, "
        "but the change before it ended at released",
    ]
    conn.close()
    # `shopfloor check` exits 1 and says so.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "shopfloor"), "check", "--db", str(path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 1
    assert "status of WO2 is done, but its status changes end at released" in done.stdout


def test_check_proves_a_changed_due_date_is_where_its_changes_lead(
    conn: sqlite3.Connection,
) -> None:
    change_due_date(conn, "WO1", "2030-02-01", by="B-COORD", reason="late steel")
    assert check(conn).ok
    # A due date moved with no trace (as a re-import did, issue 9): check names it.
    conn.execute("UPDATE work_orders SET due = '2030-03-01' WHERE number = 'WO1'")
    assert check(conn).differences == [
        "due date of WO1 is 2030-03-01, but its due-date changes end at 2030-02-01"
    ]


def _last_change(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT MAX(id) FROM status_changes").fetchone()[0])


def test_a_database_of_the_previous_schema_upgrades(tmp_path: Path) -> None:
    """A plant's file at schema 2 (before the audit trails): its status edited without an
    audit row gets one saying so, negative stock is refused from then on, and the new
    triggers hold."""
    from sqlite_utils import Database

    from db import schema

    path = tmp_path / "old.db"
    conn = connect(path)
    old = schema.migrations()
    old._migrations = old._migrations[:2]  # m001, m002: what was released
    old.apply(Database(conn))
    conn.execute("PRAGMA user_version = 2")
    assert setting(conn, "allow_negative_stock") == "1"
    from db.masterdata import import_dir
    from tests.plant import copy_plant

    # The plant as schema 2 knew it (reasons came with schema 11), held as it held then.
    plant = copy_plant(tmp_path / "plant")
    (plant / "reasons.csv").unlink()
    import_dir(conn, plant)
    ledger.record_status(conn, "WO1", "released", "on_hold", "B-SUP", "drawing")
    conn.execute("UPDATE work_orders SET status = 'cancelled' WHERE number = 'WO2'")
    conn.close()

    conn = schema.init_db(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION
    trail = conn.execute(
        "SELECT work_order, old_status, new_status, by_operator, reason FROM status_changes "
        "ORDER BY id"
    ).fetchall()
    assert [tuple(t) for t in trail] == [
        ("WO1", "released", "on_hold", "B-SUP", "drawing"),
        ("WO2", "released", "cancelled", None,
         "found without an audit row when the database was upgraded"),
    ]  # fmt: skip
    assert check(conn).ok
    assert negative_stock_kinds(conn) == frozenset()
    with pytest.raises(LedgerError, match="no C1 in S1"):
        ledger.transfer(conn, "C1", 1_000, "S1", "S2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM status_changes")
    with pytest.raises(sqlite3.IntegrityError, match="status"):
        conn.execute("UPDATE work_orders SET status = 'released' WHERE number = 'WO1'")
    conn.close()


# ---------------------------------------------------------------- reversals


def test_a_movement_is_reversed_once_and_a_reversal_is_not_reversed(
    conn: sqlite3.Connection,
) -> None:
    first = ledger.receive(conn, "C1", 5000, "S1")
    undo = ledger.reverse_movement(conn, first, origin=Origin(operator="B-STORE"))
    assert _stock(conn, "C1", "S1") == 0
    assert _movements(conn, id=undo)[0] | {"time_ms": 0} == {
        "id": undo, "time_ms": 0, "kind": "receive", "item": "C1", "lot": "", "qty_milli": 5000,
        "from_location": "S1", "to_location": None, "work_order": None, "stage": None,
        "operator": "B-STORE", "station": None, "scan": None, "reverses": first,
        "progress_entry": None, "reason": None,
    }  # fmt: skip
    with pytest.raises(LedgerError, match="already reversed"):
        ledger.reverse_movement(conn, first)
    with pytest.raises(LedgerError, match="itself a reversal"):
        ledger.reverse_movement(conn, undo)
    with pytest.raises(LedgerError, match="does not exist"):
        ledger.reverse_movement(conn, 999)
    # Even bypassing the code, the database holds one reversal per movement.
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO movements (time_ms, kind, item, qty_milli, to_location, reverses) "
            "VALUES (0, 'receive', 'C1', 5000, 'S1', ?)",
            (first,),
        )
    assert len(_movements(conn)) == 2
    assert check(conn).ok


def test_a_completion_is_undone_once_with_its_backflush_and_finished_goods(
    conn: sqlite3.Connection,
) -> None:
    ledger.receive(conn, "C1", 10_000, "S1")
    ledger.issue(conn, "WO2", "C1", 2_000, "S1")
    cut = report_progress(conn, "WO2", "CUT", 2_000)
    assembled = report_progress(conn, "WO2", "ASSY", 2_000)
    assert _stock(conn, "P1", FINISHED) == 2_000
    consumed = _movements(conn, kind="consume")
    assert [(m["qty_milli"], m["progress_entry"]) for m in consumed] == [(1_000, cut)]
    with pytest.raises(LedgerError, match="belongs to a stage completion"):
        ledger.reverse_movement(conn, consumed[0]["id"])
    with pytest.raises(LedgerError, match="ASSY already worked"):
        reverse_progress(conn, cut)
    undo = reverse_progress(conn, assembled)
    assert _stock(conn, "P1", FINISHED) == 0
    with pytest.raises(LedgerError, match="already undone"):
        reverse_progress(conn, assembled)
    with pytest.raises(LedgerError, match="itself a reversal"):
        reverse_progress(conn, undo)
    reverse_progress(conn, cut)
    assert _stock(conn, "C1", "W-CUT") == 2_000  # the backflush went back to WIP
    assert [s["done"] for s in status_report(conn, number="WO2")[0]["stages"]] == [0, 0]
    assert check(conn).ok


# ---------------------------------------------------------------- stages


def test_stage_completions_cannot_exceed_what_reached_the_stage(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(LedgerError, match="only 10 of WO1 reached CUT"):
        report_progress(conn, "WO1", "CUT", 10_001)
    with pytest.raises(LedgerError, match="nothing of WO1 is waiting at ASSY"):
        report_progress(conn, "WO1", "ASSY", 1_000)
    report_progress(conn, "WO1", "CUT", 6_000)
    report_progress(conn, "WO1", "CUT", 500, kind="scrap")
    with pytest.raises(LedgerError, match="only 3.5 of WO1 reached CUT"):
        report_progress(conn, "WO1", "CUT", 3_501, kind="scrap")
    with pytest.raises(LedgerError, match="only 6 of WO1 reached ASSY"):
        report_progress(conn, "WO1", "ASSY", 6_001)
    report_progress(conn, "WO1", "ASSY", 5_000)
    report_progress(conn, "WO1", "ASSY", 1_000, kind="scrap")
    with pytest.raises(LedgerError, match="nothing of WO1 is waiting at ASSY"):
        report_progress(conn, "WO1", "ASSY", None)
    with pytest.raises(LedgerError, match="does not pass stage PAINT"):
        report_progress(conn, "WO1", "PAINT", 1_000)
    # None completes everything waiting: 3.5 at CUT.
    report_progress(conn, "WO1", "CUT", None)
    assert [(s["done"], s["scrap"]) for s in status_report(conn, number="WO1")[0]["stages"]] == [
        (9.5, 0.5),
        (5, 1),
    ]
    assert check(conn).ok


def test_backflush_takes_issued_lots_first_in_first_out(conn: sqlite3.Connection) -> None:
    ledger.receive(conn, "C2", 3_000, "S1", lot="L1")
    ledger.receive(conn, "C2", 10_000, "S1", lot="L2")
    ledger.receive(conn, "C1", 10_000, "S1")
    ledger.issue(conn, "WO1", "C2", 3_000, "S1", lot="L1")
    ledger.issue(conn, "WO1", "C2", 10_000, "S1", lot="L2")
    ledger.issue(conn, "WO1", "C1", 10_000, "S1")
    # Issued to the WIP of the stage that uses it.
    assert _stock(conn, "C2", "W-ASSY", "L1") == 3_000
    assert _stock(conn, "C1", "W-CUT") == 10_000
    cut = report_progress(conn, "WO1", "CUT", 4_000)
    # 0.5 C1 per unit at CUT; C3 (no stage: the first stage) was never issued: a shortage.
    assert [
        (m["item"], m["lot"], m["qty_milli"], m["from_location"], m["stage"])
        for m in _movements(conn, progress_entry=cut)
    ] == [("C1", "", 2_000, "W-CUT", "CUT")]
    assembled = report_progress(conn, "WO1", "ASSY", 2_000)
    # 2 C2 per unit at ASSY: 4, the 3 of lot L1 first, then 1 of L2; then the finished goods.
    assert [(m["kind"], m["item"], m["lot"], m["qty_milli"], m["from_location"],
             m["to_location"]) for m in _movements(conn, progress_entry=assembled)] == [
        ("consume", "C2", "L1", 3_000, "W-ASSY", None),
        ("consume", "C2", "L2", 1_000, "W-ASSY", None),
        ("produce", "P1", "", 2_000, None, FINISHED),
    ]  # fmt: skip
    assert _stock(conn, "C2", "W-ASSY", "L1") == 0
    assert _stock(conn, "C2", "W-ASSY", "L2") == 9_000
    held = conn.execute(
        "SELECT lot, issued_milli, consumed_milli FROM work_order_materials "
        "WHERE work_order = 'WO1' AND item = 'C2' ORDER BY lot"
    ).fetchall()
    assert [tuple(r) for r in held] == [("L1", 3_000, 3_000), ("L2", 10_000, 1_000)]
    assert check(conn).ok


def test_a_completion_short_of_material_still_posts(conn: sqlite3.Connection) -> None:
    ledger.receive(conn, "C1", 1_000, "S1")
    ledger.issue(conn, "WO1", "C1", 1_000, "S1")
    entry = report_progress(conn, "WO1", "CUT", 4_000)  # needs 2, 1 was issued
    assert [m["qty_milli"] for m in _movements(conn, progress_entry=entry)] == [1_000]
    nothing = report_progress(conn, "WO2", "CUT", 2_500)  # nothing issued at all
    assert _movements(conn, progress_entry=nothing) == []
    assert status_report(conn, number="WO2")[0]["stages"][0]["done"] == 2.5
    assert check(conn).ok


def test_small_bom_quantities_round_to_the_nearest_thousandth(conn: sqlite3.Connection) -> None:
    ledger.receive(conn, "C3", 1_000, "S1")
    ledger.issue(conn, "WO1", "C3", 1_000, "S1")  # no BOM stage: held at the first stage
    assert _stock(conn, "C3", "W-CUT") == 1_000
    entry = report_progress(conn, "WO1", "CUT", 2_500)  # 0.001 * 2.5 = 0.0025 -> 0.003
    assert [m["qty_milli"] for m in _movements(conn, progress_entry=entry)] == [3]
    assert check(conn).ok


def test_the_last_stage_produces_finished_goods(conn: sqlite3.Connection) -> None:
    report_progress(conn, "WO1", "CUT", 10_000)
    assert _stock(conn, "P1", FINISHED) == 0
    report_progress(conn, "WO1", "ASSY", 4_000)
    assert _stock(conn, "P1", FINISHED) == 4_000
    # A lot-tracked product is produced under the work order's number as its lot.
    report_progress(conn, "WO3", None, 1_500)
    assert _stock(conn, "P2", FINISHED, "WO3") == 1_500
    ledger.ship(conn, "P2", 1_000, lot="WO3")
    assert _stock(conn, "P2", FINISHED, "WO3") == 500
    with pytest.raises(LedgerError, match="lot-tracked"):
        ledger.ship(conn, "P2", 100)
    assert check(conn).ok


# ---------------------------------------------------------------- work-order status


def _status(conn: sqlite3.Connection, number: str) -> str:
    return str(lookups.work_order(conn, number)["status"])


def test_status_moves_released_in_progress_done(conn: sqlite3.Connection) -> None:
    assert _status(conn, "WO2") == "released"
    ledger.receive(conn, "C1", 5_000, "S1")
    ledger.issue(conn, "WO2", "C1", 1_000, "S1", origin=Origin(operator="B-STORE"))
    assert _status(conn, "WO2") == "in_progress"
    report_progress(conn, "WO2", "CUT", 2_500)
    report_progress(conn, "WO2", "ASSY", 1_500)
    report_progress(conn, "WO2", "ASSY", 500, kind="scrap")
    assert _status(conn, "WO2") == "in_progress"
    last = report_progress(conn, "WO2", "ASSY", 500)  # 2 done + 0.5 scrap = 2.5
    assert _status(conn, "WO2") == "done"
    with pytest.raises(LedgerError, match="already done"):
        ledger.issue(conn, "WO2", "C1", 1_000, "S1")
    reverse_progress(conn, last)
    assert _status(conn, "WO2") == "in_progress"
    changes = conn.execute(
        "SELECT old_status, new_status, by_operator FROM status_changes "
        "WHERE work_order = 'WO2' ORDER BY id"
    ).fetchall()
    assert [tuple(c) for c in changes] == [
        ("released", "in_progress", "B-STORE"),
        ("in_progress", "done", None),
        ("done", "in_progress", None),
    ]
    # Scrapping everything at the first stage also finishes the order.
    report_progress(conn, "WO1", "CUT", None, kind="scrap")
    assert _status(conn, "WO1") == "done"


@pytest.mark.parametrize("badge", ["B-OP", "B-STORE", "B-COORD", "NOBODY", ""])
def test_hold_release_and_cancel_need_a_supervisor(conn: sqlite3.Connection, badge: str) -> None:
    before = _dump(conn)
    with pytest.raises(PermissionDenied):
        set_hold(conn, "WO1", True, by=badge, reason="check drawing")
    with pytest.raises(PermissionDenied):
        cancel(conn, "WO1", by=badge, reason="customer withdrew")
    assert _dump(conn) == before
    set_hold(conn, "WO1", True, by="B-SUP", reason="check drawing")
    with pytest.raises(PermissionDenied):
        set_hold(conn, "WO1", False, by=badge, reason="drawing ok")
    assert _status(conn, "WO1") == "on_hold"


def test_hold_release_and_cancel_by_a_supervisor(conn: sqlite3.Connection) -> None:
    report_progress(conn, "WO1", "CUT", 1_000)
    set_hold(conn, "WO1", True, by="B-SUP", reason="check drawing")
    assert _status(conn, "WO1") == "on_hold"
    with pytest.raises(LedgerError, match="on hold"):
        report_progress(conn, "WO1", "CUT", 1_000)
    with pytest.raises(LedgerError, match="on hold"):
        ledger.issue(conn, "WO1", "C1", 1_000, "S1")
    with pytest.raises(LedgerError):
        set_hold(conn, "WO1", True, by="B-SUP", reason="again")
    set_hold(conn, "WO1", False, by="B-SUP", reason="drawing ok")
    assert _status(conn, "WO1") == "in_progress"  # back to where it was
    with pytest.raises(LedgerError, match="say why the order is held"):
        set_hold(conn, "WO2", True, by="B-SUP", reason="  ")
    set_hold(conn, "WO2", True, by="B-SUP", reason="paint check")
    set_hold(conn, "WO2", False, by="B-SUP", reason="")  # a release may go without
    assert _status(conn, "WO2") == "released"
    with pytest.raises(LedgerError, match="say why"):
        cancel(conn, "WO1", by="B-SUP", reason="  ")
    cancel(conn, "WO1", by="B-SUP", reason="customer withdrew")
    assert _status(conn, "WO1") == "cancelled"
    with pytest.raises(LedgerError, match="cancelled"):
        report_progress(conn, "WO1", "CUT", 1_000)
    with pytest.raises(LedgerError, match="already cancelled"):
        cancel(conn, "WO1", by="B-SUP", reason="twice")
    last = conn.execute(
        "SELECT old_status, new_status, by_operator, reason FROM status_changes "
        "WHERE work_order = 'WO1' ORDER BY id DESC LIMIT 1"
    ).fetchone()
    assert tuple(last) == ("in_progress", "cancelled", "B-SUP", "customer withdrew")


def test_a_due_date_change_is_recorded_with_who_and_why(conn: sqlite3.Connection) -> None:
    with clock(Ticker()):
        with pytest.raises(PermissionDenied):
            change_due_date(conn, "WO1", "2030-02-01", by="B-OP", reason="late steel")
        with pytest.raises(LedgerError, match="not a date"):
            change_due_date(conn, "WO1", "next friday", by="B-COORD", reason="late steel")
        with pytest.raises(LedgerError, match="say why"):
            change_due_date(conn, "WO1", "2030-02-01", by="B-COORD", reason=" ")
        change_due_date(conn, "WO1", "2030-02-01", by="B-COORD", reason="late steel")
        change_due_date(conn, "WO1", "2030-01-20", by="B-SUP", reason="expedited")
    rows = conn.execute(
        "SELECT time_ms, work_order, old_due, new_due, by_operator, reason "
        "FROM due_date_changes ORDER BY id"
    ).fetchall()
    assert [tuple(r)[1:] for r in rows] == [
        ("WO1", "2030-01-15", "2030-02-01", "B-COORD", "late steel"),
        ("WO1", "2030-02-01", "2030-01-20", "B-SUP", "expedited"),
    ]
    assert status_report(conn, number="WO1")[0]["due"] == "2030-01-20"


def test_adjustment_with_permission_needs_storeroom_or_supervisor(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(PermissionDenied):
        ledger.adjust(conn, "C1", "S1", 5_000, origin=Origin(operator="B-OP"),
                      require_permission=True)  # fmt: skip
    moved = ledger.adjust(conn, "C1", "S1", 5_000, origin=Origin(operator="B-STORE"),
                          require_permission=True)  # fmt: skip
    assert moved is not None
    assert ledger.adjust(conn, "C1", "S1", 5_000) is None  # the count agreed: nothing posted
    ledger.adjust(conn, "C1", "S1", 1_500)
    assert _stock(conn, "C1", "S1") == 1_500
    assert check(conn).ok


# ---------------------------------------------------------------- negative stock


def test_negative_stock_is_refused_by_default_and_says_how_much(
    conn: sqlite3.Connection,
) -> None:
    """Found: issue, move, ship and scrap from empty bins, even out of SCRAP, accepted."""
    ledger.receive(conn, "C1", 2_000, "S1")
    ledger.receive(conn, "C2", 3_000, "S1", lot="L1")
    before = _dump(conn)
    with pytest.raises(LedgerError, match=r"^only 2 sheet of C1 in S1: scan a smaller QTY$"):
        ledger.transfer(conn, "C1", 2_001, "S1", "S2")
    with pytest.raises(LedgerError, match=r"only 2 sheet of C1 in S1"):
        ledger.issue(conn, "WO1", "C1", 3_000, "S1")
    with pytest.raises(LedgerError, match=r"only 3 m of C2 in S1 \(lot L1\)"):
        ledger.issue(conn, "WO1", "C2", 3_500, "S1", lot="L1")
    with pytest.raises(LedgerError, match=r"^no P1 in FG on record: scan the location"):
        ledger.ship(conn, "P1", 1_000)
    with pytest.raises(LedgerError, match="only 2 sheet of C1 in S1"):
        ledger.scrap_material(conn, "C1", 2_500, "S1")
    with pytest.raises(LedgerError, match="no C1 in S2"):
        ledger.scrap_material(conn, "C1", 1_000, "S2")
    with pytest.raises(LedgerError, match="SCRAP is the scrap location"):
        ledger.scrap_material(conn, "C1", 1_000, SCRAP)
    assert _dump(conn) == before
    ledger.transfer(conn, "C1", 2_000, "S1", "S2")  # exactly what is there is fine
    assert _stock(conn, "C1", "S1") == 0
    assert check(conn).ok


def test_a_reversal_cannot_drive_stock_negative(conn: sqlite3.Connection) -> None:
    """Receive 5, move them away, then undo the receipt: the undo is refused, because the
    5 are no longer where they were received."""
    receipt = ledger.receive(conn, "C1", 5000, "S1")
    ledger.transfer(conn, "C1", 5000, "S1", "S2")
    with pytest.raises(LedgerError, match="no C1 in S1 on record: the receive cannot be undone"):
        ledger.reverse_movement(conn, receipt)
    assert balances.on_hand(conn, "C1", "S1") == 0
    assert check(conn).ok


def test_a_completion_consumes_only_what_is_still_in_the_wip_bin(
    conn: sqlite3.Connection,
) -> None:
    """Material issued to an order but moved out of its WIP bin by hand is not consumed
    from there: the bin stays at zero and the order shows the shortage instead."""
    ledger.receive(conn, "C1", 5_000, "S1")
    ledger.issue(conn, "WO1", "C1", 5_000, "S1")  # lands in W-CUT, held for WO1
    ledger.transfer(conn, "C1", 4_000, "W-CUT", "S2")
    report_progress(conn, "WO1", "CUT", 4_000)  # needs 0.5 × 4 = 2
    assert _stock(conn, "C1", "W-CUT") == 0
    consumed = _movements(conn, kind="consume", item="C1")
    assert [m["qty_milli"] for m in consumed] == [1_000]
    assert check(conn).ok


def test_a_supervisor_allows_negative_stock_for_chosen_kinds_of_location(
    conn: sqlite3.Connection,
) -> None:
    with clock(Ticker()):
        for badge in ("B-OP", "B-STORE", "B-COORD", "", "NOBODY"):
            with pytest.raises(PermissionDenied):
                allow_negative_stock(conn, ["stage"], by=badge, reason="backflush")
        with pytest.raises(LedgerError, match="bin: not a kind of location"):
            allow_negative_stock(conn, ["bin"], by="B-SUP", reason="backflush")
        with pytest.raises(LedgerError, match="say why"):
            allow_negative_stock(conn, ["stage"], by="B-SUP", reason=" ")
        assert negative_stock_kinds(conn) == frozenset()
        allow_negative_stock(conn, ["Stage", "scrap"], by="B-SUP", reason="counts lag")
    assert negative_stock_kinds(conn) == {"stage", "scrap"}
    changes = conn.execute(
        "SELECT time_ms, key, old_value, new_value, by_operator, reason FROM setting_changes"
    ).fetchall()
    assert [tuple(c) for c in changes] == [
        (EPOCH_MS, "negative_stock_kinds", "", "stage,scrap", "B-SUP", "counts lag")
    ]
    ledger.transfer(conn, "C1", 3_000, "W-CUT", "S1")  # a stage location: allowed
    assert _stock(conn, "C1", "W-CUT") == -3_000
    with pytest.raises(LedgerError, match="no C1 in S2"):
        ledger.transfer(conn, "C1", 1_000, "S2", "S1")  # a storeroom: still refused
    report = check(conn)
    assert report.ok, report.differences
    assert report.warnings == ["negative stock: C1 at W-CUT is -3; count the bin"]
    # Taken back, the balance it left is no longer allowed: check fails and says where.
    allow_negative_stock(conn, [], by="B-SUP", reason="counted")
    report = check(conn)
    assert not report.ok
    assert report.differences == [
        "negative stock not allowed at a stage location: C1 at W-CUT is -3; count the bin"
    ]


def test_the_negative_stock_command_shows_and_sets_the_allowance(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from tui.cli import cli

    path = tmp_path / "floor.db"
    plant_db(path).close()
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["negative-stock", "--db", str(path), *args])

    shown = run()
    assert (shown.exit_code, shown.stdout) == (0, "negative stock is refused at every location\n")
    refused = run("stage", "--by", "B-OP", "--reason", "counts lag")
    assert refused.exit_code == 1
    assert "Otto Operator is operator; settings needs a supervisor" in refused.output
    assert run("stage").exit_code == 2  # no badge: a usage error, nothing changed
    assert run("bins", "--by", "B-SUP", "--reason", "x").exit_code == 1
    allowed = run("scrap", "stage", "--by", "B-SUP", "--reason", "counts lag")
    assert allowed.exit_code == 0, allowed.output
    assert (
        allowed.stdout == "negative stock is allowed at scrap, stage locations, refused elsewhere\n"
    )
    assert run("--none", "--by", "B-SUP", "--reason", "counted").exit_code == 0
    assert run().stdout == "negative stock is refused at every location\n"
    conn = connect(path)
    changes = conn.execute("SELECT old_value, new_value, by_operator FROM setting_changes")
    assert [tuple(c) for c in changes] == [
        ("", "stage,scrap", "B-SUP"),
        ("stage,scrap", "", "B-SUP"),
    ]
    conn.close()


def test_no_total_leaves_the_declared_range(conn: sqlite3.Connection) -> None:
    """Found: two receipts of 9223372036854775.807 turned a total into a REAL and `check`
    crashed. A bin holds at most MAX_TOTAL_MILLI, and goes at most that far below zero."""
    with write(conn):
        for _ in range(MAX_TOTAL_MILLI // MAX_MILLI):
            ledger.receive(conn, "C1", MAX_MILLI, "S1")
    assert _stock(conn, "C1", "S1") == MAX_TOTAL_MILLI
    before = _dump(conn)
    with pytest.raises(LedgerError, match="S1 would hold more than 1,000,000,000,000 of C1"):
        ledger.receive(conn, "C1", 1, "S1")
    assert _dump(conn) == before
    allow_negative_stock(conn, ["stage"], by="B-SUP", reason="range test")
    with write(conn):
        for _ in range(MAX_TOTAL_MILLI // MAX_MILLI):
            ledger.transfer(conn, "C1", MAX_MILLI, "W-CUT", "S2")
    with pytest.raises(LedgerError, match="W-CUT would go more than 1,000,000,000,000 of C1"):
        ledger.transfer(conn, "C1", 1, "W-CUT", "S2")
    totals = conn.execute("SELECT typeof(qty_milli), qty_milli FROM stock WHERE item = 'C1'")
    assert sorted(tuple(t) for t in totals) == [
        ("integer", -MAX_TOTAL_MILLI), ("integer", MAX_TOTAL_MILLI), ("integer", MAX_TOTAL_MILLI)
    ]  # fmt: skip
    assert check(conn).ok


# ---------------------------------------------------------------- the file itself


def test_the_database_file_is_not_world_readable(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        path = tmp_path / "floor.db"
        conn = plant_db(path)
        ledger.receive(conn, "C1", 1_000, "S1")
        for name in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            assert name.exists(), name
            mode = stat.S_IMODE(name.stat().st_mode)
            assert mode & 0o077 == 0, f"{name.name} is {oct(mode)}"
        conn.close()
    finally:
        os.umask(old)


def test_json_quantities_are_exact_numbers() -> None:
    assert json.dumps([json_number(1_000_000), json_number(1_234_567), json_number(1)]) == (
        "[1000, 1234.567, 0.001]"
    )
