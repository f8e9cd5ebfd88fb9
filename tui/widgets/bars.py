"""Progress drawn in plain characters, so it reads on any terminal and in a screenshot."""

from __future__ import annotations

from collections.abc import Sequence

from db.board import StageTotals

_EIGHTHS = " ▏▎▍▌▋▊▉█"
_LEVELS = "·▁▂▃▄▅▆▇█"


def bar(fraction: float, width: int) -> str:
    """A bar like `███▌░░` filling `width` cells in eighths."""
    fraction = min(max(fraction, 0.0), 1.0)
    eighths = round(fraction * width * 8)
    full, part = divmod(eighths, 8)
    text = "█" * full
    if part and full < width:
        text += _EIGHTHS[part]
    return text + "░" * (width - len(text))


def percent(fraction: float) -> str:
    """Whole percent, never showing 100% before everything is done."""
    value = int(min(max(fraction, 0.0), 1.0) * 100)
    return f"{value}%"


def bar_with_percent(fraction: float, width: int) -> str:
    """`███▌░░ 58%` in exactly `width` cells (the percent takes 4)."""
    return f"{bar(fraction, max(width - 5, 1))} {percent(fraction):>4}"


def stage_strip(qty_milli: int, stages: Sequence[StageTotals]) -> str:
    """One glyph per stage of the route, from `·` (nothing done) to `█` (all done)."""
    if qty_milli <= 0:
        return ""
    glyphs = []
    for _, done, scrap in stages:
        share = min((done + scrap) / qty_milli, 1.0)
        level = round(share * 8)
        if level == 0 and share > 0:
            level = 1  # started shows, however little
        glyphs.append(_LEVELS[level])
    return "".join(glyphs)


def load_strip(fractions: Sequence[float], width: int) -> str:
    """One glyph per day, from `·` (nothing planned) to `█` (a full day's hours), `width`
    glyphs; days past the plan are blank."""
    glyphs = []
    for share in fractions[:width]:
        level = round(min(max(share, 0.0), 1.0) * 8)
        glyphs.append(_LEVELS[level if level or share <= 0 else 1])
    return "".join(glyphs).ljust(width)
