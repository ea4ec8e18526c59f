"""What `mlops-levels explain N` says about a level, as data: its README, practices, manual steps, exercises."""

from __future__ import annotations

import re
from typing import Any

from teaching.catalog import PRACTICES, LevelInfo
from teaching.exercises.catalog import exercises_of

# The README's own "Still manual" and "Try this" sections are for readers on GitHub; `explain` shows
# the same content from level.toml, as panels, so it is said once.
_SHOWN_FROM_METADATA = ("Still manual", "Try this")


def readme_without(readme: str, headings: tuple[str, ...]) -> str:
    for heading in headings:
        readme = re.sub(rf"^## {re.escape(heading)}\n.*?(?=^## |\Z)", "", readme, flags=re.MULTILINE | re.DOTALL)
    return readme.strip() + "\n"


def explain_level(level: LevelInfo) -> dict[str, Any]:
    return {
        "level": level.number,
        "title": level.title,
        "summary": level.summary,
        "readme": readme_without(level.readme, _SHOWN_FROM_METADATA),
        "practices": [{"id": p.id, "title": p.title, "where": p.where, "why": p.why} for p in level.practices],
        "still_manual": list(level.still_manual),
        "try": [{"task": e.task, "hint": e.hint} for e in level.exercises],
        "exercises": [
            {"id": e.id, "practice": PRACTICES[e.practice], "title": e.title} for e in exercises_of(level.number)
        ],
    }
