"""Master data import: the ERP-export CSVs of SPEC §3 into the record, and the barcode registry.

A file is loaded whole or not at all (a directory too: one transaction for every
file), and a bad row stops the load with `file:line: column: what is wrong`.
Loading the same file again updates rows in place. Every item, location, work order
and operator gets one barcode value, unique across all kinds; the `CMD:`, `QTY:` and
`LOT:` prefixes belong to the scan grammar and are refused as barcodes.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from db.connection import now_ms
from db.ledger import transaction
from db.quantity import QuantityError, to_milli
from db.schema import LOCATION_KINDS, MODES, ROLES

RESERVED_PREFIXES = ("CMD:", "QTY:", "LOT:")


class ImportError_(Exception):
    """A bad row: the message names file, line and column."""


# Dependency order: each kind only refers to kinds before it.
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # kind: (file name, required columns, optional columns)
    "locations": ("locations.csv", ("code", "name", "kind"), ("barcode",)),
    "stages": ("stages.csv", ("code", "name"), ("location",)),
    "items": ("items.csv", ("sku", "description"), ("uom", "gtin", "lot_tracked", "barcode")),
    "operators": ("operators.csv", ("badge", "name", "role"), ()),
    "routings": ("routings.csv", ("product", "seq", "stage"), ()),
    "bom": ("bom.csv", ("product", "component", "qty_per"), ("stage",)),
    "stations": ("stations.csv", ("code", "name"), ("location", "stage", "mode")),
    "workorders": (
        "workorders.csv",
        ("number", "product", "qty", "due"),
        ("priority", "barcode"),
    ),
}


@dataclass
class _Row:
    file: str
    line: int
    values: dict[str, str]

    def fail(self, column: str, problem: str) -> ImportError_:
        return ImportError_(f"{self.file}:{self.line}: {column}: {problem}")

    def get(self, column: str) -> str:
        return (self.values.get(column) or "").strip()

    def need(self, column: str) -> str:
        value = self.get(column)
        if not value:
            raise self.fail(column, "is empty; every row needs one")
        return value


@dataclass(frozen=True)
class ImportResult:
    kind: str
    file: str
    rows: int


def _read(path: Path, kind: str) -> Iterator[_Row]:
    file_name, required, optional = KINDS[kind]
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportError_(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        reader = csv.DictReader(handle)
        try:
            headers = [h.strip() for h in (reader.fieldnames or [])]
        except UnicodeDecodeError:
            # The first read decodes a whole buffer: a bad byte anywhere in a small file lands here.
            raise _not_utf8(path) from None
        missing = [c for c in required if c not in headers]
        if missing:
            raise ImportError_(
                f"{path.name}:1: {missing[0]}: missing column; {file_name} needs "
                f"{', '.join(required)} (optional: {', '.join(optional) or 'none'})"
            )
        reader.fieldnames = headers
        try:
            for values in reader:
                if None in values:
                    raise ImportError_(
                        f"{path.name}:{reader.line_num}: {headers[-1]}: "
                        "more values than columns; check for an unquoted comma"
                    )
                if not any((v or "").strip() for v in values.values()):
                    continue
                yield _Row(path.name, reader.line_num, values)
        except UnicodeDecodeError:
            raise _not_utf8(path) from None
        except csv.Error as exc:
            raise ImportError_(f"{path.name}:{reader.line_num}: -: {exc}") from None


def _not_utf8(path: Path) -> ImportError_:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        line = 1
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    return ImportError_(f"{path.name}:{line}: -: not UTF-8 text; save the file as UTF-8 CSV")


def _exists(conn: sqlite3.Connection, table: str, column: str, value: str) -> bool:
    return (
        conn.execute(f"SELECT 1 FROM {table} WHERE {column} = ?", (value,)).fetchone() is not None
    )


def _refer(conn: sqlite3.Connection, row: _Row, column: str, table: str, key: str) -> str | None:
    value = row.get(column)
    if not value:
        return None
    if not _exists(conn, table, key, value):
        raise row.fail(column, f"{value!r} is not in {table}; import {table} first or fix the code")
    return value


def _register_barcode(
    conn: sqlite3.Connection, row: _Row, kind: str, code: str, value: str, column: str = "barcode"
) -> None:
    if value.upper().startswith(RESERVED_PREFIXES):
        raise row.fail(column, f"{value!r} starts with a prefix reserved for scan commands")
    owner = conn.execute("SELECT kind, code FROM barcodes WHERE value = ?", (value,)).fetchone()
    if owner is not None and (owner["kind"], owner["code"]) != (kind, code):
        raise row.fail(
            column,
            f"{value!r} is already the barcode of {owner['kind'].replace('_', ' ')} "
            f"{owner['code']}; give one of them another barcode",
        )
    conn.execute("DELETE FROM barcodes WHERE kind = ? AND code = ?", (kind, code))
    conn.execute("INSERT INTO barcodes (value, kind, code) VALUES (?, ?, ?)", (value, kind, code))


def normalize_gtin(value: str) -> str | None:
    """A GTIN-8/12/13/14 as 14 digits, or None when its length or check digit is wrong."""
    if not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return None
    gtin = value.zfill(14)
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(gtin[:13]))
    return gtin if (10 - total % 10) % 10 == int(gtin[13]) else None


def _flag(row: _Row, column: str) -> int:
    value = row.get(column).lower()
    if value in ("", "0", "no", "n", "false"):
        return 0
    if value in ("1", "yes", "y", "true"):
        return 1
    raise row.fail(column, f"{value!r} is not yes/no; write 1 or 0")


def _choice(row: _Row, column: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    value = row.need(column)
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise row.fail(column, f"{value!r} is not one of {', '.join(choices)}")
    return value


def _qty(row: _Row, column: str) -> int:
    try:
        milli = to_milli(row.need(column))
    except QuantityError as exc:
        raise row.fail(column, str(exc)) from None
    if milli <= 0:
        raise row.fail(column, "must be more than zero")
    return milli


def _locations(conn: sqlite3.Connection, row: _Row) -> None:
    code = row.need("code")
    barcode = row.get("barcode") or code
    # The registry first: a collision, even with a row of the same kind, is named in full.
    _register_barcode(conn, row, "location", code, barcode)
    conn.execute(
        "INSERT INTO locations (code, name, kind, barcode) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
        "barcode = excluded.barcode",
        (code, row.need("name"), _choice(row, "kind", LOCATION_KINDS), barcode),
    )


def _stages(conn: sqlite3.Connection, row: _Row) -> None:
    conn.execute(
        "INSERT INTO stages (code, name, location) VALUES (?, ?, ?) ON CONFLICT (code) "
        "DO UPDATE SET name = excluded.name, location = excluded.location",
        (row.need("code"), row.need("name"), _refer(conn, row, "location", "locations", "code")),
    )


def _items(conn: sqlite3.Connection, row: _Row) -> None:
    sku = row.need("sku")
    gtin_text = row.get("gtin")
    gtin = None
    if gtin_text:
        gtin = normalize_gtin(gtin_text)
        if gtin is None:
            raise row.fail("gtin", f"{gtin_text!r} is not a valid GTIN (8/12/13/14 digits)")
        other = conn.execute(
            "SELECT sku FROM items WHERE gtin = ? AND sku != ?", (gtin, sku)
        ).fetchone()
        if other is not None:
            raise row.fail("gtin", f"{gtin_text} is already the GTIN of item {other['sku']}")
    barcode = row.get("barcode") or sku
    _register_barcode(conn, row, "item", sku, barcode)
    conn.execute(
        "INSERT INTO items (sku, description, uom, gtin, lot_tracked, barcode) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sku) DO UPDATE SET "
        "description = excluded.description, uom = excluded.uom, gtin = excluded.gtin, "
        "lot_tracked = excluded.lot_tracked, barcode = excluded.barcode",
        (sku, row.need("description"), row.get("uom") or "pcs", gtin, _flag(row, "lot_tracked"),
         barcode),
    )  # fmt: skip


def _operators(conn: sqlite3.Connection, row: _Row) -> None:
    badge = row.need("badge")
    conn.execute(
        "INSERT INTO operators (badge, name, role) VALUES (?, ?, ?) ON CONFLICT (badge) "
        "DO UPDATE SET name = excluded.name, role = excluded.role",
        (badge, row.need("name"), _choice(row, "role", ROLES)),
    )
    _register_barcode(conn, row, "operator", badge, badge, column="badge")


def _int(row: _Row, column: str, default: int | None = None) -> int:
    value = row.get(column)
    if not value and default is not None:
        return default
    try:
        return int(row.need(column))
    except ValueError:
        raise row.fail(column, f"{value!r} is not a whole number") from None


def _routings(conn: sqlite3.Connection, row: _Row) -> None:
    conn.execute(
        "INSERT INTO routings (product, seq, stage) VALUES (?, ?, ?) "
        "ON CONFLICT (product, seq) DO UPDATE SET stage = excluded.stage",
        (
            _refer(conn, row, "product", "items", "sku") or row.need("product"),
            _int(row, "seq"),
            _refer(conn, row, "stage", "stages", "code") or row.need("stage"),
        ),
    )


def _bom(conn: sqlite3.Connection, row: _Row) -> None:
    product = _refer(conn, row, "product", "items", "sku") or row.need("product")
    component = _refer(conn, row, "component", "items", "sku") or row.need("component")
    if product == component:
        raise row.fail("component", "a product cannot be its own component")
    conn.execute(
        "INSERT INTO bill_of_materials (product, component, qty_per_milli, stage) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (product, component) DO UPDATE SET "
        "qty_per_milli = excluded.qty_per_milli, stage = excluded.stage",
        (product, component, _qty(row, "qty_per"), _refer(conn, row, "stage", "stages", "code")),
    )


def _stations(conn: sqlite3.Connection, row: _Row) -> None:
    mode = _choice(row, "mode", MODES, upper=True) if row.get("mode") else "RECEIVE"
    conn.execute(
        "INSERT INTO stations (code, name, location, stage, mode) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, location = excluded.location, "
        "stage = excluded.stage, mode = excluded.mode",
        (
            row.need("code"),
            row.need("name"),
            _refer(conn, row, "location", "locations", "code"),
            _refer(conn, row, "stage", "stages", "code"),
            mode,
        ),
    )


def _workorders(conn: sqlite3.Connection, row: _Row) -> None:
    number = row.need("number")
    product = _refer(conn, row, "product", "items", "sku") or row.need("product")
    due = row.need("due")
    try:
        date.fromisoformat(due)
    except ValueError:
        raise row.fail("due", f"{due!r} is not a date; write it as YYYY-MM-DD") from None
    route = conn.execute(
        "SELECT seq, stage FROM routings WHERE product = ? ORDER BY seq", (product,)
    ).fetchall()
    if not route:
        raise row.fail("product", f"{product} has no routing; add its stages to routings.csv")
    barcode = row.get("barcode") or number
    _register_barcode(conn, row, "work_order", number, barcode)
    conn.execute(
        "INSERT INTO work_orders (number, product, qty_milli, due, priority, barcode, created_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO UPDATE SET "
        "product = excluded.product, qty_milli = excluded.qty_milli, due = excluded.due, "
        "priority = excluded.priority, barcode = excluded.barcode",
        (number, product, _qty(row, "qty"), due, _int(row, "priority", 3), barcode, now_ms()),
    )
    started = conn.execute(
        "SELECT 1 FROM progress_entries WHERE work_order = ? LIMIT 1", (number,)
    ).fetchone()
    if started is None:
        # Untouched orders follow routing changes; once work started, their stages are history.
        conn.execute("DELETE FROM work_order_stages WHERE work_order = ?", (number,))
        conn.executemany(
            "INSERT INTO work_order_stages (work_order, seq, stage) VALUES (?, ?, ?)",
            [(number, r["seq"], r["stage"]) for r in route],
        )


_LOADERS: dict[str, Callable[[sqlite3.Connection, _Row], None]] = {
    "locations": _locations,
    "stages": _stages,
    "items": _items,
    "operators": _operators,
    "routings": _routings,
    "bom": _bom,
    "stations": _stations,
    "workorders": _workorders,
}


def _load(conn: sqlite3.Connection, kind: str, path: Path) -> ImportResult:
    count = 0
    for row in _read(path, kind):
        try:
            _LOADERS[kind](conn, row)
        except sqlite3.IntegrityError as exc:
            raise ImportError_(
                f"{row.file}:{row.line}: -: refused by the database: {exc}"
            ) from None
        count += 1
    return ImportResult(kind, path.name, count)


def import_file(conn: sqlite3.Connection, kind: str, path: str | Path) -> ImportResult:
    """Load one CSV of one kind, all rows or none."""
    if kind not in KINDS:
        raise ImportError_(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    with transaction(conn):
        return _load(conn, kind, Path(path))


def import_dir(conn: sqlite3.Connection, directory: str | Path) -> list[ImportResult]:
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
        return [_load(conn, kind, path) for kind, path in present]
