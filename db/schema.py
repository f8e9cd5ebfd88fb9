"""The schema of the floor's record and its migrations (sqlite-utils `Migrations`).

Quantities are integer thousandths (`*_milli`, see db/quantity.py); times are UTC
milliseconds since the epoch (`*_ms`). The ledger tables (movements, stage progress
entries, the scan journal and its outcomes) and the audit tables (due-date, status and
setting changes, inbox resolutions, leave to issue an expired lot) are append-only:
triggers refuse UPDATE and DELETE in the database itself, so no tool, not even the
sqlite3 shell, can rewrite history.
Corrections are reversal entries; a work order's status moves only with its audit row.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

from db.board_columns import BOARD_COLUMNS_SCRIPT
from db.connection import FileFault, connect

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

# Bumped with every migration added below; a database already at this version skips
# loading sqlite-utils at all, which keeps every kiosk's start quick.
SCHEMA_VERSION = 9

LOCATION_KINDS = ("receiving", "storeroom", "stage", "finished", "shipping", "scrap")
ROLES = ("storeroom", "operator", "supervisor", "coordinator")
MODES = ("RECEIVE", "ISSUE", "RETURN", "MOVE", "PROGRESS", "SCRAP", "COUNT", "SHIP")
MOVEMENT_KINDS = (
    "receive",
    "transfer",
    "issue",
    "return",
    "produce",
    "consume",
    "scrap",
    "adjust",
    "ship",
)
WORK_ORDER_STATUSES = ("released", "in_progress", "on_hold", "done", "cancelled")
# A work order the floor still works on: the board, reports and travelers show these.
OPEN_STATUSES = ("released", "in_progress", "on_hold")

_APPEND_ONLY = ("movements", "progress_entries", "scan_journal", "scan_outcomes")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_V1 = f"""
CREATE TABLE locations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN {_in(LOCATION_KINDS)}),
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
    role TEXT NOT NULL CHECK (role IN {_in(ROLES)})
);
CREATE TABLE stations (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    location TEXT REFERENCES locations(code),
    stage TEXT REFERENCES stages(code),
    mode TEXT NOT NULL DEFAULT 'RECEIVE' CHECK (mode IN {_in(MODES)})
);
CREATE TABLE work_orders (
    number TEXT PRIMARY KEY,
    product TEXT NOT NULL REFERENCES items(sku),
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    due TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 3,
    barcode TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'released' CHECK (status IN {_in(WORK_ORDER_STATUSES)}),
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
    kind TEXT NOT NULL CHECK (kind IN {_in(MOVEMENT_KINDS)}),
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
    mode TEXT NOT NULL CHECK (mode IN {_in(MODES)}),
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
WHERE w.status IN {_in(OPEN_STATUSES)};

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


# INSERT OR REPLACE deletes the old row without firing DELETE triggers (unless
# recursive_triggers is on, which the sqlite3 shell does not set): refuse a clashing key.
_KEYS = {
    "movements": "id = NEW.id OR (NEW.reverses IS NOT NULL AND reverses = NEW.reverses)",
    "progress_entries": "id = NEW.id OR (NEW.reverses IS NOT NULL AND reverses = NEW.reverses)",
    "scan_journal": "id = NEW.id",
    "scan_outcomes": "scan = NEW.scan",
}


def _append_only_triggers() -> str:
    parts = [
        f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
        f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {clash}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
        f"post a correcting entry instead'); END;"
        for table, clash in _KEYS.items()
    ]
    for table in _APPEND_ONLY:
        for action in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: "
                f"post a correcting entry instead'); END;"
            )
    return "\n".join(parts)


def _run(db: Database, script: str) -> None:
    # executescript would COMMIT behind the migration's transaction; run statement by statement.
    for statement in _split(script):
        db.execute(statement)


def _split(script: str) -> list[str]:
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


_V2 = (
    BOARD_COLUMNS_SCRIPT
    + f"""
-- The board's order (and its first screenful, LIMIT n) straight off an index, no sort.
CREATE INDEX work_orders_board ON work_orders(due, priority, number)
 WHERE status IN {_in(OPEN_STATUSES)};
"""
)


