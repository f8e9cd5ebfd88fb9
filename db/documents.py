"""What the printed paper says, read from the record: travelers, barcode labels, the command sheet.

Each function reads master data and returns the plain dataclasses of `devices.labels`
(a `Traveler`, `Label`s keyed by the code they are about); rendering them into PNG,
SVG, PDF or ZPL is `devices`' job, choosing where they go is the command line's and
the screens'. Every barcode printed is the thing's value in the barcode registry
(SPEC §3) — an item's `barcode` column, never its sku when the two differ — so what a
station scans back resolves to exactly the thing the label names. Items with a GTIN
get a GS1-128 label carrying it (AI 01).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from decimal import Decimal
from typing import Literal

from db.context_labels import NUMBER_PAD
from db.quantity import from_milli
from db.quantity import text as qty_text
from db.reason_codes import PREFIX, plant_reasons
from db.schema import MODES, OPEN_STATUSES
from devices.labels import (
    GS1Content,
    Label,
    PackingLine,
    PackingShipment,
    PackingSlip,
    Traveler,
    TravelerPick,
    TravelerStage,
)

Kind = Literal["workorders", "locations", "items", "badges"]

# How a person names one of each kind, singular and plural.
NOUNS: dict[Kind, tuple[str, str]] = {
    "workorders": ("work order", "work orders"),
    "locations": ("location", "locations"),
    "items": ("item", "items"),
    "badges": ("badge", "badges"),
}


class UnknownCodes(LookupError):
    """Codes that name nothing of the kind asked for; the message names every one."""

    def __init__(self, kind: Kind, codes: Sequence[str]) -> None:
        self.kind = kind
        self.codes = tuple(codes)
        singular, plural = NOUNS[kind]
        noun = singular if len(self.codes) == 1 else plural
        super().__init__(f"unknown {noun} " + ", ".join(repr(c) for c in self.codes))

    def __str__(self) -> str:
        return str(self.args[0])


def quantity_text(value: Decimal) -> str:
    """An exact quantity in plain digits: 12, 0.5, 0.0005 (never 1E+2)."""
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return format(value.normalize(), "f")


# ---------------------------------------------------------------- codes


_REGISTRY_KIND: dict[Kind, str] = {
    "workorders": "work_order",
    "locations": "location",
    "items": "item",
    "badges": "operator",
}

_ALL: dict[Kind, str] = {
    "workorders": (
        "SELECT number AS code, barcode, product AS name, qty_milli, status AS detail "
        "FROM work_orders ORDER BY number"
    ),
    "locations": "SELECT code, barcode, name, kind AS detail FROM locations ORDER BY code",
    "items": (
        "SELECT sku AS code, barcode, description AS name, COALESCE(gtin, '') AS detail "
        "FROM items ORDER BY sku"
    ),
    "badges": (
        "SELECT o.badge AS code, COALESCE(b.value, o.badge) AS barcode, o.name, "
        "o.role AS detail FROM operators o "
        "LEFT JOIN barcodes b ON b.kind = 'operator' AND b.code = o.badge ORDER BY o.badge"
    ),
}

_KEY: dict[Kind, tuple[str, str]] = {
    "workorders": ("work_orders", "number"),
    "locations": ("locations", "code"),
    "items": ("items", "sku"),
    "badges": ("operators", "badge"),
}


def listing(conn: sqlite3.Connection, kind: Kind) -> list[dict[str, str]]:
    """Every code of `kind` with its barcode, name and a detail (status, kind, GTIN, role)."""
    out: list[dict[str, str]] = []
    for r in conn.execute(_ALL[kind]):
        name = r["name"]
        if kind == "workorders":
            name = f"{name} × {qty_text(r['qty_milli'])}"
        out.append({"code": r["code"], "barcode": r["barcode"], "name": name,
                    "detail": str(r["detail"])})  # fmt: skip
    return out


def resolve_codes(conn: sqlite3.Connection, kind: Kind, codes: Sequence[str]) -> list[str]:
    """The keys (number, code, sku, badge) that `codes` name, in order, without repeats.

    A code is the thing's own key or its barcode value. No codes means every one of the
    kind — for work orders, every open one (released, in progress, on hold). Codes that
    name nothing raise UnknownCodes naming them all.
    """
    table, key = _KEY[kind]
    if not codes:
        sql = f"SELECT {key} FROM {table}"
        if kind == "workorders":
            sql += f" WHERE status IN {OPEN_STATUSES!r}"
        return [r[0] for r in conn.execute(sql + f" ORDER BY {key}")]
    found: list[str] = []
    unknown: list[str] = []
    for code in codes:
        row = conn.execute(f"SELECT {key} FROM {table} WHERE {key} = ?", (code,)).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT code FROM barcodes WHERE value = ? AND kind = ?",
                (code, _REGISTRY_KIND[kind]),
            ).fetchone()
        if row is None:
            unknown.append(code)
        elif row[0] not in found:
            found.append(row[0])
    if unknown:
        raise UnknownCodes(kind, unknown)
    return found


# ---------------------------------------------------------------- travelers


def traveler(conn: sqlite3.Connection, number: str) -> Traveler:
    """The traveler of work order `number`: its facts, stages in order, and pick list.

    A pick is one component of the product's bill of materials: qty per unit × the
    order's quantity, exact, in the component's unit, with the component's registry
    barcode, ordered by the stage that consumes it (unstaged components last). Beside
    it a `QTY:` barcode of what is still to issue (the order screen's shortfall: the
    need in thousandths less what was issued net of returns), so issuing the line is
    two scans; none once the line is fully issued.
    """
    order = conn.execute(
        "SELECT w.number, w.barcode, w.product, w.qty_milli, w.due, w.priority, "
        "i.description, i.uom FROM work_orders w JOIN items i ON i.sku = w.product "
        "WHERE w.number = ?",
        (number,),
    ).fetchone()
    if order is None:
        raise UnknownCodes("workorders", [number])
    stages = tuple(
        TravelerStage(r["seq"], r["stage"], r["name"])
        for r in conn.execute(
            "SELECT s.seq, s.stage, st.name FROM work_order_stages s "
            "JOIN stages st ON st.code = s.stage WHERE s.work_order = ? ORDER BY s.seq",
            (number,),
        )
    )
    first_seq: dict[str, int] = {}
    for stage in stages:
        first_seq.setdefault(stage.code, stage.seq)
    ordered = from_milli(order["qty_milli"])
    rows = conn.execute(
        "SELECT b.component, b.qty_per_milli, b.stage, i.description, i.uom, i.barcode, "
        "(b.qty_per_milli * ? + 500) / 1000 - COALESCE((SELECT SUM(m.issued_milli - "
        "m.returned_milli) FROM work_order_materials m WHERE m.work_order = ? "
        "AND m.item = b.component), 0) AS to_issue "
        "FROM bill_of_materials b JOIN items i ON i.sku = b.component WHERE b.product = ?",
        (order["qty_milli"], number, order["product"]),
    ).fetchall()
    rows.sort(
        key=lambda r: (
            r["stage"] is None or r["stage"] not in first_seq,
            first_seq.get(r["stage"], 0),
            r["component"],
        )
    )
    picks = tuple(
        TravelerPick(
            sku=r["component"],
            description=r["description"],
            quantity=quantity_text(from_milli(r["qty_per_milli"]) * ordered),
            uom=r["uom"],
            barcode=r["barcode"],
            stage=r["stage"],
            issue_barcode=f"QTY:{qty_text(r['to_issue'])}" if r["to_issue"] > 0 else None,
        )
        for r in rows
    )
    return Traveler(
        number=order["number"],
        barcode=order["barcode"],
        product=order["product"],
        description=order["description"],
        quantity=f"{qty_text(order['qty_milli'])} {order['uom']}",
        due=order["due"],
        priority=int(order["priority"]),
        stages=stages,
        picks=picks,
    )


def packing_slip(conn: sqlite3.Connection, number: str, *, printed: str) -> PackingSlip:
    """The packing slip of sales order `number`: its lines, what left against them (the
    shipments linked to the order), printed on the day `printed` (ISO)."""
    lines = conn.execute(
        "SELECT o.customer, o.due, o.product, o.qty_milli, o.shipped_milli, o.work_order, "
        "i.description, i.uom FROM sales_orders o JOIN items i ON i.sku = o.product "
        "WHERE o.number = ? ORDER BY o.product",
        (number,),
    ).fetchall()
    if not lines:
        raise LookupError(
            f"unknown sales order {number!r}: `shopfloor import` its sales_orders.csv"
        )
    shipments = conn.execute(
        "SELECT strftime('%Y-%m-%d %H:%M', m.time_ms / 1000, 'unixepoch') AS at, m.item, m.lot,"
        " m.qty_milli - COALESCE((SELECT r.qty_milli FROM movements r"
        "  WHERE r.reverses = m.id), 0) AS left_ "
        "FROM order_shipments s JOIN movements m ON m.id = s.movement "
        "WHERE s.sales_order = ? ORDER BY m.id",
        (number,),
    ).fetchall()
    return PackingSlip(
        number=number,
        barcode=f"SO:{number}",
        customer=lines[0]["customer"],
        promised=lines[0]["due"],
        printed=printed,
        lines=tuple(
            PackingLine(
                product=r["product"],
                description=r["description"],
                uom=r["uom"],
                ordered=qty_text(r["qty_milli"]),
                shipped=qty_text(r["shipped_milli"]),
                to_ship=qty_text(max(r["qty_milli"] - r["shipped_milli"], 0)),
                work_order=r["work_order"],
            )  # fmt: skip
            for r in lines
        ),
        shipments=tuple(
            PackingShipment(r["at"], r["item"], r["lot"], qty_text(r["left_"]))
            for r in shipments
            if r["left_"] > 0  # an undone shipment did not leave
        ),
    )


def travelers(conn: sqlite3.Connection, codes: Sequence[str] = ()) -> list[Traveler]:
    """Travelers for the work orders `codes` name (numbers or barcodes); none: every open one."""
    return [traveler(conn, number) for number in resolve_codes(conn, "workorders", codes)]


# ---------------------------------------------------------------- labels


def location_labels(conn: sqlite3.Connection, codes: Sequence[str] = ()) -> dict[str, Label]:
    """Bin labels keyed by location code: the registry barcode, the name, code and kind."""
    labels: dict[str, Label] = {}
    for code in resolve_codes(conn, "locations", codes):
        row = conn.execute(
            "SELECT code, name, kind, barcode FROM locations WHERE code = ?", (code,)
        ).fetchone()
        labels[code] = Label(row["barcode"], row["name"], (f"{row['code']} · {row['kind']}",))
    return labels


def item_label(row: sqlite3.Row) -> Label:
    """An item's label: GS1-128 with its GTIN when it has one, else its registry barcode."""
    line = f"{row['sku']} · {row['uom']}" + (" · lot-tracked" if row["lot_tracked"] else "")
    if row["gtin"]:
        return Label(row["sku"], row["description"], (line,), gs1=GS1Content(row["gtin"]))
    return Label(row["barcode"], row["description"], (line,))


