"""Reading the ERP-export CSVs of SPEC §3 row by row: each file's columns (`KINDS`), a row
that names `file:line: column` in every refusal (`ImportError_`), the values no code may
hold (line breaks, control characters), and the checks on one value (yes/no, one of a
list, a quantity, a whole number). db/masterdata.py loads the rows into the record.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from db.quantity import QuantityError, to_milli

# Routing steps and priorities are small whole numbers; the bound keeps them far inside
# SQLite's integers and refuses a spreadsheet's 1E+20 or a pasted serial number.
MAX_WHOLE = 99_999
# Standard times: a week of minutes for one setup or one unit is beyond any routing
# step, and refuses a spreadsheet's seconds or a pasted serial number typed as minutes.
MAX_MINUTES = 10_080
# Line and paragraph breaks, C0/C1 controls (NUL, ESC, the GS1 separator) and format
# characters (bidi overrides, zero-width spaces): none can be printed on a label or
# typed, and a scanner sending one would resolve to nothing.
_NOT_IN_CODES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_WHOLE = re.compile(r"[0-9]{1,9}")


class ImportError_(Exception):
    """A bad row: the message names file, line and column."""


# Dependency order: each kind only refers to kinds before it.
KINDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # kind: (file name, required columns, optional columns)
    "locations": ("locations.csv", ("code", "name", "kind"), ("barcode",)),
    "stages": ("stages.csv", ("code", "name"), ("location", "hours_per_day", "parallel")),
    "items": ("items.csv", ("sku", "description"), ("uom", "gtin", "lot_tracked", "barcode")),
    "operators": ("operators.csv", ("badge", "name", "role"), ()),
    "routings": (
        "routings.csv",
        ("product", "seq", "stage"),
        ("setup_min", "run_min_per_unit"),
    ),
    "bom": ("bom.csv", ("product", "component", "qty_per"), ("stage",)),
    "stations": ("stations.csv", ("code", "name"), ("location", "stage", "mode")),
    "workorders": (
        "workorders.csv",
        ("number", "product", "qty", "due"),
        ("priority", "barcode"),
    ),
    "calendar": ("calendar.csv", ("date", "working"), ()),
    "reasons": ("reasons.csv", ("code", "description", "kind"), ()),
    "purchase_orders": ("purchase_orders.csv", ("number", "item", "qty", "due"), ("supplier",)),
    "sales_orders": (
        "sales_orders.csv",
        ("number", "customer", "product", "qty", "due"),
        ("work_order",),
    ),
}

# The columns holding codes: what labels carry, scanners send and other rows refer to.
_CODE_COLUMNS: dict[str, tuple[str, ...]] = {
    "locations": ("code", "barcode"),
    "stages": ("code", "location"),
    "items": ("sku", "gtin", "barcode"),
    "operators": ("badge",),
    "routings": ("product", "stage"),
    "bom": ("product", "component", "stage"),
    "stations": ("code", "location", "stage"),
    "workorders": ("number", "product", "barcode"),
    "calendar": ("date",),
    "reasons": ("code",),
    "purchase_orders": ("number", "item"),
    "sales_orders": ("number", "product", "work_order"),
}


@dataclass
class Row:
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


def read_rows(path: Path, kind: str) -> Iterator[Row]:
    file_name, required, optional = KINDS[kind]
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise ImportError_(f"{path}: cannot open: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        # The line a record starts on: a quoted value may run over several.
        start = 1
        try:
            headers = [h.strip() for h in next(reader, [])]
            missing = [c for c in required if c not in headers]
            if missing:
                raise ImportError_(
                    f"{path.name}:1: {missing[0]}: missing column; {file_name} needs "
                    f"{', '.join(required)} (optional: {', '.join(optional) or 'none'})"
                )
            twice = [h for n, h in enumerate(headers) if h and h in headers[:n]]
            if twice:
                raise ImportError_(f"{path.name}:1: {twice[0]}: the column is there twice")
            start = reader.line_num + 1
            for values in reader:
                row = Row(path.name, start, dict(zip(headers, values, strict=False)))
                start = reader.line_num + 1
                if not any(v.strip() for v in values):
                    continue
                _refuse_broken_values(row, reader.line_num, kind)
                if len(values) > len(headers):
                    raise row.fail(
                        headers[-1], "more values than columns; check for an unquoted comma"
                    )
                yield row
        except UnicodeDecodeError:
            # The first read decodes a whole buffer: a bad byte anywhere in a small file lands here.
            raise _not_utf8(path) from None
        except csv.Error as exc:
            raise ImportError_(
                f'{path.name}:{start}: -: {exc}; check for a quote (") left open'
            ) from None


def _refuse_broken_values(row: Row, end: int, kind: str) -> None:
    for column, value in row.values.items():
        if "\n" in value or "\r" in value:
            # No master-data value holds a line break: this is a quote left open, which
            # would otherwise swallow the following rows into one value.
            raise row.fail(
                column,
                f'a quote (") opens in this value and runs on to line {end}; '
                "close the quote on this line or remove it",
            )
    for column in _CODE_COLUMNS[kind]:
        value = row.values.get(column, "")
        bad = next((c for c in value if unicodedata.category(c) in _NOT_IN_CODES), None)
        if bad is not None:
            raise row.fail(
                column,
                f"{value!r} holds a control character (U+{ord(bad):04X}); "
                "a code must be plain printable text: retype it",
            )


def _not_utf8(path: Path) -> ImportError_:
    data = path.read_bytes()
    try:
        data.decode("utf-8")
        line = 1
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
    return ImportError_(f"{path.name}:{line}: -: not UTF-8 text; save the file as UTF-8 CSV")


def yes_no(row: Row, column: str) -> int:
    value = row.get(column).lower()
    if value in ("", "0", "no", "n", "false"):
        return 0
    if value in ("1", "yes", "y", "true"):
        return 1
    raise row.fail(column, f"{value!r} is not yes/no; write 1 or 0")


def one_of(row: Row, column: str, choices: tuple[str, ...], *, upper: bool = False) -> str:
    value = row.need(column)
    value = value.upper() if upper else value.lower()
    if value not in choices:
        raise row.fail(column, f"{value!r} is not one of {', '.join(choices)}")
    return value


def quantity(row: Row, column: str) -> int:
    try:
        milli = to_milli(row.need(column))
    except QuantityError as exc:
        raise row.fail(column, str(exc)) from None
    if milli <= 0:
        raise row.fail(column, "must be more than zero")
    return milli


def whole_number(row: Row, column: str, default: int | None = None) -> int:
    value = row.get(column)
    if not value and default is not None:
        return default
    value = row.need(column)
    if not _WHOLE.fullmatch(value) or not 1 <= int(value) <= MAX_WHOLE:
        shown = value if len(value) <= 24 else value[:21] + "..."
        raise row.fail(column, f"{shown!r} is not a whole number from 1 to {MAX_WHOLE:,}")
    return int(value)


def iso_date(row: Row, column: str) -> str:
    value = row.need(column)
    try:
        date.fromisoformat(value)
    except ValueError:
        raise row.fail(column, f"{value!r} is not a date; write it as YYYY-MM-DD") from None
    if len(value) != 10:
        # fromisoformat takes 20260105 too; the record compares dates as YYYY-MM-DD text.
        raise row.fail(column, f"{value!r} is not a date; write it as YYYY-MM-DD")
    return value


def decimal_in(row: Row, column: str, low: float, high: float, *, low_open: bool) -> float | None:
    """A number within [low, high] (low excluded when `low_open`), at most three decimals
    like every quantity of the record; None when the value is empty."""
    value = row.get(column)
    if not value:
        return None
    try:
        milli = to_milli(value)
    except QuantityError as exc:
        raise row.fail(column, str(exc)) from None
    amount = milli / 1000
    if amount < low or (low_open and amount == low) or amount > high:
        bound = f"more than {low:g}" if low_open else f"at least {low:g}"
        raise row.fail(column, f"{value!r} is out of range: {bound} and at most {high:g}")
    return amount
