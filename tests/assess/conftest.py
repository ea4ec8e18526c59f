"""The calibration corpus under fixtures/ is data to assess, not tests to collect."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest

collect_ignore_glob = ["fixtures/*"]

FIXTURES = Path(__file__).parent / "fixtures"
CORPUS = sorted(p.name for p in FIXTURES.iterdir() if (p / "expected.toml").is_file())


def expected(name: str) -> dict:
    return tomllib.loads((FIXTURES / name / "expected.toml").read_text())


def project_copy(name: str, into: Path) -> Path:
    """The fixture as the tool must see it: without the person's expected.toml next to it."""
    target = into / name
    shutil.copytree(FIXTURES / name, target, ignore=shutil.ignore_patterns("expected.toml"))
    return target


@pytest.fixture(scope="session")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every corpus project assessed once per session: name -> Assessment (or the UsageError it raised)."""
    from common.errors import UsageError
    from teaching.assess import assess

    root = tmp_path_factory.mktemp("corpus")
    results: dict[str, object] = {}
    for name in CORPUS:
        try:
            results[name] = assess(project_copy(name, root))
        except UsageError as error:
            results[name] = error
    return results
