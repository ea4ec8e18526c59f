"""The CI and CD workflow files are read as the workflow engine would: jobs, their order, what they run.

They grow level by level with what each level really adds (level 1 releases the service image on a
version tag, level 2 runs the pipeline, level 3 checks the gate and delivers models, level 4 checks the
automation), and every command they run points at real files.
"""

from __future__ import annotations

import re

import pytest
import yaml

from teaching.catalog import load_levels
from tests.conftest import REPO

SERVING = [level for level in load_levels() if level.number >= 1]


def _workflow(level, name: str) -> dict:
    workflow = yaml.safe_load((level.folder / name).read_text())
    workflow["on"] = workflow.pop(True, workflow.get("on"))  # YAML 1.1 reads the key `on` as True
    return workflow


def _runs(job: dict) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def _needs(job: dict) -> set[str]:
    needs = job.get("needs", [])
    return {needs} if isinstance(needs, str) else set(needs)


@pytest.mark.parametrize("level", [lv for lv in SERVING if lv.package], ids=lambda lv: f"level_{lv.number}")
def test_a_projects_ci_runs_in_its_folder_with_its_own_make_targets(level):
    ci = _workflow(level, "ci.yml")
    assert ci["defaults"]["run"]["working-directory"] == f"levels/level_{level.number}"
    test = _runs(ci["jobs"]["test"])
    assert "-e ../../common" in test and "make lint" in test and "make test" in test
    makefile = (level.folder / "Makefile").read_text()
    assert re.search(
        r"^lint:\n\t\$\(PYTHON\) -m ruff check \. && \$\(PYTHON\) -m ruff format --check \.$", makefile, re.M
    )
    assert re.search(r"^test:\n\t\$\(PYTHON\) -m pytest$", makefile, re.MULTILINE)


@pytest.mark.parametrize("level", SERVING, ids=lambda lv: f"level_{lv.number}")
def test_ci_grows_with_what_the_level_adds(level):
    jobs = _workflow(level, "ci.yml")["jobs"]
    added_by_level = {2: "pipeline", 3: "gate", 4: "automation"}
    expected = {"test", "image", "release"} | {job for n, job in added_by_level.items() if n <= level.number}
    assert set(jobs) == expected
    if level.number >= 2:
        assert "python -m taxi_duration.pipeline" in _runs(jobs["pipeline"])
    if level.number >= 3:
        assert "python -m pytest -k gate" in _runs(jobs["gate"])
    for name, job in jobs.items():
        assert name == "test" or "test" in _needs(job), name


@pytest.mark.parametrize("level", SERVING, ids=lambda lv: f"level_{lv.number}")
def test_ci_releases_the_service_image_on_a_version_tag(level):
    ci = _workflow(level, "ci.yml")
    assert "v*" in ci["on"]["push"]["tags"]
    release = ci["jobs"]["release"]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    assert release["permissions"]["packages"] == "write"
    script = _runs(release)
    assert "docker build --build-context common=../../common" in script and "docker push" in script
    assert "${{ github.ref_name }}" in script


@pytest.mark.parametrize("level", [lv for lv in SERVING if "cd.yml" in lv.files], ids=lambda lv: f"level_{lv.number}")
def test_cd_trains_evaluates_gates_then_deploys_with_the_token_from_secrets(level):
    cd = _workflow(level, "cd.yml")
    jobs = cd["jobs"]
    assert list(jobs) == ["train", "evaluate", "gate", "deploy"]
    assert _needs(jobs["evaluate"]) == {"train"}
    assert "evaluate" in _needs(jobs["gate"]) and "gate" in _needs(jobs["deploy"])
    assert cd["defaults"]["run"]["working-directory"] == f"levels/level_{level.number}"
    for step_name in ("train", "evaluate", "gate", "deploy"):
        assert f"python -m taxi_duration.cd {step_name}" in _runs(jobs[step_name])
    assert "${{ needs.train.outputs.version }}" in _runs(jobs["deploy"])
    for name in ("evaluate", "gate", "deploy"):  # the token comes from the repository's secrets, never an input
        env = next(step.get("env", {}) for step in jobs[name]["steps"] if "run" in step)
        assert env["PLATFORM_ADMIN_TOKEN"] == "${{ secrets.PLATFORM_ADMIN_TOKEN }}"
    assert "token" not in str(cd["on"]).lower()


@pytest.mark.parametrize("level", SERVING, ids=lambda lv: f"level_{lv.number}")
def test_every_path_a_workflow_runs_exists(level):
    for name in ("ci.yml", "cd.yml"):
        if name in level.files:
            for path in re.findall(r"(levels/level_\d/[\w.]+|tests/\w+)", (level.folder / name).read_text()):
                assert (REPO / path).exists(), (name, path)
