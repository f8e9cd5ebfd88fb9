"""Station sessions: each station's sticky context between scans (who is signed in, the
mode, the work order, locations, the next QTY, LOT and REASON, the number being built
on the number pad), kept in the database so a
kiosk sees what a headless reader does and a restart loses nothing; and `prompt_for`,
what the person at the station should scan next (one prompt per mode, from a table).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field

from db.connection import now_ms
from db.quantity import text as qty_text
from db.roles import reason_required


@dataclass
class Session:
    """A station's sticky context between scans."""

    station: str
    mode: str
    operator: str | None = None
    work_order: str | None = None
    location: str | None = None
    to_location: str | None = None
    qty_milli: int | None = None
    lot: str | None = None
    purchase_order: str | None = None  # RECEIVE: receipts count against it
    sales_order: str | None = None  # SHIP: shipments leave against it
    typed_qty: str | None = None  # the number pad's number so far, as scanned ("12.")
    reason: str | None = None  # a reason code for the next scrap or adjustment
    # The station's master-data row, read once with the session: not part of the context.
    home: sqlite3.Row | None = field(default=None, repr=False, compare=False)

    def clear_context(self) -> None:
        self.work_order = self.location = self.to_location = self.lot = None
        self.qty_milli = None
        self.typed_qty = None
        self.purchase_order = self.sales_order = None
        self.reason = None

    def copy(self) -> Session:
        return Session(self.station, self.mode, self.operator, self.work_order, self.location,
                       self.to_location, self.qty_milli, self.lot, self.purchase_order,
                       self.sales_order, self.typed_qty, self.reason, self.home)  # fmt: skip

    def restore(self, other: Session) -> None:
        """Back to an earlier state in place: a rejected scan keeps the context it found."""
        self.mode, self.operator, self.work_order = other.mode, other.operator, other.work_order
        self.location, self.to_location = other.location, other.to_location
        self.qty_milli, self.lot = other.qty_milli, other.lot
        self.purchase_order, self.sales_order = other.purchase_order, other.sales_order
        self.typed_qty = other.typed_qty
        self.reason = other.reason

    def context(self) -> tuple[object, ...]:
        """The sticky context as a plain tuple: cheap to compare under a burst."""
        return (self.mode, self.operator, self.work_order, self.location, self.to_location,
                self.qty_milli, self.lot, self.purchase_order, self.sales_order,
                self.typed_qty, self.reason)  # fmt: skip

    def context_json(self) -> str:
        return json.dumps(
            {"station": self.station, "mode": self.mode, "operator": self.operator,
             "work_order": self.work_order, "location": self.location,
             "to_location": self.to_location, "qty_milli": self.qty_milli, "lot": self.lot,
             "purchase_order": self.purchase_order, "sales_order": self.sales_order,
             "typed_qty": self.typed_qty, "reason": self.reason}
        )  # fmt: skip


