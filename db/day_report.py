"""The day's report (issue 11, item 6) and the stage completions it and `shopfloor progress`
list: per department (stage) what it completed on a day (orders, units), its scrap (and
per reason, issue 12), its queue and the working hours planned at it, its late and
at-risk orders and why; for the plant the orders completed, the late and at-risk orders
with their projected finish and the stage holding them, shortages with their supply,
rejected scans still open, due-date changes with who and why, and what `shopfloor
check` found.

Every figure comes from the read its own command makes, not from a second version of
it: completions are the progress entries that still stand (neither undone nor an
undo), whose sums are what `status` shows per stage; the queue is db.stages'; risk,
projected finish and holding stage are db.forecast's; rejected scans db.inbox's; the
check db.check's. A past day's report shows that day's completions, scrap, finished
orders and due-date changes; its queue, risks and shortages are as of when it is made
(the record keeps no past forecast), and the report says when that was.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from db.board import BoardRow, board_rows
from db.check import check
from db.completions import StageCompletion, require_stage, stage_completions
from db.connection import now_ms as wall_ms
from db.forecast import Forecast, OrderForecast, forecast
from db.inbox import rejected_scans
from db.quantity import text as qty_text
from db.refusals import LedgerError
from db.stages import stage_loads
from db.times import local_date, local_day_ms

# The report lists at most this many rejected scans (the newest); it gives their total.
REJECTED_SHOWN = 200


@dataclass(frozen=True, slots=True)
class OrderUnits:
    """What a stage did for one order on the day."""

    number: str
    product: str
    units_milli: int
    scrap_milli: int


@dataclass(frozen=True, slots=True)
class ScrapReason:
    """What a stage scrapped on the day for one reason (None: posted without one)."""

    reason: str | None
    description: str
    scrap_milli: int


@dataclass(frozen=True, slots=True)
class OrderAtRisk:
    """A late or at-risk open order, as the forecast sees it, and why."""

    number: str
    product: str
    qty_milli: int
    completed_milli: int
    due: str
    priority: int
    status: str
    risk: str  # late | at_risk
    idle: bool
    projected_finish: datetime
    slack_hours: float
    holding_stage: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StageDay:
    """One department's day."""

    code: str
    name: str
    hours_per_day: float
    by_order: tuple[OrderUnits, ...]  # per order, in order of their first entry
    completed_milli: int
    scrap_milli: int
    queue_orders: int  # open orders with units waiting at the stage now
    waiting_milli: int  # the units waiting there
    planned_hours: float  # working hours the forecast plans at the stage from now
    daily_milli: tuple[int, ...]  # completions per day, the 7 days ending on the report's
    late: tuple[OrderAtRisk, ...]  # the late orders this stage holds
    at_risk: tuple[OrderAtRisk, ...]
    scrap_by_reason: tuple[ScrapReason, ...] = ()  # the most scrapped first

    @property
    def orders_completed(self) -> int:
        """Orders the stage completed units of on the day."""
        return sum(1 for o in self.by_order if o.units_milli > 0)


@dataclass(frozen=True, slots=True)
class FinishedOrder:
    """An order whose last stage finished it on the day (and that is still done)."""

    number: str
    product: str
    qty_milli: int
    completed_milli: int
    due: str
    time_ms: int

    @property
    def after_due(self) -> bool:
        return local_date(self.time_ms).isoformat() > self.due


@dataclass(frozen=True, slots=True)
class SupplyLine:
    """A purchase order bringing some of a short component."""

    number: str
    due: str
    supplier: str
    qty_milli: int
    in_time: bool  # arrives by the day its consuming stage is projected to start


@dataclass(frozen=True, slots=True)
class ShortageLine:
    """One component of one open order that is not yet issued in full."""

    work_order: str
    item: str
    uom: str
    stage: str | None
    answer: str  # to_pick | on_order | supply_late | short
    required_milli: int
    issued_milli: int
    to_issue_milli: int
    from_stock_milli: int
    from_supply_milli: int
    short_milli: int
    supply: tuple[SupplyLine, ...]


@dataclass(frozen=True, slots=True)
class OpenRejection:
    """A rejected scan still in the supervisors' inbox."""

    id: int
    time_ms: int
    station: str
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class DueChange:
    """A due date moved on the day. Who by name only: the report is handed out, and a
    badge is what signs a person in (badge labels are written 0600 for that reason)."""

    time_ms: int
    work_order: str
    old_due: str
    new_due: str
    by: str
    reason: str


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """What `shopfloor check` found when the report was made."""

    ok: bool
    movements: int
    progress_entries: int
    differences: tuple[str, ...]
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DayReport:
    day: date
    stage: str | None  # the one department asked for; None: every one
    made_ms: int  # when the queue, the risks and the shortages were read
    open_orders: int
    stages: tuple[StageDay, ...]
    finished: tuple[FinishedOrder, ...]
    late: tuple[OrderAtRisk, ...]
    at_risk: tuple[OrderAtRisk, ...]
    shortages: tuple[ShortageLine, ...] | None  # None: this build cannot net shortages yet
    rejected: tuple[OpenRejection, ...]
    rejected_total: int
    due_changes: tuple[DueChange, ...]
    check: RecordCheck | None  # None: not run (it sums the whole ledger: ~1 min at 2M)

    @property
    def completed_milli(self) -> int:
        return sum(s.completed_milli for s in self.stages)

    @property
    def scrap_milli(self) -> int:
        return sum(s.scrap_milli for s in self.stages)


