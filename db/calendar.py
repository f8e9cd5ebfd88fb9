"""Working time: which days the plant works (the `calendar` table, else Monday to Friday)
and when a stage works on them (its `hours_per_day` from the shift start), so the
forecast counts the hours a stage can work, not hours on the wall clock.

A stage's working time is a line of hours: `StageClock.hours_at(t)` counts the stage's
working hours from the clock's first day up to wall time `t` (epoch seconds), and
`time_at(h)` turns such a count back into wall time. Every working day gives each stage
the same window, `hours_per_day` long from the shift start, so the count at the start of
the k-th working day is k × hours_per_day and both directions are one bisect.
"""

from __future__ import annotations

import math
import sqlite3
from bisect import bisect_right
from datetime import date, datetime, timedelta

# Monday to Friday, unless the calendar says otherwise for a date.
WEEKDAYS = frozenset(range(5))
# How far ahead working days are laid out at most: a queue beyond fifty years is a
# mistake in the data (a rate of a unit a year), not a plan.
MAX_DAYS = 50 * 366


class WorkingDays:
    """The plant's working days from `first` on, each with its shift start (epoch seconds,
    local time), laid out as far as a caller asks."""

    def __init__(self, first: date, overrides: dict[date, bool], shift_start_min: int) -> None:
        self.first = first
        self.overrides = overrides
        self.shift_start = timedelta(minutes=shift_start_min)
        self.starts: list[float] = []  # shift start of each working day, ascending
        self.days: list[date] = []  # the working days themselves
        self._next = first

    @classmethod
    def read(cls, conn: sqlite3.Connection, first: date, shift_start_min: int) -> WorkingDays:
        overrides = {
            date.fromisoformat(day): bool(working)
            for day, working in conn.execute(
                "SELECT date, working FROM calendar WHERE date >= ?", (first.isoformat(),)
            )
        }
        return cls(first, overrides, shift_start_min)

    def working(self, day: date) -> bool:
        override = self.overrides.get(day)
        return day.weekday() in WEEKDAYS if override is None else override

    def _extend(self, days: int) -> None:
        stop = self._next + timedelta(days=days)
        if (stop - self.first).days > MAX_DAYS:
            raise ValueError("the forecast runs beyond fifty years: check the rates")
        day = self._next
        one_day = timedelta(days=1)
        working = self.working
        while day < stop:
            if working(day):
                # A naive datetime is local time: the shift starts at the same clock time
                # on either side of a daylight-saving change.
                start = datetime(day.year, day.month, day.day) + self.shift_start
                self.starts.append(start.timestamp())
                self.days.append(day)
            day += one_day
        self._next = stop

    def upto_index(self, k: int) -> None:
        """Lay out working days until the k-th (from 0) is known."""
        while len(self.starts) <= k:
            self._extend(max(64, 2 * (k - len(self.starts) + 1)))

    def upto_time(self, t: float) -> None:
        """Lay out working days until one starts after `t`."""
        while not self.starts or self.starts[-1] <= t:
            self._extend(64 if not self.starts else max(64, len(self.days)))

    def start_of(self, k: int) -> float:
        self.upto_index(k)
        return self.starts[k]

    def latest_start(self, t: float) -> int:
        """The index of the last working day starting at or before `t` (-1: none)."""
        self.upto_time(t)
        return bisect_right(self.starts, t) - 1


class StageClock:
    """One stage's working hours on the plant's working days."""

    def __init__(self, days: WorkingDays, hours_per_day: float) -> None:
        self.days = days
        self.hours_per_day = hours_per_day
        self._length = hours_per_day * 3600.0

    def hours_at(self, t: float) -> float:
        """Working hours from the first working day's shift start up to wall time `t`."""
        starts = self.days.starts
        if not starts or starts[-1] <= t:
            self.days.upto_time(t)
        k = bisect_right(starts, t) - 1
        if k < 0:
            return 0.0
        within = t - starts[k]
        if within > self._length:
            within = self._length
        return k * self.hours_per_day + within / 3600.0

    def time_at(self, hours: float) -> float:
        """The wall time at which the stage has worked `hours` (the inverse of hours_at; at
        the end of a day's window it is that window's end, not the next day's start)."""
        if hours <= 0:
            return self.days.start_of(0)
        k = math.ceil(hours / self.hours_per_day) - 1
        starts = self.days.starts
        if k >= len(starts):
            self.days.upto_index(k)
        return starts[k] + (hours - k * self.hours_per_day) * 3600.0

    def start_at(self, hours: float) -> float:
        """The wall time at which work begun after `hours` working hours starts: at the end
        of a day's window, the next working day's start."""
        k = max(int(hours // self.hours_per_day), 0)
        return self.days.start_of(k) + (hours - k * self.hours_per_day) * 3600.0

    def day_of(self, hours: float) -> date:
        """The working day during which the stage's `hours`-th working hour falls."""
        k = max(math.ceil(hours / self.hours_per_day) - 1, 0)
        self.days.upto_index(k)
        return self.days.days[k]
