"""Exercise regions: where a level's own code for a practice is taken out of a copy, and what it was.

A region is named the way level.toml names a practice, `file.py::name`, so a level holds no trace of
its exercises and its line numbers never move (the walkthrough names lines):

    where = "taxi_duration/gate.py::quality_gate"          the body of a function (its docstring stays)
    where = "taxi_duration/deployer.py::Platform._gate"    a method, or a function inside a function
    where = "taxi_duration/pipeline.py::SWEEP_GRID"        what a module-level literal holds (its brackets stay)
    part = "finally"                                       only the `finally:` clause of the function's try
    part = "checks..drifted"                               only the statements of the function's body from
                                                           the one that assigns `checks` to the one that
                                                           assigns `drifted`

Comment lines at the body's indentation right before its first statement, or right after its last, go
with it. Standard library only: the CLI's metadata commands use this module.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from common.errors import MlopsLevelsError

_DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


@dataclass(frozen=True)
class Region:
    """Lines [start, end) of a file (0-based) that an exercise takes out, and their indentation."""

    start: int
    end: int
    indent: str


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def find_region(text: str, name: str, part: str = "", where: str = "") -> Region:
    """The region of `name` (and `part`) in a file's text; a name or part not found is a clear error."""
    lines = text.splitlines(keepends=True)
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        raise MlopsLevelsError(f"cannot parse it ({exc.msg})", where=f"{where}:{exc.lineno}") from None
    node = _named(tree.body, name.split("."), f"{where}::{name}")
    if isinstance(node, ast.Assign | ast.AnnAssign):
        if part:
            raise MlopsLevelsError(f"a part ({part!r}) narrows a function, not {name}", where=f"{where}::{name}")
        if node.value is None or node.value.lineno == node.value.end_lineno:
            raise MlopsLevelsError(f"{name} is not a literal written over several lines", where=f"{where}::{name}")
        start, end = node.value.lineno, (node.value.end_lineno or node.value.lineno) - 1  # inside the brackets
    else:
        body = _statements(node, part, f"{where}::{name}")
        start, end = body[0].lineno - 1, body[-1].end_lineno or body[-1].lineno
        if ".." not in part:
            start, end = _with_comments(lines, start, end)
    if end <= start:
        raise MlopsLevelsError(f"the region {name} {part}".rstrip() + " is empty", where=f"{where}:{start + 1}")
    return Region(start, end, _indent(lines[start]))


def _named(nodes: list[ast.stmt], path: list[str], where: str) -> ast.stmt:
    head, rest = path[0], path[1:]
    for node in nodes:
        if isinstance(node, _DEFS) and node.name == head:
            return _named(node.body, rest, where) if rest else node
        if not rest and head in _assigned(node) and isinstance(node, ast.Assign | ast.AnnAssign):
            return node
    raise MlopsLevelsError(f"no {head} here", where=where, fix="name a function, method or literal of this file")


def _assigned(node: ast.stmt) -> set[str]:
    """The names a statement binds (an assignment's targets, a definition's name)."""
    if isinstance(node, _DEFS):
        return {node.name}
    targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
    return {n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name)}


def _statements(node: ast.stmt, part: str, where: str) -> list[ast.stmt]:
    body = list(getattr(node, "body", []))
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring is the contract: it stays
    if part == "finally":
        clauses = [n.finalbody for n in ast.walk(node) if isinstance(n, ast.Try) and n.finalbody]
        if not clauses:
            raise MlopsLevelsError("no try ... finally here", where=where)
        return clauses[0]
    if ".." in part:
        first, last = part.split("..", 1)
        names = [_assigned(statement) for statement in body]
        starts = [i for i, bound in enumerate(names) if first in bound]
        ends = [i for i, bound in enumerate(names) if last in bound]
        if not starts or not ends or ends[-1] < starts[0]:
            raise MlopsLevelsError(f"no statements from {first} to {last} here", where=where)
        return body[starts[0] : ends[-1] + 1]
    if part:
        raise MlopsLevelsError(f"unknown part {part!r}", where=where, fix='use "finally" or "first..last"')
    if not body:
        raise MlopsLevelsError("nothing to take out here (only a docstring)", where=where)
    return body


def _with_comments(lines: list[str], start: int, end: int) -> tuple[int, int]:
    """Widen a body to the comment lines at its indentation just before its first and after its last line."""
    indent = _indent(lines[start])

    def comment(index: int) -> bool:
        line = lines[index]
        return line.lstrip().startswith("#") and _indent(line).startswith(indent)

    while start > 0 and comment(start - 1):
        start -= 1
    following = end
    while following < len(lines) and (not lines[following].strip() or comment(following)):
        following += 1
        if lines[following - 1].strip():
            end = following  # blank lines after the last comment separate the body from what follows: they stay
    return start, end


def take_out(text: str, exercise_id: str, regions: list[tuple[Region, str, str]], where: str = "") -> str:
    """The text with each (region, todo, stub) replaced: a TODO line, then the stub."""
    lines = text.splitlines(keepends=True)
    ordered = sorted(regions, key=lambda r: r[0].start)
    for (before, *_), (after, *_) in zip(ordered, ordered[1:], strict=False):
        if after.start < before.end:
            raise MlopsLevelsError(f"two regions of exercise {exercise_id} overlap", where=f"{where}:{after.start + 1}")
    for region, todo, stub in reversed(ordered):
        replacement = [f"{region.indent}# TODO(exercise {exercise_id}): {todo}\n"]
        replacement += [f"{region.indent}{line}\n" if line else "\n" for line in stub.splitlines()]
        lines[region.start : region.end] = replacement
    return "".join(lines)


def region_code(text: str, region: Region) -> str:
    """The level's own code of a region."""
    return "".join(text.splitlines(keepends=True)[region.start : region.end])