# ---------------------------------------------------------------- reading


def _per_order(completions: Sequence[StageCompletion]) -> tuple[OrderUnits, ...]:
    totals: dict[str, OrderUnits] = {}
    for c in completions:
        before = totals.get(c.work_order) or OrderUnits(c.work_order, c.product, 0, 0)
        totals[c.work_order] = OrderUnits(
            c.work_order, c.product,
            before.units_milli + c.units_milli, before.scrap_milli + c.scrap_milli,
        )  # fmt: skip
    return tuple(totals.values())


def _by_reason(
    completions: Sequence[StageCompletion], descriptions: dict[str, str]
) -> tuple[ScrapReason, ...]:
    """A stage's scrap summed per reason: the most first, then by code, none given last."""
    totals: dict[str | None, int] = {}
    for c in completions:
        if c.scrap_milli:
            totals[c.reason] = totals.get(c.reason, 0) + c.scrap_milli
    ranked = sorted(totals.items(), key=lambda kv: (kv[0] is None, -kv[1], kv[0] or ""))
    return tuple(
        ScrapReason(code, descriptions.get(code or "", "no reason given"), qty)
        for code, qty in ranked
    )


def _finished(conn: sqlite3.Connection, day: date) -> tuple[FinishedOrder, ...]:
    start, end = local_day_ms(day)
    rows = conn.execute(
        "SELECT w.number, w.product, w.qty_milli, w.due, f.at, "
        "(SELECT done_milli FROM work_order_stages s WHERE s.work_order = w.number "
        " ORDER BY seq DESC LIMIT 1) AS completed "
        "FROM (SELECT work_order, MAX(time_ms) AS at FROM status_changes "
        "      WHERE new_status = 'done' GROUP BY work_order) f "
        "JOIN work_orders w ON w.number = f.work_order "
        "WHERE w.status = 'done' AND f.at >= ? AND f.at < ? ORDER BY f.at, w.number",
        (start, end),
    ).fetchall()
    return tuple(
        FinishedOrder(r[0], r[1], int(r[2]), int(r[5] or 0), r[3], int(r[4])) for r in rows
    )


def _due_changes(conn: sqlite3.Connection, day: date) -> tuple[DueChange, ...]:
    start, end = local_day_ms(day)
    return tuple(
        DueChange(int(r[0]), r[1], r[2], r[3], r[4] or "an operator no longer listed", r[5])
        for r in conn.execute(
            "SELECT d.time_ms, d.work_order, d.old_due, d.new_due, o.name, "
            "d.reason FROM due_date_changes d LEFT JOIN operators o ON o.badge = d.by_operator "
            "WHERE d.time_ms >= ? AND d.time_ms < ? ORDER BY d.id",
            (start, end),
        )
    )


def _hours(value: float) -> str:
    return f"{value:.1f} h"


def _reasons(
    order: OrderForecast, row: BoardRow, result: Forecast, short: Sequence[ShortageLine]
) -> tuple[str, ...]:
    """Why an order is late or at risk, in a coordinator's words, most telling first."""
    reasons: list[str] = []
    if order.risk == "late":
        reasons.append(f"due {order.due} has passed")
    finish = order.projected_finish.strftime("%Y-%m-%d %H:%M")
    if order.slack_hours < 0:
        reasons.append(
            f"projected {finish}: {_hours(-order.slack_hours)} of working time after its due date"
        )
    else:
        reasons.append(f"projected {finish}")
    if row.status == "on_hold":
        reasons.append("on hold: planned after every other order")
    stages = {s.stage: s for s in result.stages(order.number)}
    held = stages.get(order.holding_stage or "")
    if held is not None:
        rate = "" if held.per_hour is None else f" at {held.per_hour:.1f}/h ({held.source})"
        if held.wait_hours > 0:
            reasons.append(
                f"waits {_hours(held.wait_hours)} at {held.stage} behind "
                f"{held.orders_ahead} order{'s' if held.orders_ahead != 1 else ''}"
            )
        reasons.append(f"{_hours(held.work_hours)} of work left at {held.stage}{rate}")
    if order.idle:
        days = result.settings.idle_days
        reasons.append(f"idle: nothing posted for {days:g} working day{'s' if days != 1 else ''}")
    for line in short:
        if line.answer == "short":
            reasons.append(f"short of {line.item}: {qty_text(line.short_milli)} {line.uom}")
        elif line.answer == "supply_late":
            numbers = ", ".join(s.number for s in line.supply if not s.in_time)
            reasons.append(f"{line.item} arrives too late ({numbers})")
    return tuple(reasons)


