"""The board's columns on each work order (board_stages, board_required, board_ready,
board_short): the expressions that compute them from the running totals and the bill,
and the triggers that keep them current (migration 2's script, run by db/schema.py).
db/board.py reads them, and compares them with the same expressions to find drift.
"""

from __future__ import annotations

# What the board reads of each work order, kept in columns of its row (db/board.py's
# docstring defines them), so the board fetches one row per open order instead of
# running a subquery per order over its stages and one per bill line over the material
# held, and working out readiness and shortage per order in Python (5,000 open orders:
# nearly all of a full board read):
# - board_stages: "code done scrap" per stage of the route, in route order, joined by
#   ASCII unit separators (codes may hold spaces, never control characters);
# - board_required: what the bill needs for the whole order, summed over its lines;
# - board_ready: of that, what was issued net of returns, each line capped at its need;
# - board_short: 1 when some line's net issue is more than one thousandth (the
#   backflush's rounding) below its quantity per unit times what its consuming stage
#   (None: the route's first, as db.progress backflushes) completed, else 0.
# The expressions are correlated to the `work_orders` row being written (or checked).
BOARD_STAGES = """COALESCE((
    SELECT group_concat(s.stage || char(31) || s.done_milli || char(31) || s.scrap_milli,
                        char(31))
      FROM (SELECT stage, done_milli, scrap_milli FROM work_order_stages
             WHERE work_order = work_orders.number ORDER BY seq) s), '')"""
# Per line of the order's bill: its need, its net issue, and what its stage used up.
_BILL_LINES = """
SELECT (b.qty_per_milli * work_orders.qty_milli + 500) / 1000 AS need,
       COALESCE((SELECT SUM(m.issued_milli - m.returned_milli) FROM work_order_materials m
                  WHERE m.work_order = work_orders.number AND m.item = b.component), 0)
           AS net,
       b.qty_per_milli * COALESCE(CASE WHEN b.stage IS NULL THEN
           (SELECT s.done_milli FROM work_order_stages s
             WHERE s.work_order = work_orders.number ORDER BY s.seq LIMIT 1)
       ELSE
           (SELECT s.done_milli FROM work_order_stages s
             WHERE s.work_order = work_orders.number AND s.stage = b.stage
             ORDER BY s.seq DESC LIMIT 1)
       END, 0) AS used
  FROM bill_of_materials b WHERE b.product = work_orders.product"""
BOARD_MATERIAL = f"""(
    SELECT COALESCE(SUM(need), 0), COALESCE(SUM(MIN(net, need)), 0),
           COALESCE(MAX(used != 0 AND net * 1000 + 1000 < used), 0)
      FROM ({_BILL_LINES}))"""
_BOARD_COLUMNS = "(board_stages, board_required, board_ready, board_short)"
_SET_ALL = (
    f"UPDATE work_orders SET {_BOARD_COLUMNS} = (SELECT {BOARD_STAGES}, * FROM {BOARD_MATERIAL})"
)
_SET_MATERIAL = (
    f"UPDATE work_orders SET (board_required, board_ready, board_short) = {BOARD_MATERIAL}"
)
_SET_STAGES = f"UPDATE work_orders SET board_stages = {BOARD_STAGES}"


def _completed(order: str) -> str:
    """Some stage of the order has completed units: only then can it be short."""
    return (
        f"EXISTS (SELECT 1 FROM work_order_stages WHERE work_order = {order} AND done_milli != 0)"
    )


def _on_bill(*items: str) -> str:
    """The order's bill names one of `items`: material it does not name changes nothing
    the board shows, so the triggers skip the rebuild for it."""
    return (
        "EXISTS (SELECT 1 FROM bill_of_materials b WHERE b.product = work_orders.product "
        f"AND b.component IN ({', '.join(items)}))"
    )


