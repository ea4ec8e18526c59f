"""Run a level by its level.toml entry point, importing the level only now (never for `list`)."""

from __future__ import annotations

import importlib
import time

from teaching.catalog import get_level
from teaching.infra.runs import RunReport, RunRequest


def run_level(number: int, request: RunRequest) -> RunReport:
    level = get_level(number)
    started = time.perf_counter()
    # The toolkit drives the level's own commands from outside (teaching/drive/level_N.py).
    report: RunReport = importlib.import_module(f"teaching.drive.level_{level.number}").main(request)
    report.wall_seconds = round(time.perf_counter() - started, 2)
    return report
