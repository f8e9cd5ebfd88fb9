"""Where things go on a label: one geometry, in printer dots, for PNG, SVG and ZPL alike.

The vertical layout depends only on the label size, the dpi and the number of lines,
never on a font file, so ZPL (golden files) is the same on every machine. Text is
fitted into its box afterwards with whatever measure the output has: Pillow's real
font metrics for images, a fixed estimate for a printer's resident font.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from devices.labels.fonts import Face
from devices.labels.model import Label, LabelSize
from devices.labels.symbol import MAX_MODULE_MM, Symbol, module_px, px, symbol_for

# How wide `text` is, in dots, in `face` at `size` dots.
Measure = Callable[[Face, int, str], float]

_ELLIPSIS = "…"


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


@dataclass(frozen=True)
class TextBox:
    """A box a piece of text must fit in; `size` is the font size it gets if it fits."""

    role: str  # "title", "hri" or "line"
    face: Face
    text: str
    x: int
    y: int
    width: int
    height: int
    size: int
    max_lines: int


@dataclass(frozen=True)
class FittedText:
    """Text broken into lines at one size, each line's centre point in dots."""

    face: Face
    size: int
    lines: tuple[str, ...]
    centers: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Bars:
    """The symbol placed: `x` is the first bar's left edge (quiet zone to its left)."""

    x: int
    y: int
    module: int
    height: int
    modules: str

    @property
    def width(self) -> int:
        return self.module * len(self.modules)

    def runs(self) -> Iterator[tuple[int, int]]:
        """(left edge, width) in dots of each bar."""
        start = -1
        for i, m in enumerate(self.modules + "0"):
            if m == "1" and start < 0:
                start = i
            elif m == "0" and start >= 0:
                yield self.x + start * self.module, (i - start) * self.module
                start = -1


@dataclass(frozen=True)
class LabelLayout:
    width: int
    height: int
    dpi: int
    symbol: Symbol
    bars: Bars
    texts: tuple[TextBox, ...]


