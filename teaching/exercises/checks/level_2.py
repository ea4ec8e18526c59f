"""Checks of the level-2 tracking exercises: run tags, and the registry with its champion alias."""

from __future__ import annotations

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
    from taxi_duration.tracking import run_tags

    tags: dict[str, str] = run_tags(data)
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
    from taxi_duration import tracking

    expected = tracking.git_commit()
    if shutil.which("git"):  # a repository of its own, so the commit is known (not the one of the project)
        repo = ctx.tmp / "repo"
        repo.mkdir()
        (repo / "train.py").write_text("print('v1')\n")
        git = ["git", "-c", "user.name=check", "-c", "user.email=check@localhost", "-C", str(repo)]
        for command in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "v1"]):
            subprocess.run(git + command, check=True, capture_output=True)
        expected = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        tracking.PROJECT = repo
    tags = _tags()
    expect(tags.get("git_commit") == expected, f"tag git_commit should be {expected!r}, got {tags.get('git_commit')!r}")
    got = tags.get("mlflow.source.git.commit")
    expect(got == expected, f"MLflow shows the commit from tag mlflow.source.git.commit: {expected!r}, got {got!r}")


@check("run-tags", "the source file")
def source_tag(ctx: CheckContext) -> None:
    source = _tags().get("mlflow.source.name")
    expect(
        source == "taxi_duration/pipeline.py",
        f"tag mlflow.source.name should be taxi_duration/pipeline.py (the file that trains), got {source!r}",
    )


@check("run-tags", "a run started with them carries them in MLflow")
def tags_on_run(ctx: CheckContext) -> None:
    import mlflow

    from taxi_duration.tracking import start_tracking

    config = ctx.config()
    tags = _tags()
    with mlflow.start_run(experiment_id=start_tracking(config), tags=tags) as run:
        pass
    stored = mlflow.MlflowClient(config.tracking_uri).get_run(run.info.run_id).data.tags
    missing = [k for k in ("git_commit", "val_data", "val_data_sha256") if stored.get(k) != tags.get(k)]
    expect(not missing, f"the run in MLflow lacks the tags {missing}")


# register-champion ----------------------------------------------------------------------------------


def _logged(ctx: CheckContext) -> dict[str, Any]:
    """A level-2 store holding two logged (not yet registered) models."""

    def log() -> dict[str, Any]:
        from taxi_duration.tracking import start_tracking

        config = ctx.config()
        experiment = start_tracking(config)
        models = [fixtures.log_model(fixtures.model(), {}, experiment) for _ in range(2)]
        return {"config": config, "models": models}

    return dict(ctx.once("logged", log))


def _registered(ctx: CheckContext) -> tuple[Any, list[str]]:
    from taxi_duration.registry import register_version

    logged = _logged(ctx)
    versions = ctx.once("versions", lambda: [register_version(logged["config"], *m) for m in logged["models"]])
    return logged["config"], list(versions)


@check("register-champion", "each logged model becomes the next version")
def versions_numbered(ctx: CheckContext) -> None:
    from taxi_duration.registry import registry_client

    config, versions = _registered(ctx)
    expect(versions == ["1", "2"], f"registering two models should return '1' then '2' (strings), got {versions}")
    found = registry_client(config).search_model_versions(f"name='{config.model_name}'")
    expect(len(found) == 2, f"the registry should hold 2 versions of {config.model_name}, it holds {len(found)}")


@check("register-champion", "promote points the champion alias at the version")
def alias_moves(ctx: CheckContext) -> None:
    from taxi_duration.promote import promote
    from taxi_duration.registry import registry_client

    config, versions = _registered(ctx)
    client = registry_client(config)
    for version in (versions[1], versions[0]):
        promote(config, version)
        got = client.get_model_version_by_alias(config.model_name, "champion").version
        wrong = f"promote(config, {version!r}) should point champion at v{version}; it points at v{got}"
        expect(str(got) == version, wrong)


@check("register-champion", "promoting a version that does not exist is refused")
def unknown_refused(ctx: CheckContext) -> None:
    from common.errors import MlopsLevelsError
    from taxi_duration.promote import promote

    config, _ = _registered(ctx)
    try:
        promote(config, "99")
    except MlopsLevelsError:
        return
    raise CheckFailed("promote(config, '99') should raise UnknownVersion (resolve_version) before touching the alias")
