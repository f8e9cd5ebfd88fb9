"""The forecast's settings (db/forecast.py): how far back a measured rate looks, how many
completions it needs, the plant's fallback rate, when an order is idle, when the working
day starts. Kept in the settings table as `forecast_<name>`; a supervisor changes them
with a reason, recorded in `setting_changes` as db.roles records the negative-stock
setting.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from datetime import datetime

from db.connection import now_ms as wall_ms
from db.connection import transaction
from db.refusals import LedgerError
from db.roles import require_role, set_setting, setting


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


def set_forecast_setting(
    conn: sqlite3.Connection, name: str, value: str, *, by: str, reason: str
) -> int | float | str:
    """A supervisor's change of one of the forecast's knobs, kept with who, when and why
    in `setting_changes` (as db.roles keeps the negative-stock setting)."""
    if name not in {spec.name for spec in fields(ForecastSettings)}:
        known = ", ".join(spec.name for spec in fields(ForecastSettings))
        raise LedgerError(f"{name} is not a forecast setting; choose from {known}")
    try:
        parsed = parse_setting(name, value.strip())
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    key = f"forecast_{name}"
    with transaction(conn):
        require_role(conn, by, "settings")
        if not reason.strip():
            raise LedgerError("say why the setting changes: the reason is kept with it")
        old = setting(conn, key, str(getattr(ForecastSettings(), name)))
        conn.execute(
            "INSERT INTO setting_changes (time_ms, key, old_value, new_value, by_operator, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)",
            (wall_ms(), key, old, str(parsed), by, reason.strip()),
        )
        set_setting(conn, key, str(parsed))
    return parsed


def parse_setting(name: str, text: str) -> int | float | str:
    """A forecast setting's value from text, or ValueError saying what it must be."""
    if name in ("days", "min_completions"):
        if not text.isascii() or not text.isdigit():
            raise ValueError(f"{name} must be a whole number from 1 to 60")
        number = int(text)
        if not 1 <= number <= 60:
            raise ValueError(f"{name} must be a whole number from 1 to 60")
        return number
    if name in ("fallback_per_hour", "idle_days"):
        try:
            amount = float(text)
        except ValueError:
            raise ValueError(f"{name} must be a number above 0, up to 10000") from None
        if not 0 < amount <= 10_000:  # NaN fails this too
            raise ValueError(f"{name} must be a number above 0, up to 10000")
        return amount
    if name == "shift_start":
        try:
            parsed = datetime.strptime(text, "%H:%M")
        except ValueError:
            raise ValueError("shift_start must be a time of day as HH:MM") from None
        return parsed.strftime("%H:%M")
    raise ValueError(f"{name} is not a forecast setting")
