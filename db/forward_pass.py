"""The forecast's forward pass (db/forecast.py): every open order's remaining units planned
through its route on finite capacity, in each stage's working hours (db/calendar.py).

At a stage, the units already waiting there are ready now; the rest are ready when the
order's previous stage has done them. A stage works one order at a time; when it comes
free it takes, of the work that is ready, the most urgent (priority 1 first, then the
earliest due date). Orders on hold are planned after all the others, so they take no
capacity from them. Stages are planned in the plant's route order (db.stages.
stage_sequence), so each stage sees every job's ready time before it plans; a route
running against that order (a stage visited twice) is planned in a further round.

Jobs are plain slotted objects in lists, and the stage's queue a heap of integers:
5,000 open orders make some 30,000 jobs per forecast.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heappop, heappush

from db.board import BoardRow, StageTotals
from db.calendar import StageClock


@dataclass(frozen=True, slots=True)
class StepTime:
    """How long one step of a route takes: its setup, its rate, and where they come from."""

    stage: str
    setup_hours: float  # charged once, to an order that has not started at the stage
    per_hour: float | None  # units per working hour; None: no time per unit
    source: str  # measured | standard | plant


class Job:
    """Some of an order's units at one step: those waiting there now (part 0), or those
    still to come from the step before (part 1)."""

    __slots__ = ("order", "step", "part", "rank", "units", "hours", "ready_t", "ready",
                 "start", "turn", "finish_t", "followed")  # fmt: skip
    # Set when the stage plans the job: when its units are there and when the stage
    # starts on them (its working hours), and its turn (how many jobs the stage took
    # before it).
    ready: float
    start: float
    turn: int

    def __init__(
        self, order: int, step: int, part: int, rank: int, units: int, hours: float,
        ready_t: float,
    ) -> None:  # fmt: skip
        self.order = order
        self.step = step
        self.part = part
        self.rank = rank  # place in every stage's queue: lower goes first
        self.units = units
        self.hours = hours
        self.ready_t = ready_t  # wall time the units are at the stage; -1: not known yet
        self.finish_t = -1.0  # -1: not planned yet
        # Part 0 with a part 1 behind it: the step's finish is part 1's, so this one's
        # finish in wall time is never asked for (and not worked out).
        self.followed = False


class ForwardPass:
    """Plan `rows` (open orders, as the board reads them) from wall time `now`."""

    def __init__(
        self,
        rows: Sequence[BoardRow],
        step_times: Callable[[str, tuple[str, ...]], list[StepTime]],
        clocks: dict[str, StageClock],
        sequence: list[str],
        now: float,
    ) -> None:
        self.rows = rows
        self.step_times = step_times
        self.clocks = clocks
        self.sequence = sequence
        self.now = now
        # per order, per step of its route: its jobs (none, one, or waiting and to come)
        self.jobs: list[list[list[Job]]] = []
        self.times: list[list[StepTime]] = []
        # per order: when its last unit is done (wall time; `now` when nothing is left)
        self.finish: list[float] = []
        # per stage: the finish (its working hours) of every job it took, in turn
        self.finishes: dict[str, list[float]] = {s: [] for s in sequence}

    def run(self) -> ForwardPass:
        now = self.now
        rows = self.rows
        # Every stage's queue order, once: rank by (held last, priority, due, number).
        by_urgency = sorted(
            range(len(rows)),
            key=lambda o: (rows[o].status == "on_hold", rows[o].priority, rows[o].due,
                           rows[o].number),
        )  # fmt: skip
        rank = [0] * len(rows)
        for place, o in enumerate(by_urgency):
            rank[o] = place
        # A job's queue key: its order's rank, then its step and part; each order's keys
        # span the same width, so the rank decides whatever the lengths of the routes.
        width = 2 * max((len(row.stages) for row in rows), default=1)
        active: dict[str, list[Job]] = {s: [] for s in self.sequence}
        held: dict[str, list[Job]] = {s: [] for s in self.sequence}
        routes: dict[tuple[StageTotals, ...], tuple[str, ...]] = {}
        # per (product, route): each step's stage, hours per thousandth, setup hours
        route_steps: dict[tuple[str, tuple[str, ...]], list[tuple[str, float, float]]] = {}
        route_times: dict[tuple[str, tuple[str, ...]], list[StepTime]] = {}
        jobs_of, times_of = self.jobs, self.times
        for o, row in enumerate(rows):
            stages = row.stages
            codes = routes.get(stages)
            if codes is None:
                codes = routes[stages] = tuple(code for code, _, _ in stages)
            key = (row.product, codes)
            steps_of = route_steps.get(key)
            if steps_of is None:
                times = route_times[key] = self.step_times(row.product, codes)
                steps_of = route_steps[key] = [
                    (t.stage, 1 / (1000 * t.per_hour) if t.per_hour else 0.0, t.setup_hours)
                    for t in times
                ]
            queue = held if row.status == "on_hold" else active
            qty = row.qty_milli
            place = rank[o] * width
            steps: list[list[Job]] = []
            scrapped = 0
            arrived = qty
            for i, (_, done, scrap) in enumerate(stages):
                scrapped += scrap
                remaining = qty - scrapped - done
                if remaining <= 0:
                    steps.append([])
                    arrived = done
                    continue
                waiting = arrived - done - scrap
                waiting = 0 if waiting < 0 else remaining if waiting > remaining else waiting
                arrived = done
                stage, per_milli, setup = steps_of[i]
                if done or scrap:
                    setup = 0.0  # the stage has begun on the order: set up already
                target = queue.get(stage)
                if waiting:
                    job = Job(o, i, 0, place + 2 * i, waiting, waiting * per_milli + setup, now)
                    setup = 0.0
                    if remaining > waiting:
                        units = remaining - waiting
                        later = Job(o, i, 1, place + 2 * i + 1, units, units * per_milli, -1.0)
                        job.followed = True
                        jobs = [job, later]
                    else:
                        jobs = [job]
                else:
                    jobs = [Job(o, i, 1, place + 2 * i + 1, remaining,
                                remaining * per_milli + setup, -1.0)]  # fmt: skip
                if target is not None:
                    target += jobs
                steps.append(jobs)
            jobs_of.append(steps)
            times_of.append(route_times[key])
        self.finish = [now] * len(rows)
        free = {stage: self.clocks[stage].hours_at(now) for stage in self.sequence}
        for queue in (active, held):
            self._plan(queue, free)
        return self

    def _ready_time(self, job: Job) -> float:
        """When the job's units reach its stage (wall time); -1 while the step before is
        not planned yet."""
        if job.ready_t >= 0:
            return job.ready_t
        steps = self.jobs[job.order]
        step = job.step - 1
        while step >= 0 and not steps[step]:
            step -= 1  # a step with nothing left: its units are further back
        if step < 0:
            return self.now
        return steps[step][-1].finish_t

    def _plan(self, queue: dict[str, list[Job]], free: dict[str, float]) -> None:
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
                    at = job.ready_t
                    if at < 0:
                        at = self._ready_time(job)
                    if at < 0:
                        later.append(job)
                    else:
                        job.ready_t = at
                        ready.append(job)
                free[stage] = self._dispatch(stage, ready, free[stage])
                if later:
                    waiting[stage] = later
                else:
                    del waiting[stage]
        for stage, jobs in waiting.items():  # only a route in a circle gets here: plan now
            for job in jobs:
                job.ready_t = self.now
            free[stage] = self._dispatch(stage, jobs, free[stage])

    def _dispatch(self, stage: str, jobs: list[Job], free: float) -> float:
        """One stage, one order at a time, from `free` (its working hours): whenever it comes
        free it takes the most urgent ready job. Returns when it is free again."""
        if not jobs:
            return free
        clock = self.clocks[stage]
        hours_at, time_at = clock.hours_at, clock.time_at
        now = self.now
        now_hours = hours_at(now)
        for job in jobs:
            job.ready = now_hours if job.ready_t == now else hours_at(job.ready_t)
        jobs.sort(key=_by_ready)
        finish_of = self.finish
        heap: list[int] = []
        finishes = self.finishes[stage]
        n = len(jobs)
        t = free
        i = 0
        while i < n or heap:
            if not heap and jobs[i].ready > t:
                t = jobs[i].ready
            while i < n and jobs[i].ready <= t:
                heappush(heap, jobs[i].rank * n + i)  # the rank decides; the index rides along
                i += 1
            job = jobs[heappop(heap) % n]
            job.start = t
            job.turn = len(finishes)
            t += job.hours
            finishes.append(t)
            if job.followed:
                job.finish_t = job.ready_t  # planned; its step ends with its part 1
                continue
            job.finish_t = time_at(t) if job.hours else job.ready_t
            if job.finish_t > finish_of[job.order]:
                finish_of[job.order] = job.finish_t
        return t

    def ahead(self, stage: str, job: Job) -> int:
        """Jobs the stage works on after the job's units are there and before it starts
        on them: the queue ahead of it."""
        finishes = self.finishes[stage]
        return job.turn - bisect_right(finishes, job.ready, 0, job.turn)


def _by_ready(job: Job) -> float:
    return job.ready
