"""The whole assessment of one folder, in order:

discover (walk, counts) -> project (Python and notebook facts, configs, call graph)
  -> one detector per practice (found / partial / absent, file:line evidence)
  -> scoring (a level per view, an overall level, the reasoning)
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from assess.catalogue import PRACTICES
from assess.context import Context
from assess.detectors import DETECTORS
from assess.discover import Inventory, SourceFile, discover
from assess.errors import AssessError
from assess.model import Assessment, PracticeResult, ProjectLevel, ReadCounts
from assess.monorepo import attach, cited_from_above, sub_projects
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
    projects = sub_projects(inventory)
    if projects:
        return _several(folder, inventory, projects)
    return _one(folder, inventory)


def _one(folder: Path, inventory: Inventory) -> Assessment:
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
        sorted(project.follow.not_followed.values(), key=lambda n: (n.file, n.line)),
    )


def _several(folder: Path, inventory: Inventory, projects: dict[str, list[SourceFile]]) -> Assessment:
    """Each project assessed alone; the card is the most mature one's, with every project's level listed."""
    assessed: list[tuple[str, Assessment]] = []
    for rel, workflows in projects.items():
        try:
            assessed.append((rel, _one(folder / rel, attach(discover(folder / rel), rel, workflows))))
        except AssessError:
            continue  # a module with nothing to assess (a README, data) has no level of its own
    if not assessed:
        raise _nothing_to_assess(folder, inventory.counts)
    counts = inventory.counts  # the walk of the whole folder; what each project read, added
    for rel, a in assessed:
        counts.add(a.read, rel)
    found = {rel: sum(p.status == "found" for p in a.practices.values()) for rel, a in assessed}
    best_rel, best = max(assessed, key=lambda ra: (ra[1].level, found[ra[0]]))
    levels = ", ".join(f"{rel} {a.level}" for rel, a in assessed)
    why = (
        f"level {best.level}: {len(assessed)} unrelated projects (each with its own dependencies, nothing at "
        f"the top joining them) are assessed one by one, not added up ({levels}); the most mature, "
        f"{best_rel}, is at {best.reasoning}"
    )
    return Assessment(
        str(folder),
        best.level,
        why,
        best.views,
        {pid: _moved(result, best_rel) for pid, result in best.practices.items()},
        counts,
        best.next_steps,
        best.ladder,
        [replace(n, file=cited_from_above(rel, n.file)) for rel, a in assessed for n in a.not_followed],
        [ProjectLevel(rel, a.level, a.reasoning) for rel, a in assessed],
    )


def _moved(result: PracticeResult, rel: str) -> PracticeResult:
    """Evidence cited from the assessed folder, not from the project inside it."""
    return replace(result, evidence=[replace(e, file=cited_from_above(rel, e.file)) for e in result.evidence])
