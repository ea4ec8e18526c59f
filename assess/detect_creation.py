"""Detectors of the model-creation view: modular code, an orchestrated training pipeline, experiment
tracking, automated retraining."""

from __future__ import annotations

from assess.chains import Chain
from assess.context import Context, verdict
from assess.model import Evidence, Finding
from assess.pyfacts import MODULE_SCOPE
from assess.testfinder import is_test_file
from assess.unit import Unit
from assess.vocabulary import is_tracking, is_tracking_setup, is_training, orchestrator, plain

CLI_CALLS = {"argparse.ArgumentParser", "typer.Typer", "fire.Fire", "click.command", "click.group", "docopt.docopt"}


def _code_modules(ctx: Context) -> list[str]:
    return [
        rel
        for rel, m in ctx.project.modules.items()
        if not m.notebook and not is_test_file(rel) and not rel.endswith(("conftest.py", "setup.py", "noxfile.py"))
    ]


def versioned_code(ctx: Context) -> Finding:
    p = ctx.project
    modules = _code_modules(ctx)
    entries: list[Evidence] = []
    flat: list[Evidence] = []
    for rel in modules:
        module = p.modules[rel]
        for call in module.calls:
            if call.root and plain(call.name) in CLI_CALLS and p.is_live(rel, call):
                entries.append(p.call_evidence(rel, call, "a command-line entry point"))
            if call.scope == MODULE_SCOPE and not call.dead and is_training(call, p.resolved(rel, call)):
                flat.append(p.call_evidence(rel, call, "training at the top level of a script"))
        if module.main_block is not None and module.functions:
            entries.append(p.evidence(rel, module.main_block, "a main entry point", "__name__"))
        for function in module.functions.values():
            if any(orchestrator(d) for d in function.decorators) and p.graph.live(rel, function.qualname):
                entries.append(p.call_evidence(rel, function.decorators[0], "a pipeline entry point"))
    entries += [e for rel, f, d in ctx.routes if rel in modules for e in [p.call_evidence(rel, d, "a service entry")]]
    entries += [u.evidence for u in ctx.units.pipelines if u.live and not u.notebook and u.kind != "DVC stage"]
    entries += [
        p.evidence(rel, f.line, "a serverless handler", f.name)
        for rel in modules
        for f in p.modules[rel].functions.values()
        if f.name in ("lambda_handler", "handler") and f.params[:2] == ("event", "context")
    ]
    in_functions = any(
        is_training(c, p.resolved(rel, c)) and c.scope != MODULE_SCOPE for rel in modules for c in p.modules[rel].calls
    )
    if flat and not in_functions:
        entries = []  # notebook-style scripts: the code runs top to bottom, nothing to call
    notes = (
        "Python modules with functions and an entry point (CLI, main, service or pipeline)",
        "Python scripts, but notebook-style: training runs at the top level, or nothing can be called",
        "no Python code outside notebooks",
    )
    return verdict(entries, flat or _first_constructs(ctx, modules), notes)


def _first_constructs(ctx: Context, modules: list[str]) -> list[Evidence]:
    """Something to open in a module that has no entry point: its first function, or its first call."""
    p = ctx.project
    for rel in modules:
        module = p.modules[rel]
        for function in module.functions.values():
            return [p.evidence(rel, function.line, "a function nothing calls from outside", function.name)]
        for call in module.calls:
            if not call.dead:
                return [p.call_evidence(rel, call, "top-level script code")]
    return []


def _describe(chain: Chain) -> str:
    facts = [f for f in ("trains", "registers", "deploys", "monitors", "scores") if chain[f] is not None]
    return "/".join(facts) or "nothing recognised"


def _with_chain(unit: Unit, chain: Chain, *facts: str) -> list[Evidence]:
    return [unit.evidence] + [e for e in (chain[f] for f in facts) if e is not None]


def orchestrated_pipeline(ctx: Context) -> Finding:
    found: list[Evidence] = []
    partial: list[Evidence] = []
    others: list[str] = []
    for unit in ctx.units.pipelines + ctx.units.jobs:
        chain = ctx.chains.of(unit.starts, unit.actions, dead=not unit.live)
        if chain["trains"] is None:
            others.append(f"{unit.kind} {unit.label} ({_describe(chain)})")
            continue
        # A CI job started by hand (workflow_dispatch alone) is a button, half of a pipeline.
        by_hand = unit in ctx.units.jobs and not unit.automatic
        usable = unit.live and not unit.notebook and unit.in_place and not by_hand
        (found if usable else partial).extend(_with_chain(unit, chain, "trains"))
    absent = "no flow, DAG, pipeline or scheduled job that trains a model"
    if others:
        absent += f"; found, not training: {'; '.join(sorted(set(others))[:3])}"
    notes = (
        "training runs as an orchestrated pipeline or an automated job",
        "a training pipeline exists only in a notebook, in code that never runs, in a CI file that never runs, "
        "or in a job a person starts",
        absent,
    )
    return verdict(found, partial, notes)


def experiment_tracking(ctx: Context) -> Finding:
    p = ctx.project
    found: list[Evidence] = []
    partial: list[Evidence] = []
    for rel, call in p.calls():
        if is_tracking(call):
            (found if p.is_live(rel, call) else partial).append(
                p.call_evidence(rel, call, "logs to an experiment tracker")
            )
        elif is_tracking_setup(call):
            partial.append(p.call_evidence(rel, call, "tracker set up, nothing logged"))
    notes = (
        "runs log their parameters, metrics or models to a tracker",
        "a tracker is set up, or logging sits in code that never runs",
        "no experiment tracking (MLflow, W&B, Neptune, Comet, DVCLive …)",
    )
    return verdict(found, partial, notes)


def automated_retraining(ctx: Context) -> Finding:
    found: list[Evidence] = []
    partial: list[Evidence] = []
    others: list[str] = []
    reasons: set[str] = set()
    for unit in ctx.units.triggers:
        chain = ctx.chains.of(unit.starts, unit.actions, dead=not unit.live)
        if chain["trains"] is None:
            others.append(f"{unit.evidence.where} ({_describe(chain)})")
            continue
        ships = chain["registers"] or chain["deploys"]
        usable = unit.automatic and unit.live and not unit.notebook and unit.in_place
        if usable and ships is not None:
            found.extend([unit.evidence, chain["trains"], ships])
            continue
        partial.extend(_with_chain(unit, chain, "trains"))
        reasons.add("nothing registers or deploys what it trains" if ships is None else "nothing runs it by itself")
    absent = "no schedule or trigger that trains a model"
    if others:
        absent += f"; schedules found, none trains: {'; '.join(sorted(set(others))[:3])}"
    if ctx.units.idle_schedules:
        absent += f"; schedules that start nothing: {'; '.join(ctx.units.idle_schedules[:3])}"
    notes = (
        "a schedule or trigger retrains and registers or deploys the model",
        f"retraining is automated only in part: {'; '.join(sorted(reasons))}",
        absent,
    )
    return verdict(found, partial, notes)
