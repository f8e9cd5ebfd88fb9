"""Migrations 10 on: how the floor's scans flow into a station's session — the number
being built on the command sheet's number pad."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.schema_sql import run_script

if TYPE_CHECKING:
    from sqlite_utils import Database

_V10 = """
-- The quantity a person is building on the number pad (NUM:0 … NUM:9, NUM:.), kept as
-- the text scanned so far ("12.", "0.5"): it becomes the next action's quantity when
-- the item or CMD:DONE is scanned. NULL: no number being built.
ALTER TABLE station_sessions ADD COLUMN typed_qty TEXT;
"""


def m010_number_pad(db: Database) -> None:
    run_script(db, _V10)
