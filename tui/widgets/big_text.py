"""Words in letters three lines tall, for what a person reads from across a work cell
(who is signed in at a station).

Textual's `Digits` draws only digits and a few signs; this draws A–Z, 0–9 and the
signs a name carries, in the same heavy box-drawing strokes. Accented letters are drawn
as their base letter (É as E). A word with anything else returns None: the caller shows
it as ordinary text instead, never a wrong letter.
"""

from __future__ import annotations

import unicodedata

# Each glyph: three rows of three cells.
_GLYPHS: dict[str, tuple[str, str, str]] = {
    "A": ("┏━┓", "┣━┫", "╹ ╹"),
    "B": ("┏┓ ", "┣┻┓", "┗━┛"),
    "C": ("┏━╸", "┃  ", "┗━╸"),
    "D": ("┏━┓", "┃ ┃", "┻━┛"),
    "E": ("┏━╸", "┣━ ", "┗━╸"),
    "F": ("┏━╸", "┣━ ", "╹  "),
    "G": ("┏━╸", "┃╺┓", "┗━┛"),
    "H": ("╻ ╻", "┣━┫", "╹ ╹"),
    "I": ("╺┳╸", " ┃ ", "╺┻╸"),
    "J": ("  ╻", "  ┃", "┗━┛"),
    "K": ("╻ ╻", "┣┳┛", "╹┗╸"),
    "L": ("╻  ", "┃  ", "┗━╸"),
    "M": ("┏┳┓", "┃╹┃", "╹ ╹"),
    "N": ("┏┓╻", "┃┃┃", "╹┗┛"),
    "O": ("┏━┓", "┃ ┃", "┗━┛"),
    "P": ("┏━┓", "┣━┛", "╹  "),
    "Q": ("┏━┓", "┃ ┃", "┗━╋"),
    "R": ("┏━┓", "┣┳┛", "╹┗╸"),
    "S": ("┏━╸", "┗━┓", "╺━┛"),
    "T": ("╺┳╸", " ┃ ", " ╹ "),
    "U": ("╻ ╻", "┃ ┃", "┗━┛"),
    "V": ("╻ ╻", "┃ ┃", "┗┳┛"),
    "W": ("╻ ╻", "┃╻┃", "┗┻┛"),
    "X": ("┓ ┏", " ╋ ", "┛ ┗"),
    "Y": ("╻ ╻", "┗┳┛", " ╹ "),
    "Z": ("╺━┓", "┏━┛", "┗━╸"),
    "0": ("┏━┓", "┃ ┃", "┗━┛"),
    "1": ("╺┓ ", " ┃ ", "╺┻╸"),
    "2": ("╺━┓", "┏━┛", "┗━╸"),
    "3": ("╺━┓", " ━┫", "╺━┛"),
    "4": ("╻ ╻", "┗━┫", "  ╹"),
    "5": ("┏━╸", "┗━┓", "╺━┛"),
    "6": ("┏━╸", "┣━┓", "┗━┛"),
    "7": ("╺━┓", "  ┃", "  ╹"),
    "8": ("┏━┓", "┣━┫", "┗━┛"),
    "9": ("┏━┓", "┗━┫", "╺━┛"),
    " ": ("  ", "  ", "  "),
    "-": ("   ", "╺━╸", "   "),
    ".": (" ", " ", "╹"),
    "'": ("╻", " ", " "),
    "’": ("╻", " ", " "),
}


def _base_letter(char: str) -> str:
    """É → E, ß stays ß (no glyph: the word is not drawn)."""
    return unicodedata.normalize("NFKD", char)[:1].upper()


def big_text(words: str) -> list[str] | None:
    """`words` in three rows of big letters, one cell between letters; None when a
    character has no glyph."""
    glyphs = []
    for char in words.strip():
        glyph = _GLYPHS.get(char.upper()) or _GLYPHS.get(_base_letter(char))
        if glyph is None:
            return None
        glyphs.append(glyph)
    return [" ".join(glyph[row] for glyph in glyphs) for row in range(3)]


def big_width(words: str) -> int:
    """The cells `big_text(words)` takes across (whether or not it can draw them)."""
    lines = big_text(words)
    return len(lines[0]) if lines else 0
