"""The whole assessment of one folder, in order:

discover (walk, counts) -> project (Python and notebook facts, configs, call graph)
  -> one detector per practice (found / partial / absent, file:line evidence)
  -> scoring (a level per view, an overall level, the reasoning)
"""

from __future__ import annotations

from pathlib import Path

from assess.catalogue import PRACTICES
from assess.context import Context
from assess.detectors import DETECTORS
from assess.discover import discover
from assess.errors import AssessError
from assess.model import Assessment, PracticeResult, ReadCounts
from assess.project import load_project
from assess.scoring import ladder, next_steps, overall, reasoning, view_levels


def _nothing_to_assess(folder: Path, counts: ReadCounts) -> AssessError:
    seen = f"{counts.files_seen} file{'s' if counts.files_seen != 1 else ''} seen"
    return AssessError(
        f"nothing to assess: no Python file, notebook or build/CI configuration ({seen}, none of them code)",
        where=str(folder),
        fix="point assess at the root of a project that has code",
    )


def assess_folder(folder: Path) -> Assessment:
    folder = Path(folder)
    if not folder.is_dir():
        raise AssessError(f"{folder} is not a folder", fix="pass the root folder of a project")
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
