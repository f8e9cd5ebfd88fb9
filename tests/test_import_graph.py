"""No import circle anywhere in the project, imports inside functions included.

Python hides a circle behind an import inside a function until the day two of its
modules are first imported in the other order; import-linter sees only part of it.
This walks every module's syntax tree for every `import` and `from ... import`,
wherever it stands (module level, function, TYPE_CHECKING block), resolves each to a
module of the project, and fails naming the circle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("db", "devices", "tui", "tests", "bench")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project by its dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__snapshots__" not in path.parts:
                found[_module_name(path)] = path
    return found


def _imported(module: str, path: Path, tree: ast.AST) -> Iterator[str]:
    """Every dotted name `module` imports, wherever in the file the import stands."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            # `from pkg import sub` imports the module pkg.sub when there is one.
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module → the project modules it imports (the nearest one that exists)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets: set[str] = set()
        for name in _imported(module, path, ast.parse(path.read_text(), str(path))):
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module:
                targets.add(name)
        graph[module] = targets
    return graph


def find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports (its modules in order, the first repeated at the end)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        stack = [iter(sorted(graph[start]))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                done.add(path.pop())
            elif step in path:
                return [*path[path.index(step) :], step]
            elif step not in done:
                path.append(step)
                stack.append(iter(sorted(graph[step])))
    return None


def test_the_walk_sees_imports_inside_functions() -> None:
    """The board's print action imports tui.printing inside a worker: the walk sees it."""
    graph = import_graph(project_modules())
    assert "tui.printing" in graph["tui.screens.board"]
    assert "tui.app" in graph["tui.cli"]


def test_a_circle_is_found_and_named() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_circle(graph) == ["a", "b", "c", "a"]
    assert find_circle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle_in_the_project() -> None:
    circle = find_circle(import_graph(project_modules()))
    assert circle is None, "import circle: " + " → ".join(circle or [])
