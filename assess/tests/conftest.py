"""assess's own tests: the corpus under fixtures/ is data to assess, not tests to collect."""

from __future__ import annotations

from pathlib import Path

import pytest

from assess.tests.corpus import CORPUS, project_copy

collect_ignore_glob = ["fixtures/*"]
HERE = Path(__file__).parent


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every test of the repository belongs to a suite (tests/conftest.py refuses one that does not):
    assess's are the teaching suite's, as they were under tests/. Marked as collected, so the check,
    which runs after collection, sees the marker."""
    if HERE in Path(str(item.path)).parents:
        item.add_marker(pytest.mark.teaching)


@pytest.fixture
def invoke(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):  # type: ignore[no-untyped-def]
    """`mlops-levels …` in-process, the way a person types it; the workspace is a throw-away folder."""
    from typer.testing import CliRunner

    from cli import app

    monkeypatch.setenv("MLOPS_LEVELS_WORKSPACE", str(tmp_path / "ws"))
    runner = CliRunner()

    def _invoke(*args: object):  # type: ignore[no-untyped-def]
        return runner.invoke(app, [str(a) for a in args])

    return _invoke


@pytest.fixture(scope="session")
def assessed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Every corpus project assessed once per session: name -> Assessment (or the AssessError it raised)."""
    from assess import AssessError, assess

    root = tmp_path_factory.mktemp("corpus")
    results: dict[str, object] = {}
    for name in CORPUS:
        try:
            results[name] = assess(project_copy(name, root))
        except AssessError as error:
            results[name] = error
    return results
