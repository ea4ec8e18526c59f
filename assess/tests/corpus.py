"""The calibration corpus: the fixture folders, each with the rating a person gave it (expected.toml)."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
LEVELS_DIR = REPO / "levels"
FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())


def expected(name: str) -> dict[str, Any]:
    return tomllib.loads((FIXTURES / name / "expected.toml").read_text())


def project_copy(name: str, into: Path) -> Path:
    """The fixture as the tool must see it: without the person's expected.toml next to it."""
    target = into / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("expected.toml"))
    return target
