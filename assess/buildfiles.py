"""Readers for the line-based build files: Makefile, Dockerfile, Procfile, crontab, Jenkinsfile, shell,
and entry points named in TOML ("app.main:app", "schedule:serve"). Comment lines never count."""

from __future__ import annotations

import json
import re
import tomllib
from typing import Any

from assess.configdata import Command, Configs, Job, Manifest, Trigger

TARGET = re.compile(r"^([A-Za-z0-9_.%/-]+)\s*:(?!=)")
CRON_LINE = re.compile(r"^\s*((?:\S+\s+){4}\S+|@\w+)\s+(.+)$")
ENTRY = re.compile(r"^([A-Za-z_][\w.]*)(?:\.py)?:([A-Za-z_]\w*)$")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, comment lines dropped; each with its first line number."""
    joined: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending and raw.lstrip().startswith("#"):
            continue
        if not pending:
            start = number
        pending = f"{pending} {raw.strip()}" if pending else raw
        if pending.rstrip().endswith("\\"):
            pending = pending.rstrip()[:-1]
            continue
        joined.append((start, pending))
        pending = ""
    if pending:
        joined.append((start, pending))
    return joined


JUST_RECIPE = re.compile(r"^@?([A-Za-z_][\w-]*)(?:\s+[^:=]*)?:(?!=)")


def read_justfile(rel: str, text: str, configs: Configs) -> None:
    """just's recipes: `train month:` then indented lines (spaces or a tab), each a command."""
    recipes: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    current: str | None = None
    for number, line in _logical_lines(text):
        if line[:1] in (" ", "\t") and current is not None and line.strip():
            recipe = line.strip().lstrip("@-")
            recipes[current][1].append((number, recipe))
            configs.commands.append(Command.of(rel, number, recipe, f"just:{current}"))
            continue
        match = JUST_RECIPE.match(line)
        current = match.group(1) if match else None
        if current is not None:
            recipes.setdefault(current, (number, []))
    configs.makefiles[rel] = recipes


def read_makefile(rel: str, text: str, configs: Configs) -> None:
    if rel.rsplit("/", 1)[-1].lower().lstrip(".") == "justfile":
        read_justfile(rel, text, configs)
        return
    targets: dict[str, tuple[int, list[tuple[int, str]]]] = {}
    current: str | None = None
    for number, line in _logical_lines(text):
        if line.startswith("\t") and current is not None:
            recipe = line.strip().lstrip("@-+")
            targets[current][1].append((number, recipe))
            configs.commands.append(Command.of(rel, number, recipe, f"make:{current}"))
            continue
        match = TARGET.match(line)
        current = None
        if match and not line.startswith((".", "\t")):
            for name in match.group(1).split():
                targets.setdefault(name, (number, []))
            current = match.group(1).split()[0]
    configs.makefiles[rel] = targets


def _exec_form(argument: str) -> str:
    if argument.lstrip().startswith("["):
        try:
            words = json.loads(argument)
            if isinstance(words, list):
                return " ".join(str(w) for w in words)
        except ValueError:
            pass
    return argument


def read_dockerfile(rel: str, text: str, configs: Configs) -> None:
    commands: list[Command] = []
    base_line, base = 0, ""
    for number, line in _logical_lines(text):
        keyword, _, argument = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM" and not base_line:
            base_line, base = number, argument
        if keyword == "CMD" and "lambda" in base:  # AWS Lambda images name the handler: CMD ["app.handler"]
            handler = _exec_form(argument).strip()
            if re.fullmatch(r"[\w.]+\.\w+", handler):
                configs.entry_points.append(tuple(handler.rsplit(".", 1)))  # type: ignore[arg-type]
        if keyword in ("RUN", "CMD", "ENTRYPOINT"):
            command = Command.of(rel, number, _exec_form(argument), f"Dockerfile {keyword}")
            commands.append(command)
            configs.commands.append(command)
    if base_line:
        configs.manifests.append(Manifest(rel, base_line, "dockerfile", "FROM", None, tuple(commands)))


def read_text_config(rel: str, text: str, configs: Configs) -> None:
    """Procfile, crontab and Jenkinsfile: the line-based formats with commands in them."""
    name = rel.rsplit("/", 1)[-1]
    if name == "Procfile":
        for number, line in _logical_lines(text):
            process, _, command = line.partition(":")
            if command.strip():
                cmd = Command.of(rel, number, command.strip(), f"procfile {process.strip()}")
                configs.commands.append(cmd)
                configs.manifests.append(Manifest(rel, number, "procfile", process.strip(), None, (cmd,)))
    elif name == "Jenkinsfile":
        _read_jenkinsfile(rel, text, configs)
    else:
        for number, line in _logical_lines(text):
            match = CRON_LINE.match(line)
            if match and not re.match(r"^\s*\w+=", line):
                job = Job(rel, f"cron line {number}", number, "crontab", group=rel)
                job.triggers.append(Trigger("schedule", number, match.group(1).split()[0], match.group(1)))
                job.commands.append(Command.of(rel, number, match.group(2), "crontab"))
                configs.commands.extend(job.commands)
                configs.jobs.append(job)


def _read_jenkinsfile(rel: str, text: str, configs: Configs) -> None:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if not line.strip().startswith("//")]
    start = next((n for n, line in lines if re.match(r"^\s*pipeline\s*\{", line)), None)
    if start is None:
        return
    job = Job(rel, "pipeline", start, "jenkins", [Trigger("push", start, "pipeline")], group=rel)
    for number, line in lines:
        cron = re.search(r"\bcron\s*\(\s*['\"]([^'\"]+)", line)
        if cron:
            job.triggers.append(Trigger("schedule", number, "cron", cron.group(1)))
        step = re.search(r"\b(?:sh|bat)\s*\(?\s*['\"]{1,3}(.+?)['\"]{1,3}", line)
        if step:
            job.commands.append(Command.of(rel, number, step.group(1), "jenkins sh"))
    configs.commands.extend(job.commands)
    configs.jobs.append(job)


def read_shell(rel: str, text: str, configs: Configs) -> None:
    commands = [Command.of(rel, number, line.strip(), "shell script") for number, line in _logical_lines(text)]
    configs.scripts[rel] = [c for c in commands if c.actions]
    configs.commands.extend(configs.scripts[rel])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def read_toml(rel: str, text: str, configs: Configs) -> None:
    """Entry points named in TOML: "pkg.module:function" values make that function reachable, and
    console scripts (`[project.scripts]`, Poetry's) are what a CI step may call by name."""
    data = tomllib.loads(text)
    project = data.get("project")
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    for owner in (project, poetry):
        table = owner.get("scripts") if isinstance(owner, dict) else None
        if isinstance(table, dict):
            configs.console_scripts.update({str(k): v for k, v in table.items() if isinstance(v, str)})
    for value in _strings(data):
        match = ENTRY.match(value.strip())
        if match:
            configs.entry_points.append((match.group(1), match.group(2)))