# Who changed what beyond the ledger is history too (SPEC §3, issue 9): the audit tables
# are append-only like the ledger, with the same three triggers each.
_AUDIT_KEYS = {
    "due_date_changes": "id = NEW.id",
    "status_changes": "id = NEW.id",
    "inbox_resolutions": "scan = NEW.scan",
    "setting_changes": "id = NEW.id",
}


def _audit_triggers(keys: dict[str, str] = _AUDIT_KEYS) -> str:
    parts = []
    for table, clash in keys.items():
        refusal = f"RAISE(ABORT, '{table} is append-only: record a new change instead')"
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
    _run(db, _V1)
    _run(db, _append_only_triggers())
    _run(db, _VIEWS)


def m002_board_columns(db: Database) -> None:
    _run(db, _V2)


def m003_audit_trails(db: Database) -> None:
    _run(db, _V3)
    _run(db, _audit_triggers())


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
    _run(db, _V4)


_V5 = """
-- Standard times per routing step, for the forecast; NULL: not known (the forecast then
-- uses what the stage measurably did, or the plant-wide fallback).
ALTER TABLE routings ADD COLUMN setup_min REAL CHECK (setup_min >= 0);
ALTER TABLE routings ADD COLUMN run_min_per_unit REAL CHECK (run_min_per_unit >= 0);
-- A stage's capacity: its working hours per working day, and units worked at once.
ALTER TABLE stages ADD COLUMN hours_per_day REAL NOT NULL DEFAULT 8
    CHECK (hours_per_day > 0 AND hours_per_day <= 24);
ALTER TABLE stages ADD COLUMN parallel INTEGER NOT NULL DEFAULT 1 CHECK (parallel >= 1);
-- Days that differ from the default Monday to Friday week: a holiday, a Saturday shift.
CREATE TABLE calendar (
    date TEXT PRIMARY KEY,
    working INTEGER NOT NULL CHECK (working IN (0, 1))
);
-- Supply on its way, one row per purchase-order line (an item once per order); what
-- was received against it counts down what is still to come.
CREATE TABLE purchase_orders (
    number TEXT NOT NULL,
    item TEXT NOT NULL REFERENCES items(sku),
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    due TEXT NOT NULL,
    supplier TEXT NOT NULL DEFAULT '',
    received_milli INTEGER NOT NULL DEFAULT 0 CHECK (received_milli >= 0),
    PRIMARY KEY (number, item)
);
CREATE INDEX purchase_orders_item ON purchase_orders(item, due);
-- Customer demand, one row per sales-order line; `work_order` is the order making it.
CREATE TABLE sales_orders (
    number TEXT NOT NULL,
    customer TEXT NOT NULL,
    product TEXT NOT NULL REFERENCES items(sku),
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    due TEXT NOT NULL,
    work_order TEXT REFERENCES work_orders(number),
    shipped_milli INTEGER NOT NULL DEFAULT 0 CHECK (shipped_milli >= 0),
    PRIMARY KEY (number, product)
);
CREATE INDEX sales_orders_work_order ON sales_orders(work_order);
"""


def m005_capacity_and_supply(db: Database) -> None:
    _run(db, _V5)


_V6 = """
-- What a lot's label said (GS1 AI 17 expiry, AI 11 production date) and when it first
-- came in: the pick order (db.lots) takes the soonest expiry first, then the oldest.
CREATE TABLE lots (
  item TEXT NOT NULL REFERENCES items(sku),
  lot TEXT NOT NULL CHECK (lot != ''),
  expiry TEXT,
  produced TEXT,
  received_ms INTEGER NOT NULL,
  PRIMARY KEY (item, lot)
);
-- Every lot already on record, first seen at its first movement.
INSERT INTO lots (item, lot, received_ms)
SELECT item, lot, MIN(time_ms) FROM movements WHERE lot != '' GROUP BY item, lot;

-- A supervisor's leave to issue a lot past its expiry, with who, when and why.
CREATE TABLE lot_allowances (
  id INTEGER PRIMARY KEY,
  time_ms INTEGER NOT NULL,
  item TEXT NOT NULL,
  lot TEXT NOT NULL,
  by_operator TEXT NOT NULL REFERENCES operators(badge),
  reason TEXT NOT NULL,
  FOREIGN KEY (item, lot) REFERENCES lots(item, lot)
);
CREATE INDEX lot_allowances_lot ON lot_allowances(item, lot);
"""


