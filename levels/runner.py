"""Run a level by its level.toml entry point, importing the level only now (never for `list`)."""

from __future__ import annotations

import importlib
import time

from common.runs import RunReport, RunRequest
from levels.catalog import get_level


def run_level(number: int, request: RunRequest) -> RunReport:
    level = get_level(number)
    started = time.perf_counter()
    module_name, _, function = level.entrypoint.partition(":")
    report: RunReport = getattr(importlib.import_module(f"levels.level_{number}.{module_name}"), function)(request)
    report.wall_seconds = round(time.perf_counter() - started, 2)
    return report
