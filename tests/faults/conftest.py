"""Fault tests: a workspace whose level-2, level-3 and level-4 registries each hold one trained version."""

from __future__ import annotations

import pytest

from tests.conftest import SMALL_MONTH_ROWS


@pytest.fixture(scope="session")
def registries(prefect_api, tmp_path_factory):
    """Settings of a workspace where levels 2, 3 and 4 each registered v1 (linear regression)."""
    from teaching.drive.training import train
    from teaching.infra.config import Settings

    settings = Settings(workspace=tmp_path_factory.mktemp("faults"), synthetic_rows=SMALL_MONTH_ROWS)
    for level in (2, 3, 4):  # each level's own pipeline command, as `run N` runs it
        train(level, settings, "2021-01", "2021-02", "linear_regression")
    return settings


@pytest.fixture
def mounted(tmp_path):
    """mounted(size, read_only=False) -> a folder on a filesystem of its own: a real full or read-only disk."""
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mounts = []

    def mount(size: str, read_only: bool = False):
        folder = tmp_path / f"disk{len(mounts)}"
        folder.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounts.append(folder)
        return folder

    yield mount
    for folder in mounts:
        if subprocess.run(["umount", str(folder)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], check=False)
