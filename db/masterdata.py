"""Master data import: the ERP-export CSVs of SPEC §3 into the record, and the barcode registry.

A file is loaded whole or not at all (a directory too: one transaction for every
file), and a bad row stops the load with `file:line: column: what is wrong`: a key
twice in one file, a quote left open, a control character in a code, a number
outside its range. Loading the same file again updates rows in place, but never
rewrites a work order silently: one with progress or issued material keeps its
product and quantity, and a due date a file moves is a due-date change with a badge
behind it (reason "import"), as a supervisor's is. Standard times (routings) and
capacity (stages) are optional columns: a file without them keeps what the record holds.
The calendar, the reasons, purchase orders and sales orders load the same way.

Every item, location, work order and operator gets one barcode value, and nothing a
scanner might send resolves to two of them: a barcode, sku, GTIN (in any of its
lengths), badge, order number or location code belongs to one entity only. The
`CMD:`, `QTY:`, `LOT:`, `NUM:`, `REASON:`, `PO:` and `SO:` prefixes belong to the scan
grammar.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from db.connection import now_ms, transaction
from db.import_rows import (
    KINDS,
    MAX_MINUTES,
    ImportError_,
    Row,
    decimal_in,
    iso_date,
    one_of,
    quantity,
    read_rows,
    whole_number,
    yes_no,
)
from db.quantity import text as qty_text
from db.reason_codes import MAX_CODE as MAX_REASON_CODE
from db.refusals import LedgerError
from db.schema import LOCATION_KINDS, MODES, ROLES
from db.supervision import change_due_date
from db.vocabulary import REASON_KINDS

RESERVED_PREFIXES = ("CMD:", "QTY:", "LOT:", "NUM:", "REASON:", "PO:", "SO:")


@dataclass
class _Run:
    """One file being loaded: where it goes, who stands behind its changes, its keys so far."""

    conn: sqlite3.Connection
    badge: str | None
    first_lines: dict[tuple[object, ...], int] = field(default_factory=dict)

    def once(self, row: Row, column: str, key: tuple[object, ...], shown: str) -> None:
        """Refuse a key the file already had: loaded in turn, the last row would silently win."""
        first = self.first_lines.setdefault(key, row.line)
        if first != row.line:
            raise row.fail(
                column, f"{shown} is also on line {first}; keep one of the two rows, not both"
            )


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file: str
    rows: int


def _exists(conn: sqlite3.Connection, table: str, column: str, value: str) -> bool:
    return (
        conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (value,)).fetchone() is not None
    )


def _refer(conn: sqlite3.Connection, row: Row, column: str, table: str, key: str) -> str | None:
    value = row.get(column)
    if not value:
        return None
    if not _exists(conn, table, key, value):
        raise row.fail(column, f"{value!r} is not in {table}; import {table} first or fix the code")
    return value


def normalize_gtin(value: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits, or None when its length or check digit is wrong."""
    # isdigit() alone takes Arabic-Indic and superscript digits, which no scanner sends.
    if not (value.isascii() and value.isdigit()) or len(value) not in (8, 12, 13, 14):
        return None
    gtin = value.zfill(14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(gtin[:13]))
    return gtin if (10 - total % 10) % 10 == int(gtin[13]) else None


def _gtin_spellings(gtin: str) -> list[str]:
    """A 14-digit GTIN as each length a label may carry it in: its leading zeros dropped."""
    return [gtin[14 - n :] for n in (14, 13, 12, 8) if not gtin[: 14 - n].strip("0")]


# Everything a scan resolves through (db.resolve) and what a person may type
# at a wedge: registry values, skus, GTINs, badges, order numbers, location codes.
_HOLDERS = """
SELECT kind, code, 'barcode' FROM barcodes WHERE value IN ({texts})
UNION ALL SELECT 'item', sku, 'sku' FROM items WHERE sku IN ({texts})
UNION ALL SELECT 'item', sku, 'GTIN' FROM items WHERE gtin = ?
UNION ALL SELECT 'operator', badge, 'badge' FROM operators WHERE badge IN ({texts})
UNION ALL SELECT 'work_order', number, 'number' FROM work_orders WHERE number IN ({texts})
UNION ALL SELECT 'location', code, 'code' FROM locations WHERE code IN ({texts})
"""


