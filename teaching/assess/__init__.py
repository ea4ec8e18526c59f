"""Assess any project folder: a scorecard of MLOps practices with evidence a person can open.

    discover (walk, counts) -> project (Python and notebook facts, configs, call graph)
      -> one detector per practice (found / partial / absent, file:line evidence)
      -> scoring (a level per view, an overall level, the reasoning)

What it reads and what it cannot see is in docs/assess.md.
"""

from __future__ import annotations

from pathlib import Path

from common.errors import UsageError
from levels.catalog import PRACTICES
from teaching.assess.context import Context
from teaching.assess.detectors import DETECTORS
from teaching.assess.discover import discover
from teaching.assess.model import Assessment, Evidence, Finding, PracticeResult, ReadCounts, ViewResult
from teaching.assess.project import load_project
from teaching.assess.scoring import ladder, next_steps, overall, reasoning, view_levels

__all__ = ["Assessment", "Evidence", "Finding", "PracticeResult", "ReadCounts", "ViewResult", "assess"]


def _nothing_to_assess(folder: Path, counts: ReadCounts) -> UsageError:
    seen = f"{counts.files_seen} file{'s' if counts.files_seen != 1 else ''} seen"
    return UsageError(
        f"nothing to assess: no Python file, notebook or build/CI configuration ({seen}, none of them code)",
        where=str(folder),
        fix="point assess at the root of a project that has code",
    )


def assess(folder: Path) -> Assessment:
    folder = Path(folder)
    if not folder.is_dir():
        raise UsageError(f"{folder} is not a folder", fix="pass the root folder of a project")
    inventory = discover(folder)
    project = load_project(folder, inventory)
    counts = inventory.counts
    if not project.modules and not project.configs.has_content:
        raise _nothing_to_assess(folder, counts)
    context = Context.of(project)
    results: dict[str, PracticeResult] = {}
    for detector in DETECTORS:
        finding = detector.detect(context)
        results[detector.practice] = PracticeResult(
            detector.practice,
            PRACTICES[detector.practice],
            detector.view,
            detector.level,
            detector.needs,
            finding.status,
            finding.evidence,
            finding.note,
        )
    rungs = ladder(results)
    level = overall(rungs)
    return Assessment(
        str(folder),
        level,
        reasoning(level, results, rungs),
        view_levels(results),
        results,
        counts,
        next_steps(level, results),
        rungs,
    )
