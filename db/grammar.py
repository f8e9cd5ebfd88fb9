"""The scan grammar of SPEC §4: what one scan does at a station in its session.

`interpret` reads a decoded scan: a `CMD:` (one handler per command, from `_COMMANDS`),
a context label for the next action (`QTY:`, `LOT:`, the number pad's `NUM:`; handled
in db.context_labels), a `REASON:` for the next scrap or adjustment (db.reason_codes),
a `PO:` purchase order (RECEIVE) or `SO:` sales order (SHIP) the next receipts or
shipments count against (or its bare number, when no barcode in the registry is that),
a badge, a work order, a location, or an item, which the station's mode acts on (one
handler per mode, from `_ITEM_ACTIONS`). It changes the session in place and posts
through db.ledger and db.progress (an ISSUE asks db.unplanned first: is the item on the
order's bill, or allowed); `Rejected` says what to scan instead, and whether a
supervisor must fix something (`fixable`). The pipeline (db/pipeline.py) runs it inside
a savepoint and records the outcome.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from db import context_labels, ledger, progress, reason_codes, roles, unplanned
from db.ledger import Origin
from db.quantity import text as qty_text
from db.refusals import LedgerError
from db.rejections import Rejected
from db.resolve import Resolved, resolve
from db.schema import MODES
from db.sessions import Session
from devices.decode import Scan


def interpret(conn: sqlite3.Connection, session: Session, scan: Scan, scan_id: int) -> str:
    """Act on one scan in `session` (changed in place); the words say what it did."""
    if scan.problem is not None or scan.text is None:
        raise Rejected((scan.problem or "not a barcode") + "; scan the label again")
    text = scan.text
    upper = text.upper()
    if session.operator is None and upper.startswith(
        ("CMD:", "QTY:", "LOT:", "NUM:", "PO:", "SO:")
    ):
        raise _nobody_signed_in(session, text)
    if upper.startswith(reason_codes.PREFIX):
        if session.operator is None:
            raise _nobody_signed_in(session, text)
        return reason_codes.scan_reason(conn, session, text[len(reason_codes.PREFIX) :])
    if upper.startswith("CMD:"):
        return _command(conn, session, upper[4:], scan_id)
    if upper.startswith("QTY:"):
        return context_labels.quantity(session, text)
    if upper.startswith("LOT:"):
        return context_labels.lot(session, text)
    if upper.startswith("NUM:"):
        return context_labels.number_key(session, text)
    if upper.startswith("PO:"):
        return _purchase_order(conn, session, text[3:].strip())
    if upper.startswith("SO:"):
        return _sales_order(conn, session, text[3:].strip())
    return _thing(conn, session, scan, scan_id)


# ---------------------------------------------------------------- orders from outside


def _purchase_order(conn: sqlite3.Connection, session: Session, number: str) -> str:
    if session.mode != "RECEIVE":
        raise Rejected(
            f"a purchase order counts receipts: scan CMD:MODE:RECEIVE first ({session.mode} now)"
        )
    lines = conn.execute(
        "SELECT item, qty_milli, received_milli FROM purchase_orders WHERE number = ? "
        "ORDER BY item",
        (number,),
    ).fetchall()
    if not lines:
        raise Rejected(
            f"unknown purchase order {number!r}: check the label; import purchase_orders.csv "
            "to add it",
            fixable=True,
        )
    session.purchase_order = number
    open_lines = [r for r in lines if r["received_milli"] < r["qty_milli"]]
    return f"purchase order {number}: {len(open_lines)} of {len(lines)} lines still to receive"


def _exists(conn: sqlite3.Connection, table: str, number: str) -> bool:
    found = conn.execute(f"SELECT 1 FROM {table} WHERE number = ? LIMIT 1", (number,))
    return found.fetchone() is not None


def _sales_order(conn: sqlite3.Connection, session: Session, number: str) -> str:
    if session.mode != "SHIP":
        raise Rejected(
            f"a sales order counts shipments: scan CMD:MODE:SHIP first ({session.mode} now)"
        )
    row = conn.execute(
        "SELECT customer, due FROM sales_orders WHERE number = ? LIMIT 1", (number,)
    ).fetchone()
    if row is None:
        raise Rejected(
            f"unknown sales order {number!r}: check the label; import sales_orders.csv to add it",
            fixable=True,
        )
    session.sales_order = number
    return f"sales order {number} for {row['customer']}, promised {row['due']}"


def _nobody_signed_in(session: Session, text: str) -> Rejected:
    """Every posting has a person behind it: with nobody signed in only a badge acts."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return Rejected(
        f"scan your badge first: nobody is signed in at {session.station} ({shown!r} was not used)"
    )


