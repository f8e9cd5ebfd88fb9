"""Migrations 1 to 4: the floor's record itself (master data, the ledger, the scan
journal and its outcomes, station sessions, scanners), the board's columns, the audit
trails and the scan feeds' marks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.board_columns import BOARD_COLUMNS_SCRIPT
from db.schema_sql import append_only_triggers, audit_triggers, in_list, run_script, trail_status
from db.vocabulary import (
    LOCATION_KINDS,
    MODES,
    MOVEMENT_KINDS,
    OPEN_STATUSES,
    ROLES,
    WORK_ORDER_STATUSES,
)

if TYPE_CHECKING:
    from sqlite_utils import Database

_V1 = f"""
CREATE TABLE locations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {in_list(LOCATION_KINDS)}),
    barcode TEXT NOT NULL UNIQUE
);
CREATE TABLE stages (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT REFERENCES locations(code)
);
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    description TEXT NOT NULL,
    uom TEXT NOT NULL DEFAULT 'pcs',
    gtin TEXT UNIQUE,
    lot_tracked INTEGER NOT NULL DEFAULT 0 CHECK (lot_tracked IN (0, 1)),
    barcode TEXT NOT NULL UNIQUE
);
CREATE TABLE routings (
    product TEXT NOT NULL REFERENCES items(sku),
    seq INTEGER NOT NULL,
    stage TEXT NOT NULL REFERENCES stages(code),
    PRIMARY KEY (product, seq)
);
CREATE TABLE bill_of_materials (
    product TEXT NOT NULL REFERENCES items(sku),
    component TEXT NOT NULL REFERENCES items(sku),
    qty_per_milli INTEGER NOT NULL CHECK (qty_per_milli > 0),
    stage TEXT REFERENCES stages(code),
    PRIMARY KEY (product, component)
);
CREATE TABLE operators (
    badge TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN {in_list(ROLES)})
);
CREATE TABLE stations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT REFERENCES locations(code),
    stage TEXT REFERENCES stages(code),
    mode TEXT NOT NULL DEFAULT 'RECEIVE' CHECK (mode IN {in_list(MODES)})
);
CREATE TABLE work_orders (
    number TEXT PRIMARY KEY,
    product TEXT NOT NULL REFERENCES items(sku),
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    due TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 3,
    barcode TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'released' CHECK (status IN {in_list(WORK_ORDER_STATUSES)}),
    created_ms INTEGER NOT NULL,
    last_activity_ms INTEGER
);
CREATE INDEX work_orders_open ON work_orders(status, due);
-- A work order copies its product's routing so later routing edits don't rewrite history.
CREATE TABLE work_order_stages (
    work_order TEXT NOT NULL REFERENCES work_orders(number),
    seq INTEGER NOT NULL,
    stage TEXT NOT NULL REFERENCES stages(code),
    done_milli INTEGER NOT NULL DEFAULT 0,
    scrap_milli INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (work_order, seq)
);
CREATE INDEX work_order_stages_by_stage ON work_order_stages(stage);
-- One value per barcode across every kind of thing, so a scan always means one thing.
CREATE TABLE barcodes (
    value TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('item', 'location', 'work_order', 'operator')),
    code TEXT NOT NULL,
    UNIQUE (kind, code)
);

CREATE TABLE scan_journal (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('serial', 'keyboard', 'command', 'replay')),
    scanner TEXT,
    station TEXT NOT NULL,
    raw BLOB NOT NULL,
    raw_length INTEGER NOT NULL,
    replay_of INTEGER REFERENCES scan_journal(id)
);
CREATE INDEX scan_journal_station ON scan_journal(station, id);
CREATE TABLE scan_outcomes (
    scan INTEGER PRIMARY KEY REFERENCES scan_journal(id),
    status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected', 'duplicate')),
    message TEXT NOT NULL,
    -- the station's context at a rejection, so an inbox replay acts as the scan meant to
    context TEXT
);
CREATE INDEX scan_outcomes_status ON scan_outcomes(status);
-- A rejected scan leaves the supervisor's inbox only by a replay or a dismissal.
CREATE TABLE inbox_resolutions (
    scan INTEGER PRIMARY KEY REFERENCES scan_journal(id),
    action TEXT NOT NULL CHECK (action IN ('replayed', 'dismissed')),
    by_operator TEXT NOT NULL REFERENCES operators(badge),
    note TEXT NOT NULL DEFAULT '',
    replay_scan INTEGER REFERENCES scan_journal(id),
    time_ms INTEGER NOT NULL
);

