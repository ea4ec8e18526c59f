"""Run a percent-format notebook script (`# %%` cells) with its parameters cell overridden.

This is what papermill does for .ipynb files: run the cell tagged "parameters", then a cell that sets
the caller's values, then the rest. The script stays a plain notebook a student can open and run.
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_CELL = re.compile(r"^# %%(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Cell:
    header: str
    source: str

    @property
    def is_markdown(self) -> bool:
        return "[markdown]" in self.header

    @property
    def is_parameters(self) -> bool:
        return "parameters" in self.header


def split_cells(text: str) -> list[Cell]:
    starts = list(_CELL.finditer(text))
    cells = []
    for index, match in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        cells.append(Cell(header=match.group(1).strip(), source=text[match.end() + 1 : end]))
    return cells


def run_notebook(
    path: Path,
    parameters: dict[str, Any],
    on_cell: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, Any], str]:
    """Execute the code cells in order; return the notebook's globals and what it printed."""
    cells = [c for c in split_cells(Path(path).read_text(encoding="utf-8")) if not c.is_markdown]
    namespace: dict[str, Any] = {"__name__": "__notebook__", "__file__": str(path)}
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        for index, cell in enumerate(cells):
            if on_cell:
                on_cell(index, len(cells))
            exec(compile(cell.source, f"{path}:cell{index}", "exec"), namespace)
            if cell.is_parameters:
                namespace.update(parameters)
    return namespace, printed.getvalue()
