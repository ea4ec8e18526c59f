"""Read every configuration file the walk kept, by kind, into one `Configs`."""

from __future__ import annotations

import re
import tomllib

from assess.buildfiles import ENTRY, read_dockerfile, read_makefile, read_shell, read_text_config, read_toml
from assess.configdata import Configs
from assess.discover import DOCKERFILE, MAKEFILE, SHELL, TEXT, TOML, YAML, Inventory
from assess.reading import read_text
from assess.workflows import read_yaml
from assess.yamlread import YamlProblem

# YAML files worth parsing when their name says nothing: the first 4 KB must show one of these keys.
YAML_MARKERS = re.compile(
    r"^(on|jobs|stages|services|apiVersion|kind|entry_points|deployments|entrypoint|ray_serve_config|applications)\s*:",
    re.MULTILINE,
)
KNOWN_YAML = {
    "dvc.yaml",
    "dvc.yml",
    "MLproject",
    "prefect.yaml",
    "prefect.yml",
    ".gitlab-ci.yml",
    "azure-pipelines.yml",
    "bitbucket-pipelines.yml",
    ".travis.yml",
}


def _wanted_yaml(rel: str, text: str) -> bool:
    name = rel.rsplit("/", 1)[-1]
    if name in KNOWN_YAML or "/workflows/" in f"/{rel}" or name.startswith(("docker-compose", "compose", "bentofile")):
        return True
    return bool(YAML_MARKERS.search(text[:4096]))


def load_configs(inventory: Inventory) -> Configs:
    configs = Configs()
    counts = inventory.counts
    readers = {
        MAKEFILE: read_makefile,
        DOCKERFILE: read_dockerfile,
        SHELL: read_shell,
        TEXT: read_text_config,
        TOML: read_toml,
    }
    for source in inventory.of_kind(YAML, MAKEFILE, DOCKERFILE, SHELL, TEXT, TOML):
        text = read_text(source, counts)
        if text is None:
            continue
        try:
            if source.kind == YAML:
                if not _wanted_yaml(source.rel, text) or not read_yaml(source.rel, text, configs):
                    counts.skip("YAML of no known kind")
                    continue
            else:
                readers[source.kind](source.rel, text, configs)
        except (YamlProblem, tomllib.TOMLDecodeError) as problem:
            reason = "invalid YAML" if isinstance(problem, YamlProblem) else "invalid TOML"
            counts.cannot_read(source.rel, reason, str(problem))
            continue
        counts.config_files += 1
    _entry_points_from_commands(configs)
    return configs


def _entry_points_from_commands(configs: Configs) -> None:
    """`uvicorn app.main:app`, `prefect deploy flows/train.py:flow`, a bento's `service: "svc:Svc"`."""
    for command in configs.commands:
        for _, action in command.actions:
            if action.kind in ("serve", "schedule", "deploy") and ":" in action.target:
                module, _, attr = action.target.rpartition(":")
                configs.entry_points.append((module.removesuffix(".py").replace("/", "."), attr))
    for manifest in configs.manifests:
        if manifest.kind == "bentofile":
            service = str(manifest.data.get("service", "")) if manifest.data is not None else ""
            match = ENTRY.match(service.strip())
            if match:
                configs.entry_points.append((match.group(1), match.group(2)))
    for schedule in configs.flow_schedules:
        module, _, attr = schedule.entrypoint.rpartition(":")
        configs.entry_points.append((module.removesuffix(".py").replace("/", "."), attr))