def _claim(
    run: _Run, row: Row, column: str, kind: str, code: str, value: str, *, gtin: bool = False
) -> None:
    """Refuse `value` for (kind, code) when a scan of it could mean something else."""
    if value.upper().startswith(RESERVED_PREFIXES):
        raise row.fail(column, f"{value!r} starts with a prefix reserved for scan commands")
    as_gtin = normalize_gtin(value)
    texts = _gtin_spellings(as_gtin) if gtin and as_gtin else [value]
    marks = ", ".join("?" * len(texts))
    params = [*texts, *texts, as_gtin, *texts, *texts, *texts]
    for other_kind, other_code, what in run.conn.execute(_HOLDERS.format(texts=marks), params):
        if (other_kind, other_code) != (kind, code):
            raise row.fail(
                column,
                f"{value!r} is already the {what} of {other_kind.replace('_', ' ')} "
                f"{other_code}; a scan must mean one thing: change one of the two",
            )


def _register_barcode(conn: sqlite3.Connection, kind: str, code: str, value: str) -> None:
    conn.execute("DELETE FROM barcodes WHERE kind = ? AND code = ?", (kind, code))
    conn.execute("INSERT INTO barcodes (value, kind, code) VALUES (?, ?, ?)", (value, kind, code))


def _locations(run: _Run, row: Row) -> None:
    code = row.need("code")
    run.once(row, "code", (code,), repr(code))
    barcode = row.get("barcode") or code
    # Identities first: a collision, even with a row of the same kind, is named in full.
    _claim(run, row, "code", "location", code, code)
    if barcode != code:
        _claim(run, row, "barcode", "location", code, barcode)
    _register_barcode(run.conn, "location", code, barcode)
    run.conn.execute(
        "INSERT INTO locations (code, name, kind, barcode) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
        "barcode = excluded.barcode",
        (code, row.need("name"), one_of(row, "kind", LOCATION_KINDS), barcode),
    )


def _upsert(
    run: _Run,
    row: Row,
    table: str,
    key: tuple[str, ...],
    values: dict[str, object],
    optional: dict[str, object],
) -> None:
    """Insert or update one row; an optional column the file does not have keeps what the
    record holds (an older export must not wipe standard times or capacity)."""
    present = {c: v for c, v in optional.items() if c in row.values}
    columns = {**values, **present}
    names = ", ".join(columns)
    marks = ", ".join("?" * len(columns))
    updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in key)
    run.conn.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates}",
        tuple(columns.values()),
    )


def _stages(run: _Run, row: Row) -> None:
    code = row.need("code")
    run.once(row, "code", (code,), repr(code))
    hours = decimal_in(row, "hours_per_day", 0, 24, low_open=True)
    parallel = whole_number(row, "parallel", 1)
    _upsert(
        run, row, "stages", ("code",),
        {"code": code, "name": row.need("name"),
         "location": _refer(run.conn, row, "location", "locations", "code")},
        {"hours_per_day": 8.0 if hours is None else hours, "parallel": parallel},
    )  # fmt: skip


def _items(run: _Run, row: Row) -> None:
    sku = row.need("sku")
    run.once(row, "sku", (sku,), repr(sku))
    gtin_text = row.get("gtin")
    gtin = None
    if gtin_text:
        gtin = normalize_gtin(gtin_text)
        if gtin is None:
            raise row.fail("gtin", f"{gtin_text!r} is not a valid GTIN (8/12/13/14 digits)")
    barcode = row.get("barcode") or sku
    _claim(run, row, "sku", "item", sku, sku)
    if barcode != sku:
        _claim(run, row, "barcode", "item", sku, barcode)
    if gtin_text:
        _claim(run, row, "gtin", "item", sku, gtin_text, gtin=True)
    _register_barcode(run.conn, "item", sku, barcode)
    run.conn.execute(
        "INSERT INTO items (sku, description, uom, gtin, lot_tracked, barcode) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET "
        "description = excluded.description, uom = excluded.uom, gtin = excluded.gtin, "
        "lot_tracked = excluded.lot_tracked, barcode = excluded.barcode",
        (sku, row.need("description"), row.get("uom") or "pcs", gtin, yes_no(row, "lot_tracked"),
         barcode),
    )  # fmt: skip


