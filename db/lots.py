"""Lots: what a lot's label said (GS1 AI 17 expiry, AI 11 production date) and when it
first came in, the order an item's lots are picked in, and a supervisor's leave to
issue a lot past its expiry.

The ledger notes every lot as it first comes in (`note_arrival`), keeps a receipt's
dates (`note_dates`) and asks `refuse_expired` before an issue; all run inside the
posting's transaction. `pick_order` is the one rule for which lot goes first: the soonest
expiry, then the oldest receipt. It sits below the ledger and imports nothing of it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, datetime

from db.connection import now_ms, transaction
from db.refusals import LedgerError
from db.roles import require_role


@dataclass(frozen=True)
class PickLot:
    """Stock of an item at one location and lot, in the order it should be picked."""

    location: str
    lot: str
    qty_milli: int
    expiry: date | None
    produced: date | None
    received_ms: int | None
    expired: bool  # past its expiry today
    allowed: bool  # a supervisor allowed it to be issued although expired

    @property
    def blocked(self) -> bool:
        """Expired and not allowed: an issue of it is refused."""
        return self.expired and not self.allowed


def today() -> date:
    """The floor's date: the local calendar day of the record's clock."""
    return datetime.fromtimestamp(now_ms() / 1000).date()


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def note_arrival(conn: sqlite3.Connection, item: str, lot: str, at_ms: int) -> None:
    """A lot coming in (a receipt, a count, finished goods) is on record from then on."""
    conn.execute(
        "INSERT INTO lots (item, lot, received_ms) VALUES (?, ?, ?) "
        "ON CONFLICT (item, lot) DO NOTHING",
        (item, lot, at_ms),
    )


def note_dates(
    conn: sqlite3.Connection,
    item: str,
    lot: str,
    *,
    expiry: date | None,
    produced: date | None,
) -> None:
    """Keep a receipt's label dates with the lot; a lot has one expiry and one production date."""
    note_arrival(conn, item, lot, now_ms())
    row = conn.execute(
        "SELECT expiry, produced FROM lots WHERE item = ? AND lot = ?", (item, lot)
    ).fetchone()
    for what, label, kept in (
        ("expires", expiry, row["expiry"]),
        ("was produced", produced, row["produced"]),
    ):
        if label is not None and kept is not None and label.isoformat() != kept:
            raise LedgerError(
                f"lot {lot} of {item} {what} {kept} on record, this label says "
                f"{label.isoformat()}: check the label, or receive it under its own lot"
            )
    conn.execute(
        "UPDATE lots SET expiry = COALESCE(expiry, ?), produced = COALESCE(produced, ?) "
        "WHERE item = ? AND lot = ?",
        (
            expiry.isoformat() if expiry else None,
            produced.isoformat() if produced else None,
            item,
            lot,
        ),
    )


PickKey = tuple[bool, bool, date, bool, int]


def pick_key(expiry: date | None, received_ms: int | None, allowed: bool, on: date) -> PickKey:
    """Where a lot goes in the pick order: expired-and-not-allowed last (an issue refuses
    it), then the soonest expiry (lots without one after), then the oldest receipt."""
    blocked = expiry is not None and expiry < on and not allowed
    return (
        blocked,
        expiry is None,
        expiry or date.max,
        received_ms is None,
        received_ms or 0,
    )


_PICK = """
SELECT s.location, s.lot, s.qty_milli, l.expiry, l.produced, l.received_ms,
       EXISTS (SELECT 1 FROM lot_allowances a WHERE a.item = s.item AND a.lot = s.lot)
         AS allowed
FROM stock s LEFT JOIN lots l ON l.item = s.item AND l.lot = s.lot
WHERE s.item = :item AND s.qty_milli > 0 AND (:location IS NULL OR s.location = :location)
"""


def pick_order(
    conn: sqlite3.Connection, item: str, *, location: str | None = None
) -> list[PickLot]:
    """An item's stock on hand (at one location, or everywhere), in the order to pick it:
    the soonest expiry first, then the oldest receipt; lots without an expiry after those
    with one, and expired lots no supervisor allowed last, since an issue refuses them."""
    on = today()
    picks = []
    for r in conn.execute(_PICK, {"item": item, "location": location}):
        expiry = _date(r["expiry"])
        picks.append(
            PickLot(
                location=r["location"],
                lot=r["lot"],
                qty_milli=int(r["qty_milli"]),
                expiry=expiry,
                produced=_date(r["produced"]),
                received_ms=r["received_ms"],
                expired=expiry is not None and expiry < on,
                allowed=bool(r["allowed"]),
            )
        )
    picks.sort(
        key=lambda p: (
            *pick_key(p.expiry, p.received_ms, p.allowed, on),
            p.lot,
            p.location,
        )
    )
    return picks


def first_to_pick(
    conn: sqlite3.Connection, item: str, location: str, *, besides: str = ""
) -> PickLot | None:
    """The lot to take first from `location` (not `besides`, and not one an issue refuses)."""
    for pick in pick_order(conn, item, location=location):
        if pick.lot and pick.lot != besides and not pick.blocked:
            return pick
    return None


def refuse_expired(conn: sqlite3.Connection, item: str, lot: str, location: str) -> None:
    """Refuse an issue of a lot past its expiry, unless a supervisor allowed that lot."""
    row = conn.execute(
        "SELECT expiry, EXISTS (SELECT 1 FROM lot_allowances a WHERE a.item = l.item "
        "AND a.lot = l.lot) AS allowed FROM lots l WHERE l.item = ? AND l.lot = ?",
        (item, lot),
    ).fetchone()
    if row is None or row["expiry"] is None or row["allowed"]:
        return
    if date.fromisoformat(row["expiry"]) >= today():
        return
    other = first_to_pick(conn, item, location, besides=lot)
    instead = "issue another lot"
    if other is not None:
        expires = f" (expires {other.expiry.isoformat()})" if other.expiry else ""
        instead = f"issue lot {other.lot}{expires} instead"
    raise LedgerError(
        f"lot {lot} of {item} expired on {row['expiry']}: {instead}, or a supervisor "
        "allows this lot on the Stock screen"
    )


def allow_expired(conn: sqlite3.Connection, item: str, lot: str, *, by: str, reason: str) -> None:
    """A supervisor's leave to issue this lot although it is past its expiry; kept with
    who, when and why (`lot_allowances`)."""
    with transaction(conn):
        require_role(conn, by, "issue_expired")
        if not reason.strip():
            raise LedgerError("say why the expired lot may be used: the reason is kept with it")
        row = conn.execute(
            "SELECT expiry FROM lots WHERE item = ? AND lot = ?", (item, lot)
        ).fetchone()
        if row is None:
            raise LedgerError(f"lot {lot} of {item} is not on record")
        if row["expiry"] is None:
            raise LedgerError(f"lot {lot} of {item} has no expiry on record: nothing to allow")
        conn.execute(
            "INSERT INTO lot_allowances (time_ms, item, lot, by_operator, reason) "
            "VALUES (?, ?, ?, ?, ?)",
            (now_ms(), item, lot, by, reason.strip()),
        )
