"""What one scanned line says: the AIM symbology identifier, the barcode text, GS1 fields.

`decode` turns the bytes of one line (terminator already stripped) into a `Scan`. It
never raises and never alters `raw`: whatever a scanner sends is journaled as it came,
and a line that cannot be used carries a `problem` in plain words instead of text.
Resolving what the text means (work order, location, item, GTIN lookup) is the
record's job, not this module's.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from biip.gs1_element_strings import GS1ElementString

__all__ = ["GS1Fields", "Measure", "Scan", "bare_gs1", "decode"]

GROUP_SEPARATOR = "\x1d"

# ]C1 GS1-128, ]e0 GS1 DataBar, ]J1 GS1 DotCode: element strings only.
_ELEMENT_SYMBOLOGIES = frozenset({"]C1", "]e0", "]J1"})
# ]d2 GS1 DataMatrix, ]Q3 GS1 QR: element strings, or a GS1 Digital Link URI.
# Together biip's GS1Symbology.with_gs1_messages(), spelled out so biip loads only
# when needed.
_GS1_SYMBOLOGIES = _ELEMENT_SYMBOLOGIES | {"]d2", "]Q3"}

# ISO/IEC 15424's code characters (biip's ISOSymbology) and J, DotCode, which AIM
# assigned later and biip 5 does not know: "]J1" must not fall through as text.
_AIM_CODE_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUXYZcdeopsz")

# Someone typing the label's human-readable line: "(01)09506000134352(10)ABC123".
# [0-9], not \d: GS1 writes AIs and numeric data in ASCII digits only, and \d takes any
# script's digits.
_HRI_START = re.compile(r"\([0-9]{2,4}\)")
# Every bracketed AI followed by its data: biip's HRI parser skips an AI with none.
_HRI_WHOLE = re.compile(r"(?:\([0-9]{2,4}\)[^(]+)+")

# biip's messages quote the whole input; a 4 KB line would make an unreadable reason.
_REASON_LIMIT = 200

# How the GS1 data of a line is written: element strings as a symbol encodes them, the
# bracketed human-readable line a person types, or a GS1 Digital Link URI.
Form = Literal["elements", "hri", "link"]


@dataclass(frozen=True, slots=True)
class Measure:
    """A variable-measure trade item's net measure (AI 310n, 311n, ...) in its GS1 unit."""

    amount: Decimal
    unit: str  # kg, m, m2, l, m3, lb, in, ft, yd, in2, ft2, yd2, ozt, oz, qt, gal, in3, ...
    ai: str  # the four digits, e.g. "3103"


@dataclass(frozen=True, slots=True)
class GS1Fields:
    """The GS1 element strings the floor acts on."""

    gtin: str  # 14 digits, from AI 01 (or AI 02 for the contents of a logistic unit)
    lot: str | None  # AI 10
    quantity: Decimal | None  # AI 30 (variable count) or AI 37 (count of trade items)
    measures: tuple[Measure, ...] = ()  # AI 310n, 311n, ...: see _MEASURE_UNITS
    expiry: dt.date | None = None  # AI 17
    produced: dt.date | None = None  # AI 11


@dataclass(frozen=True, slots=True)
class Scan:
    """One decoded line. `text` is None exactly when `problem` says why."""

    raw: bytes
    text: str | None
    symbology: str | None
    gs1: GS1Fields | None
    problem: str | None


def decode(raw: bytes, *, truncated_from: int | None = None) -> Scan:
    """Decode one line. `truncated_from` is the full length when `raw` is only its head."""
    if truncated_from is not None:
        return _rejected(
            raw,
            f"line too long ({truncated_from} bytes, limit {len(raw)}): "
            "check the scanner's terminator setting",
        )
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError:
        return _rejected(raw, "not a barcode: invalid UTF-8 bytes")

    # str.strip also removes a leading GS, which some scanners send for FNC1 in first
    # position, and a stray CR from a CRLF scanner framed on LF only.
    content = line.strip()
    if not content:
        return _rejected(raw, "empty line")

    symbology = _symbology_identifier(content)
    if symbology is not None:
        content = content[len(symbology) :].strip()
        if not content:
            return _rejected(
                raw, f"empty barcode (only the symbology identifier {symbology})", symbology
            )

    # isprintable() is the fast answer for ordinary codes; GS and non-ASCII spaces
    # are not "printable", so those lines get the exact check.
    if not content.isprintable() and any(_is_control(ch) for ch in content):
        return _rejected(raw, "not a barcode: contains control characters", symbology)

    form = _gs1_form(content, symbology, GROUP_SEPARATOR in line)
    if form is None:
        return Scan(raw=raw, text=content, symbology=symbology, gs1=None, problem=None)

    read = _gs1_fields(content, form)
    if read is None:  # a URL that is not a GS1 Digital Link: a plain code
        return Scan(raw=raw, text=content, symbology=symbology, gs1=None, problem=None)
    gs1, problem = read
    if problem is not None:
        return _rejected(raw, problem, symbology)
    return Scan(raw=raw, text=content, symbology=symbology, gs1=gs1, problem=None)


