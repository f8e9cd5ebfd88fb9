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
recent stage completions and one pass in Python: 5,000 open orders in well under the
time of a board refresh of SPEC §7's budget for a forecast (bench/forecast_bench.py).
"""

from __future__ import annotations

import heapq
import sqlite3
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta

from db.board import BoardRow, board_rows, current_stage
from db.calendar import StageClock, WorkingDays
from db.connection import now_ms as wall_ms
from db.roles import setting
from db.stages import stage_sequence

RISKS = ("late", "at_risk", "tight", "on_track")
SOURCES = ("measured", "standard", "plant")


@dataclass(frozen=True)
class ForecastSettings:
    """The forecast's knobs, kept in the settings table under `forecast_<name>`."""

    days: int = 5  # working days of completions a measured rate looks back over
    min_completions: int = 5  # completions a stage needs in them before it counts
    fallback_per_hour: float = 2.0  # units per working hour when nothing else is known
    idle_days: float = 1.0  # working days of its stage without a posting: the order is idle
    shift_start: str = "06:00"  # when a working day's hours begin (local time)

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> ForecastSettings:
        """The settings table's values; one that does not parse keeps its default."""
        values: dict[str, object] = {}
        for spec in fields(cls):
            text = setting(conn, f"forecast_{spec.name}")
            if text:
                try:
                    values[spec.name] = parse_setting(spec.name, text)
                except ValueError:
                    continue
        return cls(**values)  # type: ignore[arg-type]

    @property
    def shift_start_min(self) -> int:
        hours, minutes = self.shift_start.split(":")
        return int(hours) * 60 + int(minutes)


def parse_setting(name: str, text: str) -> int | float | str:
    """A forecast setting's value from text, or ValueError saying what it must be."""
    if name in ("days", "min_completions"):
        number = int(text)
        if not 1 <= number <= 60:
            raise ValueError(f"{name} must be a whole number from 1 to 60")
        return number
    if name in ("fallback_per_hour", "idle_days"):
        amount = float(text)
        if not 0 < amount <= 10_000:
            raise ValueError(f"{name} must be a number above 0")
        return amount
    if name == "shift_start":
        try:
            parsed = datetime.strptime(text, "%H:%M")
        except ValueError:
            raise ValueError("shift_start must be a time of day as HH:MM") from None
        return parsed.strftime("%H:%M")
    raise ValueError(f"{name} is not a forecast setting")


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
    projected_finish: datetime
    slack_hours: float
    holding_stage: str | None
    risk: str  # one of RISKS
    idle: bool
    stages: tuple[StageForecast, ...]

    @property
    def marks(self) -> tuple[str, ...]:
        """What the board marks the order with, most urgent first."""
        risk = () if self.risk in ("on_track", "tight") else (self.risk,)
        return risk + (("idle",) if self.idle else ())


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
    # per stage: the (start, finish) working hours of each job the pass planned
    intervals: dict[str, list[tuple[float, float]]] = field(repr=False)

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
        slack, risk = _judge(planned.projected_finish.timestamp(), row.due, today, last)
        idle = _idle(row, now, self.clocks, self.settings.idle_days)
        return replace(
            planned, due=row.due, priority=row.priority, status=row.status,
            slack_hours=slack, risk=risk, idle=idle,
        )  # fmt: skip

    def load(self) -> dict[str, list[DayLoad]]:
        """Per stage (route order), the planned working hours on each working day from
        today to its last planned job, against its hours per day."""
        result: dict[str, list[DayLoad]] = {}
        for stage, clock in self.clocks.items():
            per_day: dict[int, float] = {}
            h = clock.hours_per_day
            for start, finish in self.intervals.get(stage, ()):
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


