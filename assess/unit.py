"""A piece of automation (a flow, a job, a schedule, a trigger) and the code it starts: the shape the
readers of pipelines, jobs and triggers share."""

from __future__ import annotations

from dataclasses import dataclass, field

from assess.commands import Action
from assess.configdata import Command
from assess.model import Evidence


@dataclass
class Unit:
    kind: str  # "Prefect flow", "Airflow DAG", "GitHub Actions workflow", "schedule" …
    label: str
    evidence: Evidence
    starts: list[str]
    actions: list[tuple[Command, int, Action]] = field(default_factory=list)
    automatic: bool = False  # runs without a person: on a schedule, an event or every push
    notebook: bool = False
    live: bool = True
    in_place: bool = True  # False: a CI file its CI service never reads