def bare_gs1(scan: Scan) -> Scan | None:
    """A plain code that is GS1 element strings after all, read as the GS1-128 it is.

    A scanner set to drop the GS1-128 FNC1 and send no symbology identifier delivers
    "01<gtin>10<lot>..." as plain text. It is read as text first (it may be a registry
    value); the record asks here when nothing else matched. None: not such a label.
    """
    text = scan.text
    if scan.symbology is not None or text is None or text[:2] not in ("01", "02"):
        return None
    if len(text) < 16:
        return None
    as_gs1 = decode(b"]C1" + text.encode("utf-8"))
    return as_gs1 if as_gs1.gs1 is not None else None


def _gs1_form(content: str, symbology: str | None, separated: bool) -> Form | None:
    """How the line writes GS1 data, or None for a plain code."""
    if content[:8].lower().startswith(("https://", "http://")):
        # A Digital Link QR is usually a plain QR (]Q1), so any symbology but the ones
        # that carry only element strings may hold one.
        if symbology not in _ELEMENT_SYMBOLOGIES:
            return "link"
    if symbology in _GS1_SYMBOLOGIES or separated:
        # The line itself is tested for GS: a lone trailing GS was stripped from content.
        return "elements"
    # Only typed text uses the bracketed form; a symbol never encodes the brackets.
    if symbology is None and content.startswith("(") and _HRI_START.match(content):
        return "hri"
    return None


def _rejected(raw: bytes, problem: str, symbology: str | None = None) -> Scan:
    return Scan(raw=raw, text=None, symbology=symbology, gs1=None, problem=problem)


def _symbology_identifier(content: str) -> str | None:
    """The AIM identifier the line starts with ("]C1"), or None for a plain code.

    Read here rather than by biip: it is three characters, and biip does not know DotCode.
    """
    if len(content) < 3 or content[0] != "]" or content[1] not in _AIM_CODE_CHARACTERS:
        return None
    modifier = content[2]
    if not (modifier.isascii() and modifier.isalnum()):
        return None  # "]A-17" is a code that merely starts with "]"
    if content[1] == "Y":
        # System expansion: the digit says how many more modifier characters follow.
        if not modifier.isdigit() or len(content) < 3 + int(modifier):
            return None
        return content[: 3 + int(modifier)]
    return content[:3]


def _is_control(ch: str) -> bool:
    return ch != GROUP_SEPARATOR and unicodedata.category(ch) == "Cc"


# The same item is scanned again and again (scan three times, issue three), and biip
# takes ~0.1 ms a parse; the answers are immutable, so remember recent ones.
@functools.lru_cache(maxsize=1024)
def _gs1_fields(content: str, form: Form) -> tuple[GS1Fields | None, str | None] | None:
    """Parse GS1 data; (fields, None), or (None, reason) when it is broken.

    A well-formed GS1 message without AI 01/02 (an SSCC pallet label, say) gives
    (None, None): it is still a usable barcode, just not an item. A URL that biip cannot
    read as a GS1 Digital Link gives None: it is a plain code.
    """
    if form != "link":
        quick = _item_label(content, hri=form == "hri")
        if quick is not None:
            return quick, None
    # biip takes ~0.1 s to import: load it only when a label needs it.
    if form == "link":
        from biip.gs1_digital_link_uris import GS1DigitalLinkURI

        try:
            link = GS1DigitalLinkURI.parse(content)
        except Exception:
            return None
        return _fields_of(link.element_strings)
    if form == "hri" and _HRI_WHOLE.fullmatch("".join(content.split())) is None:
        return None, (
            "not a valid GS1 code: write it as (AI)data(AI)data..., with data after every AI"
        )
    from biip.gs1_messages import GS1Message

    try:
        if form == "hri":
            message = GS1Message.parse_hri(content)
        else:
            message = GS1Message.parse(content)
    except Exception as exc:
        # biip raises ParseError for bad element strings, but this is untrusted input
        # into a third-party parser and decode must never raise.
        return None, f"not a valid GS1 code: {_short(str(exc))}"
    return _fields_of(message.element_strings)


