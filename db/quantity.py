"""Exact quantities: every quantity in the record is an integer count of thousandths.

Floats drift after millions of postings (0.1 L added ten million times is not one
million litres), so the database stores `qty_milli` integers: 0.5 L is 500, 12 pcs
is 12000. A thousandth of the unit is the finest grain a plant here counts in; finer
input is refused rather than rounded, because a silent rounding is a lost gram.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

SCALE = 1000


class QuantityError(ValueError):
    """A quantity a person typed or a file held that cannot be recorded exactly."""


def to_milli(value: str | int | Decimal) -> int:
    """Parse a quantity ("12", "0.5", Decimal) into thousandths, refusing what is not exact."""
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise QuantityError(f"{value!r} is not a number") from None
    if not amount.is_finite():
        raise QuantityError(f"{value!r} is not a number")
    milli = amount * SCALE
    if milli != milli.to_integral_value():
        raise QuantityError(f"{value!r} has more than 3 decimals; the record keeps thousandths")
    return int(milli)


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
