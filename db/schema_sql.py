"""The SQL the migrations share: the append-only and audit triggers that keep history
unrewritable, the status an order's audit trail ends in, and running a script
statement by statement inside a migration's transaction."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlite_utils import Database

APPEND_ONLY = ("movements", "progress_entries", "scan_journal", "scan_outcomes")


def in_list(values: tuple[str, ...]) -> str:
    """SQL `(...)` list of the values, for IN and CHECK."""
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


# INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless
# recursive_triggers is on, which the sqlite3 shell does not set): refuse a clashing key.
_KEYS = {
    "movements": "id = NEW.id OR (NEW.reverses IS NOT NULL AND reverses = NEW.reverses)",
    "progress_entries": "id = NEW.id OR (NEW.reverses IS NOT NULL AND reverses = NEW.reverses)",
    "scan_journal": "id = NEW.id",
    "scan_outcomes": "scan = NEW.scan",
}


def append_only_triggers() -> str:
    """Triggers that refuse rewriting the ledger tables (UPDATE, DELETE, INSERT OR REPLACE)."""
    parts = [
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
        f"post a correcting entry instead'); END;"
        for table, clash in _KEYS.items()
    ]
    for table in APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
                f"post a correcting entry instead'); END;"
            )
    return "\n".join(parts)


def run_script(db: Database, script: str) -> None:
    # executescript would COMMIT behind the migration's transaction; run statement by statement.
    for statement in split_script(script):
        db.execute(statement)


def split_script(script: str) -> list[str]:
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


# Who changed what beyond the ledger is history too (SPEC §3, issue 9): the audit tables
# are append-only like the ledger, with the same three triggers each.
AUDIT_KEYS = {
    "due_date_changes": "id = NEW.id",
    "status_changes": "id = NEW.id",
    "inbox_resolutions": "scan = NEW.scan",
    "setting_changes": "id = NEW.id",
}


def audit_triggers(
    keys: dict[str, str] = AUDIT_KEYS, instead: str = "record a new change instead"
) -> str:
    """Triggers that make the given tables append-only (`keys`: table → the clash of a
    new row with a kept one); the refusal says what to do `instead`."""
    parts = []
    for table, clash in keys.items():
        refusal = f"RAISE(ABORT, '{table} is append-only: {instead}')"
        parts.append(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) BEGIN SELECT {refusal}; END;"
        )
        for action in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT {refusal}; END;"
            )
    return "\n".join(parts)


def trail_status(order: str) -> str:
    """SQL for the status an order's audit trail ends in ('released' before any change)."""
    return (
        "COALESCE((SELECT s.new_status FROM status_changes s "
        f"WHERE s.work_order = {order} ORDER BY s.id DESC LIMIT 1), 'released')"
    )
