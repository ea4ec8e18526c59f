"""Checks of the level-2 exercises: run tags, the registry and its alias, the sweep, download retries."""

from __future__ import annotations

import itertools
import shutil
import subprocess
from typing import Any

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect
from teaching.exercises.checks import fixtures

DATA = {
    "train": {"label": "2021-01", "sha256": "1" * 64},
    "val": {"label": "2021-02", "sha256": "2" * 64},
}

# run-tags -------------------------------------------------------------------------------------------


def _tags(data: dict[str, dict[str, str]] = DATA) -> dict[str, str]:
    from levels.level_2.tracking import run_tags

    tags = run_tags(data)
    expect(isinstance(tags, dict), f"run_tags should return a dict of tags, not {type(tags).__name__}")
    return tags


@check("run-tags", "each data's label and sha256 are tags")
def data_tags(ctx: CheckContext) -> None:
    tags = _tags()
    for role, info in DATA.items():
        expect(tags.get(f"{role}_data") == info["label"], f"tag {role}_data should be {info['label']!r}")
        expect(tags.get(f"{role}_data_sha256") == info["sha256"], f"tag {role}_data_sha256 should be the file's sha256")
    more = _tags({**DATA, "test": {"label": "2021-03", "sha256": "3" * 64}})
    expect(more.get("test_data_sha256") == "3" * 64, "every role given gets its tags, not only train and val")


@check("run-tags", "the git commit names the code")
def commit_tags(ctx: CheckContext) -> None:
    from levels.level_2 import tracking

    expected = tracking.git_commit()
    if shutil.which("git"):  # a repository of its own, so the commit is known (not the one of the project)
        repo = ctx.tmp / "repo"
        repo.mkdir()
        (repo / "train.py").write_text("print('v1')\n")
        git = ["git", "-c", "user.name=check", "-c", "user.email=check@localhost", "-C", str(repo)]
        for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "v1"]):
            subprocess.run(git + command, check=True, capture_output=True)
        expected = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        tracking.REPO = repo
    tags = _tags()
    expect(tags.get("git_commit") == expected, f"tag git_commit should be {expected!r}, got {tags.get('git_commit')!r}")
    got = tags.get("mlflow.source.git.commit")
    expect(got == expected, f"MLflow shows the commit from tag mlflow.source.git.commit: {expected!r}, got {got!r}")


@check("run-tags", "the level and the source file")
def level_tags(ctx: CheckContext) -> None:
    tags = _tags()
    expect(tags.get("level") == "2", f"tag level should be '2', got {tags.get('level')!r}")
    source = tags.get("mlflow.source.name")
    expect(
        source == "levels/level_2/pipeline.py",
        f"tag mlflow.source.name should be levels/level_2/pipeline.py, got {source!r}",
    )


@check("run-tags", "a run started with them carries them in MLflow")
def tags_on_run(ctx: CheckContext) -> None:
    import mlflow

    from levels.level_2.tracking import start_tracking, tracking_uri

    settings = ctx.settings()
    tags = _tags()
    with mlflow.start_run(experiment_id=start_tracking(settings), tags=tags) as run:
        pass
    stored = mlflow.MlflowClient(tracking_uri(settings)).get_run(run.info.run_id).data.tags
    missing = [k for k in ("git_commit", "val_data", "val_data_sha256") if stored.get(k) != tags.get(k)]
    expect(not missing, f"the run in MLflow lacks the tags {missing}")


# register-champion ----------------------------------------------------------------------------------


def _logged(ctx: CheckContext) -> dict[str, Any]:
    """A level-2 store holding two logged (not yet registered) models."""

    def log() -> dict[str, Any]:
        from levels.level_2.tracking import start_tracking

        settings = ctx.settings()
        experiment = start_tracking(settings)
        models = [fixtures.log_model(fixtures.model(), {}, experiment) for _ in range(2)]
        return {"settings": settings, "models": models}

    return dict(ctx.once("logged", log))


def _registered(ctx: CheckContext) -> tuple[Any, list[str]]:
    from levels.level_2.registry import register_version

    logged = _logged(ctx)
    versions = ctx.once("versions", lambda: [register_version(logged["settings"], *m) for m in logged["models"]])
    return logged["settings"], list(versions)


@check("register-champion", "each logged model becomes the next version")
def versions_numbered(ctx: CheckContext) -> None:
    from levels.level_2.registry import registry_client

    settings, versions = _registered(ctx)
    expect(versions == ["1", "2"], f"registering two models should return '1' then '2' (strings), got {versions}")
    found = registry_client(settings).search_model_versions(f"name='{settings.model_name}'")
    expect(len(found) == 2, f"the registry should hold 2 versions of {settings.model_name}, it holds {len(found)}")


