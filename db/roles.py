"""Who may change the record beyond scanning (SPEC §8), and the plant's settings a
supervisor chose: which kinds of location may go below zero, whether a scrap or a
count's adjustment needs a reason.

The ledger consults both (a count needs the adjust role; a bin of an allowed kind may
go negative), so they sit below it; a supervisor's decisions on work orders are
db/supervision.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from db.connection import now_ms, transaction
from db.refusals import LedgerError
from db.schema import LOCATION_KINDS


class PermissionDenied(LedgerError):
    """The operator's role does not allow this change."""


# Which roles may change the record beyond scanning (SPEC §8).
PERMISSIONS: dict[str, tuple[str, ...]] = {
    "adjust": ("supervisor", "storeroom"),
    "due_date": ("supervisor", "coordinator"),
    "hold": ("supervisor",),
    "cancel": ("supervisor",),
    "replay": ("supervisor",),
    "leave_kiosk": ("supervisor",),
    "settings": ("supervisor",),
    # CMD:UNDO of a posting someone else made at the station.
    "undo_others": ("supervisor",),
    # Issuing a lot past its expiry (db.lots.allow_expired).
    "issue_expired": ("supervisor",),
    # Issuing to an order material its bill does not name (db.unplanned.allow_unplanned).
    "unplanned_material": ("supervisor",),
}

# The settings key holding the location kinds a supervisor allowed to go below zero,
# comma-separated; empty (the default) refuses negative stock everywhere.
NEGATIVE_STOCK_KINDS = "negative_stock_kinds"


def require_role(conn: sqlite3.Connection, badge: str | None, action: str) -> str:
    """Return the operator's name if their role may do `action`, else refuse in plain words."""
    allowed = PERMISSIONS[action]
    if not badge:
        raise PermissionDenied(f"{action.replace('_', ' ')} needs a {' or '.join(allowed)} badge")
    row = conn.execute("SELECT name, role FROM operators WHERE badge = ?", (badge,)).fetchone()
    if row is None:
        raise PermissionDenied(f"badge {badge} is not in the operator list")
    if row["role"] not in allowed:
        raise PermissionDenied(
            f"{row['name']} is {row['role']}; {action.replace('_', ' ')} needs "
            f"a {' or '.join(allowed)}"
        )
    return str(row["name"])


def may(conn: sqlite3.Connection, badge: str | None, action: str) -> bool:
    """Whether the operator's role allows `action` (require_role, without the refusal)."""
    try:
        require_role(conn, badge, action)
    except PermissionDenied:
        return False
    return True


def setting(conn: sqlite3.Connection, key: str, default: str = "") -> str:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return str(row[0]) if row else default


KIOSK_RELOCK_MIN = "kiosk_relock_min"
KIOSK_RELOCK_DEFAULT_MIN = 3.0


def minutes_setting(conn: sqlite3.Connection, key: str, default: float) -> float:
    """A setting in minutes; a value that is not a positive number counts as the default,
    so a typo in the settings never stops a kiosk."""
    try:
        minutes = float(setting(conn, key, str(default)))
    except ValueError:
        return default
    return minutes if 0 < minutes < 1e6 else default


# Whether a scrap, or a count that changes a balance, needs a REASON: scanned first
# (db.reason_codes): on unless a supervisor turned it off.
REASON_REQUIRED = {"scrap": "scrap_needs_reason", "adjust": "adjust_needs_reason"}


def on_off_setting(conn: sqlite3.Connection, key: str, default: bool) -> bool:
    """A yes/no setting; a value that is neither counts as the default (a typo never
    stops the floor)."""
    value = setting(conn, key).strip().lower()
    if value in ("1", "on", "yes", "true"):
        return True
    if value in ("0", "off", "no", "false"):
        return False
    return default


def reason_required(conn: sqlite3.Connection, kind: str) -> bool:
    """Whether a posting of this kind (scrap, adjust) needs a reason scanned first."""
    return on_off_setting(conn, REASON_REQUIRED[kind], True)


def set_setting(conn: sqlite3.Connection, key: str, value: str) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )


def negative_stock_kinds(conn: sqlite3.Connection) -> frozenset[str]:
    """The location kinds a supervisor allowed to go below zero (none by default)."""
    value = setting(conn, NEGATIVE_STOCK_KINDS)
    return frozenset(kind for kind in value.split(",") if kind)


def allow_negative_stock(
    conn: sqlite3.Connection, kinds: Iterable[str], *, by: str, reason: str
) -> frozenset[str]:
    """Let stock go below zero at these kinds of location (none: refuse everywhere).

    A supervisor's decision, kept with who, when and why in `setting_changes`.
    """
    chosen = frozenset(kind.strip().lower() for kind in kinds if kind.strip())
    unknown = sorted(chosen - set(LOCATION_KINDS))
    if unknown:
        raise LedgerError(
            f"{', '.join(unknown)}: not a kind of location; choose from {', '.join(LOCATION_KINDS)}"
        )
    with transaction(conn):
        require_role(conn, by, "settings")
        if not reason.strip():
            raise LedgerError("say why negative stock is allowed: the reason is kept with it")
        old = setting(conn, NEGATIVE_STOCK_KINDS)
        new = ",".join(kind for kind in LOCATION_KINDS if kind in chosen)
        conn.execute(
            "INSERT INTO setting_changes (time_ms, key, old_value, new_value, by_operator, "
            "reason) VALUES (?, ?, ?, ?, ?, ?)",
            (now_ms(), NEGATIVE_STOCK_KINDS, old, new, by, reason.strip()),
        )
        set_setting(conn, NEGATIVE_STOCK_KINDS, new)
    return chosen
