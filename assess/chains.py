"""What a piece of automation does when it runs: follow its calls across modules and collect the first
evidence that it trains, tracks, registers, gates, deploys, monitors or scores."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from assess.callgraph import node_id
from assess.commands import Action
from assess.configdata import Command
from assess.metricnames import names_a_metric
from assess.model import Evidence
from assess.project import Project
from assess.pyfacts import Branch
from assess.vocabulary import deploys, is_training, monitors, predicts, promotes, registers

# An `if` on these names checks a gate's outcome (`if not gate["passed"]: return`).
GATE_WORDS = re.compile(
    r"^(gate|passed|passes|approved|refused|rejected|is_better|better|improved|worse|regressed)$", re.IGNORECASE
)
FACTS = ("trains", "registers", "deploys", "gates", "monitors", "scores")


@dataclass
class Chain:
    found: dict[str, Evidence] = field(default_factory=dict)

    def __getitem__(self, fact: str) -> Evidence | None:
        return self.found.get(fact)

    def note(self, fact: str, evidence: Evidence) -> None:
        self.found.setdefault(fact, evidence)


@dataclass(frozen=True)
class GateBranch:
    rel: str
    branch: Branch
    evidence: Evidence
    action: Evidence | None  # the deploy, registration or refusal the comparison decides
    live: bool  # False: in code that never runs


class Chains:
    """Chain analysis over one project, with the gate branches computed once."""

    def __init__(self, project: Project) -> None:
        self.p = project

    def of(
        self, starts: list[str], actions: list[tuple[Command, int, Action]] | None = None, dead: bool = False
    ) -> Chain:
        """What running `starts` would do; with `dead`, what code that never runs would do if it did."""
        chain = Chain()
        nodes = self.p.graph.closure(starts, dead=dead)
        for rel, call in self.p.graph.calls_of(nodes, dead=dead):
            resolved = self.p.resolved(rel, call)
            if is_training(call, resolved):
                chain.note("trains", self.p.call_evidence(rel, call, "trains a model"))
            if registers(call):
                chain.note("registers", self.p.call_evidence(rel, call, "registers a model version"))
            if deploys(call):
                chain.note("deploys", self.p.call_evidence(rel, call, "deploys or promotes a model"))
            if monitors(call):
                chain.note("monitors", self.p.call_evidence(rel, call, "computes a drift or quality report"))
            if predicts(call):
                chain.note("scores", self.p.call_evidence(rel, call, "scores with a model"))
        for gate in self.gate_branches:
            if gate.live and gate.action is not None and node_id(gate.rel, gate.branch.scope) in nodes:
                chain.note("gates", gate.evidence)
        for command, line, action in actions or []:
            fact = {"deploy": "deploys", "gate": "gates"}.get(action.kind)
            if action.kind == "deploy" and self.p.follow.submits_a_job(action):
                continue  # a Kubernetes Job applied: what it runs is followed, it deploys nothing
            if fact:
                chain.note(fact, self.p.evidence(command.file, line, f"a `{action.target}` step", action.token))
        return chain

    @cached_property
    def gate_functions(self) -> set[str]:
        """Functions that compare a metric: a candidate's RMSE against the champion's or a threshold."""
        found = set()
        for rel, module in self.p.modules.items():
            for scope, _, names in module.compares:
                if any(names_a_metric(n) for n in names):
                    found.add(node_id(rel, scope))
        return found

    def _is_gate_test(self, rel: str, branch: Branch) -> str | None:
        """The name that makes this `if` a quality decision, or None."""
        module = self.p.modules[rel]
        for scope, line, names in module.compares:
            if scope == branch.scope and branch.line <= line < branch.start:
                metric = next((n for n in sorted(names) if names_a_metric(n)), None)
                if metric:
                    return metric
        for name in sorted(branch.names):
            if GATE_WORDS.match(name):
                return name
            # `if passes_gate(...)`, or `if ok:` after `ok = passes_gate(...)`: the test asks a gate function
            bound = module.variables.get((branch.scope, name))
            if bound is not None:
                target, imported = bound[0].removesuffix("()"), bound[1] is not None
            elif name in module.aliases:
                target, imported = module.aliases[name], True
            else:
                target, imported = name, False
            targets = self.p.graph.resolve_name(rel, branch.scope, target, imported)
            if any(t in self.gate_functions for t in targets):
                return name
        return None

    def _guarded_action(self, rel: str, branch: Branch) -> Evidence | None:
        module = self.p.modules[rel]
        last = 10**9 if branch.exits else branch.end  # after `if not passed: return`, the rest is guarded
        inside = [c for c in module.calls if c.scope == branch.scope and branch.start <= c.line <= last]
        for call in inside:
            if not call.dead and (deploys(call) or registers(call) or promotes(call)):
                return self.p.call_evidence(rel, call, "deploys or registers only when the gate passes")
        nodes = [n for c in inside if not c.dead for n in self.p.graph.resolve_call(rel, c)]
        for inner_rel, call in self.p.graph.calls_of(self.p.graph.closure(nodes, depth=4)):
            if deploys(call) or registers(call):
                return self.p.call_evidence(inner_rel, call, "deploys or registers only when the gate passes")
        for scope, line in module.raises:
            if scope == branch.scope and branch.start <= line <= branch.end:
                return self.p.evidence(rel, line, "refuses the candidate", "raise")
        for call in inside:
            if call.api == "exit" and call.root == "sys":
                return self.p.call_evidence(rel, call, "fails the job when the gate fails")
        return None

    @cached_property
    def gate_branches(self) -> list[GateBranch]:
        found = []
        for rel, module in self.p.modules.items():
            for branch in module.branches:
                token = self._is_gate_test(rel, branch)
                if token is None:
                    continue
                evidence = self.p.evidence(rel, branch.line, "a metric comparison that decides", token)
                live = not branch.dead and self.p.graph.live(rel, branch.scope)
                found.append(GateBranch(rel, branch, evidence, self._guarded_action(rel, branch), live))
        # A check of a gate's outcome (`if not gate["passed"]`) reads better than the trigger it follows.
        return sorted(found, key=lambda g: not GATE_WORDS.match(g.evidence.token))
