"""The screens' words (tui/formatting.py): how long ago, and a quantity's exact text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from db.quantity import text as exact_text
from tui.formatting import ago, cut, quantity, quantity_text

NOW_MS = 1_763_362_800_000
MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


def test_ago_at_a_glance_and_in_a_narrow_column() -> None:
    assert ago(None, NOW_MS) == "—"
    assert ago(NOW_MS - 30_000, NOW_MS) == "now"
    assert ago(NOW_MS + 5_000, NOW_MS) == "now"  # another terminal's clock a little ahead
    assert ago(NOW_MS - 12 * MINUTE_MS, NOW_MS) == "12m ago"
    assert ago(NOW_MS - 3 * HOUR_MS, NOW_MS) == "3h ago"
    assert ago(NOW_MS - 50 * HOUR_MS, NOW_MS) == "2d ago"
    assert ago(NOW_MS - 12 * MINUTE_MS, NOW_MS, short=True) == "12m"


def test_ago_to_the_second_for_the_scanners() -> None:
    def seconds(ms: int | None) -> str:
        return ago(ms, NOW_MS, to_the_second=True)

    assert seconds(None) == "never"
    assert seconds(NOW_MS - 500) == "now"
    assert seconds(NOW_MS - 12_000) == "12s ago"
    assert seconds(NOW_MS - 5 * MINUTE_MS) == "5m ago"
    assert seconds(NOW_MS - 3 * HOUR_MS) == "3h ago"
    assert seconds(NOW_MS - 50 * HOUR_MS) == "2d ago"


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_a_quantity_reads_as_its_exact_text(milli: int) -> None:
    assert quantity_text(milli) == exact_text(milli)
    assert quantity(milli).plain == exact_text(milli)


def test_a_cut_text_shows_its_head_and_an_ellipsis() -> None:
    assert cut("BOX-L", 10) == "BOX-L"
    assert cut("STAINLESS-SHEET", 6) == "STAIN…"
    assert "\x1b" not in cut("A\x1b[2JB", 20)
