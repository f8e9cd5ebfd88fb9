"""Migrations from 11 on: how work flows on the floor beyond the ledger's bare postings.
m011: the plant's reasons (reasons.csv, scanned as `REASON:code`) and the reason kept
with a station's next action, on each movement and each stage progress entry."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.schema_sql import in_list, run_script
from db.vocabulary import REASON_KINDS

if TYPE_CHECKING:
    from sqlite_utils import Database

_V11 = f"""
-- Why a scrap, a hold or a count's adjustment happened, in the plant's own codes.
CREATE TABLE reasons (
    code TEXT PRIMARY KEY CHECK (code != ''),
    description TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {in_list(REASON_KINDS)})
);
-- The reason scanned for the station's next scrap or adjustment (cleared once used).
ALTER TABLE station_sessions ADD COLUMN reason TEXT REFERENCES reasons(code);
-- The reason a scrap or adjustment was posted with; a reversal carries its original's.
-- Both tables stay append-only: a new column changes no row's history.
ALTER TABLE movements ADD COLUMN reason TEXT REFERENCES reasons(code);
ALTER TABLE progress_entries ADD COLUMN reason TEXT REFERENCES reasons(code);
"""


def m011_reasons(db: Database) -> None:
    run_script(db, _V11)
