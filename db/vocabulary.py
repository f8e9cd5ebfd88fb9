"""The words the floor's record allows: kinds of location, roles, scan modes, kinds of
movement and work-order statuses. The schema's CHECK constraints are written from these
tuples, and every reader of the record takes them from here (through db.schema)."""

from __future__ import annotations

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
# What a reason (reasons.csv, scanned as REASON:code) explains: a scrap, a hold, a count's
# adjustment.
REASON_KINDS = ("scrap", "hold", "adjust")
