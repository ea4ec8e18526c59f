"""The pieces of automation in a project: orchestrated pipelines, jobs in configuration, and triggers
(schedules and events) together with the code they start."""

from __future__ import annotations

from functools import cached_property

from assess.callgraph import node_id
from assess.commands import Action
from assess.configdata import Command, Job
from assess.project import Project
from assess.pyfacts import MODULE_SCOPE, Call
from assess.triggers import code_triggers
from assess.unit import Unit
from assess.vocabulary import AIRFLOW_DAGS, orchestrator, plain

SYSTEM_NAMES = {
    "github": "GitHub Actions workflow",
    "gitlab": "GitLab CI job",
    "crontab": "crontab entry",
    "k8s": "Kubernetes CronJob",
    "dvc": "DVC stage",
    "jenkins": "Jenkins pipeline",
}


class Units:
    def __init__(self, project: Project) -> None:
        self.p = project

    def job_actions(self, jobs: list[Job]) -> tuple[list[str], list[tuple[Command, int, Action]]]:
        starts: list[str] = []
        found: list[tuple[Command, int, Action]] = []
        for job in jobs:
            for command in job.commands:
                starts.extend(self.p.command_starts(command))
                for sub, action in self.p.expand(command):
                    line = next((n for n, a in sub.actions if a == action), sub.line)
                    found.append((sub, line, action))
        return starts, found

    @cached_property
    def pipelines(self) -> list[Unit]:
        """Orchestrated units: flows, DAGs, assets, pipeline steps, DVC stages."""
        found: list[Unit] = []
        for rel, module in self.p.modules.items():
            for function in module.functions.values():
                for decorator in function.decorators:
                    kind = orchestrator(decorator)
                    if kind is None:
                        continue
                    live = not function.dead and self.p.graph.live(rel, function.qualname)
                    evidence = self.p.call_evidence(rel, decorator, f"{kind} `{function.name}`")
                    node = node_id(rel, function.qualname)
                    found.append(Unit(kind, function.name, evidence, [node], notebook=module.notebook, live=live))
            for call in module.calls:
                unit = self._call_pipeline(rel, call)
                if unit is not None:
                    found.append(unit)
            for cls in module.classes.values():
                if any(b.endswith("FlowSpec") for b in cls.bases):
                    evidence = self.p.evidence(rel, cls.line, f"Metaflow flow `{cls.name}`", cls.name)
                    found.append(Unit("Metaflow flow", cls.name, evidence, [node_id(rel, cls.qualname)]))
        for job in self.p.configs.jobs:
            if job.system == "dvc":
                starts, actions = self.job_actions([job])
                token_line = next(((c, n, a) for c in job.commands for n, a in c.actions), None)
                line, token = (token_line[1], token_line[2].token) if token_line else (job.line, job.name)
                evidence = self.p.evidence(job.file, line, f"DVC stage `{job.name}`", token)
                found.append(Unit("DVC stage", job.name, evidence, starts, actions))
        return found

    def _call_pipeline(self, rel: str, call: Call) -> Unit | None:
        module = self.p.modules[rel]
        live = self.p.is_live(rel, call)
        if call.root and plain(call.name) in AIRFLOW_DAGS:
            evidence = self.p.call_evidence(rel, call, "Airflow DAG")
            starts = [node_id(rel, call.scope)]
            return Unit(
                "Airflow DAG", str(call.first_str() or rel), evidence, starts, notebook=module.notebook, live=live
            )
        if call.root == "kedro" and call.api == "node":
            starts = [n for ref in call.refs for n in self.p.graph.resolve_name(rel, call.scope, ref, False)]
            evidence = self.p.call_evidence(rel, call, "Kedro pipeline node")
            return Unit("Kedro node", ",".join(call.refs), evidence, starts, notebook=module.notebook, live=live)
        return None

    @cached_property
    def jobs(self) -> list[Unit]:
        """Config jobs (CI, crontab, CronJob), one unit per workflow file so that chained jobs count together."""
        groups: dict[str, list[Job]] = {}
        for job in self.p.configs.jobs:
            if job.system != "dvc":
                groups.setdefault(job.group or job.file, []).append(job)
        found = []
        for group, jobs in groups.items():
            starts, actions = self.job_actions(jobs)
            first = jobs[0]
            trigger = next((t for j in jobs for t in j.triggers), None)
            line, token = (trigger.line, trigger.token) if trigger else (first.line, first.name)
            kind = SYSTEM_NAMES.get(first.system, f"{first.system} pipeline")
            evidence = self.p.evidence(first.file, line, kind, token)
            automatic = any(j.automatic for j in jobs)
            found.append(Unit(kind, group, evidence, starts, actions, automatic, in_place=first.in_place))
        return found

    @cached_property
    def triggers(self) -> list[Unit]:
        """Schedules and events, each with the code it starts."""
        found = list(code_triggers(self.p, self.pipelines))
        for job in self.p.configs.jobs:
            if job.idle:
                continue  # see `idle_schedules`
            for trigger in job.scheduled:
                starts, actions = self.job_actions([j for j in self.p.configs.jobs if j.group == job.group] or [job])
                what = f"{trigger.token} {trigger.detail}".strip()
                evidence = self.p.evidence(
                    job.file, trigger.line, f"{SYSTEM_NAMES.get(job.system, job.system)}: {what}", trigger.token
                )
                found.append(Unit("schedule", job.name, evidence, starts, actions, True, in_place=job.in_place))
        for schedule in self.p.configs.flow_schedules:
            module, _, attr = schedule.entrypoint.rpartition(":")
            rel = self.p.graph.module_for(module.removesuffix(".py").replace("/", "."), schedule.file)
            starts = [node_id(rel, attr)] if rel else []
            evidence = self.p.evidence(
                schedule.file, schedule.line, f"prefect.yaml schedule {schedule.detail}", schedule.token
            )
            found.append(Unit("schedule", schedule.entrypoint, evidence, starts, [], True))
        for command in self.p.configs.commands:
            for line, action in command.actions:
                if action.kind == "schedule" and ":" in action.target:
                    module, _, attr = action.target.rpartition(":")
                    rel = self.p.graph.module_for(module.removesuffix(".py").replace("/", "."), command.file)
                    starts = [node_id(rel, attr)] if rel else []
                    evidence = self.p.evidence(command.file, line, "prefect deploy with a schedule", action.token)
                    found.append(Unit("schedule", action.target, evidence, starts, [], True))
        return found

    @cached_property
    def idle_schedules(self) -> list[str]:
        """Schedules that start nothing: a suspended CronJob, a cron job whose command only echoes."""
        found = []
        for job in self.p.configs.jobs:
            for trigger in job.triggers:
                if trigger.kind == "suspended":
                    found.append(f"{job.file}:{trigger.line} (suspended)")
                elif trigger.kind == "schedule" and job.idle:
                    found.append(f"{job.file}:{trigger.line} (its command only echoes)")
        return found

    def entry_starts(self) -> list[str]:
        """Where a person starts things by hand: entry points, scripts with a main block."""
        starts = list(self.p.graph.entry_nodes)
        for rel, module in self.p.modules.items():
            if module.main_block is not None or module.notebook:
                starts.append(node_id(rel, MODULE_SCOPE))
        return starts
