"""Station sessions: each station's sticky context between scans (who is signed in, the
mode, the work order, locations, the next QTY, LOT and REASON, the number being built
on the number pad), kept in the database so a
kiosk sees what a headless reader does and a restart loses nothing; and `prompt_for`,
what the person at the station should scan next.
"""

from __future__ import annotations

import json
import sqlite3
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


def prompt_for(conn: sqlite3.Connection, session: Session) -> str:
    """What the person at the station should scan next."""
    home = session.home
    here = session.location or (home["location"] if home else None) or "?"
    stage = (home["stage"] if home else None) or "this station's stage"
    wo = session.work_order
    typed = session.typed_qty
    extra = ""
    if session.qty_milli is not None:
        extra += f" (next QTY {qty_text(session.qty_milli)})"
    if typed is not None:
        # With an order in PROGRESS / SCRAP the words below already name the number.
        named = session.mode in ("PROGRESS", "SCRAP") and wo is not None
        said = "" if named else f"next QTY {typed} from the number pad: "
        extra += f" ({said}more NUM: keys, or NUM:CLR)"
    if session.lot:
        extra += f" (next LOT {session.lot})"
    if session.reason:
        extra += f" (reason {session.reason})"
    if session.operator is None:
        return "Scan your badge to sign in"
    mode = session.mode
    if mode == "RECEIVE":
        text = f"Scan items to receive into {here}, or a location to change it"
        if session.purchase_order:
            text = f"Scan items of {session.purchase_order} to receive into {here}"
    elif mode in ("ISSUE", "RETURN"):
        if wo is None:
            text = f"Scan the work order to {'issue to' if mode == 'ISSUE' else 'return from'}"
        elif mode == "ISSUE":
            text = f"Scan items to issue from {here} to {wo}"
        else:
            text = f"Scan items to return from {wo} to {here}"
    elif mode == "MOVE":
        if session.location is None:
            text = "Scan the source location"
        elif session.to_location is None:
            text = f"Scan the destination location (moving from {session.location})"
        else:
            text = f"Scan items to move {session.location} → {session.to_location}"
    elif mode == "PROGRESS":
        if wo is None:
            text = "Scan the work-order traveler"
        elif typed is not None:
            text = f"Scan CMD:DONE to report {typed} of {wo} at {stage}"
        else:
            text = (
                f"Scan QTY: then CMD:DONE to report {wo} at {stage} (CMD:DONE alone: all waiting)"
            )
    elif mode == "SCRAP":
        if wo is None:
            text = f"Scan items to scrap from {here}, or a work order to scrap units at {stage}"
        elif typed is not None:
            text = f"Scan CMD:DONE to scrap {typed} of {wo} at {stage}"
        else:
            text = f"Scan QTY: then CMD:DONE to scrap units of {wo} at {stage}"
        if session.reason is None and reason_required(conn, "scrap"):
            text = "Scan a REASON: for the scrap first. " + text
    elif mode == "COUNT":
        text = (
            f"Scan QTY: (or NUM: keys) with the counted quantity, then the item (bin {here})"
            if session.qty_milli is None and typed is None
            else f"Scan the item counted in {here}"
        )
    else:  # SHIP
        text = (
            f"Scan finished items to ship against {session.sales_order}"
            if session.sales_order
            else "Scan finished items to ship, or the sales order (SO:number) first"
        )
    return text + extra
