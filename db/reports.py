"""Read-side queries behind the command line's reports: status, stock, movements, scans,
stage progress and the forecast.

Each returns plain dicts in the JSON shapes of SPEC §6 (quantities as exact numbers,
times as ISO-8601 UTC; a forecast's times in local time with their offset, as a plant
reads a finish), so `--json` output and the human tables share one source.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from db.completions import require_stage, stage_completions
from db.forecast import Forecast, OrderForecast, StageForecast, forecast, most_urgent_first
from db.quantity import json_number
from db.schema import OPEN_STATUSES


class UnknownOrder(LookupError):
    """A work order number the record does not hold."""


def iso_time(ms: int | None) -> str | None:
    if ms is None:
        return None
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def raw_text(raw: bytes) -> str:
    """Scanner bytes for display: undecodable bytes shown as \\xNN, never dropped."""
    return bytes(raw).decode("utf-8", errors="backslashreplace")


def status(
    conn: sqlite3.Connection,
    *,
    open_only: bool = False,
    number: str | None = None,
    now_ms: int | None = None,
    with_forecast: bool = True,
) -> list[dict[str, Any]]:
    """Work orders and their stage progress; an open order's row carries its forecast
    (projected_finish, risk, idle, holding_stage), a closed one's nulls and false.
    UnknownOrder for a `number` the record does not hold."""
    today = date.today().isoformat()
    where, params = [], []
    if open_only:
        where.append(f"w.status IN {OPEN_STATUSES!r}")
    if number:
        where.append("w.number = ?")
        params.append(number)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    orders = conn.execute(
        f"SELECT number, product, qty_milli, due, status FROM work_orders w {clause} "
        "ORDER BY due, priority, number",
        params,
    ).fetchall()
    if number and not orders:
        raise UnknownOrder(f"no work order {number}")
    planned: dict[str, OrderForecast] = {}
    if with_forecast and any(o["status"] in OPEN_STATUSES for o in orders):
        planned = forecast(conn, now_ms=now_ms).orders
    stage_rows = conn.execute(
        "SELECT s.work_order, s.seq, s.stage, s.done_milli, s.scrap_milli "
        f"FROM work_order_stages s JOIN work_orders w ON w.number = s.work_order {clause} "
        "ORDER BY s.work_order, s.seq",
        params,
    ).fetchall()
    stages: dict[str, list[dict[str, Any]]] = {}
    for s in stage_rows:
        stages.setdefault(s["work_order"], []).append(
            {
                "seq": s["seq"],
                "stage": s["stage"],
                "done": json_number(s["done_milli"]),
                "scrap": json_number(s["scrap_milli"]),
            }
        )
    result = []
    for o in orders:
        own = stages.get(o["number"], [])
        result.append(
            {
                "number": o["number"],
                "product": o["product"],
                "qty": json_number(o["qty_milli"]),
                "due": o["due"],
                "status": o["status"],
                "stages": own,
                "completed": own[-1]["done"] if own else 0,
                "late": o["status"] in OPEN_STATUSES and o["due"] < today,
                **_outlook(planned.get(o["number"])),
            }
        )
    return result


def _outlook(planned: OrderForecast | None) -> dict[str, Any]:
    if planned is None:
        return {"projected_finish": None, "risk": None, "idle": False, "holding_stage": None}
    return {
        "projected_finish": local_time(planned.finish_ts),
        "risk": planned.risk,
        "idle": planned.idle,
        "holding_stage": planned.holding_stage,
    }


def local_time(seconds: float) -> str:
    """ISO 8601 local time with its offset, to the minute: "2026-11-20T11:05:00+01:00"."""
    return datetime.fromtimestamp(seconds).astimezone().isoformat(timespec="seconds")


def forecast_report(
    conn: sqlite3.Connection, *, number: str | None = None, now_ms: int | None = None
) -> tuple[Forecast, list[dict[str, Any]]]:
    """Every open order's forecast (or one order's), stage by stage, most at risk first.
    UnknownOrder for a number the record does not hold, LookupError for a closed one."""
    result = forecast(conn, now_ms=now_ms)
    if number is not None and number not in result.orders:
        row = conn.execute("SELECT status FROM work_orders WHERE number = ?", (number,)).fetchone()
        if row is None:
            raise UnknownOrder(f"no work order {number}")
        raise LookupError(
            f"work order {number} is {row['status'].replace('_', ' ')}: only open orders "
            "are forecast"
        )
    chosen = (
        [result.orders[number]] if number is not None else most_urgent_first(result.orders.values())
    )
    rows = []
    for planned in chosen:
        rows.append(
            {
                "number": planned.number,
                "product": planned.product,
                "due": planned.due,
                "priority": planned.priority,
                "status": planned.status,
                **_outlook(planned),
                "slack_hours": planned.slack_hours,
                "stages": [_stage(s) for s in result.stages(planned.number)],
            }
        )
    return result, rows


def _stage(stage: StageForecast) -> dict[str, Any]:
    return {
        "stage": stage.stage,
        "remaining": json_number(stage.remaining_milli),
        "waiting": json_number(stage.waiting_milli),
        "orders_ahead": stage.orders_ahead,
        "wait_hours": stage.wait_hours,
        "work_hours": stage.work_hours,
        "rate_per_hour": None if stage.per_hour is None else round(stage.per_hour, 3),
        "source": stage.source,
        "start": None if stage.start is None else stage.start.isoformat(timespec="seconds"),
        "finish": None if stage.finish is None else stage.finish.isoformat(timespec="seconds"),
    }


def stock(
    conn: sqlite3.Connection, *, item: str | None = None, location: str | None = None
) -> list[dict[str, Any]]:
    where, params = ["qty_milli != 0"], []
    if item:
        where.append("item = ?")
        params.append(item)
    if location:
        where.append("location = ?")
        params.append(location)
    rows = conn.execute(
        f"SELECT item, location, lot, qty_milli FROM stock WHERE {' AND '.join(where)} "
        "ORDER BY item, location, lot",
        params,
    ).fetchall()
    return [
        {
            "item": r["item"],
            "location": r["location"],
            "lot": r["lot"] or None,
            "qty": json_number(r["qty_milli"]),
        }
        for r in rows
    ]


def movements(
    conn: sqlite3.Connection,
    *,
    limit: int | None = None,
    work_order: str | None = None,
    item: str | None = None,
) -> list[dict[str, Any]]:
    where, params = [], []
    if work_order:
        where.append("work_order = ?")
        params.append(work_order)
    if item:
        where.append("item = ?")
        params.append(item)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    sql = f"SELECT * FROM movements {clause} ORDER BY id"
    if limit:
        sql = f"SELECT * FROM ({sql[: -len(' ORDER BY id')]} ORDER BY id DESC LIMIT {int(limit)}) "
        sql += "ORDER BY id"
    return [
        {
            "id": r["id"],
            "time": iso_time(r["time_ms"]),
            "kind": r["kind"],
            "item": r["item"],
            "lot": r["lot"] or None,
            "qty": json_number(r["qty_milli"]),
            "from_location": r["from_location"],
            "to_location": r["to_location"],
            "work_order": r["work_order"],
            "stage": r["stage"],
            "operator": r["operator"],
            "station": r["station"],
            "reverses": r["reverses"],
        }
        for r in conn.execute(sql, params)
    ]


def scans(
    conn: sqlite3.Connection,
    *,
    limit: int | None = None,
    station: str | None = None,
    status_filter: str | None = None,
) -> list[dict[str, Any]]:
    where, params = [], []
    if station:
        where.append("j.station = ?")
        params.append(station)
    if status_filter:
        where.append("o.status = ?")
        params.append(status_filter)
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    order = "ORDER BY j.id DESC LIMIT " + str(int(limit)) if limit else "ORDER BY j.id"
    rows = conn.execute(
        "SELECT j.id, j.time_ms, j.source, j.station, j.raw, o.status, o.message "
        f"FROM scan_journal j LEFT JOIN scan_outcomes o ON o.scan = j.id {clause} {order}",
        params,
    ).fetchall()
    if limit:
        rows = rows[::-1]
    return [
        {
            "id": r["id"],
            "time": iso_time(r["time_ms"]),
            "source": r["source"],
            "station": r["station"],
            "raw": raw_text(r["raw"]),
            "status": r["status"],
            "message": r["message"],
        }
        for r in rows
    ]


def progress(
    conn: sqlite3.Connection, day: date, *, stage: str | None = None
) -> list[dict[str, Any]]:
    """`shopfloor progress`: a day's stage completions that still stand (db.completions)."""
    if stage is not None:
        require_stage(conn, stage)
    return [
        {
            "id": c.id,
            "time": iso_time(c.time_ms),
            "operator": c.operator,
            "operator_name": c.operator_name,
            "station": c.station,
            "work_order": c.work_order,
            "product": c.product,
            "seq": c.seq,
            "stage": c.stage,
            "units": json_number(c.units_milli),
            "scrap": json_number(c.scrap_milli),
            "reason": c.reason,
        }
        for c in stage_completions(conn, day, stage=stage)
    ]