def m006_lot_dates(db: Database) -> None:
    _run(db, _V6)
    _run(db, _audit_triggers({"lot_allowances": "id = NEW.id"}))


_V7 = """
-- What an SSI scanner's link did (issue 14), for the Devices screen: its protocol, the
-- revision it reported at connect, the scans the host acknowledged, the packets the
-- scanner resent, and the error beeps the host sounded for rejected scans.
ALTER TABLE scanners ADD COLUMN protocol TEXT NOT NULL DEFAULT 'lines';
ALTER TABLE scanners ADD COLUMN revision TEXT;
ALTER TABLE scanners ADD COLUMN acks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scanners ADD COLUMN resends INTEGER NOT NULL DEFAULT 0;
ALTER TABLE scanners ADD COLUMN error_beeps INTEGER NOT NULL DEFAULT 0;
"""


def m007_ssi_counts(db: Database) -> None:
    _run(db, _V7)


_V8 = """
-- A station's order context: the purchase order its receipts count against (RECEIVE),
-- the sales order its shipments leave against (SHIP).
ALTER TABLE station_sessions ADD COLUMN purchase_order TEXT;
ALTER TABLE station_sessions ADD COLUMN sales_order TEXT;
-- Which receipt counted against which purchase-order line, which shipment left against
-- which sales-order line: one row per movement, append-only like the ledger it points to.
CREATE TABLE order_receipts (
    movement INTEGER PRIMARY KEY REFERENCES movements(id),
    purchase_order TEXT NOT NULL,
    item TEXT NOT NULL,
    FOREIGN KEY (purchase_order, item) REFERENCES purchase_orders(number, item)
);
CREATE TABLE order_shipments (
    movement INTEGER PRIMARY KEY REFERENCES movements(id),
    sales_order TEXT NOT NULL,
    product TEXT NOT NULL,
    FOREIGN KEY (sales_order, product) REFERENCES sales_orders(number, product)
);
-- A lot's rows of an item, for the shortage netting's picking order (oldest lot first:
-- db.shortages): the stock key puts the location between item and lot, so without this
-- a lot's first row meant reading every row of the item. New stock rows are rare (a
-- lot's first arrival in a bin); quantity updates do not touch it.
CREATE INDEX stock_item_lot ON stock(item, lot);
-- The lines' received and shipped totals follow in the same statement, whoever writes:
-- a receipt or shipment counts when it is linked, its reversal (CMD:UNDO) uncounts it.
CREATE TRIGGER order_receipts_count AFTER INSERT ON order_receipts BEGIN
    UPDATE purchase_orders SET received_milli = received_milli
           + (SELECT qty_milli FROM movements WHERE id = NEW.movement)
     WHERE number = NEW.purchase_order AND item = NEW.item;
END;
CREATE TRIGGER order_shipments_count AFTER INSERT ON order_shipments BEGIN
    UPDATE sales_orders SET shipped_milli = shipped_milli
           + (SELECT qty_milli FROM movements WHERE id = NEW.movement)
     WHERE number = NEW.sales_order AND product = NEW.product;
END;
CREATE TRIGGER movements_reverse_order_counts AFTER INSERT ON movements
WHEN NEW.reverses IS NOT NULL BEGIN
    UPDATE purchase_orders SET received_milli = MAX(received_milli - NEW.qty_milli, 0)
     WHERE (number, item) IN (SELECT purchase_order, item FROM order_receipts
                               WHERE movement = NEW.reverses);
    UPDATE sales_orders SET shipped_milli = MAX(shipped_milli - NEW.qty_milli, 0)
     WHERE (number, product) IN (SELECT sales_order, product FROM order_shipments
                                  WHERE movement = NEW.reverses);
END;
"""


