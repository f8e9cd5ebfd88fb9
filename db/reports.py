"""Read-side queries behind the command line's reports: status, stock, movements, scans,
stage progress.

Each returns plain dicts in the JSON shapes of SPEC §6 (quantities as exact numbers,
times as ISO-8601 UTC), so `--json` output and the human tables share one source.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from typing import Any

from db.completions import require_stage, stage_completions
from db.quantity import json_number
from db.schema import OPEN_STATUSES


def iso_time(ms: int | None) -> str | None:
    if ms is None:
        return None
    stamp = datetime.fromtimestamp(ms / 1000, UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def raw_text(raw: bytes) -> str:
    """Scanner bytes for display: undecodable bytes shown as \\xNN, never dropped."""
    return bytes(raw).decode("utf-8", errors="backslashreplace")


def status(
    conn: sqlite3.Connection, *, open_only: bool = False, number: str | None = None
) -> list[dict[str, Any]]:
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
            }
        )
    return result


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
        }
        for c in stage_completions(conn, day, stage=stage)
    ]
