"""The CLI's fixtures: one `run all` on the default story for the session, read by the story's tests and by
`run 4`'s resume test (the story's level 4 is a whole `run 4` over six months of returning traffic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

STORY_ROWS = "12000"  # drift on 265-valued zone columns needs a few thousand rides a month


@pytest.fixture(scope="session")
def story_workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("story")


@pytest.fixture(scope="session")
def story(story_workspace, prefect_api):
    """One `run all` on the default story, shared by the tests that read it (a test may add to its workspace,
    as a later run would: a resumed `run 4`, a rewritten report)."""
    from typer.testing import CliRunner

    from cli import app

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLOPS_LEVELS_WORKSPACE", str(story_workspace))
        patch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", STORY_ROWS)
        result = CliRunner().invoke(app, ["run", "all", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)
