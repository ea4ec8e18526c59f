"""Readers for YAML configuration, by structure: CI workflows (GitHub Actions, GitLab CI and others),
Kubernetes and compose manifests, dvc.yaml stages, MLproject entry points, prefect.yaml schedules."""

from __future__ import annotations

from typing import Any

from teaching.assess.configdata import Command, Configs, FlowSchedule, Job, Manifest, Trigger
from teaching.assess.yamlread import YamlDoc, load_yaml

PUSH_EVENTS = {"push", "pull_request", "pull_request_target", "merge_group"}
DATA_EVENTS = {"workflow_run", "repository_dispatch", "registry_package", "release"}
GITLAB_RESERVED = {
    "stages",
    "variables",
    "include",
    "default",
    "workflow",
    "image",
    "services",
    "before_script",
    "after_script",
    "cache",
    "pages",
}
# GitHub Actions steps that deploy or build, by the action they use.
USES_ACTIONS = {
    "docker/build-push-action": "build",
    "azure/webapps-deploy": "deploy",
    "azure/k8s-deploy": "deploy",
    "google-github-actions/deploy-cloudrun": "deploy",
    "aws-actions/amazon-ecs-deploy-task-definition": "deploy",
    "appleboy/ssh-action": "deploy",
}


def _run_line(doc: YamlDoc, path: tuple[Any, ...], text: str) -> int:
    """Block scalars (`run: |`) start on the line after their key."""
    return doc.line(*path) + (1 if "\n" in str(text).rstrip("\n") or str(text).endswith("\n") else 0)


def _github_triggers(doc: YamlDoc) -> list[Trigger]:
    on = doc.get("on")
    events = {on: None} if isinstance(on, str) else dict.fromkeys(on) if isinstance(on, list) else on or {}
    triggers = []
    for event, value in events.items():
        line = doc.line("on", event) if isinstance(on, dict) else doc.line("on")
        if event == "schedule":
            for index, item in enumerate(value or []):
                cron = item.get("cron", "") if isinstance(item, dict) else ""
                triggers.append(Trigger("schedule", doc.line("on", "schedule", index, "cron"), "cron", cron))
        elif event in PUSH_EVENTS:
            triggers.append(Trigger("push", line, str(event)))
        elif event in DATA_EVENTS:
            triggers.append(Trigger("event", line, str(event)))
        elif event == "workflow_dispatch" or event == "workflow_call":
            triggers.append(Trigger("manual", line, str(event)))
    return triggers


def read_github(rel: str, doc: YamlDoc, configs: Configs, in_place: bool) -> None:
    triggers = _github_triggers(doc)
    for name, job in (doc.get("jobs") or {}).items():
        if not isinstance(job, dict):
            continue
        entry = Job(rel, str(name), doc.line("jobs", name), "github", list(triggers), [], in_place, rel)
        for index, step in enumerate(job.get("steps") or []):
            if not isinstance(step, dict):
                continue
            if "run" in step:
                path = ("jobs", name, "steps", index, "run")
                command = Command.of(rel, _run_line(doc, path, step["run"]), step["run"], f"ci step of {name}")
                entry.commands.append(command)
            uses = str(step.get("uses", "")).split("@")[0]
            if uses in USES_ACTIONS:
                line = doc.line("jobs", name, "steps", index, "uses")
                entry.commands.append(Command.of(rel, line, f"__uses__ {USES_ACTIONS[uses]}", uses))
        configs.commands.extend(entry.commands)
        configs.jobs.append(entry)


