"""Run a level by its level.toml entry point, importing the level only now (never for `list`)."""

from __future__ import annotations

import importlib
import time

from common.runs import RunReport, RunRequest
from levels.catalog import get_level


def run_level(number: int, request: RunRequest) -> RunReport:
    level = get_level(number)
    started = time.perf_counter()
    if level.entrypoint:  # a level not yet a project of its own: its adapter lives inside it
        module_name, _, function = level.entrypoint.partition(":")
        adapter = getattr(importlib.import_module(f"levels.level_{number}.{module_name}"), function)
    else:  # the toolkit drives the level's own commands from outside (teaching/drive/level_N.py)
        adapter = importlib.import_module(f"teaching.drive.level_{number}").main
    report: RunReport = adapter(request)
    report.wall_seconds = round(time.perf_counter() - started, 2)
    return report
