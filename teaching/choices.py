"""What `mlops-levels run` is asked, checked before anything starts: options, settings, the request.

Options are validated before anything starts (no Prefect server, no file written): a typo in a model
name costs a second, not the 20 s of a server start, and an option a level would ignore is refused
instead of silently doing nothing. `run N` (runs.py) and `run all` (story.py) both start from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common.errors import MlopsLevelsError, UsageError
from common.months import is_month_list, month_range
from teaching.catalog import LevelInfo, load_levels
from teaching.infra.config import FEATURE_SETS, MODEL_NAMES, Settings
from teaching.infra.runs import RunRequest

DEFAULTS = {"train-data": "2021-01", "val-data": "2021-02", "model": "linear_regression", "features": "pu_do"}


@dataclass
class RunChoices:
    """What the student asked for: `level` is "0".."4" or "all"; None or False means "not given"."""

    level: str
    given: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    tracking_uri: str | None = None  # from --tracking-uri or MLFLOW_TRACKING_URI
    stack_url: str | None = None  # from --stack-url or MLOPS_LEVELS_STACK_URL


def level_numbers(level: str) -> list[int]:
    built = [lv.number for lv in load_levels()]
    if level == "all":
        return built
    if not level.isdigit() or int(level) not in built:
        raise UsageError(f"{level!r} is not a level", fix="use 0, 1, 2, 3, 4 or all")
    return [int(level)]


def _users(option: str) -> str:
    users = [str(lv.number) for lv in load_levels() if option in lv.run_options]
    return f"level {users[0]} only" if len(users) == 1 else f"levels {', '.join(users)}"


def check_choices(level: LevelInfo, given: dict[str, Any]) -> dict[str, Any]:
    """The options this level runs with (defaults filled in), or a UsageError for one it cannot use."""
    for option, value in given.items():
        # An empty value is a mistake (an unset shell variable, say), not a request for the default.
        if isinstance(value, str) and not value.strip():
            raise UsageError(f"--{option} is empty", fix=f"give --{option} a value, or leave it out for the default")
        if value not in (None, False) and option not in level.run_options:
            raise UsageError(f"level {level.number} does not use --{option}", fix=f"--{option} is for {_users(option)}")
    chosen = {o: given.get(o) if given.get(o) not in (None, False) else DEFAULTS.get(o) for o in level.run_options}
    models = level.models or MODEL_NAMES
    if chosen.get("model") is not None and chosen["model"] not in models:
        raise UsageError(
            f"level {level.number} has no model {chosen['model']!r}", fix=f"use one of: {', '.join(models)}"
        )
    if chosen.get("features") is not None and chosen["features"] not in FEATURE_SETS:
        raise UsageError(f"unknown feature set {chosen['features']!r}", fix=f"use one of: {', '.join(FEATURE_SETS)}")
    if chosen.get("months") and len(month_range(str(chosen["months"]))) < 2:
        raise UsageError("level 4 needs at least two months", fix="e.g. --months 2021-01..2021-06")
    for option in ("train-data", "val-data", "replay"):
        spec = str(chosen.get(option) or "")
        if spec and is_month_list(spec):
            month_range(spec)  # a malformed month fails here, before anything runs
    return chosen


def run_settings(settings: Settings, choices: RunChoices) -> Settings:
    data = {k: v for k, v in choices.data.items() if v is not None}
    if "data_folder" in data and not Path(data["data_folder"]).is_dir():
        raise UsageError(
            f"{data['data_folder']} is not a folder", fix="pass a folder of green_tripdata_YYYY-MM.parquet"
        )
    settings = settings.with_(**data, tracking_uri=choices.tracking_uri, stack_url=choices.stack_url)
    if choices.given.get("stack"):
        from teaching.infra.stack import stack_settings

        settings = stack_settings(settings)
    if settings.stack_url:  # a class server: its MLflow, its work pool, this student's names
        from teaching.infra.classroom import join_class

        settings = join_class(settings)
    _check_tracking_server(settings)
    return settings


def _check_tracking_server(settings: Settings) -> None:
    """A tracking server nobody runs: say so now, not after MLflow's retries (over four minutes)."""
    from teaching.infra.serving import answers

    uri = settings.tracking_uri or ""
    if uri.lower().startswith(("http://", "https://")) and not answers(f"{uri.rstrip('/')}/health"):
        raise MlopsLevelsError(
            f"no MLflow server answers at {uri}",
            fix="start it (mlflow server --host 127.0.0.1 --port PORT), or drop --tracking-uri and "
            "MLFLOW_TRACKING_URI to use the workspace's own store",
        )


def make_request(settings: Settings, chosen: dict[str, Any], on_step: Callable[[str], None]) -> RunRequest:
    return RunRequest(
        settings=settings,
        train_data=chosen.get("train-data") or DEFAULTS["train-data"],
        val_data=chosen.get("val-data") or DEFAULTS["val-data"],
        model=chosen.get("model") or DEFAULTS["model"],
        features=chosen.get("features") or DEFAULTS["features"],
        options={k: v for k, v in chosen.items() if k in ("sweep", "months", "replay")},
        on_step=on_step,
    )


def preflight(settings: Settings, chosen: dict[str, Any]) -> None:
    """Months asked of a data folder must be there: one clear line now, not a traceback mid-run."""
    if settings.data_folder is None:
        return
    from common.sources import folder_month_path

    for option in ("train-data", "val-data", "replay", "months"):
        spec = str(chosen.get(option) or "")
        if spec and is_month_list(spec):
            for month in month_range(spec):
                folder_month_path(settings.data_folder, settings.color, month)


def prefixed(on_step: Callable[[str], None], label: str) -> Callable[[str], None]:
    """A step hook that names which level the step belongs to."""
    return lambda step: on_step(f"{label}: {step}")


def left_running(settings: Settings, levels: list[int]) -> dict[str, str]:
    """Levels 2 and up leave the workspace's Prefect server up, so the next run starts fast: say so."""
    if max(levels) < 2:
        return {}
    workspace = f" -w {settings.workspace}" if settings.workspace != Settings().workspace else ""
    return {"still_running": f"the workspace's Prefect server (stop it with: mlops-levels{workspace} stop)"}
