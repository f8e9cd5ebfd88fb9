"""Migrations 5 to 9 and 14: capacity and supply for the coordinator's forecast, lot
dates and expiry allowances, SSI scanner counts, receipts and shipments against orders,
the office's read-only views, and what each order holds of each component, kept."""

from __future__ import annotations

from typing import TYPE_CHECKING

from db.schema_sql import audit_triggers, in_list, run_script
from db.vocabulary import OPEN_STATUSES

if TYPE_CHECKING:
    from sqlite_utils import Database

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
    run_script(db, _V5)


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
    run_script(db, _V6)
    run_script(db, audit_triggers({"lot_allowances": "id = NEW.id"}))


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
    run_script(db, _V7)


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


def m008_order_receipts(db: Database) -> None:
    run_script(db, _V8)
    links = dict.fromkeys(("order_receipts", "order_shipments"), "movement = NEW.movement")
    run_script(db, audit_triggers(links, instead="post a correcting entry instead"))


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
    WHERE w.status IN {in_list(OPEN_STATUSES)}
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
WHERE w.status IN {in_list(OPEN_STATUSES)};

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
    run_script(db, _V9)


# What an order holds of each component (issued, less returned, less consumed), kept in
# the posting's own statement: the shortage netting reads one row per bill line where it
# summed about 19 lot and location rows each (db.shortages; `shopfloor check` proves it
# against work_order_materials). The totals are kept, not derived, as `stock` is.
_V14 = """
CREATE TABLE work_order_held (
    work_order TEXT NOT NULL,
    item TEXT NOT NULL,
    held_milli INTEGER NOT NULL,
    PRIMARY KEY (work_order, item)
) WITHOUT ROWID;
INSERT INTO work_order_held (work_order, item, held_milli)
SELECT work_order, item, SUM(issued_milli - returned_milli - consumed_milli)
  FROM work_order_materials GROUP BY work_order, item;
CREATE TRIGGER work_order_materials_held_insert AFTER INSERT ON work_order_materials BEGIN
    INSERT INTO work_order_held (work_order, item, held_milli)
    VALUES (NEW.work_order, NEW.item,
            NEW.issued_milli - NEW.returned_milli - NEW.consumed_milli)
    ON CONFLICT (work_order, item) DO UPDATE SET held_milli = held_milli + excluded.held_milli;
END;
CREATE TRIGGER work_order_materials_held_update
AFTER UPDATE OF work_order, item, issued_milli, returned_milli, consumed_milli
ON work_order_materials BEGIN
    UPDATE work_order_held
       SET held_milli = held_milli - (OLD.issued_milli - OLD.returned_milli - OLD.consumed_milli)
     WHERE work_order = OLD.work_order AND item = OLD.item;
    INSERT INTO work_order_held (work_order, item, held_milli)
    VALUES (NEW.work_order, NEW.item,
            NEW.issued_milli - NEW.returned_milli - NEW.consumed_milli)
    ON CONFLICT (work_order, item) DO UPDATE SET held_milli = held_milli + excluded.held_milli;
END;
CREATE TRIGGER work_order_materials_held_delete AFTER DELETE ON work_order_materials BEGIN
    UPDATE work_order_held
       SET held_milli = held_milli - (OLD.issued_milli - OLD.returned_milli - OLD.consumed_milli)
     WHERE work_order = OLD.work_order AND item = OLD.item;
END;
"""


def m014_material_held(db: Database) -> None:
    run_script(db, _V14)
