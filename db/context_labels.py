"""The context labels of SPEC §4: what a scan sets for the next action only, without
posting anything — `QTY:n` (the quantity), `LOT:x` (the lot), and the command sheet's
number pad (`NUM:0` … `NUM:9`, `NUM:.`, `NUM:CLR`), which builds the next quantity
digit by digit in `Session.typed_qty`.

db.grammar dispatches these prefixes here; the action that takes the quantity (an item
scan, CMD:DONE) first calls `take_number`, so a number built on the pad acts exactly as
if its `QTY:` label had been scanned, with the same checks.
"""

from __future__ import annotations

from db.quantity import QuantityError, to_milli
from db.quantity import text as qty_text
from db.rejections import Rejected
from db.sessions import Session

DIGITS = tuple("0123456789")
NUMBER_PAD = (*DIGITS, ".", "CLR")
"""Every key of the number pad, each printed on the command sheet as `NUM:<key>`."""

_DECIMALS = 3  # the record keeps thousandths (db.quantity)


def _checked(session: Session, milli: int, shown: str, again: str) -> int:
    """The rule every quantity for the next action meets: more than zero, except a
    count (an empty bin is counted as 0)."""
    if milli < 0 or (milli == 0 and session.mode != "COUNT"):
        raise Rejected(f"{shown}: a quantity must be more than zero; {again}")
    return milli


def quantity(session: Session, text: str) -> str:
    """`QTY:n`: the quantity for the next action; it replaces a number being built."""
    try:
        milli = to_milli(text[4:])
    except QuantityError:
        raise Rejected(
            f"{text!r} is not a quantity; scan a QTY: label from the command sheet"
        ) from None
    _checked(session, milli, repr(text), "scan another QTY:")
    replaced = session.typed_qty
    session.qty_milli, session.typed_qty = milli, None
    words = f"quantity {qty_text(milli)} for the next action"
    return words if replaced is None else f"{words} (replaces {replaced} from the number pad)"


def lot(session: Session, text: str) -> str:
    """`LOT:x`: the lot for the next action."""
    value = text[4:].strip()
    if not value:
        raise Rejected("LOT: label without a lot; scan the lot label again")
    session.lot = value
    return f"lot {value} for the next action"


def number_key(session: Session, text: str) -> str:
    """`NUM:<key>`: one key of the number pad; the number grows in `session.typed_qty`."""
    key = text[4:].strip().upper()
    typed = session.typed_qty
    if key == "CLR":
        session.typed_qty = None
        return "number pad cleared" if typed is None else f"number {typed} cleared"
    if key == ".":
        if typed is not None and "." in typed:
            raise Rejected(f"{typed} already has a decimal point; scan NUM:CLR to start again")
        grown = (typed or "0") + "."
    elif key in DIGITS:
        if typed is not None and "." in typed and len(typed.partition(".")[2]) >= _DECIMALS:
            raise Rejected(
                f"{typed} already has {_DECIMALS} decimals, the finest the record keeps; "
                "scan the item (or CMD:DONE), or NUM:CLR to start again"
            )
        # A leading zero is dropped as a calculator does: 0 then 5 is 5, not 05.
        grown = key if typed in (None, "0") else typed + key
        try:
            to_milli(grown)
        except QuantityError as refused:
            raise Rejected(f"{refused}; scan NUM:CLR to start again") from None
    else:
        shown = text if len(text) <= 24 else text[:21] + "..."
        raise Rejected(
            f"{shown!r} is not a number-pad key; scan NUM:0 to NUM:9, NUM:. or NUM:CLR "
            "from the command sheet"
        )
    session.typed_qty = grown
    # The pad's number and a scanned QTY: never both wait: the later scan wins.
    replaced = None if typed is not None or session.qty_milli is None else session.qty_milli
    session.qty_milli = None
    words = f"number {grown} for the next action"
    return words if replaced is None else f"{words} (replaces QTY {qty_text(replaced)})"


def take_number(session: Session) -> None:
    """Turn the number built on the pad into the quantity of the action being scanned,
    checked as its `QTY:` label would be; nothing built leaves the session as it is."""
    typed = session.typed_qty
    if typed is None:
        return
    again = "scan NUM:CLR and the number again"
    try:
        milli = to_milli(typed)
    except QuantityError as refused:
        raise Rejected(f"the number pad's {typed!r}: {refused}; {again}") from None
    session.qty_milli = _checked(session, milli, f"the number pad says {typed}", again)
    session.typed_qty = None