def item_labels(conn: sqlite3.Connection, codes: Sequence[str] = ()) -> dict[str, Label]:
    """Item labels keyed by sku (codes: skus or barcodes; none: every item)."""
    labels: dict[str, Label] = {}
    for sku in resolve_codes(conn, "items", codes):
        row = conn.execute(
            "SELECT sku, description, uom, gtin, lot_tracked, barcode FROM items WHERE sku = ?",
            (sku,),
        ).fetchone()
        labels[sku] = item_label(row)
    return labels


def badge_labels(conn: sqlite3.Connection, codes: Sequence[str] = ()) -> dict[str, Label]:
    """Operator badges keyed by badge: the registry barcode, the name and role."""
    labels: dict[str, Label] = {}
    for badge in resolve_codes(conn, "badges", codes):
        row = conn.execute(
            "SELECT o.badge, o.name, o.role, COALESCE(b.value, o.badge) AS barcode "
            "FROM operators o LEFT JOIN barcodes b ON b.kind = 'operator' AND b.code = o.badge "
            "WHERE o.badge = ?",
            (badge,),
        ).fetchone()
        labels[badge] = Label(row["barcode"], row["name"], (f"{row['badge']} · {row['role']}",))
    return labels


def labels_for(conn: sqlite3.Connection, kind: Kind, codes: Sequence[str] = ()) -> dict[str, Label]:
    """Labels of `kind` (locations, items, badges) keyed by code."""
    if kind == "locations":
        return location_labels(conn, codes)
    if kind == "items":
        return item_labels(conn, codes)
    if kind == "badges":
        return badge_labels(conn, codes)
    raise ValueError(f"{kind} are printed as travelers, not labels")