def _operators(run: _Run, row: Row) -> None:
    badge = row.need("badge")
    run.once(row, "badge", (badge,), repr(badge))
    _claim(run, row, "badge", "operator", badge, badge)
    run.conn.execute(
        "INSERT INTO operators (badge, name, role) VALUES (?, ?, ?) ON CONFLICT (badge) "
        "DO UPDATE SET name = excluded.name, role = excluded.role",
        (badge, row.need("name"), one_of(row, "role", ROLES)),
    )
    _register_barcode(run.conn, "operator", badge, badge)


def _routings(run: _Run, row: Row) -> None:
    product = _refer(run.conn, row, "product", "items", "sku") or row.need("product")
    seq = whole_number(row, "seq")
    run.once(row, "seq", (product, seq), f"{product} step {seq}")
    stage = _refer(run.conn, row, "stage", "stages", "code") or row.need("stage")
    _upsert(
        run, row, "routings", ("product", "seq"),
        {"product": product, "seq": seq, "stage": stage},
        {"setup_min": decimal_in(row, "setup_min", 0, MAX_MINUTES, low_open=False),
         "run_min_per_unit": decimal_in(row, "run_min_per_unit", 0, MAX_MINUTES, low_open=False)},
    )  # fmt: skip


def _bom(run: _Run, row: Row) -> None:
    product = _refer(run.conn, row, "product", "items", "sku") or row.need("product")
    component = _refer(run.conn, row, "component", "items", "sku") or row.need("component")
    if product == component:
        raise row.fail("component", "a product cannot be its own component")
    run.once(row, "component", (product, component), f"{component} in {product}")
    run.conn.execute(
        "INSERT INTO bill_of_materials (product, component, qty_per_milli, stage) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (product, component) DO UPDATE SET "
        "qty_per_milli = excluded.qty_per_milli, stage = excluded.stage",
        (product, component, quantity(row, "qty_per"),
         _refer(run.conn, row, "stage", "stages", "code")),
    )  # fmt: skip


def _stations(run: _Run, row: Row) -> None:
    code = row.need("code")
    run.once(row, "code", (code,), repr(code))
    mode = one_of(row, "mode", MODES, upper=True) if row.get("mode") else "RECEIVE"
    run.conn.execute(
        "INSERT INTO stations (code, name, location, stage, mode) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, location = excluded.location, "
        "stage = excluded.stage, mode = excluded.mode",
        (
            code,
            row.need("name"),
            _refer(run.conn, row, "location", "locations", "code"),
            _refer(run.conn, row, "stage", "stages", "code"),
            mode,
        ),
    )


def _history(conn: sqlite3.Connection, number: str) -> str | None:
    """What ties a work order to the floor's record: its progress, or material issued to it."""
    if conn.execute(
        "SELECT 1 FROM progress_entries WHERE work_order = ? LIMIT 1", (number,)
    ).fetchone():
        return "progress recorded"
    if conn.execute("SELECT 1 FROM movements WHERE work_order = ? LIMIT 1", (number,)).fetchone():
        return "material issued to it"
    return None


def _keep_worked_order(
    row: Row, order: sqlite3.Row, history: str, product: str, qty_milli: int
) -> None:
    """An order the floor has worked on keeps what its postings were made against."""
    number = order["number"]
    advice = "put it back in the file, or cancel the order and import a new one"
    if product != order["product"]:
        raise row.fail(
            "product",
            f"work order {number} has {history}; its product stays {order['product']}, "
            f"not {product}: {advice}",
        )
    if qty_milli != order["qty_milli"]:
        raise row.fail(
            "qty",
            f"work order {number} has {history}; its quantity stays "
            f"{qty_text(order['qty_milli'])}, not {qty_text(qty_milli)}: {advice}",
        )


