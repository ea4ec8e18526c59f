"""A real headless Chromium for the tests that look at pages as people do (skipped where it is missing).

`.ci/run` installs Debian's chromium when it is absent. The flags keep Chromium off the network (this
machine's is closed) and out of any profile but a fresh one.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("no Chromium here (apt-get install chromium); .ci/run installs it")
    return found


def _run(url: str, *args: str, budget_ms: int = 15000) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--virtual-time-budget={budget_ms}", *args, url]
        return subprocess.run(command, capture_output=True, text=True, timeout=240)


def dom(url: str, size: str = "1280,1000", showing: tuple[str, ...] = ()) -> str:
    """The page's DOM after its scripts ran (a single-page app included), in a window of `size`: a page
    that draws only what is in view (MLflow's charts) shows nothing of what a small window leaves out.

    With `showing`, the page is opened again with more time while any of those texts is missing: on a
    loaded machine the budget can end before a lazily drawn chart asks for its data (a CI run saw the
    run's name but not yet its metric); a page that never shows them still fails the caller's assert."""
    page = ""
    for budget_ms in (15000, 40000, 90000) if showing else (15000,):
        page = _run(url, f"--window-size={size}", "--dump-dom", budget_ms=budget_ms).stdout
        if all(text in page for text in showing):
            break
    return page


def screenshot(url: str, target: Path, size: str = "1280,1000") -> Path:
    _run(url, f"--window-size={size}", f"--screenshot={target}")
    assert target.exists(), f"Chromium wrote no screenshot of {url}"
    return target


def looks_blank(png: Path) -> bool:
    """True when nearly every pixel has one colour: a page that failed to render."""
    import matplotlib.image
    import numpy as np

    pixels = matplotlib.image.imread(str(png))[..., :3].reshape(-1, 3)
    values, counts = np.unique((pixels * 255).astype(int), axis=0, return_counts=True)
    return bool(counts.max() / counts.sum() > 0.98 or len(values) < 20)