# ---------------------------------------------------------------- the command sheet

# What each mode and command barcode does, in the words printed under it (SPEC §4).
_MODE_HINTS: dict[str, tuple[str, str]] = {
    "RECEIVE": ("Receive", "Stock in to a location"),
    "ISSUE": ("Issue", "Material to a work order"),
    "RETURN": ("Return", "Material back from a work order"),
    "MOVE": ("Move", "Location to location: from, then to"),
    "PROGRESS": ("Progress", "Units completed at this stage"),
    "SCRAP": ("Scrap", "Units scrapped at this stage"),
    "COUNT": ("Count", "Count a bin: QTY, then the item"),
    "SHIP": ("Ship", "Finished goods out"),
}
_COMMAND_HINTS: dict[str, tuple[str, str]] = {
    "DONE": ("Done", "Complete the quantity at this stage"),
    "UNDO": ("Undo", "Reverse the last movement"),
    "CANCEL": ("Cancel", "Clear order, location, qty, lot"),
    "SIGNOUT": ("Sign out", "End your session at this station"),
}
QUANTITIES = (*range(1, 11), 12, 20, 24, 25, 50, 100)
# The number pad laid out as a calculator's keys, read row by row on a four-column sheet.
_PAD_ORDER = ("7", "8", "9", "CLR", "4", "5", "6", ".", "1", "2", "3", "0")
_PAD_TITLES = {"CLR": "Clear: start again", ".": "Decimal point"}