def _shortages(conn: sqlite3.Connection, result: Forecast) -> tuple[ShortageLine, ...] | None:
    """db.shortages' netting, every open order's components not yet issued in full, with
    the answer a coordinator acts on: to pick (the stores have it), on order (in time),
    supply late, or short (nothing covers it)."""
    from db import shortages

    lines = []
    for line in shortages.shortages(conn):
        if line.to_issue_milli <= 0:
            continue  # issued in full
        if line.short_milli > 0:
            answer = "short"
        elif line.from_supply_milli > 0:
            answer = "on_order" if all(p.in_time for p in line.supply) else "supply_late"
        else:
            answer = "to_pick"
        lines.append(
            ShortageLine(
                line.work_order,
                line.item,
                line.uom,
                line.stage,
                answer,
                line.required_milli,
                line.issued_milli,
                line.to_issue_milli,
                line.from_stock_milli,
                line.from_supply_milli,
                line.short_milli,
                tuple(
                    SupplyLine(p.number, p.due, p.supplier, p.qty_milli, p.in_time)
                    for p in line.supply
                ),
            )  # fmt: skip
        )
    return tuple(lines)


def day_report(
    conn: sqlite3.Connection,
    day: date | None = None,
    *,
    stage: str | None = None,
    now_ms: int | None = None,
    with_check: bool = True,
) -> DayReport:
    """The report of `day` (today by default), every department's or `stage`'s only;
    `with_check` runs `shopfloor check` first and carries what it found."""
    made = wall_ms() if now_ms is None else now_ms
    day = day or local_date(made)
    if day > local_date(made):
        raise LedgerError(
            f"{day.isoformat()} has not come yet: a day's report is of today or before"
        )
    if stage is not None:
        require_stage(conn, stage)
    # check() reads in its own transaction; the rest reads from one commit after it.
    record = None
    if with_check:
        found = check(conn)
        record = RecordCheck(
            found.ok, found.movements, found.progress_entries,
            tuple(found.differences), tuple(found.warnings),
        )  # fmt: skip
    conn.execute("BEGIN")
    try:
        rows = board_rows(conn)
        _, day_end = local_day_ms(day)
        loads = stage_loads(conn, now_ms=min(made, day_end - 1), days=7, open_orders=rows)
        plan = forecast(conn, now_ms=made, rows=rows)
        completions = stage_completions(conn, day, stage=stage)
        finished = _finished(conn, day)
        due_changes = _due_changes(conn, day)
        rejected, rejected_total = rejected_scans(conn, limit=REJECTED_SHOWN)
        capacity = dict(conn.execute("SELECT code, hours_per_day FROM stages").fetchall())
        descriptions = dict(conn.execute("SELECT code, description FROM reasons").fetchall())
        shortages = _shortages(conn, plan)
    finally:
        conn.execute("COMMIT")

    by_number = {row.number: row for row in rows}
    short_of: dict[str, list[ShortageLine]] = {}
    for line in shortages or ():
        short_of.setdefault(line.work_order, []).append(line)
    risky: list[OrderAtRisk] = []
    for order in sorted(plan.orders.values(), key=lambda o: (o.finish_ts, o.number)):
        if order.risk not in ("late", "at_risk"):
            continue
        row = by_number[order.number]
        risky.append(
            OrderAtRisk(
                order.number, order.product, row.qty_milli, row.completed_milli, order.due,
                order.priority, order.status, order.risk, order.idle, order.projected_finish,
                order.slack_hours, order.holding_stage or row.current_stage,
                _reasons(order, row, plan, short_of.get(order.number, ())),
            )
        )  # fmt: skip
    planned = {code: sum(d.hours for d in days) for code, days in plan.load().items()}
    departments = []
    for load in loads:
        if stage is not None and load.code != stage:
            continue
        own = [c for c in completions if c.stage == load.code]
        held = [o for o in risky if o.holding_stage == load.code]
        departments.append(
            StageDay(
                code=load.code,
                name=load.name,
                hours_per_day=float(capacity.get(load.code, 8.0)),
                by_order=_per_order(own),
                completed_milli=sum(c.units_milli for c in own),
                scrap_milli=sum(c.scrap_milli for c in own),
                queue_orders=load.queued,
                waiting_milli=load.wip_milli,
                planned_hours=round(planned.get(load.code, 0.0), 3),
                daily_milli=load.daily_milli,
                late=tuple(o for o in held if o.risk == "late"),
                at_risk=tuple(o for o in held if o.risk == "at_risk"),
                scrap_by_reason=_by_reason(own, descriptions),
            )
        )
    return DayReport(
        day=day,
        stage=stage,
        made_ms=made,
        open_orders=len(rows),
        stages=tuple(departments),
        finished=finished,
        late=tuple(o for o in risky if o.risk == "late"),
        at_risk=tuple(o for o in risky if o.risk == "at_risk"),
        shortages=shortages,
        rejected=tuple(
            OpenRejection(r.id, r.time_ms, r.station, r.raw, r.reason) for r in rejected
        ),
        rejected_total=rejected_total,
        due_changes=due_changes,
        check=record,
    )