def _move_due(run: _Run, row: Row, order: sqlite3.Row, due: str) -> None:
    """A due date the file moves is a due-date change: with who (the import's badge) and why."""
    moving = f"moves work order {order['number']}'s due date from {order['due']} to {due}"
    if run.badge is None:
        raise row.fail(
            "due",
            f"{moving}; a due-date change is recorded with who made it: import again with "
            "--badge and a supervisor's or coordinator's badge",
        )
    try:
        change_due_date(run.conn, order["number"], due, by=run.badge, reason="import")
    except LedgerError as exc:
        raise row.fail("due", f"{moving}: {exc}") from None


def _workorders(run: _Run, row: Row) -> None:
    conn = run.conn
    number = row.need("number")
    run.once(row, "number", (number,), repr(number))
    product = _refer(conn, row, "product", "items", "sku") or row.need("product")
    qty_milli = quantity(row, "qty")
    due = iso_date(row, "due")
    priority = whole_number(row, "priority", 3)
    route = conn.execute(
        "SELECT seq, stage FROM routings WHERE product = ? ORDER BY seq", (product,)
    ).fetchall()
    if not route:
        raise row.fail("product", f"{product} has no routing; add its stages to routings.csv")
    barcode = row.get("barcode") or number
    _claim(run, row, "number", "work_order", number, number)
    if barcode != number:
        _claim(run, row, "barcode", "work_order", number, barcode)
    order = conn.execute("SELECT * FROM work_orders WHERE number = ?", (number,)).fetchone()
    history = None if order is None else _history(conn, number)
    if order is not None:
        if history is not None:
            _keep_worked_order(row, order, history, product, qty_milli)
        if due != order["due"]:
            _move_due(run, row, order, due)
    _register_barcode(conn, "work_order", number, barcode)
    conn.execute(
        "INSERT INTO work_orders (number, product, qty_milli, due, priority, barcode, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
        "product = excluded.product, qty_milli = excluded.qty_milli, due = excluded.due, "
        "priority = excluded.priority, barcode = excluded.barcode",
        (number, product, qty_milli, due, priority, barcode, now_ms()),
    )
    if history is None:
        # Untouched orders follow routing changes; once worked on, their stages are history.
        conn.execute("DELETE FROM work_order_stages WHERE work_order = ?", (number,))
        conn.executemany(
            "INSERT INTO work_order_stages (work_order, seq, stage) VALUES (?, ?, ?)",
            [(number, r["seq"], r["stage"]) for r in route],
        )


def _calendar(run: _Run, row: Row) -> None:
    day = iso_date(row, "date")
    run.once(row, "date", (day,), day)
    row.need("working")
    working = yes_no(row, "working")
    run.conn.execute(
        "INSERT INTO calendar (date, working) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET working = excluded.working",
        (day, working),
    )


def _reasons(run: _Run, row: Row) -> None:
    code = row.need("code")
    # Printed as REASON:code on the command sheet: Code 128 carries printable ASCII, and
    # a cell holds so many characters.
    if not all(" " < c <= "~" for c in code) or len(code) > MAX_REASON_CODE:
        raise row.fail(
            "code",
            f"{code!r}: a reason code is printed as a barcode: at most {MAX_REASON_CODE} "
            "letters, digits or signs (A-Z 0-9 - _ .), no spaces or accents",
        )
    run.once(row, "code", (code,), repr(code))
    run.conn.execute(
        "INSERT INTO reasons (code, description, kind) VALUES (?, ?, ?) ON CONFLICT (code) "
        "DO UPDATE SET description = excluded.description, kind = excluded.kind",
        (code, row.need("description"), one_of(row, "kind", REASON_KINDS)),
    )


