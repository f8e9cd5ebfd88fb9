"""The completion forecast (issue 11): when each open work order will finish, how much
room it has before its due date, the stage holding it, and its risk.

Each stage's rate is what it measurably did (units completed per working hour over the
last `days` working days, once it has `min_completions` completions there), else the
routing's standard times (setup, then minutes per unit, `parallel` units at once),
else a plant-wide figure (the plant's measured average, else the fallback setting);
every stage of every order says which it used (`source`).

A finite-capacity forward pass, in the working hours of each stage (db/calendar.py):
each order's remaining units flow through its route. At a stage, the units already
waiting there are ready now; the rest are ready when the order's previous stage has
done them. A stage works one order at a time, and when it comes free it takes, of the
work that is ready, the order with the best priority (1 first), then the earliest due
date. Orders on hold take no capacity: they are planned after every other order.

Per order: the projected finish; the slack (working hours of its last stage between the
finish and the end of its due date, negative when it finishes after); the holding stage
(where it waits longest, else where most of its work is left); the risk:

- late: its due date has passed and it is not done;
- at_risk: it is projected to finish after its due date;
- tight: less than one working day (of its last stage) of slack;
- on_track: otherwise;

and idle: it is in progress, and nothing was posted to it for `idle_days` working days
of the stage it is at (one by default: a whole working day's hours of that stage).

One read of the open orders (the board's rows, db/board.py), one aggregate over the
recent stage completions and one pass in Python (db/forward_pass.py): 5,000 open orders
within 200 ms (bench/forecast_bench.py). The board, the order screen and the command
line show it; `Forecast.load()` is each stage's planned hours per working day. Its
settings are db/forecast_settings.py's.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from db.board import BoardRow, board_rows, current_stage
from db.calendar import StageClock, WorkingDays
from db.connection import now_ms as wall_ms
from db.forecast_settings import ForecastSettings
from db.forward_pass import ForwardPass, Job, StepTime
from db.stages import stage_sequence

RISKS = ("late", "at_risk", "tight", "on_track")
SOURCES = ("measured", "standard", "plant")


@dataclass(frozen=True, slots=True)
class StageRate:
    """What a stage can do: its capacity and what it measurably did lately."""

    stage: str
    hours_per_day: float
    parallel: int
    completions: int  # standing completion entries in the measured window
    done_milli: int  # units they completed
    window_hours: float  # the stage's working hours in the window
    measured_per_hour: float | None  # units per working hour, when completions suffice


@dataclass(frozen=True, slots=True)
class StageForecast:
    """One stage of an order's route as the forward pass planned it."""

    stage: str
    remaining_milli: int  # units still to complete here
    waiting_milli: int  # of them, units already at the stage
    orders_ahead: int  # orders the stage works on before this one's units are done
    wait_hours: float  # working hours its units wait for the stage
    work_hours: float  # working hours the stage spends on them
    per_hour: float | None  # units per working hour used (None: no unit time, setup only)
    source: str  # measured | standard | plant
    start: datetime | None  # None when nothing is left at the stage
    finish: datetime | None


@dataclass(frozen=True, slots=True)
class OrderForecast:
    """One open work order's forecast."""

    number: str
    product: str
    due: str
    priority: int
    status: str
    finish_ts: float  # the projected finish, epoch seconds
    slack_hours: float
    holding_stage: str | None
    risk: str  # one of RISKS
    idle: bool

    @property
    def projected_finish(self) -> datetime:
        """When its last unit is projected to be done (local time, with its offset)."""
        return _local(self.finish_ts)


@dataclass(frozen=True, slots=True)
class DayLoad:
    """A stage's planned work on one working day, against what it can do."""

    day: date
    hours: float
    capacity_hours: float


