"""What the scan station screen and the command palette read: the stations, one
station's session in words and its last scans, and every code a person may jump to.

A session whose station was idle past its sign-out time reads as nobody signed in
(db/idle.py), though the sign-out is written only when the next scan arrives there.

Apart from db/board.py so a terminal that opens on the board does not load these.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from db.connection import now_ms as record_now_ms
from db.idle import idle_view

SIGN_IN_PROMPT = "Scan your badge to sign in"


@dataclass(frozen=True, slots=True)
class StationInfo:
    code: str
    name: str
    location: str | None
    stage: str | None
    mode: str


@dataclass(frozen=True, slots=True)
class StationView:
    """A station's scan session as its kiosk shows it (the station's defaults when no
    scan has happened there yet)."""

    station: StationInfo
    mode: str
    operator: str | None
    operator_name: str | None
    work_order: str | None
    work_order_product: str | None
    location: str | None
    to_location: str | None
    qty_milli: int | None
    lot: str | None
    prompt: str
    updated_ms: int | None
    typed_qty: str | None = None  # the number pad's number so far ("12.")
    reason: str | None = None  # the reason code for the next scrap or adjustment
    # Who the station's idle time signed out (words), while nobody signed in since.
    signed_out: str | None = None
    # When the operator signed in now will be signed out, if no scan comes before.
    signs_out_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class StationScan:
    id: int
    time_ms: int
    source: str
    raw: bytes
    status: str | None
    message: str | None


def stations(conn: sqlite3.Connection) -> list[StationInfo]:
    return [
        StationInfo(r["code"], r["name"], r["location"], r["stage"], r["mode"])
        for r in conn.execute("SELECT * FROM stations ORDER BY code")
    ]


def station_view(
    conn: sqlite3.Connection, code: str, *, now_ms: int | None = None
) -> StationView | None:
    """The station's live session at `now_ms` (the record's clock when None); None if
    the station is not set up."""
    home = conn.execute("SELECT * FROM stations WHERE code = ?", (code,)).fetchone()
    if home is None:
        return None
    info = StationInfo(home["code"], home["name"], home["location"], home["stage"], home["mode"])
    row = conn.execute(
        "SELECT s.*, o.name AS operator_name, w.product AS work_order_product "
        "FROM station_sessions s LEFT JOIN operators o ON o.badge = s.operator "
        "LEFT JOIN work_orders w ON w.number = s.work_order WHERE s.station = ?",
        (code,),
    ).fetchone()
    if row is None:
        return StationView(
            station=info, mode=info.mode, operator=None, operator_name=None, work_order=None,
            work_order_product=None, location=None, to_location=None, qty_milli=None, lot=None,
            prompt=SIGN_IN_PROMPT, updated_ms=None,
        )  # fmt: skip
    now = record_now_ms() if now_ms is None else now_ms
    idle = idle_view(conn, code, row["operator"], now)
    if idle.signed_out is not None:
        # As the next scan will find it: nobody signed in, the context cleared.
        return StationView(
            station=info, mode=row["mode"], operator=None, operator_name=None,
            work_order=None, work_order_product=None, location=None, to_location=None,
            qty_milli=None, lot=None, prompt=SIGN_IN_PROMPT, updated_ms=row["updated_ms"],
            signed_out=idle.signed_out,
        )  # fmt: skip
    return StationView(
        station=info,
        mode=row["mode"],
        operator=row["operator"],
        operator_name=row["operator_name"],
        work_order=row["work_order"],
        work_order_product=row["work_order_product"],
        location=row["location"],
        to_location=row["to_location"],
        qty_milli=row["qty_milli"],
        lot=row["lot"],
        prompt=row["prompt"],
        updated_ms=row["updated_ms"],
        typed_qty=row["typed_qty"],
        reason=row["reason"],
        signs_out_at_ms=idle.signs_out_at_ms,
    )


def station_scans(conn: sqlite3.Connection, code: str, *, limit: int = 50) -> list[StationScan]:
    """The station's last scans, newest first, with their outcomes."""
    return [
        StationScan(r["id"], r["time_ms"], r["source"], bytes(r["raw"]), r["status"], r["message"])
        for r in conn.execute(
            "SELECT j.id, j.time_ms, j.source, j.raw, o.status, o.message FROM scan_journal j "
            "LEFT JOIN scan_outcomes o ON o.scan = j.id WHERE j.station = ? "
            "ORDER BY j.id DESC LIMIT ?",
            (code, limit),
        )
    ]


# ---------------------------------------------------------------- the palette


@dataclass(frozen=True, slots=True)
class Code:
    """Something a person may type to jump to it: a work order, item, location or stage."""

    kind: str  # work_order, item, location, stage
    code: str
    label: str


def codes(conn: sqlite3.Connection) -> list[Code]:
    """Every code the command palette can jump to."""
    found = [
        Code("work_order", r[0], f"{r[1]} · {r[2].replace('_', ' ')}")
        for r in conn.execute("SELECT number, product, status FROM work_orders ORDER BY number")
    ]
    found += [
        Code("item", r[0], r[1])
        for r in conn.execute("SELECT sku, description FROM items ORDER BY sku")
    ]
    found += [
        Code("location", r[0], r[1])
        for r in conn.execute("SELECT code, name FROM locations ORDER BY code")
    ]
    found += [
        Code("stage", r[0], r[1])
        for r in conn.execute("SELECT code, name FROM stages ORDER BY code")
    ]
    return found