# The net measures of a variable-measure trade item (GS1 General Specifications, the
# 31nn-36nn AIs): the first three digits of the AI and the unit. Widths, heights and the
# logistic (gross) measures say nothing about how much of the item there is.
_MEASURE_UNITS = {
    "310": "kg", "311": "m", "314": "m2", "315": "l", "316": "m3",
    "320": "lb", "321": "in", "322": "ft", "323": "yd",
    "350": "in2", "351": "ft2", "352": "yd2", "356": "ozt", "357": "oz",
    "360": "qt", "361": "gal", "364": "in3", "365": "ft3", "366": "yd3",
}  # fmt: skip


def _fields_of(
    element_strings: Iterable[GS1ElementString],
) -> tuple[GS1Fields | None, str | None]:
    """The floor's fields from biip's element strings, held to the rules biip leaves out."""
    by_ai: dict[str, GS1ElementString] = {}
    for element in element_strings:
        ai = element.ai.ai
        if not element.value:
            # biip takes "30" with nothing after it; GS1 data is at least one character.
            return None, f"not a valid GS1 code: AI ({ai}) has no data after it"
        if not element.value.isascii():
            # biip's patterns use \d, which takes Arabic-Indic and other digits.
            return None, (
                f"not a valid GS1 code: AI ({ai}) holds characters GS1 does not allow "
                "(digits are 0-9 only)"
            )
        first = by_ai.setdefault(ai, element)
        if first.value != element.value:
            # GS1 forbids one AI twice with different data; biip keeps both, reads the first.
            return None, f"not a valid GS1 code: AI ({ai}) appears twice with different data"
    item = by_ai.get("01") or by_ai.get("02")
    if item is None:
        return None, None
    if item.gtin is None:
        return None, f"not a valid GS1 code: {_short(item.gtin_error or 'bad GTIN')}"
    lot = by_ai.get("10")
    count = by_ai.get("37") or by_ai.get("30")
    measures = tuple(
        Measure(element.decimal, _MEASURE_UNITS[ai[:3]], ai)
        for ai, element in by_ai.items()
        if ai[:3] in _MEASURE_UNITS and element.decimal is not None
    )
    expiry, produced = by_ai.get("17"), by_ai.get("11")
    return (
        GS1Fields(
            gtin=item.value,
            lot=lot.value if lot is not None else None,
            quantity=Decimal(int(count.value)) if count is not None else None,
            measures=measures,
            expiry=expiry.date if expiry is not None else None,
            produced=produced.date if produced is not None else None,
        ),
        None,
    )


# The item label every receiving dock sees, GTIN with optional lot and count, in either
# form: parsed here in ~2 µs instead of biip's ~130 µs, because under a burst of
# deliveries with a new lot on every line the cache above never hits. Anything else
# (other AIs, other orders, characters outside the plain set) goes to biip.
_PLAIN = r"[0-9A-Za-z./-]"
_ITEM_HRI = re.compile(
    rf"\(0[12]\)([0-9]{{14}})(?:\(10\)({_PLAIN}{{1,20}}))?(?:\((?:37|30)\)([0-9]{{1,8}}))?"
)
_ITEM_ELEMENTS = re.compile(
    rf"0[12]([0-9]{{14}})(?:10({_PLAIN}{{1,20}})(?:\x1d|$))?(?:(?:37|30)([0-9]{{1,8}}))?"
)


def _item_label(content: str, *, hri: bool) -> GS1Fields | None:
    pattern = _ITEM_HRI if hri else _ITEM_ELEMENTS
    match = pattern.fullmatch(content)
    if match is None:
        return None
    gtin, lot, count = match.groups()
    digits = [int(d) for d in gtin]
    check = (10 - sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:13])) % 10) % 10
    if check != digits[13]:
        return None  # biip words the reason
    return GS1Fields(
        gtin=gtin, lot=lot, quantity=Decimal(int(count)) if count is not None else None
    )


def _short(reason: str) -> str:
    if len(reason) <= _REASON_LIMIT:
        return reason
    return reason[: _REASON_LIMIT - 1] + "…"
