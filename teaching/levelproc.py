"""Run a level's own commands the way a student would: in the level's folder, configured by environment.

A level is a project of its own (`levels/level_N/`, package `taxi_duration`, the same name at every
level), so the toolkit never imports it: it runs `python -m taxi_duration.<command>` with the level's
folder as the working directory, hands over where the months come from (TAXI_* variables, see
common/datasource.py) and the tools' own variables, and reads back what the command printed. An error
the level reports (its one `error: …` line and exit code) reaches the student unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from common.config import Settings
from common.errors import MlopsLevelsError
from common.secrets import without_secrets
from common.serving import LOCALHOST, free_port, http_ok
from levels.catalog import get_level

ERROR_PREFIX = "error: "


class LevelCommandFailed(MlopsLevelsError):
    """A level's command failed: its own one-line error, with its own exit code."""

    def __init__(self, line: str, exit_code: int) -> None:
        super().__init__(line)
        self.exit_code = exit_code


def level_folder(number: int) -> Path:
    return get_level(number).folder


def level_env(settings: Settings, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The student's environment, less any secret, plus where the months come from."""
    env = without_secrets(os.environ)
    env.update(settings.data.to_env())
    # A level run by the toolkit is quiet unless --verbose: the toolkit says what happened, once.
    env.setdefault("PREFECT_LOGGING_LEVEL", "DEBUG" if settings.verbose else "WARNING")
    env.update(extra or {})
    return env


def command(module: str, args: list[str]) -> list[str]:
    return [sys.executable, "-m", module, *args]


def failure(number: int, done: subprocess.CompletedProcess[str]) -> LevelCommandFailed:
    """The level's own error line when it printed one, else the last line it wrote."""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    said = next((line for line in reversed(lines) if line.startswith(ERROR_PREFIX)), None)
    if said is not None:
        return LevelCommandFailed(said.removeprefix(ERROR_PREFIX), done.returncode)
    last = lines[-1] if lines else f"exit code {done.returncode}"
    return LevelCommandFailed(f"level {number}'s command failed: {last}", done.returncode or 1)


def run_json(number: int, module: str, args: list[str], settings: Settings) -> dict[str, Any]:
    """Run `python -m MODULE ARGS` in level NUMBER's folder; the JSON it prints on stdout."""
    done = subprocess.run(
        command(module, args), cwd=level_folder(number), env=level_env(settings), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise failure(number, done)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise MlopsLevelsError(
            f"level {number}'s `python -m {module}` printed no JSON", fix="run it with --verbose to see its output"
        ) from None
    return result


@contextlib.contextmanager
def level_server(
    number: int, module: str, args: list[str], settings: Settings, startup_timeout: float = 90.0
) -> Iterator[str]:
    """A level's service started by its own command on a free port of 127.0.0.1; its URL until the block ends.

    Its log goes to a file in the level's workspace folder (a pipe nobody reads would fill and stall it).
    """
    port = free_port()
    url = f"http://{LOCALHOST}:{port}"
    log = settings.level_dir(number) / "service.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8") as output:
        process = subprocess.Popen(
            command(module, [*args, "--host", LOCALHOST, "--port", str(port)]),
            cwd=level_folder(number),
            env=level_env(settings),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + startup_timeout
        while not http_ok(f"{url}/health", timeout=1.0):
            if process.poll() is not None:
                said = log.read_text(encoding="utf-8", errors="replace")
                raise failure(number, subprocess.CompletedProcess(process.args, process.returncode, "", said))
            if time.monotonic() > deadline:
                raise MlopsLevelsError(
                    f"level {number}'s service did not answer within {startup_timeout:.0f} s", where=str(log)
                )
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
