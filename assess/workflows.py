"""Readers for YAML configuration, by structure: Kubernetes and compose manifests, dvc.yaml stages,
MLproject entry points, prefect.yaml schedules, and the dispatch to the CI readers."""

from __future__ import annotations

from assess.cireaders import commands_anywhere, read_github, read_gitlab, read_other_ci, run_line
from assess.configdata import Command, Configs, FlowSchedule, Job, Manifest, Trigger
from assess.yamlread import YamlDoc, load_yaml


def read_kubernetes(rel: str, doc: YamlDoc, configs: Configs) -> None:
    kind = str(doc.get("kind"))
    commands = tuple(commands_anywhere(rel, doc, doc.data, (), {"command", "args"}))
    configs.manifests.append(Manifest(rel, doc.line("kind"), f"k8s:{kind}", "kind", doc, commands))
    configs.commands.extend(commands)
    if kind == "CronJob" and doc.get("spec", "schedule"):
        job = Job(rel, str(doc.get("metadata", "name") or kind), doc.line("kind"), "k8s", group=rel)
        schedule = str(doc.get("spec", "schedule"))
        if doc.get("spec", "suspend") is True:  # Kubernetes starts no job while it is suspended
            job.triggers.append(Trigger("suspended", doc.line("spec", "suspend"), "suspend", schedule))
        else:
            job.triggers.append(Trigger("schedule", doc.line("spec", "schedule"), "schedule", schedule))
        job.commands = list(commands)
        configs.jobs.append(job)


def read_compose(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, service in (doc.get("services") or {}).items():
        if isinstance(service, dict):
            commands = tuple(commands_anywhere(rel, doc, service, ("services", name), {"command", "entrypoint"}))
            configs.manifests.append(Manifest(rel, doc.line("services", name), "compose", str(name), service, commands))
            configs.commands.extend(commands)


def read_dvc(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, stage in (doc.get("stages") or {}).items():
        if isinstance(stage, dict) and stage.get("cmd"):
            job = Job(rel, str(name), doc.line("stages", name), "dvc", [], [], True, rel)
            cmds = stage["cmd"] if isinstance(stage["cmd"], list) else [stage["cmd"]]
            for index, text in enumerate(cmds):
                path = ("stages", name, "cmd", index) if isinstance(stage["cmd"], list) else ("stages", name, "cmd")
                job.commands.append(Command.of(rel, run_line(doc, path, text), text, f"dvc stage {name}"))
            configs.commands.extend(job.commands)
            configs.jobs.append(job)


def read_mlproject(rel: str, doc: YamlDoc, configs: Configs) -> None:
    for name, entry in (doc.get("entry_points") or {}).items():
        if isinstance(entry, dict) and entry.get("command"):
            path = ("entry_points", name, "command")
            configs.commands.append(
                Command.of(rel, run_line(doc, path, entry["command"]), entry["command"], f"mlproject:{name}")
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
                    path: tuple[str | int, ...] = ("deployments", index, "schedules", s_index, key)
                    if "schedule" in deployment and "schedules" not in deployment:
                        path = ("deployments", index, "schedule", key)
                    line = doc.line(*path)
                    configs.flow_schedules.append(FlowSchedule(rel, line, key, entrypoint, str(schedule[key])))


def read_job_spec(rel: str, doc: YamlDoc, configs: Configs) -> None:
    """A job handed to a submitter (Anyscale, Ray): `entrypoint: bash deploy/jobs/workloads.sh`."""
    text = doc.get("entrypoint")
    configs.job_specs[rel] = [Command.of(rel, run_line(doc, ("entrypoint",), text), text, f"entrypoint of {rel}")]


def read_serve_config(rel: str, doc: YamlDoc, configs: Configs) -> None:
    """A Ray Serve application (`import_path: deploy.services.serve_model:entrypoint`): what a service
    rollout starts, and a package of the service."""
    for path, line in doc.lines.items():
        value = doc.get(*path)
        if path and path[-1] == "import_path" and isinstance(value, str) and ":" in value:
            module, _, attr = value.rpartition(":")
            configs.entry_points.append((module, attr))
            configs.manifests.append(Manifest(rel, line, "ray-serve", "import_path", doc))


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
    elif isinstance(data.get("entrypoint"), str):
        read_job_spec(rel, first, configs)
    elif "ray_serve_config" in data or "applications" in data:
        read_serve_config(rel, first, configs)
    elif any(isinstance(d.data, dict) and "kind" in d.data and "apiVersion" in d.data for d in documents):
        for document in documents:
            if isinstance(document.data, dict) and "kind" in document.data:
                read_kubernetes(rel, document, configs)
    else:
        return False
    return True
