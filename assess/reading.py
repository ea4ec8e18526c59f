"""Read the files the walk kept: text with a fallback for odd encodings, notebooks through their JSON.

A notebook is read as nbformat JSON (no Jupyter needed): only its code cells count, IPython magics
and shell escapes are blanked (their line numbers kept), and a cell that still does not parse is
counted and left out, never fatal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from assess.discover import SourceFile
from assess.model import ReadCounts

# Cell magics whose body is still Python; any other (%%bash, %%sql, %%writefile …) is not.
PYTHON_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")


@dataclass(frozen=True)
class Cell:
    index: int  # 1-based position, counting every cell (markdown too), as a person scrolls to it
    source: str
    of: int = 0  # cells in the notebook
    execution_count: int | None = None  # Jupyter's `[n]` label when the cell was run


def read_text(source: SourceFile, counts: ReadCounts) -> str | None:
    """The file's text, or None (counted) when it cannot be read or is binary."""
    try:
        data = source.path.read_bytes()
    except OSError as error:
        counts.cannot_read(source.rel, "unreadable", error.strerror or "")
        return None
    if b"\x00" in data[:8192]:
        counts.cannot_read(source.rel, "binary")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _joined(source: object) -> str:
    if isinstance(source, list):
        return "".join(str(part) for part in source)
    return str(source) if source is not None else ""


def python_of_cell(source: str) -> str | None:
    """The cell's Python, magics blanked so that line numbers stay those a person sees; None if not Python."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if not lines[0].lstrip().startswith(PYTHON_CELL_MAGICS):
            return None
        lines[0] = ""
    cleaned = []
    for line in lines:
        stripped = line.lstrip()
        cleaned.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(cleaned)


def notebook_cells(text: str) -> list[Cell] | None:
    """Code cells of an nbformat 4 (or 3) notebook; None if the JSON is not a notebook."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    cells = document.get("cells")
    if cells is None:  # nbformat 3 kept cells inside worksheets
        worksheets = document.get("worksheets") or [{}]
        cells = worksheets[0].get("cells") if isinstance(worksheets[0], dict) else None
    if not isinstance(cells, list):
        return None
    found = []
    for index, cell in enumerate(cells, 1):
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            count = cell.get("execution_count", cell.get("prompt_number"))  # nbformat 4, 3
            source = _joined(cell.get("source", cell.get("input", "")))
            found.append(Cell(index, source, len(cells), count if isinstance(count, int) else None))
    return found