def place_bars(
    symbol: Symbol,
    x: int,
    y: int,
    width: int,
    height: int,
    dpi: int,
    *,
    where: str,
    min_mm: float | None = None,
    max_mm: float | None = None,
) -> Bars:
    """The symbol centred in a box `width` dots wide (quiet zones inside the box)."""
    limits: dict[str, float] = {}
    if min_mm is not None:
        limits["min_mm"] = min_mm
    if max_mm is not None:
        limits["max_mm"] = max_mm
    module = module_px(symbol, width, dpi, where=where, **limits)
    bars_width = module * len(symbol.modules)
    return Bars(x + (width - bars_width) // 2, y, module, height, symbol.modules)


def layout(label: Label, size: LabelSize, dpi: int) -> LabelLayout:
    """The label's geometry at `dpi`; ValueError if the barcode or the lines cannot fit."""
    if dpi < 100:
        raise ValueError(f"{dpi} dpi is too coarse for a barcode label")
    symbol = symbol_for(label)
    w_mm, h_mm = size.width_mm, size.height_mm
    width, height = px(w_mm, dpi), px(h_mm, dpi)
    margin_mm = _clamp(0.05 * min(w_mm, h_mm), 1.5, 5.0)
    margin = px(margin_mm, dpi)
    inner_w = width - 2 * margin
    where = f"a {size.name} label"
    # Fit the width first: a value too long for the label is the likeliest failure.
    # ZPL's ^BY takes 1 to 10 dots: the same cap here keeps PNG and ZPL identical.
    max_mm = min(MAX_MODULE_MM, 10 * 25.4 / dpi)
    probe = place_bars(symbol, margin, 0, inner_w, 1, dpi, where=where, max_mm=max_mm)

    inner_h = h_mm - 2 * margin_mm
    title_lines = 2 if inner_h >= 60 else 1
    title_mm = _clamp(0.16 * inner_h, 2.5, 10.0)
    hri_mm = _clamp(0.11 * inner_h, 2.0, 6.0)
    line_mm = _clamp(0.10 * inner_h, 1.8, 6.0)
    gap_mm = 0.04 * inner_h
    bars_gap_mm = 0.02 * inner_h
    n = len(label.lines)
    # Code 128 wants bars at least 15% of the symbol's width, scanners want 5 mm; past
    # 10 mm a hand-held scanner's line finds the bars anyway.
    bars_min_mm = max(5.0, min(10.0, 0.15 * probe.width * 25.4 / dpi))
    bars_max_mm = max(bars_min_mm, 0.35 * w_mm)

    def fixed(line: float) -> float:
        lines_mm = gap_mm + n * 1.2 * line if n else 0.0
        return 1.2 * title_mm * title_lines + gap_mm + bars_gap_mm + 1.2 * hri_mm + lines_mm

    if inner_h - fixed(line_mm) < bars_min_mm and n:
        # Shrink the extra lines just enough, but not below 1.8 mm: the smallest print
        # a person reads at arm's length.
        squeezed = line_mm - (bars_min_mm - (inner_h - fixed(line_mm))) / (1.2 * n)
        line_mm = max(1.8, squeezed)
    bars_mm = inner_h - fixed(line_mm)
    if bars_mm < bars_min_mm:
        raise ValueError(
            f"{where} has no room for a {bars_min_mm:.0f} mm barcode with {n} extra "
            f"line{'s' if n != 1 else ''} of text: use fewer lines or a taller label"
        )
    bars_mm = min(bars_mm, bars_max_mm)
    # Spare height on a tall label goes around the blocks, not into a giant barcode.
    extra = (inner_h - fixed(line_mm) - bars_mm) / (4 if n else 3)

    y_mm = margin_mm + extra
    texts = [
        TextBox(
            "title",
            Face.BOLD,
            label.title,
            margin,
            px(y_mm, dpi),
            inner_w,
            px(1.2 * title_mm * title_lines, dpi),
            px(title_mm, dpi),
            title_lines,
        )
    ]
    y_mm += 1.2 * title_mm * title_lines + gap_mm + extra
    bars = Bars(probe.x, px(y_mm, dpi), probe.module, px(bars_mm, dpi), probe.modules)
    y_mm += bars_mm + bars_gap_mm
    texts.append(
        TextBox(
            "hri",
            Face.MONO,
            symbol.text,
            margin,
            px(y_mm, dpi),
            inner_w,
            px(1.2 * hri_mm, dpi),
            px(hri_mm, dpi),
            1,
        )
    )
    y_mm += 1.2 * hri_mm + gap_mm + extra
    for line in label.lines:
        texts.append(
            TextBox(
                "line",
                Face.SANS,
                line,
                margin,
                px(y_mm, dpi),
                inner_w,
                px(1.2 * line_mm, dpi),
                px(line_mm, dpi),
                1,
            )
        )
        y_mm += 1.2 * line_mm
    return LabelLayout(width, height, dpi, symbol, bars, tuple(texts))


def _wrap(text: str, face: Face, size: int, width: int, measure: Measure) -> list[str]:
    """Greedy word wrap; a word wider than the box is broken between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if measure(face, size, candidate) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        current = ""
        for ch in word:
            if measure(face, size, current + ch) <= width or not current:
                current += ch
            else:
                lines.append(current)
                current = ch
    if current:
        lines.append(current)
    return lines


def _ellipsize(text: str, face: Face, size: int, width: int, measure: Measure) -> str:
    if measure(face, size, text) <= width:
        return text
    # The longest prefix that fits with the ellipsis, by bisection: titles can be long.
    low, high = 0, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if measure(face, size, text[:mid] + _ELLIPSIS) <= width:
            low = mid
        else:
            high = mid - 1
    return text[:low].rstrip() + _ELLIPSIS


def _largest_size(
    face: Face, text: str, start: int, smallest: int, width: int, measure: Measure
) -> int | None:
    """The largest size in [smallest, start] at which `text` fits on one line, if any."""
    full = measure(face, start, text)
    if full <= width:
        return start
    # Width grows about linearly with size: guess, then step down the last few.
    size = max(smallest, min(start - 1, int(start * width / full)))
    while size > smallest and measure(face, size, text) > width:
        size -= 1
    return size if measure(face, size, text) <= width else None


def fit_text(box: TextBox, measure: Measure) -> FittedText:
    """Break and shrink `box.text` to fit its box.

    The human-readable value is only ever shrunk: it is what a person types when the
    bars will not scan, so it must be whole. A title or line first shrinks on one line
    (to 75% when it may wrap, else 60%), then wraps if its box has room for two, and
    is cut with an ellipsis as a last resort.
    """
    size = box.size
    text = " ".join(box.text.split())
    lines: list[str] = []
    smallest = max(6, round(box.size * 0.6))
    if box.role == "hri":
        size = _largest_size(box.face, text, size, 6, box.width, measure) or 6
        lines = [text]
    elif text:
        # One line at three quarters size reads better than two with a stray word.
        floor = round(box.size * 0.75) if box.max_lines > 1 else smallest
        one_line = _largest_size(box.face, text, box.size, floor, box.width, measure)
        if one_line is not None:
            size, lines = one_line, [text]
        elif box.max_lines == 1:
            size, lines = smallest, [_ellipsize(text, box.face, smallest, box.width, measure)]
        else:
            while True:
                lines = _wrap(text, box.face, size, box.width, measure)
                if len(lines) <= box.max_lines or size <= smallest:
                    break
                size = max(smallest, round(size * 0.92) if size > 12 else size - 1)
            if len(lines) > box.max_lines:
                kept = lines[: box.max_lines]
                rest = " ".join(lines[box.max_lines - 1 :])
                kept[-1] = _ellipsize(rest, box.face, size, box.width, measure)
                lines = kept
    slot = box.height / box.max_lines
    top = box.y + (box.height - slot * len(lines)) / 2
    cx = box.x + box.width // 2
    centers = tuple((cx, round(top + slot * (i + 0.5))) for i in range(len(lines)))
    return FittedText(box.face, size, tuple(lines), centers)
