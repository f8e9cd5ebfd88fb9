"""The README's layout table names every room: each module and stylesheet of `db/`,
`devices/` and `tui/` by its path, and no path that is gone.

A newcomer looks a rule up there first; a module added, split or renamed without its
row leaves them looking in the wrong place.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("db", "devices", "tui")


def layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("\n## Layout\n")
    end = readme.index("\n## ", start + 1)
    return readme[start:end]


def holds_code(path: Path) -> bool:
    """A package's `__init__.py` with nothing but its docstring is no room of its own."""
    if path.name != "__init__.py":
        return True
    body = ast.parse(path.read_text(encoding="utf-8")).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body)


def rooms() -> set[str]:
    found: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.suffix in (".py", ".tcss") and "__pycache__" not in path.parts:
                if holds_code(path):
                    found.add(path.relative_to(ROOT).as_posix())
    return found


def test_every_module_and_stylesheet_has_its_row() -> None:
    named = set(re.findall(r"`([\w/]+\.(?:py|tcss))`", layout_section()))
    assert sorted(rooms() - named) == [], "add these to README.md's layout table"


def test_the_table_names_no_file_that_is_gone() -> None:
    named = set(re.findall(r"`((?:db|devices|tui)/[\w/]+\.(?:py|tcss))`", layout_section()))
    assert sorted(path for path in named if not (ROOT / path).is_file()) == []