def _forget_order(session: Session) -> None:
    session.work_order = None
    session.qty_milli = None
    session.typed_qty = None


def _origin(session: Session, scan_id: int, reason: str | None = None) -> Origin:
    return Origin(operator=session.operator, station=session.station, scan=scan_id, reason=reason)


# ---------------------------------------------------------------- commands

Command = Callable[[sqlite3.Connection, Session, int], str]


def _command(conn: sqlite3.Connection, session: Session, command: str, scan_id: int) -> str:
    if command.startswith("MODE:"):
        return _mode(session, command[5:])
    handler = _COMMANDS.get(command)
    if handler is None:
        raise Rejected(f"unknown command CMD:{command}; scan one from the command sheet")
    return handler(conn, session, scan_id)


def _mode(session: Session, mode: str) -> str:
    if mode not in MODES:
        raise Rejected(f"unknown mode {mode}; scan a mode from the command sheet")
    session.mode = mode
    session.clear_context()
    return f"mode {mode}"


def _cancel(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    session.clear_context()
    return "context cleared"


def _sign_out(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    row = conn.execute("SELECT name FROM operators WHERE badge = ?", (session.operator,)).fetchone()
    session.operator = None
    session.clear_context()
    return f"signed out {row['name'] if row else 'the operator'}"


def _done(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    if session.mode not in ("PROGRESS", "SCRAP"):
        raise Rejected(f"CMD:DONE works in PROGRESS or SCRAP mode, not {session.mode}")
    if session.work_order is None:
        raise Rejected("no work order set: scan the work-order traveler first")
    home = session.home
    stage = home["stage"] if home else None
    if not stage:
        raise Rejected(
            f"station {session.station} is not at a stage; report at a stage station",
            fixable=True,
        )
    context_labels.take_number(session)
    kind = "done" if session.mode == "PROGRESS" else "scrap"
    reason = reason_codes.take_reason(conn, session, "scrap") if kind == "scrap" else None
    entry = progress.report_progress(
        conn, session.work_order, stage, session.qty_milli, kind=kind,
        origin=_origin(session, scan_id, reason),
    )  # fmt: skip
    reason_codes.require_reason(conn, kind, reason)  # a completion ("done") takes none
    qty = conn.execute("SELECT qty_milli FROM progress_entries WHERE id = ?", (entry,)).fetchone()
    session.qty_milli = None
    verb = "completed" if kind == "done" else "scrapped"
    why = reason_codes.because(reason)
    return f"{verb} {qty_text(qty[0])} of {session.work_order} at {stage}{why}"


def _undo(conn: sqlite3.Connection, session: Session, scan_id: int) -> str:
    """Reverse all the latest scan posted that the station may still undo (db.ledger's rule)."""
    anyone = roles.may(conn, session.operator, "undo_others")
    target = ledger.last_undoable_scan(conn, session.station, session.operator, anyone=anyone)
    if target is None:
        if anyone:
            raise Rejected("nothing to undo at this station")
        raise Rejected(
            "nothing to undo at this station that you posted; a supervisor may undo others'"
        )
    origin = _origin(session, scan_id)
    movements = conn.execute(
        "SELECT id, kind, item, qty_milli FROM movements WHERE scan = ? AND reverses IS NULL "
        "AND progress_entry IS NULL ORDER BY id DESC",
        (target,),
    ).fetchall()
    if any(m["kind"] == "adjust" for m in movements):
        # A count is a storeroom or supervisor decision: undoing it is one too.
        roles.require_role(conn, session.operator, "adjust")
    undone = []
    for entry in conn.execute(
        "SELECT id, work_order, stage, kind, qty_milli FROM progress_entries "
        "WHERE scan = ? AND reverses IS NULL ORDER BY id DESC",
        (target,),
    ).fetchall():
        progress.reverse_progress(conn, entry["id"], origin=origin)
        undone.append(f"{entry['kind']} {qty_text(entry['qty_milli'])} of {entry['work_order']}")
    for movement in movements:
        ledger.reverse_movement(conn, movement["id"], origin=origin)
        undone.append(f"{movement['kind']} {qty_text(movement['qty_milli'])} {movement['item']}")
    return "undone: " + ", ".join(undone)


_COMMANDS: dict[str, Command] = {
    "CANCEL": _cancel,
    "SIGNOUT": _sign_out,
    "DONE": _done,
    "UNDO": _undo,
}
COMMAND_WORDS = frozenset(_COMMANDS)
"""Every `CMD:` word the grammar reads besides `MODE:`: the command sheet prints each."""


# ---------------------------------------------------------------- labels


def _thing(conn: sqlite3.Connection, session: Session, scan: Scan, scan_id: int) -> str:
    found = resolve(conn, scan)
    if found is None and session.operator is not None:
        # A supplier's delivery note or a customer's order form carries the bare order
        # number: in RECEIVE / SHIP it names the order when nothing in the registry does.
        text = (scan.text or "").strip()
        if session.mode == "RECEIVE" and _exists(conn, "purchase_orders", text):
            return _purchase_order(conn, session, text)
        if session.mode == "SHIP" and _exists(conn, "sales_orders", text):
            return _sales_order(conn, session, text)
    if found is None:
        raise Rejected(
            f"unknown barcode {scan.text!r}: check the label; a supervisor can add it to the "
            "master data and replay this scan from the inbox",
            fixable=True,
        )
    if found.kind == "operator":
        row = conn.execute("SELECT name FROM operators WHERE badge = ?", (found.code,)).fetchone()
        session.operator = found.code
        return f"signed in {row['name']}"
    if session.operator is None:
        raise _nobody_signed_in(session, scan.text or "")
    if found.kind == "work_order":
        order = ledger.work_order(conn, found.code)
        if session.mode in _POSTS_TO_THE_ORDER:
            # Found: a green ✓ for an order on hold, the refusal only at the next item.
            try:
                ledger.require_active(order)
            except LedgerError as refused:
                raise Rejected(str(refused), then=_forget_order, fixable=refused.fixable) from None
        session.work_order = found.code
        note = "" if order["status"] in ("released", "in_progress") else f" ({order['status']})"
        return f"work order {found.code}: {order['product']} × {qty_text(order['qty_milli'])}{note}"
    if found.kind == "location":
        if session.mode == "MOVE":
            if session.location is None or session.to_location is not None:
                session.location, session.to_location = found.code, None
                return f"moving from {found.code}"
            if found.code == session.location:
                raise Rejected(f"{found.code} is already the source; scan the destination")
            session.to_location = found.code
            return f"moving {session.location} → {found.code}"
        session.location = found.code
        return f"location {found.code}"
    return _item_action(conn, session, found, scan_id)


# ---------------------------------------------------------------- items, one handler per mode


@dataclass(frozen=True)
class _ItemScan:
    """An item scanned in a session: what to post, from where, by whom."""

    session: Session
    sku: str
    qty_milli: int
    lot: str
    origin: Origin
    here: str | None  # the session's location, else the station's own
    expiry: date | None = None  # from the item's GS1 label
    produced: date | None = None

    @property
    def what(self) -> str:
        lot_words = f" lot {self.lot}" if self.lot else ""
        return f"{qty_text(self.qty_milli)} {self.sku}{lot_words}"

    def location(self) -> str:
        if self.here is None:
            raise Rejected("no location set: scan a location first")
        return str(self.here)

    def work_order(self) -> str:
        if self.session.work_order is None:
            raise Rejected("no work order set: scan the work-order traveler first")
        return self.session.work_order


ItemAction = Callable[[sqlite3.Connection, _ItemScan], str]


def _item_action(conn: sqlite3.Connection, session: Session, found: Resolved, scan_id: int) -> str:
    context_labels.take_number(session)
    if session.qty_milli is None and found.qty_problem is not None:
        raise Rejected(found.qty_problem)
    qty = session.qty_milli if session.qty_milli is not None else (found.qty_milli or 1000)
    home = session.home
    lot = session.lot or found.lot or ""
    # A label's dates are its own lot's: not another lot's that a LOT: scan named.
    dated = found.lot is None or found.lot == lot
    item = _ItemScan(
        session=session,
        sku=found.code,
        qty_milli=qty,
        lot=lot,
        origin=_origin(session, scan_id),
        here=session.location or (home["location"] if home else None),
        expiry=found.expiry if dated else None,
        produced=found.produced if dated else None,
    )
    if session.mode != "COUNT" and qty <= 0:
        raise Rejected("a quantity must be more than zero; scan another QTY:")
    message = _ITEM_ACTIONS[session.mode](conn, item)
    session.qty_milli = None
    session.lot = None
    return message


def _receive(conn: sqlite3.Connection, item: _ItemScan) -> str:
    to = item.location()
    number = item.session.purchase_order
    line = None
    if number is not None:
        line = conn.execute(
            "SELECT qty_milli, received_milli FROM purchase_orders WHERE number = ? AND item = ?",
            (number, item.sku),
        ).fetchone()
        if line is None:
            raise Rejected(
                f"{item.sku} is not on purchase order {number}: scan CMD:CANCEL to receive it "
                "without one, or the purchase order it came on"
            )
    movement = ledger.receive(
        conn, item.sku, item.qty_milli, to, lot=item.lot, origin=item.origin,
        expiry=item.expiry, produced=item.produced,
    )  # fmt: skip
    if number is None or line is None:
        return f"received {item.what} into {to}"
    conn.execute(
        "INSERT INTO order_receipts (movement, purchase_order, item) VALUES (?, ?, ?)",
        (movement, number, item.sku),
    )
    received = line["received_milli"] + item.qty_milli
    words = f"received {item.what} into {to} on {number} ({_of(received, line['qty_milli'])})"
    return words + _over("received", received, line["qty_milli"])


def _issue(conn: sqlite3.Connection, item: _ItemScan) -> str:
    number, source = item.work_order(), item.location()
    unplanned.require_planned(conn, number, item.sku)
    ledger.issue(conn, number, item.sku, item.qty_milli, source, lot=item.lot, origin=item.origin)
    return f"issued {item.what} from {source} to {number}"


def _return(conn: sqlite3.Connection, item: _ItemScan) -> str:
    number, to = item.work_order(), item.location()
    ledger.return_material(
        conn, number, item.sku, item.qty_milli, to, lot=item.lot, origin=item.origin
    )
    return f"returned {item.what} from {number} to {to}"


def _move(conn: sqlite3.Connection, item: _ItemScan) -> str:
    session = item.session
    if session.location is None:
        raise Rejected("no source location: scan the source location first")
    if session.to_location is None:
        raise Rejected("no destination: scan the destination location first")
    ledger.transfer(
        conn, item.sku, item.qty_milli, session.location, session.to_location, lot=item.lot,
        origin=item.origin,
    )  # fmt: skip
    return f"moved {item.what} {session.location} → {session.to_location}"


def _scrap(conn: sqlite3.Connection, item: _ItemScan) -> str:
    source = item.location()
    reason = reason_codes.take_reason(conn, item.session, "scrap")
    ledger.scrap_material(
        conn, item.sku, item.qty_milli, source, lot=item.lot,
        work_order_number=item.session.work_order, origin=replace(item.origin, reason=reason),
    )  # fmt: skip
    reason_codes.require_reason(conn, "scrap", reason)
    return f"scrapped {item.what} from {source}{reason_codes.because(reason)}"


def _count(conn: sqlite3.Connection, item: _ItemScan) -> str:
    if item.session.qty_milli is None:
        raise Rejected(
            "scan QTY: (or the number pad's NUM: keys) with the counted quantity first, "
            "then the item"
        )
    roles.require_role(conn, item.session.operator, "adjust")
    bin_code = item.location()
    was = ledger.on_hand(conn, item.sku, bin_code, item.lot)
    # Only a count that changes the balance is an adjustment and takes the reason.
    changes = item.qty_milli != was
    reason = reason_codes.take_reason(conn, item.session, "adjust") if changes else None
    moved = ledger.adjust(
        conn, item.sku, bin_code, item.qty_milli, lot=item.lot,
        origin=replace(item.origin, reason=reason),
    )  # fmt: skip
    if moved:
        reason_codes.require_reason(conn, "adjust", reason)
    counted = f"counted {item.what} in {bin_code}"
    if not moved:
        return counted + " (matches the record)"
    difference = item.qty_milli - was
    sign = "+" if difference > 0 else "−"
    adjusted = f"{sign}{qty_text(abs(difference))} adjusted{reason_codes.because(reason)}"
    return f"{counted}, was {qty_text(was)}: {adjusted}"


def _ship(conn: sqlite3.Connection, item: _ItemScan) -> str:
    source = item.session.location or ledger.location_of_kind(conn, "finished")
    number = item.session.sales_order
    line = None
    if number is not None:
        line = conn.execute(
            "SELECT qty_milli, shipped_milli FROM sales_orders WHERE number = ? AND product = ?",
            (number, item.sku),
        ).fetchone()
        if line is None:
            raise Rejected(
                f"{item.sku} is not on sales order {number}: scan CMD:CANCEL to ship it "
                "without one, or the sales order it leaves on"
            )
    movement = ledger.ship(conn, item.sku, item.qty_milli, from_location=source, lot=item.lot,
                           origin=item.origin)  # fmt: skip
    if number is None or line is None:
        return f"shipped {item.what} from {source}"
    conn.execute(
        "INSERT INTO order_shipments (movement, sales_order, product) VALUES (?, ?, ?)",
        (movement, number, item.sku),
    )
    shipped = line["shipped_milli"] + item.qty_milli
    words = f"shipped {item.what} from {source} on {number} ({_of(shipped, line['qty_milli'])})"
    return words + _over("shipped", shipped, line["qty_milli"])


def _of(counted: int, ordered: int) -> str:
    return f"{qty_text(counted)} of {qty_text(ordered)}"


def _over(verb: str, counted: int, ordered: int) -> str:
    """An order's quantity passed: the posting stands (the goods are here, or gone), and
    the words warn so the person can tell the office."""
    if counted <= ordered:
        return ""
    return f"; WARNING: {qty_text(counted - ordered)} more {verb} than ordered"


def _progress(conn: sqlite3.Connection, item: _ItemScan) -> str:
    raise Rejected(
        "in PROGRESS mode scan the work-order traveler, then QTY: and CMD:DONE; "
        "to move material scan a mode first"
    )


# The modes whose next scans post to the work order: a traveler scanned there is refused
# at once when its order takes no postings (on hold, cancelled, done).
_POSTS_TO_THE_ORDER = frozenset({"ISSUE", "PROGRESS", "SCRAP"})

_ITEM_ACTIONS: dict[str, ItemAction] = {
    "RECEIVE": _receive,
    "ISSUE": _issue,
    "RETURN": _return,
    "MOVE": _move,
    "PROGRESS": _progress,
    "SCRAP": _scrap,
    "COUNT": _count,
    "SHIP": _ship,
}
