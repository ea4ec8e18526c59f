"""From per-practice statuses to a level per view and an overall level, with the reasoning.

The rule (documented in docs/assess.md):
- credit: found 1, partial 1/2, absent 0.
- Level k is reached when (1) its defining practice is found (1: modular code, 2: an orchestrated
  training pipeline, 3: deployment by one call or automation, 4: automated retraining); (2) the
  credit of its practices, plus one for each practice of a higher level that is found, is at least
  half its number of practices (what a team already does beyond a level shows that level is behind
  it; half-done work beyond it does not); (3) every MLOps level between 2 and k-1 has at least one
  practice's worth of credit.
- The overall level is the highest level reached. Level 1 (DevOps) is not required below level 2:
  missing tests or operational metrics do not hide automated, tracked training.
- A view's level is the highest level whose practices in that view hold half their credit, with the
  level's defining practice found when it belongs to the view. People cannot be seen in files.
"""

from __future__ import annotations

from assess.detectors import DETECTORS, VIEWS
from assess.model import CREDIT, PracticeResult, ViewResult

DEFINING = {1: "versioned_code", 2: "orchestrated_pipeline", 3: "automated_deployment", 4: "automated_retraining"}
ACHIEVED = {
    1: "the code is modular",
    2: "training runs as an orchestrated pipeline",
    3: "deployment is automated",
    4: "retraining starts by itself",
}
MISSING = {
    1: "the code runs by hand (no modular code with an entry point)",
    2: "training is manual because no pipeline or automated job trains a model",
    3: "deployment is manual because nothing deploys a model by one call or by automation",
    4: "retraining is manual because no schedule or trigger retrains and ships the model",
}


def _by_level(results: dict[str, PracticeResult]) -> dict[int, list[PracticeResult]]:
    levels: dict[int, list[PracticeResult]] = {1: [], 2: [], 3: [], 4: []}
    for result in results.values():
        levels[result.first_level].append(result)
    return levels


def _credit(practices: list[PracticeResult]) -> float:
    return sum(CREDIT[p.status] for p in practices)


def ladder(results: dict[str, PracticeResult]) -> dict[int, dict[str, object]]:
    levels = _by_level(results)
    rungs: dict[int, dict[str, object]] = {}
    for k, practices in levels.items():
        own = _credit(practices)
        above = sum(1 for j in levels if j > k for p in levels[j] if p.status == "found")
        defining = results[DEFINING[k]].status == "found"
        enough = own + above >= len(practices) / 2
        started = all(_credit(levels[j]) >= 1 for j in range(2, k))
        rungs[k] = {
            "credit": own,
            "of": len(practices),
            "defining": DEFINING[k],
            "reached": defining and enough and started,
        }
    return rungs


def overall(rungs: dict[int, dict[str, object]]) -> int:
    return max((k for k, rung in rungs.items() if rung["reached"]), default=0)


def _lower(title: str) -> str:
    """ "Model registry" -> "model registry", "A/B testing" and "API" kept as written."""
    return " ".join(w if w.isupper() or "/" in w else w.lower() for w in title.split())


def _found_titles(practices: list[PracticeResult]) -> list[str]:
    return [_lower(p.title) for p in practices if p.status == "found"]


def _gap(k: int, results: dict[str, PracticeResult], rungs: dict[int, dict[str, object]]) -> str:
    if results[DEFINING[k]].status != "found":
        return MISSING[k]
    missing = [_lower(p.title) for p in _by_level(results)[k] if p.status != "found"]
    if not all(rungs[j]["credit"] >= 1 for j in range(2, k)):  # type: ignore[operator]
        return f"{ACHIEVED[k]}, but level {k - 1}'s practices are missing"
    return f"{ACHIEVED[k]}, but too little else of level {k} is there (missing: {', '.join(missing)})"


def reasoning(level: int, results: dict[str, PracticeResult], rungs: dict[int, dict[str, object]]) -> str:
    levels = _by_level(results)
    if level == 0:
        found = _found_titles([p for ps in levels.values() for p in ps])
        there = f"; in place: {', '.join(found)}" if found else ""
        return f"level 0: {_gap(1, results, rungs)}{there}"
    parts = [ACHIEVED[level]]
    extras = [t for t in _found_titles(levels[level]) if t != _lower(results[DEFINING[level]].title)]
    if extras:
        parts.append(f"with {', '.join(extras)}")
    text = f"level {level}: {' '.join(parts)}"
    if level == 4 and results["continuous_delivery"].status == "found":
        text += ", and a quality gate decides what is deployed, with no person in between"
    if level < 4:
        text += f"; {_gap(level + 1, results, rungs)}"
        beyond = _found_titles([p for k in range(level + 1, 5) for p in levels[k]])
        if beyond:
            text += f" (already in place: {', '.join(beyond)})"
    return text


def view_levels(results: dict[str, PracticeResult]) -> list[ViewResult]:
    views = []
    for view, title in VIEWS.items():
        practices = [r for r in results.values() if r.view == view]
        if not practices:
            reasoning_text = "people, roles and process cannot be seen in files: ask the team"
            views.append(ViewResult(view, title, None, reasoning_text, []))
            continue
        level, gap = _view_ladder(practices, results)
        found = _found_titles(practices)
        text = f"in place: {', '.join(found)}" if found else "none of this view's practices were found"
        views.append(ViewResult(view, title, level, text, [p.id for p in practices], gap))
    return views


def _holds(k: int, at_k: list[PracticeResult], results: dict[str, PracticeResult]) -> bool:
    defining = results[DEFINING[k]]
    if defining in at_k and defining.status != "found":
        return False
    return _credit(at_k) >= len(at_k) / 2


def _view_ladder(practices: list[PracticeResult], results: dict[str, PracticeResult]) -> tuple[int, str]:
    """A view climbs level by level: it is at level k when each of its levels up to k holds (half its
    practices' credit, the defining one found). A higher level that holds over a missing lower one is
    said as a gap, never as the view's level (monitoring alone is not "level 3")."""
    level, stopped = 0, 0
    for k in range(1, 5):
        at_k = [p for p in practices if p.first_level == k]
        if not at_k:
            continue
        if not _holds(k, at_k, results):
            stopped = stopped or k
        elif not stopped:
            level = k
        else:
            missing = [_lower(p.title) for p in practices if p.first_level == stopped and p.status != "found"]
            above = ", ".join(_found_titles(at_k))
            return level, f"{above} (level {k}) without level {stopped} under it (missing: {', '.join(missing)})"
    return level, ""


def next_steps(level: int, results: dict[str, PracticeResult]) -> list[str]:
    if level >= 4:
        return []
    target = _by_level(results)[level + 1]
    ordered = sorted(target, key=lambda p: p.id != DEFINING[level + 1])
    return [p.title for p in ordered if p.status != "found"]


def practice_order() -> list[str]:
    return [d.practice for d in DETECTORS]
