"""Exact quantities: every quantity in the record is an integer count of thousandths.

Floats drift after millions of postings (0.1 L added ten million times is not one
million litres), so the database stores `qty_milli` integers: 0.5 L is 500, 12 pcs
is 12000. A thousandth of the unit is the finest grain a plant here counts in; finer
input is refused rather than rounded, because a silent rounding is a lost gram.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

SCALE = 1000
# The declared range of one quantity: a billion units of anything is beyond any plant's
# single posting, and keeps every sum of postings far inside SQLite's 64-bit integers
# (9.2e18 thousandths), so no total ever overflows into a REAL.
MAX_UNITS = 1_000_000_000
MAX_MILLI = MAX_UNITS * SCALE
# What any running total (stock on hand, an order's progress) may reach: a thousand
# times one posting's range, still four thousand times inside 64 bits.
MAX_TOTAL_MILLI = MAX_MILLI * 1000
# Plain decimal notation only, in ASCII digits: "1e3" or Arabic-Indic digits are not
# what a label or an ERP export writes for a quantity, so they are refused, not guessed.
_PLAIN = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class QuantityError(ValueError):
    """A quantity a person typed or a file held that cannot be recorded exactly."""


def to_milli(value: str | int | Decimal) -> int:
    """Parse a quantity ("12", "0.5", Decimal) into thousandths, refusing what is not exact
    or outside the declared range (±MAX_UNITS)."""
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, Decimal):
        amount = value
    else:
        typed = value.strip()
        shown = typed if len(typed) <= 24 else typed[:21] + "..."
        if len(typed) > 40 or not _PLAIN.fullmatch(typed):
            raise QuantityError(f"{shown!r} is not a number")
        try:
            amount = Decimal(typed)
        except InvalidOperation:
            raise QuantityError(f"{shown!r} is not a number") from None
    if not amount.is_finite():
        raise QuantityError(f"{value!r} is not a number")
    if abs(amount) > MAX_UNITS:
        raise QuantityError(
            f"{amount:f} is more than the largest quantity the record takes ({MAX_UNITS:,})"
        )
    milli = amount * SCALE
    if milli != milli.to_integral_value():
        raise QuantityError(f"{amount:f} has more than 3 decimals; the record keeps thousandths")
    return int(milli)


def check_range(milli: int) -> int:
    """A quantity already in thousandths (from a GS1 label or a sum), held to the range."""
    if abs(milli) > MAX_MILLI:
        raise QuantityError(
            f"{text(milli)} is more than the largest quantity the record takes ({MAX_UNITS:,})"
        )
    return milli


def from_milli(milli: int) -> Decimal:
    """Thousandths back to a Decimal without trailing zeros (1500 → 1.5, 12000 → 12)."""
    amount = Decimal(milli) / SCALE
    normalized = amount.normalize()
    # normalize() turns 100 into 1E+2; quantize back to a plain integer form.
    if normalized == normalized.to_integral_value():
        return normalized.quantize(Decimal(1))
    return normalized


def json_number(milli: int) -> int | float:
    """A quantity for JSON: an int when whole, else the shortest exact decimal as float."""
    whole, rest = divmod(milli, SCALE)
    # An int over 1000 as float is the shortest decimal that round-trips: exact enough.
    return whole if rest == 0 else milli / SCALE


def text(milli: int) -> str:
    """A quantity for a person: "12", "0.5", "-3.25"."""
    return str(from_milli(milli))
