"""`mlops-levels run N|all`: check every option against what the level uses (choices.py), then run,
record, compare. `run all` is the story (story.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from teaching.catalog import get_level
from teaching.choices import (
    RunChoices,
    check_choices,
    left_running,
    level_numbers,
    make_request,
    prefixed,
    preflight,
    run_settings,
)
from teaching.infra.config import Settings
from teaching.runner import run_level
from teaching.state import record_run
from teaching.story import run_story
from teaching.walkthrough import WALKTHROUGH_DATA, WALKTHROUGH_OPTIONS


def run_levels(settings: Settings, choices: RunChoices, on_step: Callable[[str], None]) -> dict[str, Any]:
    """Run one level (or all), record each run in the student's progress, and say what to do next."""
    numbers = level_numbers(choices.level)
    if choices.level == "all":
        return run_story(settings, choices, on_step)
    settings = run_settings(settings, choices)
    level = get_level(numbers[0])
    chosen = check_choices(level, choices.given)
    preflight(settings, chosen)
    report = run_level(level.number, make_request(settings, chosen, prefixed(on_step, f"level {level.number}")))
    data = report.to_dict()
    from common.sources import describe_source  # pandas: after the choices are checked, never before

    record_run(settings.workspace, level.number, data, describe_source(settings.data))
    following = level.number + 1
    hint = settings.command("diff", level.number, following) if following <= 4 else settings.command("run", "all")
    return {**data, "next": hint, **left_running(settings, [level.number])}


def run_for_walkthrough(settings: Settings, number: int, progress: Any) -> dict[str, Any]:
    """The run step of a walkthrough: the level with its classroom-sized options."""
    with progress as on_step:
        given, data = dict(WALKTHROUGH_OPTIONS.get(number, {})), dict(WALKTHROUGH_DATA.get(number, {}))
        return run_levels(settings, RunChoices(str(number), given, data), on_step)
