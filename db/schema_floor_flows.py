"""Migrations from 10 on: how the floor's scans, material and rejections flow — the
number being built on the command sheet's number pad; the plant's reasons (reasons.csv,
scanned as `REASON:code`) and the reason kept with a station's next action, on each
movement and each stage progress entry; a supervisor's leave to issue material an
order's bill does not name (`unplanned_allowances`); and which rejected scans wait in
the supervisors' inbox (`scan_outcomes.waits`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.schema_sql import audit_triggers, in_list, run_script
from db.vocabulary import REASON_KINDS

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


_V12 = """
-- A supervisor's leave to issue an item that a work order's bill does not name, to
-- that order only, with who, when and why (db.unplanned). Append-only: the leave is
-- history, as the issues it let through are.
CREATE TABLE unplanned_allowances (
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  work_order TEXT NOT NULL REFERENCES work_orders(number),
  item TEXT NOT NULL REFERENCES items(sku),
  by_operator TEXT NOT NULL REFERENCES operators(badge),
  reason TEXT NOT NULL CHECK (reason != '')
);
CREATE INDEX unplanned_allowances_order ON unplanned_allowances(work_order, item);
"""


def m012_unplanned_material(db: Database) -> None:
    run_script(db, _V12)
    run_script(db, audit_triggers({"unplanned_allowances": "id = NEW.id"}))


_V13 = """
-- Whether a rejected scan waits in the supervisors' inbox: only what a supervisor can
-- fix in the master data or an order does (an unknown barcode, an order on hold); an
-- operator's slip (a bad QTY:, a command in the wrong mode) is journaled, not queued.
-- Rows from before keep waiting, as they did.
ALTER TABLE scan_outcomes ADD COLUMN waits INTEGER NOT NULL DEFAULT 1 CHECK (waits IN (0, 1));
CREATE INDEX scan_outcomes_waiting ON scan_outcomes(scan) WHERE status = 'rejected' AND waits = 1;
"""


def m013_inbox_waits(db: Database) -> None:
    run_script(db, _V13)