@check("register-champion", "promote points the champion alias at the version")
def alias_moves(ctx: CheckContext) -> None:
    from levels.level_2.registry import promote, registry_client

    settings, versions = _registered(ctx)
    client = registry_client(settings)
    for version in (versions[1], versions[0]):
        promote(settings, version)
        got = client.get_model_version_by_alias(settings.model_name, "champion").version
        expect(str(got) == version, f"after promote(settings, {version!r}), champion points at v{got}")


@check("register-champion", "promoting a version that does not exist is refused")
def unknown_refused(ctx: CheckContext) -> None:
    from common.errors import MlopsLevelsError
    from levels.level_2.registry import promote

    settings, _ = _registered(ctx)
    try:
        promote(settings, "99")
    except MlopsLevelsError:
        return
    raise CheckFailed("promote(settings, '99') should raise UnknownVersion (resolve_version) before touching the alias")


# sweep-grid -----------------------------------------------------------------------------------------


def _grid() -> dict[str, dict[str, list[Any]]]:
    from common.model import model_names
    from levels.level_2.pipeline import SWEEP_GRID

    for name in model_names():
        grid = SWEEP_GRID.get(name) or {}
        expect(
            any(len(set(map(repr, values))) >= 2 for values in grid.values()),
            f"SWEEP_GRID[{name!r}] needs a hyperparameter with two values or more, got {grid}",
        )
    return SWEEP_GRID


@check("sweep-grid", "without --sweep, only the given parameters")
def no_sweep(ctx: CheckContext) -> None:
    from levels.level_2.pipeline import _candidates

    got = _candidates("ridge", {"alpha": 3.0}, False)
    expect(
        got == [{"alpha": 3.0}],
        f"_candidates('ridge', {{'alpha': 3.0}}, sweep=False) should be [{{'alpha': 3.0}}], got {got}",
    )


@check("sweep-grid", "every model has a grid to sweep")
def every_model(ctx: CheckContext) -> None:
    _grid()


@check("sweep-grid", "every combination of the grid is a candidate, once")
def every_combination(ctx: CheckContext) -> None:
    from levels.level_2.pipeline import _candidates

    for name, grid in _grid().items():
        candidates = _candidates(name, {}, True)
        wanted = {tuple(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())}
        got = [tuple((key, c.get(key)) for key in grid) for c in candidates]
        expect(
            set(got) == wanted and len(got) == len(wanted), f"{name}: {len(got)} candidates, {len(wanted)} combinations"
        )


@check("sweep-grid", "every candidate is a real hyperparameter, and the given ones stay")
def real_hyperparameters(ctx: CheckContext) -> None:
    from common.errors import UsageError
    from common.model import build_model
    from levels.level_2.pipeline import _candidates

    for name, grid in _grid().items():
        defaults = build_model(name).named_steps["model"].get_params()
        kept = next(key for key in defaults if key not in grid)
        for candidate in _candidates(name, {kept: defaults[kept]}, True):
            expect(candidate.get(kept) == defaults[kept], f"{name}: the given {kept}= was lost from a candidate")
            try:
                estimator = build_model(name, candidate).named_steps["model"]
            except UsageError as exc:
                raise CheckFailed(f"{name}: {exc.what}") from None
            wrong = {k: v for k, v in candidate.items() if estimator.get_params().get(k) != v}
            expect(not wrong, f"{name}: the estimator did not take {wrong}")


# retry-downloads ------------------------------------------------------------------------------------


def _retried(error: Exception) -> bool:
    from prefect.states import Failed

    from levels.level_2.pipeline import _is_transient

    return bool(_is_transient(None, None, Failed(data=error)))


@check("retry-downloads", "a failed download is retried")
def download_retried(ctx: CheckContext) -> None:
    from common.errors import DownloadError

    expect(
        _retried(DownloadError("connection reset")), "a task that failed with DownloadError should be retried (True)"
    )


@check("retry-downloads", "a bad file is not retried")
def bad_file_not_retried(ctx: CheckContext) -> None:
    from common.errors import DataError

    expect(not _retried(DataError("missing column trip_distance")), "a DataError (a bad file) stays bad: do not retry")


@check("retry-downloads", "a bug is not retried either")
def bug_not_retried(ctx: CheckContext) -> None:
    expect(not _retried(KeyError("trip_distance")), "a KeyError is a bug, not a hiccup: retrying only delays the error")
