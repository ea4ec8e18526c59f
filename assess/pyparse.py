"""Parse a Python file or a notebook's code cells into the facts of one module (see `pyfacts`)."""

from __future__ import annotations

import ast

from assess.pyfacts import ModuleFacts, module_name
from assess.pyvisit import Visitor
from assess.reading import Cell, python_of_cell


def module_facts(rel: str, text: str) -> ModuleFacts | None:
    """Facts of a .py file; None when it does not parse."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return None
    facts = ModuleFacts(rel, module_name(rel), False, text.splitlines())
    Visitor(facts).run(tree)
    return facts


def notebook_facts(rel: str, cells: list[Cell]) -> tuple[ModuleFacts, int]:
    """Facts of a notebook read as one module, cell after cell; also the number of cells left out."""
    body: list[ast.stmt] = []
    lines: list[str] = []
    starts: list[tuple[int, int]] = []
    bad = 0
    for cell in cells:
        python = python_of_cell(cell.source)
        try:
            tree = ast.parse(python) if python is not None else None
        except (SyntaxError, ValueError):
            tree = None
        if tree is None:
            bad += 1
            continue
        offset = len(lines)
        ast.increment_lineno(tree, offset)
        body.extend(tree.body)
        starts.append((offset + 1, cell.index))
        lines.extend(python.splitlines() if python else [])
        lines.append("")  # a cell boundary, so the next cell starts on a fresh line
    facts = ModuleFacts(rel, module_name(rel), True, lines, cell_starts=starts)
    facts.cell_count = cells[0].of if cells else 0
    facts.execution_counts = {c.index: c.execution_count for c in cells if c.execution_count is not None}
    Visitor(facts).run(ast.Module(body=body, type_ignores=[]))
    return facts, bad
