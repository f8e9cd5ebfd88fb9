"""ZPL II for Zebra-compatible thermal printers: the same labels, as printer commands.

The geometry is `devices.labels.layout`'s, so a ZPL label matches its PNG dot for dot.
The barcode is sent as the exact Code 128 codewords the PNG was drawn from: explicit
start code and subset switches (`>9 >: >;`, `>5 >6 >7`), FNC1 as `>8`, so the printer
builds the same symbol instead of choosing its own. Text uses the resident scalable
font 0, fitted with a fixed width estimate so the output is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Sequence

from devices.labels.fonts import Face
from devices.labels.layout import FittedText, fit_text, layout
from devices.labels.model import Label, LabelSize
from devices.labels.symbol import FNC1, START_A, START_B, START_C, Symbol

# Printheads: 6, 8, 12 and 24 dots per millimetre.
DPIS = (152, 203, 300, 600)

_START = {START_A: ("A", ">9"), START_B: ("B", ">:"), START_C: ("C", ">;")}
# Subset switch codewords, per subset they are read in.
_SWITCH = {
    "A": {99: ("C", ">5"), 100: ("B", ">6")},
    "B": {99: ("C", ">5"), 101: ("A", ">7")},
    "C": {100: ("B", ">6"), 101: ("A", ">7")},
}
# Font 0 (CG Triumvirate Bold Condensed) is narrow; 0.55 of the height per character
# is a safe upper bound for mixed text.
_CHAR_WIDTH = 0.55


def _measure(face: Face, size: int, text: str) -> float:
    return len(text) * size * _CHAR_WIDTH


def barcode_data(symbol: Symbol) -> str:
    """The symbol's codewords as ^BC mode N field data (before ^FH escaping)."""
    subset, out = _START[symbol.codewords[0]]
    for cw in symbol.codewords[1:]:
        if cw == FNC1:
            out += ">8"
        elif cw in _SWITCH[subset]:
            subset, code = _SWITCH[subset][cw]
            out += code
        elif subset == "C":
            out += f"{cw:02d}"
        elif cw < 64 or (subset == "B" and cw < 95):
            ch = chr(cw + 32)
            # ">" starts an invocation code in ^BC data; "><" is a literal ">".
            out += "><" if ch == ">" else ch
        else:
            raise ValueError(f"codeword {cw} in subset {subset} has no ZPL form")
    return out


def field_data(text: str, *, block: bool = False) -> str:
    """`^FD…^FS` for `text`: hex-escaped with ^FH when it holds the ZPL prefixes ^ or ~.

    In a ^FB block a backslash is itself an escape, so it is doubled there.
    """
    if block:
        text = text.replace("\\", "\\\\")
    if "^" in text or "~" in text:
        # With ^FH, "_" introduces a hex byte, so it is escaped too.
        text = text.replace("_", "_5F").replace("^", "_5E").replace("~", "_7E")
        return f"^FH_^FD{text}^FS"
    return f"^FD{text}^FS"


def _text_fields(fitted: FittedText, x: int, width: int) -> list[str]:
    fields = []
    h = fitted.size
    for line, (_, cy) in zip(fitted.lines, fitted.centers, strict=True):
        # Font 0 may lack "…"; three dots print everywhere.
        line = line.replace("…", "...")
        fields.append(
            f"^FO{x},{max(0, cy - h // 2)}^A0N,{h},{h}^FB{width},1,0,C,0"
            + field_data(line, block=True)
        )
    return fields


def label_zpl(label: Label, size: LabelSize, dpi: int = 203) -> str:
    """One label as a ZPL II format (`^XA` … `^XZ`), sized for a `dpi` printhead."""
    if dpi not in DPIS:
        raise ValueError(f"ZPL printheads are {', '.join(map(str, DPIS))} dpi, not {dpi}")
    lay = layout(label, size, dpi)
    bars = lay.bars
    out = [
        "^XA",
        "^CI28",  # field data is UTF-8
        f"^PW{lay.width}",
        f"^LL{lay.height}",
        "^LH0,0",
    ]
    for box in lay.texts:
        fitted = fit_text(box, _measure)
        if box.role == "hri":
            out.append(f"^FO{bars.x},{bars.y}^BY{bars.module}")
            out.append(f"^BCN,{bars.height},N,N,N,N" + field_data(barcode_data(lay.symbol)))
        out.extend(_text_fields(fitted, box.x, box.width))
    out.append("^XZ")
    return "\n".join(out) + "\n"


def labels_zpl(labels: Sequence[Label], size: LabelSize, dpi: int = 203) -> str:
    """Many labels, one `^XA` … `^XZ` format each, ready to send as one job."""
    return "".join(label_zpl(label, size, dpi) for label in labels)
