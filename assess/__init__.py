"""Assess any project folder: a scorecard of MLOps practices with evidence a person can open.

A package of its own: it imports nothing of the toolkit around it. What it reads and what it cannot
see is in docs/assess.md; the steps are in `assess.pipeline`.
"""

from __future__ import annotations

from pathlib import Path

from assess.catalogue import PRACTICES
from assess.errors import AssessError
from assess.model import Assessment, Evidence, Finding, PracticeResult, ReadCounts, ViewResult

__all__ = [
    "PRACTICES",
    "AssessError",
    "Assessment",
    "Evidence",
    "Finding",
    "PracticeResult",
    "ReadCounts",
    "ViewResult",
    "assess",
]


def assess(folder: Path) -> Assessment:
    """The scorecard of one folder; AssessError when it is not a folder or holds nothing to assess."""
    # The readers (ast, YAML) load here, not on `import assess`: the level catalogue imports the
    # practice vocabulary from this package, and `mlops-levels list` must stay instant.
    from assess.pipeline import assess_folder

    return assess_folder(folder)
