"""The schema of the floor's record: its version, the migration set (sqlite-utils
`Migrations`; the steps live in db/schema_floor_record.py, db/schema_supply.py and
db/schema_floor_flows.py, their shared SQL in db/schema_sql.py, the words they allow in
db/vocabulary.py).

Quantities are integer thousandths (`*_milli`, see db/quantity.py); times are UTC
milliseconds since the epoch (`*_ms`). The ledger tables (movements, stage progress
entries, the scan journal and its outcomes) and the audit tables (due-date, status and
setting changes, inbox resolutions, leave to issue an expired lot or unplanned
material) are append-only:
triggers refuse UPDATE and DELETE in the database itself, so no tool, not even the
sqlite3 shell, can rewrite history.
Corrections are reversal entries; a work order's status moves only with its audit row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from db.connection import FileFault, connect
from db.schema_floor_flows import (
    m010_number_pad,
    m011_reasons,
    m012_unplanned_material,
    m013_inbox_waits,
)
from db.schema_floor_record import (
    m001_floor_record,
    m002_board_columns,
    m003_audit_trails,
    m004_feed_marks,
)
from db.schema_sql import trail_status
from db.schema_supply import (
    m005_capacity_and_supply,
    m006_lot_dates,
    m007_ssi_counts,
    m008_order_receipts,
    m009_office_views,
    m014_material_held,
)
from db.vocabulary import (
    LOCATION_KINDS,
    MODES,
    MOVEMENT_KINDS,
    OPEN_STATUSES,
    ROLES,
    WORK_ORDER_STATUSES,
)

if TYPE_CHECKING:
    from sqlite_utils.migrations import Migrations

__all__ = [
    "LOCATION_KINDS",
    "MODES",
    "MOVEMENT_KINDS",
    "OPEN_STATUSES",
    "ROLES",
    "SCHEMA_VERSION",
    "WORK_ORDER_STATUSES",
    "init_db",
    "migrate",
    "migrations",
    "trail_status",
]

# Bumped with every migration added below; a database already at this version skips
# loading sqlite-utils at all, which keeps every kiosk's start quick.
SCHEMA_VERSION = 14


def migrations() -> Migrations:
    """The migration set, in order; add new ones at the end and bump SCHEMA_VERSION."""
    from sqlite_utils.migrations import Migrations

    steps = Migrations("shopfloor")
    steps()(m001_floor_record)
    steps()(m002_board_columns)
    steps()(m003_audit_trails)
    steps()(m004_feed_marks)
    steps()(m005_capacity_and_supply)
    steps()(m006_lot_dates)
    steps()(m007_ssi_counts)
    steps()(m008_order_receipts)
    steps()(m009_office_views)
    steps()(m010_number_pad)
    steps()(m011_reasons)
    steps()(m012_unplanned_material)
    steps()(m013_inbox_waits)
    steps()(m014_material_held)
    return steps


def migrate(conn: sqlite3.Connection) -> None:
    """Bring the database to the current schema; safe to run on every start."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        # A newer shopfloor's file: "migrating" it would stamp it with this older version.
        raise FileFault("newer", f"the database is at schema {version}, newer than this shopfloor")
    if version == SCHEMA_VERSION:
        return
    from sqlite_utils import Database

    migrations().apply(Database(conn))
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def init_db(path: str | Path) -> sqlite3.Connection:
    """Create or migrate the database file and return an open connection to it."""
    conn = connect(path)
    migrate(conn)
    return conn
