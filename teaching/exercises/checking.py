"""What a check is: a named function that exercises the student's copy and says, in a line or two, why not.

Check modules (teaching/exercises/checks/level_N.py) register functions with `@check(exercise, name)`;
each gets a CheckContext and either returns (passed) or raises. `expect(condition, reason)` raises
CheckFailed with a reason written for the student; any other exception is reported with the line of
the student's copy it came from. Checks test behaviour (what the code does), never the text.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SMALL_ROWS = 3000  # rides per synthetic month in a check: enough for a model, fast enough to wait for

CheckFunction = Callable[["CheckContext"], None]
REGISTRY: dict[str, list[tuple[str, CheckFunction]]] = {}


class CheckFailed(AssertionError):
    """The student's code ran but did not behave; the message says what was expected and what happened."""


def check(exercise_id: str, name: str) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        REGISTRY.setdefault(exercise_id, []).append((name, function))
        return function

    return register


def expect(condition: object, reason: str) -> None:
    if not condition:
        raise CheckFailed(reason)


@dataclass
class CheckContext:
    exercise_id: str
    level: int
    copy: Path  # the root of the student's copy: the level's folder, a project of its own
    tmp: Path  # an empty folder for this run: stores, months, the platform's state
    cache: dict[str, Any] = field(default_factory=dict)

    def once(self, key: str, make: Callable[[], Any]) -> Any:
        """Set-up shared by the checks of one run (a trained model, a registry), built on first use."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]

    @property
    def data(self) -> Any:
        """Small synthetic months, generated into this run's folder."""
        from common.datasource import DataSource

        return DataSource(cache=self.tmp / "data", synthetic_rows=SMALL_ROWS)

    @property
    def tracking_uri(self) -> str:
        return f"sqlite:///{self.tmp / 'mlflow.db'}"

    def config(self, **changes: Any) -> Any:
        """The level's own Config (taxi_duration/config.py of the copy) on this run's store and months."""
        from taxi_duration.config import Config

        return Config(tracking_uri=self.tracking_uri, data=self.data, **changes)

    def environment(self) -> dict[str, str]:
        """The same, as a level reads it from its environment (Config.from_env(), the platform's state dir):
        the harness sets it while the checks run, so what a level builds for itself lands in `tmp` too. Every
        TAXI_* variable is set, empty ones included: a TAXI_DATA_DIR of the student's shell must not leak in."""
        data = self.data.to_env()
        keys = self.tmp / "keys"  # levels 3-4: the lineage key pair a check makes with the level's keygen
        return {
            **data,
            "MLFLOW_TRACKING_URI": self.tracking_uri,
            "PLATFORM_STATE_DIR": str(self.tmp / "platform"),
            "LINEAGE_SIGNING_KEY_FILE": str(keys / "lineage.key"),
            "LINEAGE_PUBLIC_KEY_FILE": str(keys / "lineage.pub"),
        }


def describe_failure(exc: BaseException, copy: Path) -> str:
    """One line: the check's reason, or the exception and the line of the student's code it came from."""
    if isinstance(exc, CheckFailed):
        return str(exc)
    frames = [(f.filename, f.lineno) for f in traceback.extract_tb(exc.__traceback__) if _inside(f.filename, copy)]
    if isinstance(exc, SyntaxError) and exc.filename and _inside(exc.filename, copy):
        frames.append((exc.filename, exc.lineno))  # the file did not compile: no frame of it ran
    where = f"{Path(frames[-1][0]).resolve().relative_to(copy.resolve())}:{frames[-1][1]}" if frames else ""
    if isinstance(exc, NotImplementedError):
        return f"not written yet: {where or 'your code'} still raises NotImplementedError"
    if isinstance(exc, SystemExit):
        return f"your code called exit({exc.code})" + (f" at {where}" if where else "")
    message = (exc.msg if isinstance(exc, SyntaxError) else (str(exc).splitlines() or [""])[0])[:200]
    return f"{type(exc).__name__}: {message}" + (f" (at {where})" if where else "")


def _inside(filename: str, folder: Path) -> bool:
    try:
        Path(filename).resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