CREATE TABLE movements (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {in_list(MOVEMENT_KINDS)}),
    item TEXT NOT NULL REFERENCES items(sku),
    lot TEXT NOT NULL DEFAULT '',
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    from_location TEXT REFERENCES locations(code),
    to_location TEXT REFERENCES locations(code),
    work_order TEXT REFERENCES work_orders(number),
    stage TEXT REFERENCES stages(code),
    operator TEXT REFERENCES operators(badge),
    station TEXT REFERENCES stations(code),
    scan INTEGER REFERENCES scan_journal(id),
    reverses INTEGER UNIQUE REFERENCES movements(id),
    -- the stage completion whose backflush or finished goods this movement is
    progress_entry INTEGER REFERENCES progress_entries(id),
    CHECK (from_location IS NOT NULL OR to_location IS NOT NULL)
);
CREATE INDEX movements_item ON movements(item, id);
CREATE INDEX movements_work_order ON movements(work_order, id);
CREATE INDEX movements_station ON movements(station, id);
CREATE INDEX movements_time ON movements(time_ms);
CREATE INDEX movements_scan ON movements(scan);
CREATE INDEX movements_progress ON movements(progress_entry);

-- On hand per item, location and lot ('' = no lot): kept in the posting's transaction.
CREATE TABLE stock (
    item TEXT NOT NULL REFERENCES items(sku),
    location TEXT NOT NULL REFERENCES locations(code),
    lot TEXT NOT NULL DEFAULT '',
    qty_milli INTEGER NOT NULL,
    PRIMARY KEY (item, location, lot)
);
CREATE INDEX stock_location ON stock(location);

-- Material held against a work order (its work in progress), per component and lot.
CREATE TABLE work_order_materials (
    work_order TEXT NOT NULL REFERENCES work_orders(number),
    item TEXT NOT NULL REFERENCES items(sku),
    lot TEXT NOT NULL DEFAULT '',
    location TEXT NOT NULL REFERENCES locations(code),
    issued_milli INTEGER NOT NULL DEFAULT 0,
    returned_milli INTEGER NOT NULL DEFAULT 0,
    consumed_milli INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (work_order, item, lot, location)
);

CREATE TABLE progress_entries (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    work_order TEXT NOT NULL REFERENCES work_orders(number),
    seq INTEGER NOT NULL,
    stage TEXT NOT NULL REFERENCES stages(code),
    kind TEXT NOT NULL CHECK (kind IN ('done', 'scrap')),
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    operator TEXT REFERENCES operators(badge),
    station TEXT REFERENCES stations(code),
    scan INTEGER REFERENCES scan_journal(id),
    reverses INTEGER UNIQUE REFERENCES progress_entries(id),
    FOREIGN KEY (work_order, seq) REFERENCES work_order_stages(work_order, seq)
);
CREATE INDEX progress_work_order ON progress_entries(work_order, seq);
CREATE INDEX progress_time ON progress_entries(time_ms);
CREATE INDEX progress_scan ON progress_entries(scan);

CREATE TABLE due_date_changes (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    work_order TEXT NOT NULL REFERENCES work_orders(number),
    old_due TEXT NOT NULL,
    new_due TEXT NOT NULL,
    by_operator TEXT NOT NULL REFERENCES operators(badge),
    reason TEXT NOT NULL
);
CREATE TABLE status_changes (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    work_order TEXT NOT NULL REFERENCES work_orders(number),
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    by_operator TEXT REFERENCES operators(badge),
    reason TEXT NOT NULL
);

-- The live state of each station's scan session (SPEC §4): mutable by design.
CREATE TABLE station_sessions (
    station TEXT PRIMARY KEY REFERENCES stations(code),
    mode TEXT NOT NULL CHECK (mode IN {in_list(MODES)}),
    operator TEXT REFERENCES operators(badge),
    work_order TEXT REFERENCES work_orders(number),
    location TEXT REFERENCES locations(code),
    to_location TEXT REFERENCES locations(code),
    qty_milli INTEGER,
    lot TEXT,
    prompt TEXT NOT NULL DEFAULT '',
    updated_ms INTEGER NOT NULL
);

CREATE TABLE scanners (
    name TEXT PRIMARY KEY,
    station TEXT NOT NULL,
    url TEXT NOT NULL,
    connected INTEGER NOT NULL DEFAULT 0,
    last_scan_ms INTEGER,
    scans INTEGER NOT NULL DEFAULT 0,
    errors INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_ms INTEGER NOT NULL
);

CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (key, value) VALUES ('allow_negative_stock', '1');
"""

_VIEWS = f"""
CREATE VIEW open_work_orders AS
SELECT w.number, w.product, i.description, w.qty_milli / 1000.0 AS qty, w.due, w.priority,
       w.status,
       (SELECT s.done_milli / 1000.0 FROM work_order_stages s
         WHERE s.work_order = w.number ORDER BY s.seq DESC LIMIT 1) AS completed,
       (SELECT COUNT(*) FROM work_order_stages s WHERE s.work_order = w.number) AS stages,
       CASE WHEN w.due < date('now') THEN 1 ELSE 0 END AS late
FROM work_orders w JOIN items i ON i.sku = w.product
WHERE w.status IN {in_list(OPEN_STATUSES)};

CREATE VIEW stock_by_location AS
SELECT s.location, l.name AS location_name, s.item, i.description, s.lot,
       s.qty_milli / 1000.0 AS qty, i.uom
FROM stock s JOIN items i ON i.sku = s.item JOIN locations l ON l.code = s.location
WHERE s.qty_milli != 0;

CREATE VIEW todays_movements AS
SELECT m.id, strftime('%Y-%m-%dT%H:%M:%fZ', m.time_ms / 1000.0, 'unixepoch') AS time,
       m.kind, m.item, m.lot, m.qty_milli / 1000.0 AS qty, m.from_location, m.to_location,
       m.work_order, m.stage, m.operator, m.station, m.reverses
FROM movements m
WHERE m.time_ms >= CAST(strftime('%s', date('now')) AS INTEGER) * 1000;
"""


_V2 = (
    BOARD_COLUMNS_SCRIPT
    + f"""
-- The board's order (and its first screenful, LIMIT n) straight off an index, no sort.
CREATE INDEX work_orders_board ON work_orders(due, priority, number)
 WHERE status IN {in_list(OPEN_STATUSES)};
"""
)


_TRAIL = trail_status("work_orders.number")
_V3 = f"""
CREATE TABLE setting_changes (
    id INTEGER PRIMARY KEY,
    time_ms INTEGER NOT NULL,
    key TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    by_operator TEXT NOT NULL REFERENCES operators(badge),
    reason TEXT NOT NULL
);
CREATE INDEX status_changes_work_order ON status_changes(work_order, id);

-- Negative stock was allowed everywhere by a default nobody chose; now it is refused
-- until a supervisor allows it for chosen kinds of location (db.roles).
DELETE FROM settings WHERE key = 'allow_negative_stock';
INSERT INTO settings (key, value) VALUES ('negative_stock_kinds', '');

-- An order whose status moved without an audit row (a hand edit) gets one now, saying
-- so, so the trail and the state agree from here on.
INSERT INTO status_changes (time_ms, work_order, old_status, new_status, by_operator, reason)
SELECT CAST(strftime('%s', 'now') AS INTEGER) * 1000, number, {_TRAIL}, status, NULL,
       'found without an audit row when the database was upgraded'
  FROM work_orders WHERE status != {_TRAIL} ORDER BY number;

-- A status changes only with its audit row: the row first, from the order's current
-- status, then the order's status to the row's new one.
CREATE TRIGGER status_changes_from_current BEFORE INSERT ON status_changes
WHEN NEW.old_status IS NOT (SELECT status FROM work_orders WHERE number = NEW.work_order) BEGIN
    SELECT RAISE(ABORT, 'status_changes: old_status must be the order''s current status');
END;
CREATE TRIGGER work_orders_status_audited BEFORE UPDATE OF status ON work_orders
WHEN NEW.status IS NOT OLD.status AND NEW.status IS NOT {trail_status("NEW.number")} BEGIN
    SELECT RAISE(ABORT, 'a work order''s status changes only with its status_changes row');
END;
"""


def m001_floor_record(db: Database) -> None:
    run_script(db, _V1)
    run_script(db, append_only_triggers())
    run_script(db, _VIEWS)


def m002_board_columns(db: Database) -> None:
    run_script(db, _V2)


def m003_audit_trails(db: Database) -> None:
    run_script(db, _V3)
    run_script(db, audit_triggers())


_V4 = """
-- Each scan feed's progress: the sequence number of the last line the database took,
-- written in the same transaction as the lines, so a spool replayed after a kill
-- posts exactly the lines the database does not have.
CREATE TABLE feed_marks (
  feed TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  updated_ms INTEGER NOT NULL
);
"""


def m004_feed_marks(db: Database) -> None:
    run_script(db, _V4)
