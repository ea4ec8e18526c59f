"""Readers for CI configuration by structure: GitHub Actions (triggers, jobs, steps, known actions),
GitLab CI (jobs, scripts, schedule rules), and CircleCI, Azure Pipelines, Bitbucket and Travis."""

from __future__ import annotations

import shlex
from typing import Any

from assess.configdata import Command, Configs, Job, Trigger
from assess.yamlread import YamlDoc

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


def run_line(doc: YamlDoc, path: tuple[Any, ...], text: str) -> int:
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
                command = Command.of(rel, run_line(doc, path, step["run"]), step["run"], f"ci step of {name}")
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


# Keys whose list is one command's words (exec form), not a list of commands.
EXEC_FORM = {"command", "args", "entrypoint"}


def commands_anywhere(rel: str, doc: YamlDoc, node: Any, path: tuple[Any, ...], keys: set[str]) -> list[Command]:
    found: list[Command] = []
    if isinstance(node, dict):
        for key, value in node.items():
            words = value if key in EXEC_FORM and isinstance(value, list) else None
            if key in keys and words and all(isinstance(w, str) for w in words):
                text = shlex.join(words)  # ["echo", "python", "train.py"] is one command: echo
                found.append(Command.of(rel, doc.line(*path, key), text, f"{key} in {rel}"))
            elif key in keys and isinstance(value, (str, list)):
                for index, text in enumerate(value if isinstance(value, list) else [value]):
                    if isinstance(text, str):
                        sub = (*path, key, index) if isinstance(value, list) else (*path, key)
                        found.append(Command.of(rel, run_line(doc, sub, text), text, f"{key} in {rel}"))
            else:
                found.extend(commands_anywhere(rel, doc, value, (*path, key), keys))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found.extend(commands_anywhere(rel, doc, item, (*path, index), keys))
    return found


def read_other_ci(rel: str, doc: YamlDoc, configs: Configs, system: str) -> None:
    """CircleCI, Azure Pipelines, Bitbucket, Travis: commands wherever they sit; cron where declared."""
    entry = Job(rel, system, 1, system, [Trigger("push", 1, system)], [], True, rel)
    for path, line in doc.lines.items():
        if path and path[-1] == "cron":
            entry.triggers.append(Trigger("schedule", line, "cron", str(doc.get(*path))))
    entry.commands = commands_anywhere(rel, doc, doc.data, (), {"run", "command", "script", "bash", "steps"})
    configs.commands.extend(entry.commands)
    configs.jobs.append(entry)
