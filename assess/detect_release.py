"""Detectors of the model-release view: registry, deployment by one call, quality gate, continuous
delivery of models, A/B testing."""

from __future__ import annotations

import re

from assess.callgraph import node_id
from assess.context import Context, verdict
from assess.model import Evidence, Finding
from assess.vocabulary import (
    DEPLOY_PATH,
    deploys,
    draws_at_random,
    loads_model,
    promotes,
    reads_registry,
    registers,
    stores_model_locally,
)

AB_WORDS = re.compile(r"(variant|bucket|split|canary|challenger|ab_?test|traffic|arm\b|arms\b)", re.IGNORECASE)


def model_registry(ctx: Context) -> Finding:
    p = ctx.project
    found: list[Evidence] = []
    partial: list[Evidence] = []
    for rel, call in p.calls():
        if registers(call) or promotes(call):
            construct = "registers a model version" if registers(call) else "moves a registry alias or stage"
            (found if p.is_live(rel, call) else partial).append(p.call_evidence(rel, call, construct))
        elif reads_registry(call) or stores_model_locally(call):
            partial.append(p.call_evidence(rel, call, "reads a registry or a local model store"))
    notes = (
        "models are registered as versions (or promoted by alias or stage)",
        "the registry is only read here, models sit in a local store, or registering never runs",
        "no model registry: models are files",
    )
    return verdict(found, partial, notes)


def automated_deployment(ctx: Context) -> Finding:
    p = ctx.project
    found: list[Evidence] = []
    partial: list[Evidence] = []
    for rel, function, decorator in ctx.routes:
        path = decorator.first_str() or ""
        if not DEPLOY_PATH.search(path):
            continue
        nodes = p.graph.closure([node_id(rel, function.qualname)], depth=6)
        swaps = [(r, c) for r, c in p.graph.calls_of(nodes) if loads_model(c) or promotes(c)]
        swaps.sort(key=lambda rc: not (promotes(rc[1]) or rc[1].api == "load_model"))  # the swap itself first
        evidence = p.call_evidence(rel, decorator, f"a deploy endpoint {path}")
        usable = swaps and not p.is_notebook(rel) and p.graph.live(rel, function.qualname)
        (found if usable else partial).append(evidence)
        found.extend(p.call_evidence(r, c, "loads or promotes the requested model") for r, c in swaps[:1] if usable)
    automatic = [u for u in ctx.units.jobs + ctx.units.triggers if u.automatic and u.in_place and u.live]
    for unit in automatic + ctx.units.pipelines:
        deploy = ctx.chains.of(unit.starts, unit.actions, dead=not unit.live)["deploys"]
        if deploy is not None:
            (found if unit in automatic and not unit.notebook else partial).extend([unit.evidence, deploy])
    for unit in [u for u in ctx.units.jobs if not u.automatic or not u.in_place]:
        deploy = ctx.chains.of(unit.starts, unit.actions, dead=not unit.live)["deploys"]
        partial.extend([unit.evidence, deploy] if deploy else [])
    for rel, call in p.calls():
        if deploys(call) and not p.is_notebook(rel):  # a stage moved by hand in a notebook is not deployment
            partial.append(p.call_evidence(rel, call, "deploys when a person runs it"))
    for command in p.configs.commands:
        for line, action in command.actions:
            if action.kind == "deploy" and not p.follow.submits_a_job(action):
                partial.append(p.evidence(command.file, line, "a deploy command", action.token))
    notes = (
        "a model is deployed by one API call or by automation, not by hand",
        "deployment is scripted, but a person runs it (or it sits where it never runs)",
        "no deploy endpoint, deploy step or promotion in automation",
    )
    return verdict(found, partial, notes)


def _shell_gates(ctx: Context) -> tuple[list[Evidence], list[Evidence]]:
    """Gates written in a job's shell (`if [ "$RMSE" > 6.5 ]; then exit 1`): found in a job that runs by
    itself and then deploys or registers, partial in one a person starts."""
    found: list[Evidence] = []
    partial: list[Evidence] = []
    for unit in ctx.units.jobs:
        gates = [(c, n, a) for c, n, a in unit.actions if a.kind == "gate"]
        if not gates:
            continue
        chain = ctx.chains.of(unit.starts, unit.actions)
        command, line, action = gates[0]
        evidence = ctx.project.evidence(command.file, line, "a metric test in the job's shell", action.token)
        ships = chain["deploys"] or chain["registers"]
        usable = unit.automatic and unit.in_place and ships is not None
        (found if usable else partial).extend([evidence, ships] if usable and ships else [evidence])
    return found, partial