def _judge(finish: float, due: str, today: date, last: StageClock | None) -> tuple[float, str]:
    """(slack in working hours of the last stage, risk) of a finish against a due date."""
    day = date.fromisoformat(due)
    end = datetime(day.year, day.month, day.day) + timedelta(days=1)
    deadline = end.timestamp()
    if last is None:
        slack = (deadline - finish) / 3600
        day_hours = 24.0
    else:
        slack = last.hours_at(deadline) - last.hours_at(finish)
        if finish > deadline and slack >= 0:
            slack = -1e-6  # finishing after the due date outside working hours is still late
        day_hours = last.hours_per_day
    slack = round(slack, 3) if abs(slack) >= 5e-4 else (0.0 if finish <= deadline else -0.001)
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


# ---------------------------------------------------------------- the pass


class _Job:
    """Some of an order's units at one stage: those waiting there now, or those to come."""

    __slots__ = ("order", "step", "key", "units", "hours", "ready_t", "ready", "start",
                 "finish", "finish_t", "start_t", "ahead", "wait")  # fmt: skip

    def __init__(
        self, order: int, step: int, key: tuple[int, str, str, int], units: int, hours: float,
        ready_t: float | None,
    ) -> None:  # fmt: skip
        self.order = order
        self.step = step
        self.key = key  # priority, due, number, part: the stage's queue order
        self.units = units
        self.hours = hours
        self.ready_t = ready_t  # wall time the units are at the stage (None: not known yet)
        self.ready = 0.0  # the same in the stage's working hours
        self.start = 0.0
        self.finish = 0.0
        self.finish_t = 0.0
        self.start_t = 0.0
        self.ahead = 0
        self.wait = 0.0


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
        order_of_stages = [code for code, _ in stage_sequence(conn)]
        standards = _standard_times(conn)
        first = today - timedelta(days=max(14, 3 * settings.days))
        days = WorkingDays.read(conn, first, settings.shift_start_min)
        clocks = {code: StageClock(days, capacity[code][0]) for code in order_of_stages}
        rates, plant_rate, plant_basis = _rates(conn, days, clocks, capacity, now, settings)
    finally:
        if own:
            conn.execute("COMMIT")
    plan = _Pass(open_rows, rates, plant_rate, standards, clocks, order_of_stages, now)
    plan.run()
    orders = plan.results(today, settings.idle_days)
    return Forecast(
        now_dt, today, settings, rates, plant_rate, plant_basis, orders, clocks, plan.intervals
    )