def _order_link_triggers() -> str:
    parts = []
    for table in ("order_receipts", "order_shipments"):
        refusal = f"RAISE(ABORT, '{table} is append-only: post a correcting entry instead')"
        parts.append(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE movement = NEW.movement) "
            f"BEGIN SELECT {refusal}; END;"
        )
        for action in ("UPDATE", "DELETE"):
            parts.append(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT {refusal}; END;"
            )
    return "\n".join(parts)


def m008_order_receipts(db: Database) -> None:
    _run(db, _V8)
    _run(db, _order_link_triggers())


# What the office reads (docs/office-views.md): plain names, quantities in their unit,
# times as UTC text; views only, so a reader's SELECT never changes the record.
_V9 = f"""
CREATE VIEW office_stock_on_hand AS
SELECT s.item, i.description, i.uom, s.location, l.name AS location_name,
       l.kind AS location_kind, s.lot, s.qty_milli / 1000.0 AS qty
FROM stock s JOIN items i ON i.sku = s.item JOIN locations l ON l.code = s.location
WHERE s.qty_milli != 0;

CREATE VIEW office_open_orders AS
WITH route AS (
    SELECT s.work_order, s.seq, s.stage, s.done_milli, s.scrap_milli,
           COALESCE(LAG(s.done_milli) OVER (PARTITION BY s.work_order ORDER BY s.seq),
                    w.qty_milli) AS arrived_milli
    FROM work_order_stages s JOIN work_orders w ON w.number = s.work_order
    WHERE w.status IN {_in(OPEN_STATUSES)}
), waiting AS (
    SELECT work_order, MIN(seq) AS seq FROM route
    WHERE done_milli + scrap_milli < arrived_milli GROUP BY work_order
)
SELECT w.number AS work_order, w.product, i.description, w.qty_milli / 1000.0 AS qty,
       w.due, w.priority, w.status,
       (SELECT r.stage FROM route r WHERE r.work_order = w.number AND r.seq = q.seq)
           AS current_stage,
       q.seq AS current_seq,
       (SELECT COUNT(*) FROM route r WHERE r.work_order = w.number) AS stages,
       (SELECT r.done_milli / 1000.0 FROM route r WHERE r.work_order = w.number
         ORDER BY r.seq DESC LIMIT 1) AS completed,
       CASE WHEN w.due < date('now') THEN 1 ELSE 0 END AS late,
       w.board_short AS short_of_material,
       strftime('%Y-%m-%dT%H:%M:%SZ', w.last_activity_ms / 1000.0, 'unixepoch')
           AS last_activity_utc
FROM work_orders w JOIN items i ON i.sku = w.product
LEFT JOIN waiting q ON q.work_order = w.number
WHERE w.status IN {_in(OPEN_STATUSES)};

CREATE VIEW office_movements_by_day AS
SELECT date(m.time_ms / 1000, 'unixepoch') AS day_utc, m.kind, m.item,
       COUNT(*) AS movements, SUM(m.reverses IS NOT NULL) AS reversals,
       SUM(CASE WHEN m.reverses IS NULL THEN m.qty_milli ELSE -m.qty_milli END) / 1000.0
           AS net_qty
FROM movements m
GROUP BY day_utc, m.kind, m.item;

CREATE VIEW office_scans AS
SELECT j.id AS scan, strftime('%Y-%m-%dT%H:%M:%fZ', j.time_ms / 1000.0, 'unixepoch') AS time_utc,
       j.station, j.scanner, j.source, CAST(j.raw AS TEXT) AS barcode,
       COALESCE(o.status, 'pending') AS status, o.message
FROM scan_journal j LEFT JOIN scan_outcomes o ON o.scan = j.id;
"""


def m009_office_views(db: Database) -> None:
    _run(db, _V9)


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
