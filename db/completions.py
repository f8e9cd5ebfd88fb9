"""Stage completions of a day: the progress entries that still stand (neither undone nor
an undo), who made them, when, for which order, at which stage, a scrap's reason: what
`shopfloor progress` lists and the day's report (db.day_report) adds up. Their sums over
all days are the stage totals `status` shows, since every undo takes back one entry whole.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from db.refusals import LedgerError
from db.stages import stage_sequence
from db.times import local_day_ms


@dataclass(frozen=True, slots=True)
class StageCompletion:
    """One progress entry that still stands: units completed (or scrapped) at a stage."""

    id: int
    time_ms: int
    work_order: str
    product: str
    seq: int
    stage: str
    kind: str  # done | scrap
    qty_milli: int
    operator: str | None
    operator_name: str | None
    station: str | None
    reason: str | None = None  # the reason code a scrap was posted with

    @property
    def units_milli(self) -> int:
        return self.qty_milli if self.kind == "done" else 0

    @property
    def scrap_milli(self) -> int:
        return self.qty_milli if self.kind == "scrap" else 0


def require_stage(conn: sqlite3.Connection, code: str) -> None:
    """Refuse a stage code the plant does not have, naming the ones it has."""
    codes = [c for c, _ in stage_sequence(conn)]
    if code not in codes:
        known = ", ".join(codes) or "none: import stages.csv"
        raise LedgerError(f"no stage {code!r}; the stages are {known}")


def stage_completions(
    conn: sqlite3.Connection, day: date, *, stage: str | None = None
) -> list[StageCompletion]:
    """The completions and scrap of a local calendar day that still stand, oldest first."""
    start, end = local_day_ms(day)
    where, params = "", [start, end]
    if stage is not None:
        where = "AND p.stage = ?"
    rows = conn.execute(
        "SELECT p.id, p.time_ms, p.work_order, w.product, p.seq, p.stage, p.kind, p.qty_milli,"
        " p.operator, o.name, p.station, p.reason FROM progress_entries p "
        "JOIN work_orders w ON w.number = p.work_order "
        "LEFT JOIN operators o ON o.badge = p.operator "
        "WHERE p.reverses IS NULL AND p.time_ms >= ? AND p.time_ms < ? "
        f"AND NOT EXISTS (SELECT 1 FROM progress_entries u WHERE u.reverses = p.id) {where} "
        "ORDER BY p.time_ms, p.id",
        (*params, stage) if stage is not None else params,
    ).fetchall()
    return [StageCompletion(*(r[i] for i in range(12))) for r in rows]
