"""What one scanned line says: the AIM symbology identifier, the barcode text, GS1 fields.

`decode` turns the bytes of one line (terminator already stripped) into a `Scan`. It
never raises and never alters `raw`: whatever a scanner sends is journaled as it came,
and a line that cannot be used carries a `problem` in plain words instead of text.
Resolving what the text means (work order, location, item, GTIN lookup) is the
record's job, not this module's.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

__all__ = ["GS1Fields", "Scan", "decode"]

GROUP_SEPARATOR = "\x1d"

# ]C1 GS1-128, ]e0 GS1 DataBar, ]d2 GS1 DataMatrix, ]Q3 GS1 QR, ]J1 GS1 DotCode.
# The AIM identifiers whose symbologies carry GS1 element strings (biip's
# GS1Symbology.with_gs1_messages(), spelled out so biip loads only when needed).
_GS1_SYMBOLOGIES = frozenset({"]C1", "]e0", "]d2", "]Q3", "]J1"})

# ISO/IEC 15424: "]", a code character, a modifier character.
_AIM_PREFIX = re.compile(r"\][A-Za-z][0-9A-Za-z]")

# Someone typing the label's human-readable line: "(01)09506000134352(10)ABC123".
_HRI_START = re.compile(r"\(\d{2,4}\)")

# biip's messages quote the whole input; a 4 KB line would make an unreadable reason.
_REASON_LIMIT = 200


@dataclass(frozen=True, slots=True)
class GS1Fields:
    """The GS1 element strings the floor acts on."""

    gtin: str  # 14 digits, from AI 01 (or AI 02 for the contents of a logistic unit)
    lot: str | None  # AI 10
    quantity: Decimal | None  # AI 30 (variable count) or AI 37 (count of trade items)


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

    # The GS test looks at the whole line: a lone trailing GS was stripped above.
    looks_gs1 = (
        symbology in _GS1_SYMBOLOGIES
        or GROUP_SEPARATOR in line
        or (content.startswith("(") and _HRI_START.match(content) is not None)
    )
    if not looks_gs1:
        return Scan(raw=raw, text=content, symbology=symbology, gs1=None, problem=None)

    gs1, problem = _gs1_fields(content)
    if problem is not None:
        return _rejected(raw, problem, symbology)
    return Scan(raw=raw, text=content, symbology=symbology, gs1=gs1, problem=None)


def _rejected(raw: bytes, problem: str, symbology: str | None = None) -> Scan:
    return Scan(raw=raw, text=None, symbology=symbology, gs1=None, problem=problem)


def _symbology_identifier(content: str) -> str | None:
    if not content.startswith("]") or _AIM_PREFIX.match(content) is None:
        return None
    try:
        from biip.symbology import SymbologyIdentifier

        return SymbologyIdentifier.extract(content).value
    except Exception:
        # Not a known identifier (or a malformed system-expansion one): a code that
        # merely starts with "]" is plain text.
        return None


def _is_control(ch: str) -> bool:
    return ch != GROUP_SEPARATOR and unicodedata.category(ch) == "Cc"


# The same item is scanned again and again (scan three times, issue three), and biip
# takes ~0.1 ms a parse; the answers are immutable, so remember recent ones.
@functools.lru_cache(maxsize=1024)
def _gs1_fields(content: str) -> tuple[GS1Fields | None, str | None]:
    """Parse GS1 element strings; (fields, None), or (None, reason) when they are broken.

    A well-formed GS1 message without AI 01/02 (an SSCC pallet label, say) gives
    (None, None): it is still a usable barcode, just not an item.
    """
    quick = _item_label(content)
    if quick is not None:
        return quick, None
    # biip takes ~0.1 s to import: load it only when a label needs it.
    from biip.gs1_messages import GS1Message

    try:
        if content.startswith("("):
            message = GS1Message.parse_hri(content)
        else:
            message = GS1Message.parse(content)
    except Exception as exc:
        # biip raises ParseError for bad element strings, but this is untrusted input
        # into a third-party parser and decode must never raise.
        return None, f"not a valid GS1 code: {_short(str(exc))}"

    item = message.element_strings.get(ai="01") or message.element_strings.get(ai="02")
    if item is None:
        return None, None
    if item.gtin is None:
        return None, f"not a valid GS1 code: {_short(item.gtin_error or 'bad GTIN')}"

    lot = message.element_strings.get(ai="10")
    count = message.element_strings.get(ai="37") or message.element_strings.get(ai="30")
    return (
        GS1Fields(
            gtin=item.value,
            lot=lot.value if lot is not None else None,
            quantity=Decimal(int(count.value)) if count is not None else None,
        ),
        None,
    )


# The item label every receiving dock sees, GTIN with optional lot and count, in either
# form: parsed here in ~2 µs instead of biip's ~130 µs, because under a burst of
# deliveries with a new lot on every line the cache above never hits. Anything else
# (other AIs, other orders, characters outside the plain set) goes to biip.
_PLAIN = r"[0-9A-Za-z./-]"
_ITEM_HRI = re.compile(
    rf"\(0[12]\)(\d{{14}})(?:\(10\)({_PLAIN}{{1,20}}))?(?:\((?:37|30)\)(\d{{1,8}}))?"
)
_ITEM_ELEMENTS = re.compile(
    rf"0[12](\d{{14}})(?:10({_PLAIN}{{1,20}})(?:\x1d|$))?(?:(?:37|30)(\d{{1,8}}))?"
)


def _item_label(content: str) -> GS1Fields | None:
    pattern = _ITEM_HRI if content.startswith("(") else _ITEM_ELEMENTS
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
