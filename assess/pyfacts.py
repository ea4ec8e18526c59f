"""What one Python module (or notebook) contains, as code: calls, definitions, branches, imports.

Built from `ast`, so comments and strings are never mistaken for code. Names are resolved through
the module's imports (`import mlflow as mf` makes `mf.log_metric` `mlflow.log_metric`) and through
simple assignments (`client = MlflowClient()` makes `client.set_registered_model_alias` an MLflow
call). Code that can never run (`if False:`, after a `return`, under `if TYPE_CHECKING:`) is marked
dead; functions nobody calls are found later, across modules, by `callgraph`.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

MODULE_SCOPE = "<module>"


@dataclass(frozen=True)
class Ref:
    """A name passed as a value (`python_callable=train`, `cron=CRON`); empty for any other expression."""

    name: str


@dataclass(frozen=True)
class Call:
    line: int  # the line holding the called name (for `a.b(...)`, the line of `b`)
    name: str  # resolved dotted name, best effort: "mlflow.sklearn.log_model", "mlflow.MlflowClient().get_run"
    attr: str  # the last segment: "log_model"
    root: str | None  # top package when the name comes from an import ("mlflow"); None for local objects
    receiver: str  # source of what the method is called on ("monthly_cycle", "app"), "" for plain calls
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    refs: tuple[str, ...]  # dotted names passed as arguments (callbacks, jobs, flows)
    scope: str
    dead: bool
    # The called name as its library spells it: `keep` after `from mlflow import register_model as keep`
    # is `register_model` (`attr` keeps what is written on the line, for evidence).
    api: str = ""

    def kw(self, name: str, default: Any = None) -> Any:
        return self.kwargs.get(name, default)

    def first_str(self) -> str | None:
        for value in (*self.args, *self.kwargs.values()):
            if isinstance(value, str):
                return value
        return None

    def strings(self) -> list[str]:
        found: list[str] = []
        for value in (*self.args, *self.kwargs.values()):
            if isinstance(value, str):
                found.append(value)
            elif isinstance(value, tuple):
                found.extend(v for v in value if isinstance(v, str))
        return found


@dataclass(frozen=True)
class Function:
    qualname: str
    name: str
    line: int
    cls: str | None  # qualname of the class, for methods
    decorators: tuple[Call, ...]
    params: tuple[str, ...]
    dead: bool
    trivial: bool  # only pass, docstrings or ...


@dataclass(frozen=True)
class ClassInfo:
    qualname: str
    name: str
    line: int
    bases: tuple[str, ...]  # resolved dotted names
    dead: bool


@dataclass(frozen=True)
class Branch:
    """An `if` (or conditional expression): what its test looks at and which lines it guards."""

    scope: str
    line: int
    names: frozenset[str]  # identifiers and attribute names in the test
    start: int
    end: int
    dead: bool
    exits: bool = False  # the guarded block returns or raises: what follows the `if` is guarded too


@dataclass
class ModuleFacts:
    rel: str
    module: str  # dotted module name derived from the path
    notebook: bool
    lines: list[str]
    aliases: dict[str, str] = field(default_factory=dict)
    consts: dict[str, Any] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    branches: list[Branch] = field(default_factory=list)
    compares: list[tuple[str, int, frozenset[str]]] = field(default_factory=list)
    raises: list[tuple[str, int]] = field(default_factory=list)
    loads: dict[str, set[str]] = field(default_factory=dict)
    variables: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    main_block: int | None = None
    cell_starts: list[tuple[int, int]] = field(default_factory=list)  # (first global line, cell index)
    cell_count: int = 0  # cells in the notebook, markdown too
    execution_counts: dict[int, int] = field(default_factory=dict)  # cell index -> Jupyter's [n]

    def calls_in(self, scope: str) -> list[Call]:
        return [c for c in self.calls if c.scope == scope]

    def cell_of(self, line: int) -> tuple[int | None, int]:
        """(cell index, line inside the cell) for a notebook; (None, line) for a file."""
        if not self.cell_starts:
            return None, line
        position = bisect_right([start for start, _ in self.cell_starts], line) - 1
        start, cell = self.cell_starts[max(position, 0)]
        return cell, line - start + 1

    def text(self, line: int) -> str:
        return self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""


def module_name(rel: str) -> str:
    parts = rel.removesuffix(".py").removesuffix(".ipynb").split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(p.replace("-", "_") for p in parts)
