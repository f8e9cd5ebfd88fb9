"""Text from scans, files and the database, made safe to show: the one place that does it.

Whatever a scanner read, a CSV held or a person typed is shown as the characters it is.
`visible` turns every character a terminal would act on or hide (C0 and C1 controls,
DEL, bidi overrides and isolates, zero-width and line/paragraph separators) into an
escape a person can read, such as `\\x1b` or `\\u202e`; everything else stays as it is.
`as_text` makes that a rich Text, which Textual shows as it is and never parses as
markup (a str given to a Static, a notification or the palette would be parsed).
`json_text` is `--json` output with those characters written as JSON escapes.
"""

from __future__ import annotations

import json
import unicodedata
from typing import TYPE_CHECKING, Any

from rich.style import Style
from rich.text import Span, Text

if TYPE_CHECKING:
    from rich.console import JustifyMethod

# Other (control, format, surrogate) and the line and paragraph separators. Private-use
# and unassigned characters print as a box at worst, so they stay.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _is_hidden(ch: str) -> bool:
    # isprintable() answers in C for the common case; every hidden category is unprintable.
    return not ch.isprintable() and unicodedata.category(ch) in _HIDDEN_CATEGORIES


def _escape(ch: str) -> str:
    point = ord(ch)
    if point <= 0xFF:
        return f"\\x{point:02x}"
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    return f"\\U{point:08x}"


def visible(text: str) -> str:
    """`text` with each control, bidi or invisible character written as its escape."""
    if text.isprintable():
        return text
    return "".join(_escape(ch) if _is_hidden(ch) else ch for ch in text)


def as_text(
    value: str | Text,
    style: str | Style = "",
    *,
    justify: JustifyMethod | None = None,
) -> Text:
    """`value` as a Text that shows literally: no markup, hidden characters escaped.

    A Text keeps its styles; spans over an escaped character cover its escape.
    """
    if isinstance(value, str):
        return Text(visible(value), style=style, justify=justify)
    plain = value.plain
    if plain.isprintable():
        return value
    # Where each old offset lands in the escaped string, so the spans move with it.
    pieces: list[str] = []
    where = [0]
    for ch in plain:
        piece = _escape(ch) if _is_hidden(ch) else ch
        pieces.append(piece)
        where.append(where[-1] + len(piece))
    return Text(
        "".join(pieces),
        style=value.style,
        justify=value.justify,
        overflow=value.overflow,
        no_wrap=value.no_wrap,
        end=value.end,
        tab_size=value.tab_size,
        spans=[Span(where[s.start], where[s.end], s.style) for s in value.spans],
    )


def _json_escape(ch: str) -> str:
    # json.dumps already escaped C0; what is left is written as \uXXXX (surrogate pairs
    # above the BMP), which any JSON reader turns back into the same character.
    point = ord(ch)
    if point <= 0xFFFF:
        return f"\\u{point:04x}"
    point -= 0x10000
    return f"\\u{0xD800 + (point >> 10):04x}\\u{0xDC00 + (point & 0x3FF):04x}"


def json_text(payload: Any) -> str:
    """`payload` as indented JSON (UTF-8 kept readable) that no terminal acts on."""
    out = json.dumps(payload, indent=2, ensure_ascii=False)
    if out.replace("\n", "").isprintable():
        return out
    # Outside strings JSON holds only ASCII punctuation, spaces and newlines: every
    # hidden character found here is inside a string value.
    return "".join(_json_escape(ch) if ch != "\n" and _is_hidden(ch) else ch for ch in out)