class _Pass:
    """The forward pass over every open order's remaining work."""

    def __init__(
        self, rows: Sequence[BoardRow], rates: dict[str, StageRate], plant_rate: float,
        standards: dict[str, list[tuple[str, float | None, float | None]]],
        clocks: dict[str, StageClock], sequence: list[str], now: float,
    ) -> None:  # fmt: skip
        self.rows = rows
        self.rates = rates
        self.plant_rate = plant_rate
        self.standards = standards
        self.clocks = clocks
        self.sequence = sequence
        self.now = now
        # per order, per step of its route: its jobs (none, or waiting and/or arriving)
        self.jobs: list[list[list[_Job]]] = []
        self.sources: list[list[tuple[float | None, str]]] = []
        self.intervals: dict[str, list[tuple[float, float]]] = {s: [] for s in sequence}

    def _step_time(
        self, product: str, codes: tuple[str, ...], index: int, started: bool
    ) -> tuple[float, float | None, str]:
        """(setup hours, units per hour or None, source) of one step of a route."""
        stage = codes[index]
        rate = self.rates.get(stage)
        if rate is not None and rate.measured_per_hour is not None:
            return 0.0, rate.measured_per_hour, "measured"
        route = self.standards.get(product)
        if route is not None:
            # The product's routing step matching this one: the same stage, the same
            # occurrence of it (a route may visit a stage twice).
            nth = codes[:index].count(stage)
            matching = [step for step in route if step[0] == stage]
            if nth < len(matching):
                _, setup, run = matching[nth]
                if run is not None:
                    parallel = rate.parallel if rate is not None else 1
                    setup_hours = 0.0 if started or setup is None else setup / 60
                    per_hour = parallel * 60 / run if run > 0 else None
                    return setup_hours, per_hour, "standard"
        return 0.0, self.plant_rate, "plant"

    def run(self) -> None:
        now = self.now
        pending: dict[str, list[_Job]] = {s: [] for s in self.sequence}
        held: dict[str, list[_Job]] = {s: [] for s in self.sequence}
        times: dict[tuple[str, tuple[str, ...], int, bool], tuple[float, float | None, str]] = {}
        for o, row in enumerate(self.rows):
            qty = row.qty_milli
            codes = tuple(code for code, _, _ in row.stages)
            queue = held if row.status == "on_hold" else pending
            steps: list[list[_Job]] = []
            sources: list[tuple[float | None, str]] = []
            scrapped = 0
            arrived = qty
            for i, (stage, done, scrap) in enumerate(row.stages):
                scrapped += scrap
                remaining = max(qty - scrapped - done, 0)
                waiting = min(max(arrived - done - scrap, 0), remaining)
                arriving = remaining - waiting
                arrived = done
                started = done + scrap > 0
                step_key = (row.product, codes, i, started)
                step = times.get(step_key)
                if step is None:
                    step = times[step_key] = self._step_time(row.product, codes, i, started)
                setup, per_hour, source = step
                sources.append((per_hour, source))
                jobs: list[_Job] = []
                for part, units, ready in ((0, waiting, now), (1, arriving, None)):
                    if units <= 0:
                        continue
                    hours = units / 1000 / per_hour if per_hour else 0.0
                    if not jobs:
                        hours += setup
                    key = (row.priority, row.due, row.number, part)
                    job = _Job(o, i, key, units, hours, ready)
                    jobs.append(job)
                    if stage in queue:
                        queue[stage].append(job)
                steps.append(jobs)
            self.jobs.append(steps)
            self.sources.append(sources)
        free = {stage: self.clocks[stage].hours_at(now) for stage in self.sequence}
        for queue in (pending, held):
            self._schedule(queue, free)

    def _ready_time(self, job: _Job) -> float | None:
        if job.ready_t is not None:
            return job.ready_t
        if job.step == 0:
            return self.now
        before = self.jobs[job.order][job.step - 1]
        if not before:
            # Nothing left at the step before: its units are waiting here already.
            return self._ready_time_of_step(job.order, job.step - 1)
        last = before[-1]
        return last.finish_t if last.finish_t else None  # None: not planned yet

    def _ready_time_of_step(self, order: int, step: int) -> float | None:
        while step > 0 and not self.jobs[order][step - 1]:
            step -= 1
        if step == 0:
            return self.now
        last = self.jobs[order][step - 1][-1]
        return last.finish_t if last.finish_t else None

    def _schedule(self, queue: dict[str, list[_Job]], free: dict[str, float]) -> None:
        """Plan every job of `queue`, stage by stage in route order, in rounds while a
        route runs against that order (a stage visited twice, routings in conflict)."""
        waiting = {stage: jobs for stage, jobs in queue.items() if jobs}
        for _ in range(len(self.sequence) + 1):
            if not waiting:
                return
            for stage in self.sequence:
                jobs = waiting.get(stage)
                if not jobs:
                    continue
                ready, later = [], []
                for job in jobs:
                    at = self._ready_time(job)
                    if at is None:
                        later.append(job)
                    else:
                        job.ready_t = at
                        ready.append(job)
                free[stage] = self._dispatch(stage, ready, free[stage])
                if later:
                    waiting[stage] = later
                else:
                    del waiting[stage]
        for stage, jobs in waiting.items():  # only a broken route gets here: plan them now
            for job in jobs:
                job.ready_t = self.now
            free[stage] = self._dispatch(stage, jobs, free[stage])

    def _dispatch(self, stage: str, jobs: list[_Job], free: float) -> float:
        """One stage, one order at a time: when it comes free it takes the most urgent of
        the ready jobs. Returns when (in its working hours) the stage is free again."""
        if not jobs:
            return free
        clock = self.clocks[stage]
        hours_at, time_at = clock.hours_at, clock.time_at
        for job in jobs:
            job.ready = hours_at(job.ready_t)  # type: ignore[arg-type]
        jobs.sort(key=_by_ready)
        heap: list[tuple[tuple[int, str, str, int], int]] = []
        push, pop = heapq.heappush, heapq.heappop
        finishes: list[float] = []
        spans = self.intervals[stage]
        t = free
        i, n = 0, len(jobs)
        while i < n or heap:
            if not heap and jobs[i].ready > t:
                t = jobs[i].ready
            while i < n and jobs[i].ready <= t:
                push(heap, (jobs[i].key, i))
                i += 1
            job = jobs[pop(heap)[1]]
            job.wait = t - job.ready
            job.ahead = len(finishes) - bisect_right(finishes, job.ready)
            job.start = t
            job.start_t = time_at(t) if job.hours else job.ready_t  # type: ignore[assignment]
            t += job.hours
            job.finish = t
            job.finish_t = time_at(t) if job.hours else job.start_t
            finishes.append(t)
            spans.append((job.start, t))
        return t

    def results(self, today: date, idle_days: float) -> dict[str, OrderForecast]:
        now = self.now
        orders = {}
        for o, row in enumerate(self.rows):
            steps = self.jobs[o]
            finish = now
            stage_rows = []
            longest_wait = (0.0, "")
            most_work = (0.0, "")
            for i, (stage, _, _) in enumerate(row.stages):
                jobs = steps[i]
                per_hour, source = self.sources[o][i]
                if not jobs:
                    stage_rows.append(StageForecast(stage, 0, 0, 0, 0.0, 0.0, per_hour, source,
                                                    None, None))  # fmt: skip
                    continue
                wait = sum(job.wait for job in jobs)
                work = sum(job.hours for job in jobs)
                end = jobs[-1].finish_t
                finish = max(finish, end)
                if wait > longest_wait[0] + 1e-9:
                    longest_wait = (wait, stage)
                if work > most_work[0] + 1e-9:
                    most_work = (work, stage)
                stage_rows.append(
                    StageForecast(
                        stage,
                        sum(job.units for job in jobs),
                        jobs[0].units if jobs[0].key[-1] == 0 else 0,
                        max(job.ahead for job in jobs),
                        round(wait, 3),
                        round(work, 3),
                        per_hour,
                        source,
                        _local(min(job.start_t for job in jobs)),
                        _local(end),
                    )
                )
            holding = longest_wait[1] or most_work[1] or None
            last = self.clocks.get(row.stages[-1][0]) if row.stages else None
            slack, risk = _judge(finish, row.due, today, last)
            orders[row.number] = OrderForecast(
                row.number, row.product, row.due, row.priority, row.status, _local(finish),
                slack, holding, risk, _idle(row, now, self.clocks, idle_days), tuple(stage_rows),
            )  # fmt: skip
        return orders


def _by_ready(job: _Job) -> float:
    return job.ready


def _local(t: float) -> datetime:
    return datetime.fromtimestamp(t).astimezone()


def forecast_orders(
    conn: sqlite3.Connection, numbers: Iterable[str] | None = None, *, now_ms: int | None = None
) -> list[OrderForecast]:
    """The forecast of every open order (or of those among `numbers`), most urgent risk
    first, then by projected finish."""
    result = forecast(conn, now_ms=now_ms)
    chosen = result.orders.values() if numbers is None else (
        result.orders[n] for n in numbers if n in result.orders
    )  # fmt: skip
    rank = {risk: n for n, risk in enumerate(RISKS)}
    return sorted(chosen, key=lambda o: (rank[o.risk], o.projected_finish, o.number))
