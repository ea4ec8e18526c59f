"""What every detector receives, and the small helpers they share to turn evidence into a finding."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from assess.chains import Chains
from assess.model import Evidence, Finding
from assess.project import Project
from assess.pyfacts import Call, Function
from assess.units import Units
from assess.vocabulary import ROUTE_METHODS, WEB_APPS, plain

MAX_EVIDENCE = 3


@dataclass
class Context:
    project: Project
    units: Units
    chains: Chains

    @classmethod
    def of(cls, project: Project) -> Context:
        return cls(project, Units(project), Chains(project))

    @cached_property
    def routes(self) -> list[tuple[str, Function, Call]]:
        """HTTP handlers: functions decorated `@app.post("/predict")`, `@router.get(...)`, `@bentoml.api` …"""
        found = []
        for rel, module in self.project.modules.items():
            for function in module.functions.values():
                for decorator in function.decorators:
                    if decorator.api not in ROUTE_METHODS:
                        continue
                    owner = plain(decorator.name).rpartition(".")[0].removesuffix(".")
                    if decorator.root == "bentoml" or _is_app(module.variables, function, decorator, owner):
                        found.append((rel, function, decorator))
        return found


def _is_app(
    variables: dict[tuple[str, str], tuple[str, str | None]], function: Function, decorator: Call, owner: str
) -> bool:
    """The decorator hangs off a web app or router (bound from FastAPI(), Flask(__name__) …)."""
    if owner in WEB_APPS:  # `@app.post` resolved through `app = FastAPI()`
        return True
    head = decorator.receiver.split(".")[0]
    for (_, name), (target, _) in variables.items():
        if name == head and plain(target) in WEB_APPS:
            return True
    return False


def dedupe(evidence: Iterable[Evidence | None], limit: int = MAX_EVIDENCE) -> list[Evidence]:
    seen: set[tuple[str, int, int | None]] = set()
    kept: list[Evidence] = []
    for item in evidence:
        if item is None or (item.file, item.line, item.cell) in seen:
            continue
        seen.add((item.file, item.line, item.cell))
        kept.append(item)
        if len(kept) == limit:
            break
    return kept


def verdict(found: list[Evidence], partial: list[Evidence], notes: tuple[str, str, str]) -> Finding:
    """found > partial > absent; `notes` says why for each outcome."""
    if found:
        return Finding("found", dedupe(found), notes[0])
    if partial:
        return Finding("partial", dedupe(partial), notes[1])
    return Finding.absent(notes[2])


Detect = Callable[[Context], Finding]
