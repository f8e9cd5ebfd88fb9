"""Fonts for labels and documents: DejaVu when the machine has it, Pillow's own otherwise.

DejaVu Sans Mono prints the human-readable value because its 0 is slashed and its
1, l and I differ: the line a person types when a label will not scan.
"""

from __future__ import annotations

import functools
from enum import Enum
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


class Face(Enum):
    SANS = "DejaVuSans.ttf"
    BOLD = "DejaVuSans-Bold.ttf"
    MONO = "DejaVuSansMono.ttf"
    MONO_BOLD = "DejaVuSansMono-Bold.ttf"


_FONT_DIRS = (
    Path("/usr/share/fonts"),
    Path("/usr/local/share/fonts"),
    Path.home() / ".local/share/fonts",
    Path.home() / ".fonts",
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts"),
)


@functools.cache
def _font_files() -> dict[str, Path]:
    # Walked once per process: a label run must not stat the font tree per label.
    found: dict[str, Path] = {}
    wanted = {face.value for face in Face}
    for root in _FONT_DIRS:
        if not root.is_dir():
            continue
        for path in root.rglob("DejaVuSans*.ttf"):
            if path.name in wanted:
                found.setdefault(path.name, path)
    return found


def font_path(face: Face) -> Path | None:
    """Where `face` is installed, or None."""
    return _font_files().get(face.value)


@functools.lru_cache(maxsize=256)
def font(face: Face, size: int) -> Font:
    """`face` at `size` pixels (em), cached; Pillow's built-in font if DejaVu is absent."""
    size = max(6, size)
    path = font_path(face)
    if path is not None:
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def text_width(face: Face, size: int, text: str) -> float:
    return font(face, size).getlength(text)
