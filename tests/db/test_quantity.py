"""The declared range of a quantity: what a scan, a CSV cell or a dialog may say."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.quantity import MAX_MILLI, MAX_TOTAL_MILLI, MAX_UNITS, QuantityError, to_milli


@pytest.mark.parametrize(
    "typed",
    ["1e20", "1e308", "9223372036854775.807", "1000000001", "-1000000001", "NaN", "Infinity",
     "١٢", "１２", "1_000", "0x10", "", " ", "12 5", "1" * 41],
)  # fmt: skip
def test_out_of_range_or_not_plain_decimal_is_refused_with_words(typed: str) -> None:
    with pytest.raises(QuantityError) as refused:
        to_milli(typed)
    assert "Traceback" not in str(refused.value)
    assert "InvalidOperation" not in str(refused.value)


@pytest.mark.parametrize(
    ("typed", "milli"),
    [("12", 12_000), ("0.5", 500), (".5", 500), ("5.", 5_000), ("-3", -3_000),
     ("1000000000", MAX_MILLI), (" 7 ", 7_000)],
)  # fmt: skip
def test_plain_decimals_inside_the_range_are_exact(typed: str, milli: int) -> None:
    assert to_milli(typed) == milli


def test_the_range_keeps_every_total_inside_64_bits() -> None:
    assert MAX_MILLI == MAX_UNITS * 1000
    assert MAX_TOTAL_MILLI * 1000 < 2**63 - 1


@given(st.decimals(allow_nan=False, allow_infinity=False, places=3))
def test_any_decimal_either_parses_exactly_in_range_or_is_refused(amount: Decimal) -> None:
    try:
        milli = to_milli(f"{amount:f}")
    except QuantityError:
        assert abs(amount) > MAX_UNITS
    else:
        assert abs(milli) <= MAX_MILLI
        assert Decimal(milli) / 1000 == amount
