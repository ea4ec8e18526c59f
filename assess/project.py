"""Everything the detectors look at, loaded once: Python and notebook facts, configs, the call graph."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from assess.callgraph import CallGraph, node_id
from assess.commands import Action
from assess.configdata import Command, Configs
from assess.configs import load_configs
from assess.discover import NOTEBOOK, PYTHON, Inventory
from assess.follow import Follower
from assess.model import Evidence
from assess.pyfacts import Call, ModuleFacts
from assess.pyparse import module_facts, notebook_facts
from assess.reading import notebook_cells, read_text


@dataclass
class Project:
    root: Path
    inventory: Inventory
    modules: dict[str, ModuleFacts]
    configs: Configs
    graph: CallGraph
    follow: Follower

    # --- evidence ---
    def evidence(self, rel: str, line: int, construct: str, token: str, scope: str | None = None) -> Evidence:
        module = self.modules.get(rel)
        if module is None:
            return Evidence(rel, line, self._config_line(rel, line), construct, token)
        cell, inner = module.cell_of(line)
        reach = self._reach(rel, scope) if scope is not None else ""
        if cell is None:
            return Evidence(rel, inner, module.text(line)[:160], construct, token, reach=reach)
        count = module.execution_counts.get(cell)
        return Evidence(rel, inner, module.text(line)[:160], construct, token, cell, module.cell_count, count, reach)

    def call_evidence(self, rel: str, call: Call, construct: str) -> Evidence:
        return self.evidence(rel, call.line, construct, call.attr, call.scope if not call.dead else "")

    def _reach(self, rel: str, scope: str) -> str:
        if scope and self.graph.live(rel, scope) and not self.is_notebook(rel):
            return "running"
        if scope and self.graph.only_tested(rel, scope):
            return "tested"
        return "not running"

    def _config_line(self, rel: str, line: int) -> str:
        try:
            lines = (self.root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return lines[line - 1].strip()[:160] if 0 < line <= len(lines) else ""

    # --- code queries ---
    def calls(self, *, live_only: bool = False) -> Iterator[tuple[str, Call]]:
        for rel, module in self.modules.items():
            for call in module.calls:
                if live_only and (call.dead or not self.graph.live(rel, call.scope)):
                    continue
                yield rel, call

    def is_live(self, rel: str, call: Call) -> bool:
        return not call.dead and self.graph.live(rel, call.scope)

    def is_notebook(self, rel: str) -> bool:
        module = self.modules.get(rel)
        return module is not None and module.notebook

    def resolved(self, rel: str, call: Call) -> bool:
        return bool(self.graph.resolve_call(rel, call))

    def const(self, rel: str, value: object) -> object:
        """A module-level constant's value when a call passed its name (`cron=CRON`)."""
        name = getattr(value, "name", None)
        if name is not None and rel in self.modules:
            return self.modules[rel].consts.get(name, value)
        return value

    # --- from commands to code (see `follow`) ---
    def command_starts(self, command: Command) -> list[str]:
        return self.follow.starts(command)

    def expand(self, command: Command) -> list[tuple[Command, Action]]:
        return self.follow.expand(command)


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """Parsing thousands of files makes millions of short-lived nodes; the cyclic collector would keep
    scanning the facts kept so far (measured: 2.3x slower). Nothing here makes cycles worth collecting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def load_project(root: Path, inventory: Inventory) -> Project:
    with _no_gc_pauses():
        return _load_project(root, inventory)


def _load_project(root: Path, inventory: Inventory) -> Project:
    counts = inventory.counts
    modules: dict[str, ModuleFacts] = {}
    for source in inventory.of_kind(PYTHON, NOTEBOOK):
        text = read_text(source, counts)
        if text is None:
            continue
        if source.kind == PYTHON:
            facts = module_facts(source.rel, text)
            if facts is None:
                counts.cannot_read(source.rel, "Python that does not parse")
                continue
            counts.python_files += 1
        else:
            cells = notebook_cells(text)
            if cells is None:
                counts.cannot_read(source.rel, "notebook that is not valid JSON")
                continue
            facts, bad = notebook_facts(source.rel, cells)
            counts.notebooks += 1
            counts.notebook_cells += len(cells) - bad
            if bad:
                counts.skip("notebook cells that are not Python", bad)
                counts.unreadable.append((source.rel, f"{bad} code cell{'s' if bad > 1 else ''} that are not Python"))
        modules[source.rel] = facts
    configs = load_configs(inventory)
    graph = CallGraph(modules, configs.entry_points)
    project = Project(root, inventory, modules, configs, graph, Follower(modules, graph, configs, root.resolve().name))
    _command_edges(project)
    return project


SHELL_OUTS = {("subprocess", "run"), ("subprocess", "call"), ("subprocess", "check_call"), ("subprocess", "Popen")}


def _command_edges(project: Project) -> None:
    """Code that runs other Python files as commands: `subprocess.run(["python", "train.py"])`,
    `os.system("python train.py")`, Airflow's `BashOperator(bash_command="python train.py")`."""
    for rel, call in project.calls():
        text = None
        if (call.root, call.api) in SHELL_OUTS or (call.root == "os" and call.api == "system"):
            first = call.args[0] if call.args else None
            text = " ".join(str(w) for w in first) if isinstance(first, tuple) else first
        elif isinstance(call.kw("bash_command"), str):
            text = call.kw("bash_command")
        if not isinstance(text, str):
            continue
        command = Command.of(rel, call.line, text, "command in code")
        edges = project.graph.dead_edges if call.dead else project.graph.edges
        edges.setdefault(node_id(rel, call.scope), set()).update(project.command_starts(command))
