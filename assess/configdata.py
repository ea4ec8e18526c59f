"""Shapes of what the configuration readers find: commands, jobs and their triggers, manifests."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from assess.commands import Action, actions, is_noop


@dataclass(frozen=True)
class Command:
    """A command written in a config file, with what it does."""

    file: str
    line: int
    text: str
    origin: str  # "make:test", "Dockerfile CMD", "dvc stage train", "ci step", "procfile web" …
    actions: tuple[tuple[int, Action], ...]
    noop: bool = False  # only prints, sleeps or exits

    @classmethod
    def of(cls, file: str, line: int, text: str, origin: str) -> Command:
        return cls(file, line, str(text), origin, tuple(actions(str(text), line)), is_noop(str(text)))


@dataclass(frozen=True)
class Trigger:
    kind: str  # push | schedule | event | manual | suspended (a schedule switched off)
    line: int
    token: str  # the key on that line ("push", "cron", "schedule" …)
    detail: str = ""  # the cron expression, the event name


@dataclass
class Job:
    """Commands something runs without a person typing them: a CI job, a cron entry, a CronJob, a stage."""

    file: str
    name: str
    line: int
    system: str  # github | gitlab | circleci | azure | bitbucket | travis | jenkins | crontab | k8s | dvc
    triggers: list[Trigger] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    in_place: bool = True  # False: a CI file where its CI service will not look (it never runs)
    group: str = ""  # jobs of one workflow share a group

    @property
    def idle(self) -> bool:
        """Its commands only print: `echo "python train.py"` is a reminder, not a job."""
        return bool(self.commands) and all(c.noop for c in self.commands)

    @property
    def automatic(self) -> bool:
        return any(t.kind in ("push", "schedule", "event") for t in self.triggers)

    @property
    def scheduled(self) -> list[Trigger]:
        return [t for t in self.triggers if t.kind in ("schedule", "event")]


@dataclass(frozen=True)
class Manifest:
    """A deployment descriptor: Dockerfile, compose service, Kubernetes object, Procfile entry, bento."""

    file: str
    line: int
    kind: str  # dockerfile | compose | k8s:<Kind> | procfile | bentofile | serverless
    token: str
    data: Any = None
    commands: tuple[Command, ...] = ()


@dataclass(frozen=True)
class FlowSchedule:
    """A schedule declared for a flow in configuration (prefect.yaml), pointing at `file.py:function`."""

    file: str
    line: int
    token: str
    entrypoint: str
    detail: str


@dataclass
class Configs:
    jobs: list[Job] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)  # every command, jobs' included
    manifests: list[Manifest] = field(default_factory=list)
    flow_schedules: list[FlowSchedule] = field(default_factory=list)
    entry_points: list[tuple[str, str]] = field(default_factory=list)  # (dotted module, attribute)
    makefiles: dict[str, dict[str, tuple[int, list[tuple[int, str]]]]] = field(default_factory=dict)
    scripts: dict[str, list[Command]] = field(default_factory=dict)  # shell script rel -> its commands
    ci_like: list[tuple[str, int, str]] = field(default_factory=list)  # CI files out of place: (file, line, token)
    job_specs: dict[str, list[Command]] = field(default_factory=dict)  # a submitted job's spec -> its entrypoint
    console_scripts: dict[str, str] = field(default_factory=dict)  # name -> "package.module:function"

    @property
    def has_content(self) -> bool:
        """Anything a detector can use; entry points named in a TOML file alone are not a project."""
        return bool(self.jobs or self.commands or self.manifests or self.flow_schedules or self.makefiles)