@dataclass
class Forecast:
    """Every open order's forecast at one moment, and what it was made from."""

    now: datetime
    today: date
    settings: ForecastSettings
    rates: dict[str, StageRate]
    plant_per_hour: float
    plant_basis: str  # "plant average" (measured) or "plant default" (the setting)
    orders: dict[str, OrderForecast]
    clocks: dict[str, StageClock] = field(repr=False)
    plan: ForwardPass = field(repr=False)
    _deadlines: dict[str, float] = field(default_factory=dict, repr=False)
    _index: dict[str, int] = field(default_factory=dict, repr=False)

    def judge(self, o: int) -> OrderForecast:
        """The `o`-th planned order's forecast: finish, slack, holding stage, risk, idle."""
        plan = self.plan
        row = plan.rows[o]
        finish = plan.finish[o]
        longest_wait, most_work = (0.0, ""), (0.0, "")
        for jobs in plan.jobs[o]:
            if not jobs:
                continue
            wait = work = 0.0
            for job in jobs:
                wait += job.start - job.ready
                work += job.hours
            stage = row.stages[jobs[0].step][0]
            if wait > longest_wait[0] + 1e-9:
                longest_wait = (wait, stage)
            if work > most_work[0] + 1e-9:
                most_work = (work, stage)
        last = self.clocks.get(row.stages[-1][0]) if row.stages else None
        deadline = self._deadlines.get(row.due)
        if deadline is None:
            deadline = self._deadlines[row.due] = _deadline(row.due)
        slack, risk = _judge(finish, row.due, self.today, last, deadline)
        return OrderForecast(
            row.number, row.product, row.due, row.priority, row.status, finish, slack,
            longest_wait[1] or most_work[1] or None, risk,
            _idle(row, plan.now, self.clocks, self.settings.idle_days),
        )  # fmt: skip

    def _start_of(self, jobs: list[Job]) -> float:
        first = min(jobs, key=lambda job: job.start)
        if not first.hours:
            return first.ready_t
        stage = self.plan.rows[first.order].stages[first.step][0]
        return self.clocks[stage].start_at(first.start)

    def stages(self, number: str) -> tuple[StageForecast, ...]:
        """The order's route stage by stage as planned: what is left, the queue ahead, the
        rate and its source, the hours (empty for an order not in the forecast)."""
        plan = self.plan
        if not self._index:
            self._index.update((row.number, o) for o, row in enumerate(plan.rows))
        index = self._index.get(number)
        if index is None:
            return ()
        result = []
        for step, (stage, _, _) in enumerate(plan.rows[index].stages):
            jobs = plan.jobs[index][step]
            time = plan.times[index][step]
            if not jobs:
                result.append(StageForecast(stage, 0, 0, 0, 0.0, 0.0, time.per_hour,
                                            time.source, None, None))  # fmt: skip
                continue
            result.append(
                StageForecast(
                    stage,
                    sum(job.units for job in jobs),
                    sum(job.units for job in jobs if job.part == 0),
                    max(plan.ahead(stage, job) for job in jobs),
                    round(sum(job.start - job.ready for job in jobs), 3),
                    round(sum(job.hours for job in jobs), 3),
                    time.per_hour,
                    time.source,
                    _local(self._start_of(jobs)),
                    _local(jobs[-1].finish_t),
                )
            )
        return tuple(result)

    def rejudge(self, row: BoardRow, *, now_ms: int | None = None) -> OrderForecast | None:
        """The order's forecast with what changed on its row since (a due date moved, a
        posting): the finish stays as planned, its slack, risk and idle are judged again.
        A changed queue (a new priority, new work) waits for the next full forecast."""
        planned = self.orders.get(row.number)
        if planned is None:
            return None
        now = self.now.timestamp() if now_ms is None else now_ms / 1000
        today = self.today if now_ms is None else datetime.fromtimestamp(now).date()
        last = self.clocks.get(row.stages[-1][0]) if row.stages else None
        slack, risk = _judge(planned.finish_ts, row.due, today, last)
        idle = _idle(row, now, self.clocks, self.settings.idle_days)
        return replace(
            planned, due=row.due, priority=row.priority, status=row.status,
            slack_hours=slack, risk=risk, idle=idle,
        )  # fmt: skip

    def load(self) -> dict[str, list[DayLoad]]:
        """Per stage (route order), the planned working hours on each working day from
        today to its last planned job, against its hours per day."""
        result: dict[str, list[DayLoad]] = {}
        spans: dict[str, list[tuple[float, float]]] = {stage: [] for stage in self.clocks}
        for o, steps in enumerate(self.plan.jobs):
            stages = self.plan.rows[o].stages
            for jobs in steps:
                for job in jobs:
                    spans[stages[job.step][0]].append((job.start, job.start + job.hours))
        for stage, clock in self.clocks.items():
            per_day: dict[int, float] = {}
            h = clock.hours_per_day
            for start, finish in spans[stage]:
                at = start
                while at < finish - 1e-9:
                    k = int(at // h)
                    end = min(finish, (k + 1) * h)
                    per_day[k] = per_day.get(k, 0.0) + end - at
                    at = end
            days = clock.days
            result[stage] = []
            for k in sorted(per_day):
                days.upto_index(k)
                result[stage].append(DayLoad(days.days[k], round(per_day[k], 3), h))
        return result


# ---------------------------------------------------------------- reading


def _rates(
    conn: sqlite3.Connection, days: WorkingDays, clocks: dict[str, StageClock],
    stages: dict[str, tuple[float, int]], now: float, settings: ForecastSettings,
) -> tuple[dict[str, StageRate], float, str]:  # fmt: skip
    """Each stage's measured rate over the last `settings.days` working days, and the
    plant-wide figure."""
    latest = days.latest_start(now)
    first = max(latest - settings.days + 1, 0)
    since = days.start_of(first) if latest >= 0 else now
    done: dict[str, tuple[int, int]] = {
        stage: (count, units)
        for stage, count, units in conn.execute(
            "SELECT p.stage, COUNT(*), SUM(p.qty_milli) FROM progress_entries p "
            "WHERE p.kind = 'done' AND p.reverses IS NULL AND p.time_ms >= ? AND p.time_ms <= ? "
            "AND NOT EXISTS (SELECT 1 FROM progress_entries u WHERE u.reverses = p.id) "
            "GROUP BY p.stage",
            (int(since * 1000), int(now * 1000)),
        )
    }
    rates = {}
    plant_units = plant_hours = 0.0
    plant_count = 0
    for stage, (hours_per_day, parallel) in stages.items():
        count, units = done.get(stage, (0, 0))
        hours = clocks[stage].hours_at(now) - clocks[stage].hours_at(since)
        measured = None
        if count >= settings.min_completions and hours > 0 and units > 0:
            measured = units / 1000 / hours
        if count and hours > 0:
            plant_units += units / 1000
            plant_hours += hours
            plant_count += count
        rates[stage] = StageRate(stage, hours_per_day, parallel, count, units, hours, measured)
    if plant_count >= settings.min_completions and plant_units > 0:
        return rates, plant_units / plant_hours, "plant average"
    return rates, settings.fallback_per_hour, "plant default"


def _standard_times(
    conn: sqlite3.Connection,
) -> dict[str, list[tuple[str, float | None, float | None]]]:
    """Per product, its routing's steps in order: (stage, setup minutes, minutes per unit),
    None where not known."""
    routes: dict[str, list[tuple[str, float | None, float | None]]] = {}
    for product, stage, setup, run in conn.execute(
        "SELECT product, stage, setup_min, run_min_per_unit FROM routings ORDER BY product, seq"
    ):
        routes.setdefault(product, []).append((stage, setup, run))
    return routes


# ---------------------------------------------------------------- judging


def _deadline(due: str) -> float:
    """The end of a due date (local midnight after it), epoch seconds."""
    day = date.fromisoformat(due)
    return (datetime(day.year, day.month, day.day) + timedelta(days=1)).timestamp()


def _judge(
    finish: float, due: str, today: date, last: StageClock | None, deadline: float | None = None
) -> tuple[float, str]:
    """(slack in working hours of the last stage, risk) of a finish against a due date."""
    if deadline is None:
        deadline = _deadline(due)
    if last is None:
        slack, day_hours = (deadline - finish) / 3600, 24.0
    else:
        slack = last.hours_at(deadline) - last.hours_at(finish)
        day_hours = last.hours_per_day
    slack = round(slack, 3)
    if finish > deadline and slack >= 0:
        # After the due date, if outside the stage's hours (the night after it): no slack.
        slack = -0.001
    if due < today.isoformat():
        return slack, "late"
    if finish > deadline:
        return slack, "at_risk"
    if slack < day_hours:
        return slack, "tight"
    return slack, "on_track"


def _idle(row: BoardRow, now: float, clocks: dict[str, StageClock], idle_days: float) -> bool:
    """In progress, and no posting for `idle_days` working days of the stage it is at."""
    if row.last_activity_ms is None or row.status != "in_progress" or not row.stages:
        return False
    stage = current_stage(row.qty_milli, row.stages) or row.stages[-1][0]
    clock = clocks.get(stage)
    last = row.last_activity_ms / 1000
    if clock is None:
        return (now - last) / 86_400 > idle_days
    return clock.hours_at(now) - clock.hours_at(last) > idle_days * clock.hours_per_day


# ---------------------------------------------------------------- the forecast


def forecast(
    conn: sqlite3.Connection,
    *,
    now_ms: int | None = None,
    rows: Sequence[BoardRow] | None = None,
    settings: ForecastSettings | None = None,
) -> Forecast:
    """Forecast every open work order (or `rows`, the board's rows of them, already read)."""
    at_ms = wall_ms() if now_ms is None else now_ms
    now = at_ms / 1000
    now_dt = datetime.fromtimestamp(now).astimezone()
    today = now_dt.date()
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")  # the orders, the rates and the times from one commit
    try:
        settings = settings or ForecastSettings.read(conn)
        open_rows = board_rows(conn) if rows is None else rows
        capacity = {
            code: (float(hours), int(parallel))
            for code, hours, parallel in conn.execute(
                "SELECT code, hours_per_day, parallel FROM stages"
            )
        }
        sequence = [code for code, _ in stage_sequence(conn)]
        standards = _standard_times(conn)
        first = today - timedelta(days=max(14, 3 * settings.days))
        days = WorkingDays.read(conn, first, settings.shift_start_min)
        clocks = {code: StageClock(days, capacity[code][0]) for code in sequence}
        rates, plant_rate, plant_basis = _rates(conn, days, clocks, capacity, now, settings)
    finally:
        if own:
            conn.execute("COMMIT")
    times = _StepTimes(rates, standards, plant_rate)
    plan = ForwardPass(open_rows, times, clocks, sequence, now).run()
    result = Forecast(now_dt, today, settings, rates, plant_rate, plant_basis, {}, clocks, plan)
    result.orders = {row.number: result.judge(o) for o, row in enumerate(open_rows)}
    return result


class _StepTimes:
    """Each step of a route: the stage's measured rate, else the product's routing step's
    standard times, else the plant-wide figure."""

    def __init__(
        self, rates: dict[str, StageRate],
        standards: dict[str, list[tuple[str, float | None, float | None]]], plant_rate: float,
    ) -> None:  # fmt: skip
        self.rates = rates
        self.standards = standards
        self.plant_rate = plant_rate

    def __call__(self, product: str, codes: tuple[str, ...]) -> list[StepTime]:
        return [self._step(product, codes, i) for i in range(len(codes))]

    def _step(self, product: str, codes: tuple[str, ...], index: int) -> StepTime:
        stage = codes[index]
        rate = self.rates.get(stage)
        if rate is not None and rate.measured_per_hour is not None:
            return StepTime(stage, 0.0, rate.measured_per_hour, "measured")
        # The product's routing step matching this one: the same stage, the same
        # occurrence of it (a route may visit a stage twice).
        nth = codes[:index].count(stage)
        matching = [step for step in self.standards.get(product, ()) if step[0] == stage]
        if nth < len(matching) and matching[nth][2] is not None:
            _, setup, run = matching[nth]
            parallel = rate.parallel if rate is not None else 1
            per_hour = parallel * 60 / run if run else None
            return StepTime(stage, (setup or 0.0) / 60, per_hour, "standard")
        return StepTime(stage, 0.0, self.plant_rate, "plant")


def _local(t: float) -> datetime:
    return datetime.fromtimestamp(t).astimezone()


class LiveForecast:
    """The forecast a live board shows. A full forecast costs ~100 ms at 5,000 open orders,
    too much for every commit's refresh, so `update` forecasts every order only when the
    board reads every order (`full`) or a change brings an order it has not planned; for
    the orders a change touched it judges them again against the last plan
    (`Forecast.rejudge`): a due date moved shows its risk at once. `due` tells the board
    when to ask for a full one: `after_change_ms` after a change, `stale_ms` without (idle
    marks come with time alone). Use from one thread."""

    def __init__(self, *, after_change_ms: int = 5_000, stale_ms: int = 15_000) -> None:
        self.after_change_ms = after_change_ms
        self.stale_ms = stale_ms
        self.result: Forecast | None = None
        self.made_ms = 0
        self.changed = False  # something was judged again since the last full forecast

    def due(self, now_ms: int) -> bool:
        """Whether a full forecast is due (never before the first)."""
        if self.result is None:
            return False
        age = now_ms - self.made_ms
        return not 0 <= age < (self.after_change_ms if self.changed else self.stale_ms)

    def update(
        self,
        conn: sqlite3.Connection,
        orders: Sequence[BoardRow],
        touched: Sequence[BoardRow],
        *,
        full: bool,
        now_ms: int,
    ) -> tuple[bool, dict[str, OrderForecast]]:
        """(whether every order was forecast again, the forecasts that are new): `orders`
        every open order as the board holds them now, `touched` those a change touched."""
        result = self.result
        if result is None or full or any(row.number not in result.orders for row in touched):
            self.result = forecast(conn, now_ms=now_ms, rows=orders)
            self.made_ms = now_ms
            self.changed = False
            return True, self.result.orders
        changed = {}
        for row in touched:
            again = result.rejudge(row, now_ms=now_ms)
            if again is not None:
                changed[row.number] = again
                result.orders[row.number] = again
        self.changed = self.changed or bool(touched)
        return False, changed


def most_urgent_first(orders: Iterable[OrderForecast]) -> list[OrderForecast]:
    """Late, then at risk, then tight, then on track; each by projected finish."""
    rank = {risk: n for n, risk in enumerate(RISKS)}
    return sorted(orders, key=lambda o: (rank[o.risk], o.finish_ts, o.number))