def read_gitlab(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, job in (doc.data or {}).items():
        if name in GITLAB_RESERVED or str(name).startswith(".") or not isinstance(job, dict) or "script" not in job:
            continue
        entry = Job(rel, str(name), doc.line(name), "gitlab", [], [], True, rel)
        text = str(job.get("only", "")) + str(job.get("rules", ""))
        if "schedule" in text:
            entry.triggers.append(Trigger("schedule", doc.line(name), str(name), "pipeline schedule"))
        elif job.get("when") == "manual":
            entry.triggers.append(Trigger("manual", doc.line(name, "when"), "when"))
        else:
            entry.triggers.append(Trigger("push", doc.line(name), str(name)))
        for key in ("before_script", "script"):
            scripts = job.get(key)
            for index, line in enumerate(scripts if isinstance(scripts, list) else [scripts] if scripts else []):
                entry.commands.append(Command.of(rel, doc.line(name, key, index), line, f"ci script of {name}"))
        configs.commands.extend(entry.commands)
        configs.jobs.append(entry)


def _commands_anywhere(rel: str, doc: YamlDoc, node: Any, path: tuple[Any, ...], keys: set[str]) -> list[Command]:
    found: list[Command] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key in keys and isinstance(value, (str, list)):
                for index, text in enumerate(value if isinstance(value, list) else [value]):
                    if isinstance(text, str):
                        sub = (*path, key, index) if isinstance(value, list) else (*path, key)
                        found.append(Command.of(rel, _run_line(doc, sub, text), text, f"{key} in {rel}"))
            else:
                found.extend(_commands_anywhere(rel, doc, value, (*path, key), keys))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(_commands_anywhere(rel, doc, item, (*path, index), keys))
    return found


def read_other_ci(rel: str, doc: YamlDoc, configs: Configs, system: str) -> None:
    """CircleCI, Azure Pipelines, Bitbucket, Travis: commands wherever they sit; cron where declared."""
    entry = Job(rel, system, 1, system, [Trigger("push", 1, system)], [], True, rel)
    for path, line in doc.lines.items():
        if path and path[-1] == "cron":
            entry.triggers.append(Trigger("schedule", line, "cron", str(doc.get(*path))))
    entry.commands = _commands_anywhere(rel, doc, doc.data, (), {"run", "command", "script", "bash", "steps"})
    configs.commands.extend(entry.commands)
    configs.jobs.append(entry)


def read_kubernetes(rel: str, doc: YamlDoc, configs: Configs) -> None:
    kind = str(doc.get("kind"))
    commands = tuple(_commands_anywhere(rel, doc, doc.data, (), {"command", "args"}))
    configs.manifests.append(Manifest(rel, doc.line("kind"), f"k8s:{kind}", "kind", doc, commands))
    configs.commands.extend(commands)
    if kind == "CronJob" and doc.get("spec", "schedule"):
        job = Job(rel, str(doc.get("metadata", "name") or kind), doc.line("kind"), "k8s", group=rel)
        job.triggers.append(
            Trigger("schedule", doc.line("spec", "schedule"), "schedule", str(doc.get("spec", "schedule")))
        )
        job.commands = list(commands)
        configs.jobs.append(job)


def read_compose(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, service in (doc.get("services") or {}).items():
        if isinstance(service, dict):
            commands = tuple(_commands_anywhere(rel, doc, service, ("services", name), {"command", "entrypoint"}))
            configs.manifests.append(Manifest(rel, doc.line("services", name), "compose", str(name), service, commands))
            configs.commands.extend(commands)


def read_dvc(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, stage in (doc.get("stages") or {}).items():
        if isinstance(stage, dict) and stage.get("cmd"):
            job = Job(rel, str(name), doc.line("stages", name), "dvc", [], [], True, rel)
            cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
            for index, text in enumerate(cmds):
                path = ("stages", name, "cmd", index) if isinstance(stage["cmd"], list) else ("stages", name, "cmd")
                job.commands.append(Command.of(rel, _run_line(doc, path, text), text, f"dvc stage {name}"))
            configs.commands.extend(job.commands)
            configs.jobs.append(job)


def read_mlproject(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, entry in (doc.get("entry_points") or {}).items():
        if isinstance(entry, dict) and entry.get("command"):
            path = ("entry_points", name, "command")
            configs.commands.append(
                Command.of(rel, _run_line(doc, path, entry["command"]), entry["command"], "MLproject")
            )


def read_prefect_yaml(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for index, deployment in enumerate(doc.get("deployments") or []):
        if not isinstance(deployment, dict):
            continue
        entrypoint = str(deployment.get("entrypoint", ""))
        schedules = deployment.get("schedules") or ([deployment["schedule"]] if deployment.get("schedule") else [])
        for s_index, schedule in enumerate(schedules):
            if not isinstance(schedule, dict):
                continue
            for key in ("cron", "interval", "rrule"):
                if schedule.get(key):
                    path = ("deployments", index, "schedules", s_index, key)
                    if "schedule" in deployment and "schedules" not in deployment:
                        path = ("deployments", index, "schedule", key)
                    line = doc.line(*path)
                    configs.flow_schedules.append(FlowSchedule(rel, line, key, entrypoint, str(schedule[key])))


def read_yaml(rel: str, text: str, configs: Configs) -> bool:
    """Read a YAML file by what it is; False when it is none of the known kinds."""
    name = rel.rsplit("/", 1)[-1]
    documents = load_yaml(text)
    if not documents:
        return False
    first = documents[0]
    data = first.data if isinstance(first.data, dict) else {}
    if "jobs" in data and "on" in data:
        read_github(rel, first, configs, rel.startswith(".github/workflows/") or "/.github/workflows/" in rel)
        if not (rel.startswith(".github/workflows/") or "/.github/workflows/" in rel):
            configs.ci_like.append((rel, first.line("on"), "on"))
    elif name == ".gitlab-ci.yml":
        read_gitlab(rel, first, configs)
    elif name in ("azure-pipelines.yml", "bitbucket-pipelines.yml", ".travis.yml") or rel.endswith(
        ".circleci/config.yml"
    ):
        read_other_ci(rel, first, configs, name.split(".")[0].split("-")[0].lstrip("."))
    elif name in ("dvc.yaml", "dvc.yml"):
        read_dvc(rel, first, configs)
    elif name == "MLproject":
        read_mlproject(rel, first, configs)
    elif name in ("prefect.yaml", "prefect.yml"):
        read_prefect_yaml(rel, first, configs)
    elif "services" in data and isinstance(data.get("services"), dict):
        read_compose(rel, first, configs)
    elif name.startswith("bentofile"):
        configs.manifests.append(Manifest(rel, first.line("service"), "bentofile", "service", first))
    elif any(isinstance(d.data, dict) and "kind" in d.data and "apiVersion" in d.data for d in documents):
        for document in documents:
            if isinstance(document.data, dict) and "kind" in document.data:
                read_kubernetes(rel, document, configs)
    else:
        return False
    return True