def quality_gate(ctx: Context) -> Finding:
    p = ctx.project
    found, partial = _shell_gates(ctx)
    for gate in ctx.chains.gate_branches:
        if gate.action is not None and gate.live and not p.is_notebook(gate.rel):
            found.extend([gate.evidence, gate.action])
        elif gate.action is not None:
            partial.append(gate.evidence)
    if not found:
        for node in sorted(ctx.chains.gate_functions):
            rel, _, qualname = node.partition("::")
            function = p.modules[rel].functions.get(qualname)
            if function is not None and ("gate" in function.name or "compare" in function.name):
                partial.append(p.evidence(rel, function.line, "a metric comparison nothing acts on", function.name))
    notes = (
        "a metric comparison decides whether a candidate is deployed or registered",
        "a comparison of metrics exists, but no deploy or registration depends on it",
        "no quality gate: nothing compares a candidate with the champion or a threshold before release",
    )
    return verdict(found, partial, notes)


def continuous_delivery(ctx: Context) -> Finding:
    found: list[Evidence] = []
    partial: list[Evidence] = []
    reasons: set[str] = set()
    automatic = [u for u in ctx.units.jobs + ctx.units.triggers if u.automatic and u.in_place and u.live]
    for unit in automatic:
        chain = ctx.chains.of(unit.starts, unit.actions, dead=not unit.live)
        if chain["trains"] and chain["deploys"]:
            if chain["gates"]:
                found.extend([unit.evidence, chain["trains"], chain["gates"], chain["deploys"]])
            else:
                partial.extend([unit.evidence, chain["deploys"]])
                reasons.add("it trains and deploys with no gate between")
        elif chain["deploys"] and not unit.notebook:
            partial.extend([unit.evidence, chain["deploys"]])
            reasons.add("automation deploys, but does not train the model it ships")
    manual = ctx.units.pipelines + [u for u in ctx.units.jobs if u not in automatic]
    starts = [[s] for s in ctx.units.entry_starts()] + [u.starts for u in manual]
    for start in starts:
        chain = ctx.chains.of(start)
        if chain["trains"] and chain["gates"] and chain["deploys"]:
            partial.extend([chain["trains"], chain["gates"], chain["deploys"]])
            reasons.add("train, gate and deploy are chained, but a person starts the chain")
    notes = (
        "automation trains, gates and deploys a model without a person",
        f"delivery is automated only in part: {'; '.join(sorted(reasons))}",
        "nothing chains training, a quality gate and deployment",
    )
    return verdict(found, partial, notes)


def ab_testing(ctx: Context) -> Finding:
    p = ctx.project
    serving = set(p.graph.closure([node_id(rel, f.qualname) for rel, f, _ in ctx.routes], depth=6))
    found: list[Evidence] = []
    partial: list[Evidence] = []
    for rel, module in p.modules.items():
        for function in module.functions.values():
            if not (AB_WORDS.search(function.name) or any(AB_WORDS.search(a) for a in function.params)):
                continue
            node = node_id(rel, function.qualname)
            draws = [c for r, c in p.graph.calls_of(p.graph.closure([node], depth=2)) if draws_at_random(c)]
            if not draws:
                continue
            evidence = p.evidence(rel, function.line, "picks a model variant by a random or hashed draw", function.name)
            usable = node in serving and not module.notebook and p.graph.live(rel, function.qualname)
            (found if usable else partial).append(evidence)
    for manifest in p.configs.manifests:
        data = manifest.data.data if hasattr(manifest.data, "data") else None
        text = str(data)
        if manifest.kind.startswith("k8s:") and ("canaryTrafficPercent" in text or "'traffic'" in text):
            found.append(p.evidence(manifest.file, manifest.line, "a traffic split between model versions", "kind"))
    notes = (
        "live traffic is split between model versions",
        "a variant-picking function exists, but no prediction endpoint uses it",
        "no A/B test or canary: one model serves all traffic",
    )
    return verdict(found, partial, notes)