def station_row(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    return conn.execute("SELECT * FROM stations WHERE code = ?", (code,)).fetchone()  # type: ignore[no-any-return]


def load_session(conn: sqlite3.Connection, station: str) -> Session | None:
    """The station's session; a station scanned at for the first time starts in its default mode."""
    row = conn.execute("SELECT * FROM station_sessions WHERE station = ?", (station,)).fetchone()
    home = station_row(conn, station)
    if row is not None:
        return Session(
            station=station,
            mode=row["mode"],
            operator=row["operator"],
            work_order=row["work_order"],
            location=row["location"],
            to_location=row["to_location"],
            qty_milli=row["qty_milli"],
            lot=row["lot"],
            purchase_order=row["purchase_order"],
            sales_order=row["sales_order"],
            typed_qty=row["typed_qty"],
            reason=row["reason"],
            home=home,
        )
    if home is None:
        return None
    return Session(station=station, mode=home["mode"], home=home)


def save_session(conn: sqlite3.Connection, session: Session, prompt: str) -> None:
    conn.execute(
        "INSERT INTO station_sessions (station, mode, operator, work_order, location, "
        "to_location, qty_milli, lot, purchase_order, sales_order, typed_qty, reason, prompt, "
        "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (station) DO UPDATE SET mode = excluded.mode, operator = excluded.operator, "
        "work_order = excluded.work_order, location = excluded.location, "
        "to_location = excluded.to_location, qty_milli = excluded.qty_milli, lot = excluded.lot, "
        "purchase_order = excluded.purchase_order, sales_order = excluded.sales_order, "
        "typed_qty = excluded.typed_qty, reason = excluded.reason, prompt = excluded.prompt, "
        "updated_ms = excluded.updated_ms",
        (session.station, session.mode, session.operator, session.work_order, session.location,
         session.to_location, session.qty_milli, session.lot, session.purchase_order,
         session.sales_order, session.typed_qty, session.reason, prompt, now_ms()),
    )  # fmt: skip


# ---------------------------------------------------------------- what to scan next

# What the person at a station in each mode should scan next, given the session, the
# location it works at (`here`) and the station's stage; `prompt_for` adds the next QTY
# and LOT.
Prompt = Callable[[Session, str, str], str]


def _receive(session: Session, here: str, stage: str) -> str:
    if session.purchase_order:
        return f"Scan items of {session.purchase_order} to receive into {here}"
    return f"Scan items to receive into {here}, or a location to change it"


def _issue(session: Session, here: str, stage: str) -> str:
    if session.work_order is None:
        return "Scan the work order to issue to"
    return f"Scan items to issue from {here} to {session.work_order}"


def _return(session: Session, here: str, stage: str) -> str:
    if session.work_order is None:
        return "Scan the work order to return from"
    return f"Scan items to return from {session.work_order} to {here}"


def _move(session: Session, here: str, stage: str) -> str:
    if session.location is None:
        return "Scan the source location"
    if session.to_location is None:
        return f"Scan the destination location (moving from {session.location})"
    return f"Scan items to move {session.location} → {session.to_location}"


def _progress(session: Session, here: str, stage: str) -> str:
    wo = session.work_order
    if wo is None:
        return "Scan the work-order traveler"
    if session.typed_qty is not None:
        return f"Scan CMD:DONE to report {session.typed_qty} of {wo} at {stage}"
    return f"Scan QTY: then CMD:DONE to report {wo} at {stage} (CMD:DONE alone: all waiting)"


def _scrap(session: Session, here: str, stage: str) -> str:
    wo = session.work_order
    if wo is None:
        return f"Scan items to scrap from {here}, or a work order to scrap units at {stage}"
    if session.typed_qty is not None:
        return f"Scan CMD:DONE to scrap {session.typed_qty} of {wo} at {stage}"
    return f"Scan QTY: then CMD:DONE to scrap units of {wo} at {stage}"


def _count(session: Session, here: str, stage: str) -> str:
    if session.qty_milli is None and session.typed_qty is None:
        return f"Scan QTY: (or NUM: keys) with the counted quantity, then the item (bin {here})"
    return f"Scan the item counted in {here}"


def _ship(session: Session, here: str, stage: str) -> str:
    if session.sales_order:
        return f"Scan finished items to ship against {session.sales_order}"
    return "Scan finished items to ship, or the sales order (SO:number) first"


_PROMPTS: dict[str, Prompt] = {
    "RECEIVE": _receive,
    "ISSUE": _issue,
    "RETURN": _return,
    "MOVE": _move,
    "PROGRESS": _progress,
    "SCRAP": _scrap,
    "COUNT": _count,
    "SHIP": _ship,
}


def prompt_for(conn: sqlite3.Connection, session: Session) -> str:
    """What the person at the station should scan next."""
    if session.operator is None:
        return "Scan your badge to sign in"
    home = session.home
    here = session.location or (home["location"] if home else None) or "?"
    stage = (home["stage"] if home else None) or "this station's stage"
    extra = ""
    if session.qty_milli is not None:
        extra += f" (next QTY {qty_text(session.qty_milli)})"
    typed = session.typed_qty
    if typed is not None:
        # With an order in PROGRESS / SCRAP the prompt itself already names the number.
        named = session.mode in ("PROGRESS", "SCRAP") and session.work_order is not None
        said = "" if named else f"next QTY {typed} from the number pad: "
        extra += f" ({said}more NUM: keys, or NUM:CLR)"
    if session.lot:
        extra += f" (next LOT {session.lot})"
    if session.reason:
        extra += f" (reason {session.reason})"
    text = _PROMPTS[session.mode](session, here, stage)
    if session.mode == "SCRAP" and session.reason is None and reason_required(conn, "scrap"):
        text = "Scan a REASON: for the scrap first. " + text
    return text + extra
