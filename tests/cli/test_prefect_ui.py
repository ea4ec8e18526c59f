"""The runs level 2 is about, where the course shows them: the workspace's Prefect server has its UI on,
`ui N` names it beside the MLflow UI and where its secret is; a browser without the secret sees no run
(the UI's API calls are refused), a client with it finds the level's flow runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import httpx
import pytest

from teaching.infra.serving import free_port
from tests.browser import dom, looks_blank, screenshot
from tests.conftest import REPO


@pytest.mark.slow
@pytest.mark.server
def test_level_2_runs_show_in_the_prefect_ui_and_ui_names_both_addresses(invoke, workspace, monkeypatch, tmp_path):
    from teaching.infra.config import Settings
    from teaching.infra.services import running_prefect_api, stop_prefect_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # this workspace's own server, not the session's
    monkeypatch.setenv("MLOPS_LEVELS_PREFECT_UI", "true")
    try:
        assert invoke("run", "2").exit_code == 0
        api = running_prefect_api(Settings())
        assert api is not None
        runs = f"{api.removesuffix('/api')}/runs"
        assert "train-taxi-duration" not in dom(runs)  # the page loads; its API calls are refused
        assert not looks_blank(screenshot(runs, tmp_path / "prefect-runs.png"))
        secret_file = workspace / "secrets" / "prefect-auth"
        user, _, password = secret_file.read_text().strip().partition(":")
        found = httpx.post(f"{api}/flow_runs/filter", json={}, auth=(user, password), timeout=30)
        assert (
            found.status_code == 200
            and "train-taxi-duration"
            in httpx.post(f"{api}/flows/filter", json={}, auth=(user, password), timeout=30).text
        )
        assert found.json(), "level 2 left no flow run"

        port = free_port()
        ui = subprocess.Popen(
            [sys.executable, "-m", "cli", "ui", "2", "--port", str(port)],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        lines, deadline = [], time.monotonic() + 120
        while len(lines) < 3 and time.monotonic() < deadline:
            line = ui.stdout.readline()
            if not line.startswith("Starting the MLflow UI"):  # said while it starts; the addresses follow
                lines.append(line)
        os.killpg(ui.pid, signal.SIGTERM)
        assert ui.wait(timeout=60) == 0
        assert f"http://127.0.0.1:{port}" in lines[0] and runs in lines[1] and str(secret_file) in lines[2]
        assert password not in "".join(lines)
    finally:
        stop_prefect_server(Settings())