# The triggers run in the statement that changes the totals (or the bill, or the order),
# so the columns can never disagree with what they summarise in any committed state, and
# no writer (db.ledger, an import, the sqlite3 shell) has to remember them. A change
# rebuilds one order's columns from its few rows by primary key; consumption
# (backflush) and material the order's bill does not name change nothing and fire nothing.
BOARD_COLUMNS_SCRIPT = f"""
ALTER TABLE work_orders ADD COLUMN board_stages TEXT NOT NULL DEFAULT '';
ALTER TABLE work_orders ADD COLUMN board_required INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_orders ADD COLUMN board_ready INTEGER NOT NULL DEFAULT 0;
ALTER TABLE work_orders ADD COLUMN board_short INTEGER NOT NULL DEFAULT 0;
{_SET_ALL};

CREATE TRIGGER work_orders_board_insert AFTER INSERT ON work_orders BEGIN
    {_SET_ALL} WHERE number = NEW.number;
END;
CREATE TRIGGER work_orders_board_update AFTER UPDATE OF number, product, qty_milli
ON work_orders WHEN OLD.number IS NOT NEW.number OR OLD.product IS NOT NEW.product
                 OR OLD.qty_milli IS NOT NEW.qty_milli BEGIN
    {_SET_ALL} WHERE number = NEW.number;
END;

-- A stage rebuilds the route's string. Material figures depend on the stages only
-- through what they completed (shortage), so they are left alone while the order has
-- completed nothing (an import replacing an untouched order's route), and when only
-- scrap changed.
CREATE TRIGGER work_order_stages_board_insert AFTER INSERT ON work_order_stages BEGIN
    {_SET_STAGES} WHERE number = NEW.work_order;
    {_SET_MATERIAL} WHERE number = NEW.work_order AND {_completed("NEW.work_order")};
END;
CREATE TRIGGER work_order_stages_board_update AFTER UPDATE ON work_order_stages BEGIN
    {_SET_STAGES} WHERE number IN (OLD.work_order, NEW.work_order);
    {_SET_MATERIAL} WHERE number IN (OLD.work_order, NEW.work_order)
       AND (OLD.done_milli IS NOT NEW.done_milli OR OLD.stage IS NOT NEW.stage
            OR OLD.seq IS NOT NEW.seq OR OLD.work_order IS NOT NEW.work_order);
END;
CREATE TRIGGER work_order_stages_board_delete AFTER DELETE ON work_order_stages BEGIN
    {_SET_STAGES} WHERE number = OLD.work_order;
    {_SET_MATERIAL} WHERE number = OLD.work_order
       AND (OLD.done_milli != 0 OR {_completed("OLD.work_order")});
END;

CREATE TRIGGER work_order_materials_board_insert AFTER INSERT ON work_order_materials
WHEN NEW.issued_milli != NEW.returned_milli BEGIN
    {_SET_MATERIAL} WHERE number = NEW.work_order AND {_on_bill("NEW.item")};
END;
CREATE TRIGGER work_order_materials_board_update
AFTER UPDATE OF work_order, item, issued_milli, returned_milli ON work_order_materials
WHEN NEW.issued_milli - NEW.returned_milli != OLD.issued_milli - OLD.returned_milli
  OR NEW.work_order IS NOT OLD.work_order OR NEW.item IS NOT OLD.item BEGIN
    {_SET_MATERIAL}
     WHERE number IN (OLD.work_order, NEW.work_order) AND {_on_bill("OLD.item", "NEW.item")};
END;
CREATE TRIGGER work_order_materials_board_delete AFTER DELETE ON work_order_materials
WHEN OLD.issued_milli != OLD.returned_milli BEGIN
    {_SET_MATERIAL} WHERE number = OLD.work_order AND {_on_bill("OLD.item")};
END;

-- A re-import of an unchanged bill updates its lines in place and fires nothing.
CREATE TRIGGER bill_of_materials_board_insert AFTER INSERT ON bill_of_materials BEGIN
    {_SET_MATERIAL} WHERE product = NEW.product;
END;
CREATE TRIGGER bill_of_materials_board_update
AFTER UPDATE OF product, component, qty_per_milli, stage ON bill_of_materials
WHEN OLD.product IS NOT NEW.product OR OLD.component IS NOT NEW.component
  OR OLD.qty_per_milli IS NOT NEW.qty_per_milli OR OLD.stage IS NOT NEW.stage BEGIN
    {_SET_MATERIAL} WHERE product IN (OLD.product, NEW.product);
END;
CREATE TRIGGER bill_of_materials_board_delete AFTER DELETE ON bill_of_materials BEGIN
    {_SET_MATERIAL} WHERE product = OLD.product;
END;
"""
