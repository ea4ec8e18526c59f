"""Schedules and triggers written in code, each resolved to the functions it starts.

Prefect `flow.serve(cron=...)`, `.deploy(...)`, `.to_deployment(...)` and `Deployment.build_from_flow`,
Airflow `DAG(schedule=...)` and `@dag(schedule=...)`, Dagster `ScheduleDefinition`, `@schedule` and
`@sensor`, APScheduler `add_job` and `@scheduled_job`, the `schedule` library's `.do(job)`, and
conditions on drift or degradation that start training.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from assess.callgraph import node_id
from assess.project import Project
from assess.pyfacts import Call, Ref
from assess.unit import Unit
from assess.vocabulary import AIRFLOW_DAGS, is_training, plain, schedule_kwargs

PREFECT_SCHEDULERS = {"serve", "deploy", "to_deployment"}
DAGSTER_SCHEDULES = {"ScheduleDefinition", "schedule", "sensor", "build_schedule_from_partitioned_job"}
DAGSTER_UNITS = {"Dagster asset", "Dagster op", "Dagster job", "Dagster graph"}
TRIGGER_WORDS = re.compile(r"(drift|degrad|fired|rules|trigger|retrain|psi|stale|worse)", re.IGNORECASE)


def _resolve_refs(project: Project, rel: str, call: Call, refs: list[str]) -> list[str]:
    found: list[str] = []
    module = project.modules[rel]
    for ref in refs:
        head = ref.split(".")[0]
        imported = head in module.aliases
        name = f"{module.aliases[head]}{ref[len(head) :]}" if imported else ref
        found.extend(project.graph.resolve_name(rel, call.scope, name, imported))
    return found


def _entrypoint_target(project: Project, rel: str, call: Call) -> list[str]:
    """`flow.from_source(source, entrypoint="flows/train.py:train").deploy(cron=...)`."""
    module = project.modules[rel]
    for other in module.calls:
        entry = other.kw("entrypoint")
        if other.api == "from_source" and isinstance(entry, str) and ":" in entry and abs(other.line - call.line) < 15:
            path, _, attr = entry.rpartition(":")
            target = project.graph.module_for(path.removesuffix(".py").replace("/", "."), rel)
            return [node_id(target, attr)] if target else []
    return []


def _schedule_detail(project: Project, rel: str, call: Call) -> str | None:
    if call.api in PREFECT_SCHEDULERS:  # on a flow object, wherever it was imported from
        for key in ("cron", "interval", "rrule", "schedule", "schedules"):
            value = project.const(rel, call.kw(key))
            if value is not None and value != () and not (isinstance(value, Ref) and not value.name):
                return f"{key} {value}" if isinstance(value, (str, int, float)) else key
        return None
    if call.api in ("build_from_flow", "Deployment") and call.root == "prefect":  # Prefect 2
        return schedule_kwargs(call)
    return None


def _airflow_schedule(project: Project, rel: str, call: Call) -> str | None:
    for key in ("schedule", "schedule_interval", "timetable"):
        if key in call.kwargs:
            value = project.const(rel, call.kwargs[key])
            if value is None or value in ("None", "@once"):
                return None
            return f"{key} {value}" if isinstance(value, (str, int, float)) else key
    return None


def code_triggers(project: Project, pipelines: list[Unit]) -> Iterator[Unit]:
    dagster = [s for u in pipelines if u.kind in DAGSTER_UNITS for s in u.starts]
    for rel, call in project.calls():
        live = project.is_live(rel, call)
        notebook = project.is_notebook(rel)
        starts: list[str] = []
        detail = _schedule_detail(project, rel, call)
        if detail is not None:
            if call.api in ("build_from_flow", "Deployment"):
                flow = call.kw("flow")
                starts = _resolve_refs(project, rel, call, [flow.name] if isinstance(flow, Ref) else list(call.refs))
            else:
                starts = _resolve_refs(project, rel, call, [call.receiver]) or _entrypoint_target(project, rel, call)
        elif call.root and plain(call.name) in AIRFLOW_DAGS or call.api == "dag" and call.root == "airflow":
            detail = _airflow_schedule(project, rel, call)
            starts = [node_id(rel, call.scope)] if call.api != "dag" else []
        elif call.root == "dagster" and call.api in DAGSTER_SCHEDULES:
            detail = f"{call.api} {call.kw('cron_schedule') or ''}".strip()
            starts = _resolve_refs(project, rel, call, list(call.refs)) or dagster
        elif call.api == "add_job" and call.root in ("apscheduler", None) and call.refs:
            detail = f"add_job {call.args[1] if len(call.args) > 1 else call.kw('trigger', '')}"
            starts = _resolve_refs(project, rel, call, list(call.refs[:1]))
        elif call.api == "do" and "every" in call.name and call.refs:
            detail = "schedule.every(...).do"
            starts = _resolve_refs(project, rel, call, list(call.refs[:1]))
        if detail is None:
            continue
        evidence = project.call_evidence(rel, call, f"schedule: {detail}")
        yield Unit("schedule", call.receiver or call.api, evidence, starts, [], True, notebook, live)
    yield from _decorated_schedules(project)
    yield from _conditions(project)


def _decorated_schedules(project: Project) -> Iterator[Unit]:
    """`@dag(schedule=...)` and `@scheduler.scheduled_job("cron", ...)` start the function they decorate."""
    for rel, module in project.modules.items():
        for function in module.functions.values():
            for decorator in function.decorators:
                detail = None
                if decorator.api == "dag" and decorator.root == "airflow":
                    detail = _airflow_schedule(project, rel, decorator)
                elif decorator.api == "scheduled_job":
                    detail = f"scheduled_job {decorator.first_str() or ''}".strip()
                if detail:
                    evidence = project.call_evidence(rel, decorator, f"schedule: {detail}")
                    live = not function.dead
                    node = node_id(rel, function.qualname)
                    yield Unit("schedule", function.name, evidence, [node], [], True, module.notebook, live)


def _conditions(project: Project) -> Iterator[Unit]:
    """`if drift_detected: retrain()`: a condition on drift or degradation that starts training."""
    for rel, module in project.modules.items():
        for branch in module.branches:
            if not any(TRIGGER_WORDS.search(name) for name in branch.names):
                continue
            inside = [c for c in module.calls if c.scope == branch.scope and branch.start <= c.line <= branch.end]
            nodes = [n for c in inside if not c.dead for n in project.graph.resolve_call(rel, c)]
            direct = any(is_training(c, project.resolved(rel, c)) for c in inside if not c.dead)
            reached = project.graph.closure(nodes, depth=6)
            trains = direct or any(is_training(c, project.resolved(r, c)) for r, c in project.graph.calls_of(reached))
            if not trains:
                continue
            token = next(n for n in sorted(branch.names) if TRIGGER_WORDS.search(n))
            evidence = project.evidence(rel, branch.line, "retraining starts when this condition holds", token)
            live = not branch.dead and project.graph.live(rel, branch.scope)
            starts = nodes or [node_id(rel, branch.scope)]
            yield Unit("condition", token, evidence, starts, [], False, module.notebook, live)
