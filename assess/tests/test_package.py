"""assess is a package of its own: no import cycles (not even behind imports inside functions), and
nothing of the toolkit imported (common, levels, teaching, cli)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]
TOOLKIT = ("common", "levels", "teaching", "cli", "tests")


def _imports() -> dict[str, set[str]]:
    """module -> every module it imports, wherever the import statement stands in the file."""
    graph: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.glob("*.py")):
        name = f"assess.{path.stem}" if path.stem != "__init__" else "assess"
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
        graph[name] = found
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in graph or target == "assess":
                continue
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (found := visit(target)):
                return found
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_the_package_has_no_import_cycle():
    graph = _imports()
    assert len(graph) > 20  # the walk saw the package, not an empty folder
    assert _cycle(graph) == []


def test_a_cycle_is_seen_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_package_imports_nothing_of_the_toolkit():
    leaks = {
        module: sorted(i for i in imports if i.split(".")[0] in TOOLKIT)
        for module, imports in _imports().items()
        if any(i.split(".")[0] in TOOLKIT for i in imports)
    }
    assert leaks == {}


def test_the_level_catalogue_scores_with_the_same_practices():
    from assess.catalogue import PRACTICES
    from teaching import catalog

    assert catalog.PRACTICES is PRACTICES
