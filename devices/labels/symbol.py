"""Barcode symbols: a label's value as Code 128 (or its GS1 AIs as GS1-128) modules.

python-barcode does the Code 128 encoding (subset choice, check character); this
module validates what goes in, keeps the codewords so ZPL can say the same thing to a
printer, and decides how wide one module may be on a given label at a given dpi.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from barcode.codex import Code128 as _LibraryCode128
from barcode.codex import Gs1_128 as _LibraryGs1_128

from devices.labels.model import GS1Content, Label


def _optimize(encoded: list[int]) -> list[int]:
    # python-barcode folds "start B, switch to C" into "start C", but also folds
    # start C followed by the *data* pair 99 (the value "99…"), dropping two digits.
    if len(encoded) > 1 and not (encoded[0] == 105 and encoded[1] == 99):
        switch_to_start = {101: 103, 100: 104, 99: 105}
        if encoded[1] in switch_to_start:
            encoded[:2] = [switch_to_start[encoded[1]]]
    return encoded


class Code128(_LibraryCode128):  # type: ignore[misc]
    def _try_to_optimize(self, encoded: list[int]) -> list[int]:
        return _optimize(encoded)


class Gs1_128(_LibraryGs1_128):  # type: ignore[misc]
    def _try_to_optimize(self, encoded: list[int]) -> list[int]:
        return _optimize(encoded)


# Code 128 needs at least ten modules of blank space either side (ISO/IEC 15417).
QUIET_MODULES = 10
# The narrowest bar a 203 dpi thermal printer makes (one dot) and a general-purpose
# industrial imager still reads; anything narrower is refused, not printed.
MIN_MODULE_MM = 0.125
# Wider than 0.5 mm only makes the symbol longer than a scanner's field of view.
MAX_MODULE_MM = 0.5

FNC1 = 102
START_A, START_B, START_C = 103, 104, 105

# GS1 General Specifications, figure 7.11-1: the 82 characters AI 10 may hold.
_GS1_CSET82 = frozenset(
    "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
)


@dataclass(frozen=True)
class Symbol:
    """An encoded barcode: what a scanner reads, the codewords, and the bars."""

    data: str  # what the scanner returns (GS1: element strings, GS between fields)
    text: str  # the human-readable line printed under the bars
    codewords: tuple[int, ...]  # start code, data and subset switches; no check, no stop
    modules: str  # "1" bar / "0" space, check character and stop included, no quiet zones
    gs1: bool

    @property
    def width_modules(self) -> int:
        """Modules across, quiet zones included."""
        return len(self.modules) + 2 * QUIET_MODULES


def _check_value(value: str) -> None:
    if not value:
        raise ValueError("a barcode value cannot be empty")
    bad = sorted({c for c in value if not " " <= c <= "~"})
    if bad:
        # Control characters would end the scanner's line early; non-ASCII has no
        # Code 128 encoding a plain scanner returns faithfully.
        raise ValueError(
            f"barcode value {value!r} has characters a scanner cannot return as typed: "
            + ", ".join(repr(c) for c in bad)
        )


def code128(value: str) -> Symbol:
    """The Code 128 symbol for `value` (printable ASCII only)."""
    _check_value(value)
    symbol = Code128(value)
    codewords: list[int] = list(symbol._build())
    modules: str = symbol.build()[0]
    return Symbol(value, value, tuple(codewords), modules, gs1=False)


def gtin14(gtin: str) -> str:
    """`gtin` (GTIN-8, -12, -13 or -14) as 14 digits, its check digit verified."""
    digits = gtin.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise ValueError(f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits")
    digits = digits.zfill(14)
    body = [int(d) for d in digits[:13]]
    # Weights 3,1,3,... from the digit left of the check digit.
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    check = (10 - total % 10) % 10
    if int(digits[13]) != check:
        raise ValueError(f"GTIN {gtin!r} has a wrong check digit: expected {check}")
    return digits


def gs1_elements(content: GS1Content) -> list[tuple[str, str]]:
    """The (AI, data) pairs of `content`, validated, in the order they are encoded."""
    elements = [("01", gtin14(content.gtin))]
    if content.lot is not None:
        lot = content.lot
        if not 1 <= len(lot) <= 20 or not set(lot) <= _GS1_CSET82:
            raise ValueError(
                f"lot {lot!r} must be 1 to 20 characters of the GS1 set "
                "(letters, digits and !\"%&'()*+,-./:;<=>?_)"
            )
        elements.append(("10", lot))
    if content.quantity is not None:
        if not 1 <= content.quantity <= 99_999_999:
            raise ValueError(f"quantity {content.quantity} must be 1 to 99999999 for AI 37")
        elements.append(("37", str(content.quantity)))
    return elements


def gs1_128(content: GS1Content) -> Symbol:
    """The GS1-128 symbol for `content`.

    FNC1 comes first, and after every variable-length field but the last.
    """
    elements = gs1_elements(content)
    encoded = ""
    data = ""
    for i, (ai, value) in enumerate(elements):
        encoded += ai + value
        data += ai + value
        # AI 01 is fixed length; 10 and 37 end at an FNC1 unless they end the symbol.
        if ai != "01" and i < len(elements) - 1:
            encoded += Gs1_128.FNC1_CHAR
            data += "\x1d"
    if len(data) > 48:
        # GS1 General Specifications 5.4.1: at most 48 data characters per symbol.
        raise ValueError(f"GS1 data {data!r} is longer than the 48 characters GS1-128 allows")
    symbol = Gs1_128(encoded)
    codewords: list[int] = list(symbol._build())
    modules: str = symbol.build()[0]
    text = "".join(f"({ai}){value}" for ai, value in elements)
    return Symbol(data, text, tuple(codewords), modules, gs1=True)


def symbol_for(label: Label) -> Symbol:
    """The symbol a label carries: GS1-128 when it has GS1 content, else Code 128 of its value."""
    return gs1_128(label.gs1) if label.gs1 is not None else code128(label.value)


def px(mm: float, dpi: int) -> int:
    """Millimetres to whole dots at `dpi`."""
    return round(mm * dpi / 25.4)


def module_px(
    symbol: Symbol,
    avail_px: int,
    dpi: int,
    *,
    where: str,
    min_mm: float = MIN_MODULE_MM,
    max_mm: float = MAX_MODULE_MM,
) -> int:
    """The widest whole-dot module (<= `max_mm`) that fits the symbol and its quiet zones.

    Raises ValueError naming the value and `where` when even the narrowest printable
    module does not fit: an unscannable label is worse than none.
    """
    # A hair of tolerance: one dot at 203 dpi is 0.1251 mm, at 200 dpi 0.127 mm.
    smallest = max(1, math.ceil(min_mm * dpi / 25.4 - 0.02))
    largest = max(smallest, round(max_mm * dpi / 25.4))
    fits = avail_px // symbol.width_modules
    if fits < smallest:
        need_mm = symbol.width_modules * smallest * 25.4 / dpi
        have_mm = avail_px * 25.4 / dpi
        raise ValueError(
            f"barcode {symbol.text!r} does not fit {where} at {dpi} dpi: it needs "
            f"{need_mm:.1f} mm ({symbol.width_modules} modules of "
            f"{smallest * 25.4 / dpi:.3f} mm with quiet zones) and there are "
            f"{have_mm:.1f} mm; use a shorter value or a wider label"
        )
    return min(fits, largest)
