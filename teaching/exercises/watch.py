"""`exercise check ID --watch`: check again each time a Python file of the copy is saved, until Ctrl-C.

watchfiles (Rust's notify underneath) waits on file-system events; there is no polling loop here. A
save that an editor makes in several steps (write a temporary file, rename it) arrives as one batch
after the debounce, so one save is one check. The watcher is running before the first check starts, so
a save made while that check runs is not missed: its events wait in the watcher until the next round.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

Result = TypeVar("Result")
DEBOUNCE_MS = 400
WAKE_MS = 250  # how often the watcher wakes to notice a stop request when nothing changes


def watch_checks(
    root: Path, run_check: Callable[[], Result], show: Callable[[Result], Any], stop_event: Any = None
) -> int:
    """Check once, then once per batch of changes; returns how many checks ran (Ctrl-C or stop_event ends it)."""
    from watchfiles import PythonFilter, watch

    changes = watch(
        root,
        watch_filter=PythonFilter(),
        debounce=DEBOUNCE_MS,
        rust_timeout=WAKE_MS,
        yield_on_timeout=True,
        stop_event=stop_event,
        raise_interrupt=False,
    )
    checks = 0
    try:
        next(changes, None)  # the watcher is listening from here on
        show(run_check())
        checks += 1
        for batch in changes:
            if batch:
                show(run_check())
                checks += 1
    except KeyboardInterrupt:  # Ctrl-C is how a student leaves watch mode: not a failure
        pass
    finally:
        changes.close()
    return checks
