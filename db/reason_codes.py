"""The plant's reasons (reasons.csv): why a scrap, a hold or a count's adjustment happened.

At a station a `REASON:code` scan sets the reason for the next scrap (SCRAP mode) or
adjustment (COUNT mode); the posting takes it, records its code on the movement or the
stage progress entry, and clears it. A scrap, and a count that changes a balance, need
one unless a supervisor turned that off (db.roles `reason_required`). A hold needs a
reason too: one of the plant's hold reasons (its description is recorded) or words of
the supervisor's own.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import TYPE_CHECKING

from db.refusals import LedgerError
from db.roles import REASON_REQUIRED, reason_required
from db.vocabulary import REASON_KINDS

if TYPE_CHECKING:
    from db.sessions import Session

PREFIX = "REASON:"
# The longest code the import takes: REASON:code must fit a command-sheet cell.
MAX_CODE = 16

# Which kind of reason each mode's postings take, and how a person names that posting.
_MODE_KIND = {"SCRAP": "scrap", "COUNT": "adjust"}
_NOUN = {"scrap": "scrap", "adjust": "adjustment", "hold": "hold"}
_PLURAL = {"scrap": "scraps", "adjust": "adjustments", "hold": "holds"}


class ReasonRefused(LedgerError):
    """A reason that does not fit, or one missing where it is needed."""


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    description: str
    kind: str


def plant_reasons(conn: sqlite3.Connection, kind: str | None = None) -> list[Reason]:
    """The plant's reasons (of one kind): scrap, hold, adjust, each by code, as the
    command sheet prints them."""
    where, params = ("WHERE kind = ?", (kind,)) if kind else ("", ())
    found = [
        Reason(r[0], r[1], r[2])
        for r in conn.execute(f"SELECT code, description, kind FROM reasons {where}", params)
    ]
    return sorted(found, key=lambda r: (REASON_KINDS.index(r.kind), r.code))


def find_reason(conn: sqlite3.Connection, code: str) -> Reason | None:
    row = conn.execute(
        "SELECT code, description, kind FROM reasons WHERE code = ?", (code,)
    ).fetchone()
    return None if row is None else Reason(row[0], row[1], row[2])


def _codes(conn: sqlite3.Connection, kind: str) -> str:
    codes = [r.code for r in plant_reasons(conn, kind)]
    if not codes:
        return f"the plant has no {kind} reasons: import reasons.csv"
    shown = ", ".join(codes[:8]) + (", …" if len(codes) > 8 else "")
    return f"{kind} reasons: {shown}"


def scan_reason(conn: sqlite3.Connection, session: Session, code: str) -> str:
    """A `REASON:code` scan: the reason for the session's next scrap or adjustment."""
    code = code.strip()
    kind = _MODE_KIND.get(session.mode)
    if kind is None:
        raise ReasonRefused(
            f"a reason goes with a scrap (CMD:MODE:SCRAP) or a count (CMD:MODE:COUNT), "
            f"not with {session.mode}: scan the mode first"
        )
    found = find_reason(conn, code) if code else None
    if found is None:
        shown = code if len(code) <= 24 else code[:21] + "..."
        raise ReasonRefused(
            f"unknown reason {shown!r}: scan a reason from the command sheet ({_codes(conn, kind)})"
        )
    if found.kind != kind:
        raise ReasonRefused(
            f"{found.code} is a reason for {_PLURAL[found.kind]}, not {_PLURAL[kind]}: scan one "
            f"from the command sheet ({_codes(conn, kind)})"
        )
    session.reason = found.code
    return f"reason {found.code} ({found.description}) for the next {_NOUN[kind]}"


def take_reason(conn: sqlite3.Connection, session: Session, kind: str) -> str | None:
    """The reason code for a posting of `kind` about to be made, cleared from the session
    (a refused posting puts the session back as it was, reason included)."""
    code, session.reason = session.reason, None
    found = find_reason(conn, code) if code is not None else None
    return code if found is not None and found.kind == kind else None


def require_reason(conn: sqlite3.Connection, kind: str, code: str | None) -> None:
    """Refuse a posting of `kind` made without a reason where the plant needs one. Called
    after the posting, so the ledger's own refusals (no stock, no lot) are said first;
    the refusal rolls the posting back."""
    if code is None and kind in REASON_REQUIRED and reason_required(conn, kind):
        raise ReasonRefused(
            f"scan a REASON: for the {_NOUN[kind]} from the command sheet ({_codes(conn, kind)}); "
            "nothing was posted"
        )


def because(reason: str | None) -> str:
    """How a posting's words name its reason."""
    return f" (reason {reason})" if reason else ""


def hold_reason(conn: sqlite3.Connection, text: str) -> str:
    """The words a hold is recorded with: a hold reason's description for its code (typed,
    or scanned as REASON:code), else the supervisor's own words; refused when empty."""
    words = text.strip()
    scanned = words.upper().startswith(PREFIX)
    code = words[len(PREFIX) :].strip() if scanned else words
    found = find_reason(conn, code) if code else None
    if found is not None:
        if found.kind != "hold":
            raise ReasonRefused(
                f"{found.code} is a reason for {_PLURAL[found.kind]}, not holds: give a hold "
                f"reason ({_codes(conn, 'hold')}) or words of your own"
            )
        return found.description
    if scanned:
        raise ReasonRefused(f"unknown reason {code!r}: {_codes(conn, 'hold')}, or type words")
    if not words:
        holds = [r.code for r in plant_reasons(conn, "hold")]
        codes = f" (a hold reason: {', '.join(holds)})" if holds else ""
        raise ReasonRefused(f"say why the order is held{codes}: the reason is kept with the hold")
    return words