def _purchase_orders(run: _Run, row: Row) -> None:
    number = row.need("number")
    item = _refer(run.conn, row, "item", "items", "sku") or row.need("item")
    run.once(row, "item", (number, item), f"{item} on purchase order {number}")
    qty_milli = quantity(row, "qty")
    received = run.conn.execute(
        "SELECT received_milli FROM purchase_orders WHERE number = ? AND item = ?",
        (number, item),
    ).fetchone()
    if received is not None and qty_milli < received[0]:
        raise row.fail(
            "qty",
            f"{qty_text(received[0])} of {item} is already received against purchase order "
            f"{number}; its quantity cannot go below that",
        )
    run.conn.execute(
        "INSERT INTO purchase_orders (number, item, qty_milli, due, supplier) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (number, item) DO UPDATE SET "
        "qty_milli = excluded.qty_milli, due = excluded.due, supplier = excluded.supplier",
        (number, item, qty_milli, iso_date(row, "due"), row.get("supplier")),
    )


def _sales_orders(run: _Run, row: Row) -> None:
    number = row.need("number")
    product = _refer(run.conn, row, "product", "items", "sku") or row.need("product")
    run.once(row, "product", (number, product), f"{product} on sales order {number}")
    work_order = _refer(run.conn, row, "work_order", "work_orders", "number")
    if work_order is not None:
        makes = run.conn.execute(
            "SELECT product FROM work_orders WHERE number = ?", (work_order,)
        ).fetchone()[0]
        if makes != product:
            raise row.fail(
                "work_order",
                f"work order {work_order} makes {makes}, not {product}; "
                "link the sales order to an order making its product",
            )
    run.conn.execute(
        "INSERT INTO sales_orders (number, customer, product, qty_milli, due, work_order) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (number, product) DO UPDATE SET "
        "customer = excluded.customer, qty_milli = excluded.qty_milli, due = excluded.due, "
        "work_order = excluded.work_order",
        (number, row.need("customer"), product, quantity(row, "qty"), iso_date(row, "due"),
         work_order),
    )  # fmt: skip


_LOADERS: dict[str, Callable[[_Run, Row], None]] = {
    "locations": _locations,
    "stages": _stages,
    "items": _items,
    "operators": _operators,
    "routings": _routings,
    "bom": _bom,
    "stations": _stations,
    "workorders": _workorders,
    "calendar": _calendar,
    "reasons": _reasons,
    "purchase_orders": _purchase_orders,
    "sales_orders": _sales_orders,
}


def _load(conn: sqlite3.Connection, kind: str, path: Path, badge: str | None) -> ImportResult:
    run = _Run(conn, badge)
    count = 0
    for row in read_rows(path, kind):
        try:
            _LOADERS[kind](run, row)
        except sqlite3.IntegrityError as exc:
            raise ImportError_(
                f"{row.file}:{row.line}: -: refused by the database: {exc}"
            ) from None
        count += 1
    return ImportResult(kind, path.name, count)


def import_file(
    conn: sqlite3.Connection, kind: str, path: str | Path, *, badge: str | None = None
) -> ImportResult:
    """Load one CSV of one kind, all rows or none; `badge` is who stands behind due-date
    changes the file makes."""
    if kind not in KINDS:
        raise ImportError_(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    with transaction(conn):
        return _load(conn, kind, Path(path), badge)


def import_dir(
    conn: sqlite3.Connection, directory: str | Path, *, badge: str | None = None
) -> list[ImportResult]:
    """Load every known CSV present in a directory, in dependency order, all or nothing."""
    folder = Path(directory)
    if not folder.is_dir():
        raise ImportError_(f"{folder}: not a directory")
    present = [(kind, folder / spec[0]) for kind, spec in KINDS.items()]
    present = [(kind, path) for kind, path in present if path.exists()]
    if not present:
        names = ", ".join(spec[0] for spec in KINDS.values())
        raise ImportError_(f"{folder}: none of {names} found")
    with transaction(conn):
        return [_load(conn, kind, path, badge) for kind, path in present]