def command_sheet(conn: sqlite3.Connection | None = None) -> list[tuple[str, list[Label]]]:
    """The command barcodes of §4, grouped and titled: Modes, Actions, Quantities, the
    Number pad that builds any other quantity key by key (db.context_labels), and with
    the record at hand the plant's Reasons (REASON:code, what reasons.csv holds).

    Modes follow the schema's order; a mode or command without words here fails the
    tests, so the sheet never lags the grammar; the pad prints every key the grammar
    reads (`NUMBER_PAD`, in the order of a calculator's keys).
    """
    return [*_command_groups(), *_reason_group(conn)]


def _reason_group(conn: sqlite3.Connection | None) -> list[tuple[str, list[Label]]]:
    reasons = plant_reasons(conn) if conn is not None else []
    if not reasons:
        return []
    labels = [Label(f"{PREFIX}{r.code}", r.code, (f"{r.kind}: {r.description}",)) for r in reasons]
    return [("Reasons", labels)]


def _command_groups() -> list[tuple[str, list[Label]]]:
    pad = sorted(NUMBER_PAD, key=_PAD_ORDER.index)
    return [
        (
            "Modes",
            [
                Label(f"CMD:MODE:{mode}", f"{_MODE_HINTS[mode][0]} mode", (_MODE_HINTS[mode][1],))
                for mode in MODES
            ],
        ),
        (
            "Actions",
            [
                Label(f"CMD:{word}", title, (hint,))
                for word, (title, hint) in _COMMAND_HINTS.items()
            ],
        ),
        ("Quantities", [Label(f"QTY:{n}", f"Quantity {n}") for n in QUANTITIES]),
        ("Number pad", [Label(f"NUM:{key}", _PAD_TITLES.get(key, key)) for key in pad]),
    ]
