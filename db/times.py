"""Times the way a person on the floor reads them: local midnight, a clock time ("14:05:03"
today, "11-20 14:05" before). How long ago is worded in tui/formatting.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta


def day_start_ms(now_ms: int, *, days_back: int = 0) -> int:
    """Local midnight starting the day `days_back` days before the one holding `now_ms`."""
    local = datetime.fromtimestamp(now_ms / 1000).astimezone()
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_back)
    # Re-attach the zone of that date, so a DST change in between does not shift midnight.
    midnight = midnight.replace(tzinfo=None).astimezone()
    return int(midnight.timestamp() * 1000)


def clock_time(ms: int, *, now_ms: int) -> str:
    """Local time: "14:05:03" today, "11-20 14:05" on another day."""
    stamp = datetime.fromtimestamp(ms / 1000).astimezone()
    if day_start_ms(now_ms) <= ms < day_start_ms(now_ms, days_back=-1):
        return stamp.strftime("%H:%M:%S")
    return stamp.strftime("%m-%d %H:%M")


def local_day_ms(day: date) -> tuple[int, int]:
    """[start, end) of a local calendar day in UTC milliseconds (a DST day is 23 or 25 h)."""
    start = datetime(day.year, day.month, day.day).astimezone()
    end = (datetime(day.year, day.month, day.day) + timedelta(days=1)).astimezone()
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def local_date(ms: int) -> date:
    """The local calendar day holding `ms`."""
    return datetime.fromtimestamp(ms / 1000).astimezone().date()
