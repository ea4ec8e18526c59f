"""From a command in CI, a Makefile, a container or a job spec to the Python it runs.

Followed: `make target`, `bash script.sh`, `python file.py` and `python -m module`, a project's
console scripts, `anyscale job submit spec.yaml` (its `entrypoint`), `kubectl apply -f` of a Job,
`mlflow run -e entry` (the MLproject entry's command), `dvc repro` (the stages' commands) and
`prefect deployment run flow/deployment` (the flow of that name). A call that names something of the
project but cannot be resolved is recorded as not followed, with its place: never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath

from assess.callgraph import CallGraph, node_id
from assess.commands import Action
from assess.configdata import Command, Configs
from assess.model import NotFollowed
from assess.pyfacts import MODULE_SCOPE, ModuleFacts

MAX_DEPTH = 4  # CI step -> make -> script -> job spec -> python: deeper chains are not written by hand
JOB_KINDS = {"k8s:Job", "k8s:CronJob"}


@dataclass
class Follower:
    modules: dict[str, ModuleFacts]
    graph: CallGraph
    configs: Configs
    folder_name: str = ""  # the assessed folder's own name, as a command run from above writes it
    not_followed: dict[tuple[str, int, str], NotFollowed] = field(default_factory=dict)

    def _miss(self, command: Command, line: int, why: str) -> None:
        lines = command.text.splitlines()
        offset = line - command.line  # a multi-line `run: |` block: the line of the command itself
        text = lines[offset] if 0 <= offset < len(lines) else command.text
        key = (command.file, line, why)
        self.not_followed.setdefault(key, NotFollowed(command.file, line, text.strip()[:120], why))

    # --- what a command runs ---
    def expand(self, command: Command, depth: int = 0) -> list[tuple[Command, Action]]:
        """The command's actions and, followed, those of what it calls."""
        found: list[tuple[Command, Action]] = []
        for line, action in command.actions:
            found.append((command, action))
            if depth < MAX_DEPTH:
                for sub in self._called(command, line, action):
                    if sub is not command:
                        found.extend(self.expand(sub, depth + 1))
        return found

    def _called(self, command: Command, line: int, action: Action) -> list[Command]:
        kind = action.kind
        if kind in ("make", "just"):
            return self._make(command, line, action)
        if kind == "script":
            scripts = [c for rel, cs in self.configs.scripts.items() if self._names(rel, action.target) for c in cs]
            return scripts or self._missed(command, line, f"no script {action.target} in the folder")
        if kind == "submit" or (kind == "deploy" and action.spec and self.submits_a_job(action)):
            return self._submitted(command, line, action)
        if kind == "mlflow-run":
            if action.spec not in (".", "", "./"):
                return self._missed(command, line, f"an MLflow project outside the folder ({action.spec})")
            entry = [c for c in self.configs.commands if c.origin == f"mlproject:{action.target}"]
            return entry or self._missed(command, line, f"no MLproject entry point `{action.target}`")
        if kind == "dvc":
            stages = [c for job in self.configs.jobs if job.system == "dvc" for c in job.commands]
            return stages or self._missed(command, line, "no dvc.yaml stages in the folder")
        return []

    def _make(self, command: Command, line: int, action: Action) -> list[Command]:
        """The recipe of `make target` (or `just recipe`) in the file named (-f, -C) or any; alone, the first."""
        just = action.kind == "just"
        files = [
            rel
            for rel in self.configs.makefiles
            if _is_justfile(rel) == just and (not action.spec or self._names(rel, action.spec))
        ]
        found: list[Command] = []
        for rel in files:
            targets = [t for t in self.configs.makefiles[rel] if not t.startswith(".")]
            target = action.target or (targets[0] if targets else "")
            found.extend(c for c in self.configs.commands if c.file == rel and c.origin == f"{action.kind}:{target}")
        what = "justfile recipe" if just else "Makefile target"
        return found or self._missed(command, line, f"no {what} `{action.target or '(default)'}` in the folder")

    def _missed(self, command: Command, line: int, why: str) -> list[Command]:
        self._miss(command, line, why)
        return []

    def _submitted(self, command: Command, line: int, action: Action) -> list[Command]:
        """The job a submitter hands over: an Anyscale/Ray job spec's entrypoint, a Kubernetes Job's command."""
        if not action.spec:
            return self._missed(command, line, "a job submitted without a spec file this folder holds")
        specs = [cs for rel, cs in self.configs.job_specs.items() if self._names(rel, action.spec)]
        if specs:
            return [c for cs in specs for c in cs]
        jobs = [m for m in self.configs.manifests if m.kind in JOB_KINDS and self._names(m.file, action.spec)]
        if jobs:
            return [c for m in jobs for c in m.commands]
        return self._missed(command, line, f"no job spec {action.spec} in the folder")

    def submits_a_job(self, action: Action) -> bool:
        """`kubectl apply -f job.yaml` of a Job runs its command once: a job, not a deployment."""
        if not action.spec:
            return False
        return any(m.kind in JOB_KINDS and self._names(m.file, action.spec) for m in self.configs.manifests) or any(
            self._names(rel, action.spec) for rel in self.configs.job_specs
        )

    def _names(self, rel: str, written: str) -> bool:
        """A path written in a command names this file (or the folder it is in), relative to wherever the
        command runs: the assessed folder, a folder inside it, or the repository that holds it
        (`make -f levels/level_3/Makefile` names level_3's Makefile when level_3 is assessed)."""
        target = str(PurePosixPath(written.removeprefix("./"))).rstrip("/")
        if not target or target == ".":
            return False
        if rel == target or rel.endswith(f"/{target}") or rel.startswith(f"{target}/"):
            return True
        parts = target.split("/")
        if self.folder_name not in parts[:-1] and parts[-1] != self.folder_name:
            return False
        inside = f"{self.folder_name}/{rel}"
        start = len(parts) - 1 - parts[::-1].index(self.folder_name)  # the last mention of the folder
        tail = "/".join(parts[start:])
        return inside == tail or inside.startswith(f"{tail}/")

    # --- where the code starts ---
    def starts(self, command: Command) -> list[str]:
        """Call-graph nodes a command runs: modules it executes, console scripts, flows it runs."""
        found: list[str] = []
        for sub, action in self.expand(command):
            line = next((n for n, a in sub.actions if a == action), sub.line)
            if action.kind in ("python", "serve"):
                rel = self.python_target(sub, action)
                if rel is not None:
                    found.append(node_id(rel, MODULE_SCOPE))
                elif self._is_ours(action.target):
                    self._miss(sub, line, f"{action.target} is not a Python file or module of the folder")
            elif action.kind == "program" and action.target in self.configs.console_scripts:
                found.extend(self._entry(sub, line, self.configs.console_scripts[action.target]))
            elif action.kind == "flow-run":
                flows = self._flows_named(action.target)
                found.extend(flows or self._missed_nodes(sub, line, f"no flow named `{action.target}` in the folder"))
        return found

    def _missed_nodes(self, command: Command, line: int, why: str) -> list[str]:
        self._miss(command, line, why)
        return []

    def _entry(self, command: Command, line: int, entry: str) -> list[str]:
        module, _, attr = entry.partition(":")
        rel = self.graph.module_for(module.strip(), command.file)
        if rel is None or attr.strip() not in self.modules[rel].functions:
            return self._missed_nodes(command, line, f"console script {entry} is not code of the folder")
        return [node_id(rel, attr.strip())]

    def _flows_named(self, name: str) -> list[str]:
        found = []
        for rel, module in self.modules.items():
            for function in module.functions.values():
                for decorator in function.decorators:
                    if decorator.root == "prefect" and decorator.api == "flow":
                        named = decorator.kw("name") or function.name.replace("_", "-")
                        if name in (named, function.name):
                            found.append(node_id(rel, function.qualname))
        return found

    def _is_ours(self, target: str) -> bool:
        """A path or a module of this project's packages (not `python -m pip`, not `uvicorn` of a library)."""
        if target.endswith(".py"):
            return True
        top = target.split(":")[0].split(".")[0]
        return any(m.module.split(".")[0] == top for m in self.modules.values())

    def python_target(self, command: Command, action: Action) -> str | None:
        """The module a `python …` action runs, found by path (relative to the config file or the root)."""
        target = action.target
        base = command.file.rpartition("/")[0]
        if target.endswith(".py"):
            candidates = [target.removeprefix("./"), f"{base}/{target}" if base else target]
            for candidate in candidates:
                normal = str(PurePosixPath(candidate))
                if normal in self.modules:
                    return normal
            matches = [rel for rel in self.modules if self._names(rel, target.lstrip("/"))]
            return min(matches, key=len) if matches else None
        return self.graph.module_for(target.split(":")[0], command.file)


def _is_justfile(rel: str) -> bool:
    return rel.rsplit("/", 1)[-1].lower().lstrip(".") == "justfile"
