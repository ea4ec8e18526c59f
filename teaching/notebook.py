"""Level 0's notebook: executed by a real Jupyter kernel with its parameters cell overridden, and read as
text (its code cells, `# %%`-separated) where the teaching layer shows or diffs it.

Running it is what papermill does for a course notebook: the cell tagged "parameters" runs, then a
cell with the caller's values, then the rest. The executed copy, outputs included, is written to the
workspace so a student can open what ran. Reading it needs only the standard library (the .ipynb is
JSON), so `diff 0 1` and `walkthrough 0` stay fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError

RESULT_MARK = "__mlops_levels_result__ "


def cells(path: Path) -> list[dict[str, Any]]:
    """The notebook's cells, as nbformat JSON holds them (source joined into one string)."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    return [
        {**cell, "source": "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]}
        for cell in notebook["cells"]
    ]


def as_script(path: Path) -> str:
    """The notebook as a percent-format script: what `diff 0 1` pairs with level 1's modules."""
    parts = []
    for cell in cells(path):
        if cell["cell_type"] == "markdown":
            parts.append("# %% [markdown]\n" + "\n".join(f"# {line}".rstrip() for line in cell["source"].splitlines()))
        elif cell["cell_type"] == "code":
            tags = cell.get("metadata", {}).get("tags", [])
            parts.append(('# %% tags=["parameters"]\n' if "parameters" in tags else "# %%\n") + cell["source"])
    return "\n\n".join(parts) + "\n"


def run_notebook(
    path: Path, parameters: dict[str, Any], results: list[str], executed: Path
) -> tuple[dict[str, Any], list[str]]:
    """Execute the notebook in a fresh kernel; return the named results and the lines it printed."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.read(str(path), as_version=4)  # type: ignore[no-untyped-call]
    at = next(i for i, c in enumerate(notebook.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    injected = "# Parameters given by mlops-levels run 0\n" + "".join(f"{k} = {v!r}\n" for k, v in parameters.items())
    injected_cell = nbformat.v4.new_code_cell(injected, metadata={"tags": ["injected-parameters"]})  # type: ignore[no-untyped-call]
    notebook.cells.insert(at, injected_cell)
    report = (
        "import json\nprint("
        + repr(RESULT_MARK)
        + " + json.dumps({"
        + ", ".join(f"{name!r}: float({name})" for name in results)
        + "}))"
    )
    report_cell = nbformat.v4.new_code_cell(report, metadata={"tags": ["mlops-levels-report"]})  # type: ignore[no-untyped-call]
    notebook.cells.append(report_cell)
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"run-{index:02d}"
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    executed.parent.mkdir(parents=True, exist_ok=True)
    try:
        # The kernel's own chatter (e.g. "running over TCP without encryption") goes to a log, not the terminal.
        with open(executed.with_suffix(".kernel.log"), "ab") as kernel_log:
            client.execute(stdout=kernel_log, stderr=kernel_log)
    except CellExecutionError as exc:
        raise MlopsLevelsError(
            f"a notebook cell failed: {exc.ename}: {exc.evalue}",
            where=str(path),
            fix="open the notebook and run it cell by cell",
        ) from None
    finally:
        nbformat.write(notebook, str(executed))  # type: ignore[no-untyped-call]
    printed = [
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("output_type") == "stream"
    ]
    lines = "".join(printed).splitlines()
    values = json.loads(next(line for line in lines if line.startswith(RESULT_MARK)).removeprefix(RESULT_MARK))
    return values, [line for line in lines if not line.startswith(RESULT_MARK)]
