"""Fixtures of level 3's suite: level 2's (training_fixtures.py, carried unchanged), then the platform's."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# One thread of OpenMP and BLAS per process: the suites run two at a time on two cores, and each starts
# servers and level commands beside it. With a thread per core, OpenMP's workers spin-wait for a core the
# neighbours hold: scikit-learn's HistGradientBoosting on 4,000 rows took 247 s instead of 5 s at load ~9.
# Set before numpy is imported, and inherited by every command a test starts.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

import httpx  # noqa: E402
import pytest  # noqa: E402
import training_fixtures as level_2  # noqa: E402
from training_fixtures import LEVEL_DIR, Store, data_cache, train_into  # noqa: E402

# Level 2's fixtures, which pytest finds through this module.
no_network, prefect_api, project, registry = level_2.no_network, level_2.prefect_api, level_2.project, level_2.registry
_KEYS: list[Path] = []


def pytest_configure(config: pytest.Config) -> None:
    """Level 2's set-up, then the session's lineage key pair, made by the level's own keygen: the pipeline
    signs with it and the platform verifies with it, as they would with `make keys` (both read the files
    the environment names, so the commands a test starts use them too)."""
    level_2.pytest_configure(config)
    from taxi_duration.lineage import PUBLIC_KEY_ENV, SIGNING_KEY_ENV, keygen

    _KEYS.append(Path(tempfile.mkdtemp(prefix="lineage-keys-")))
    private, public = keygen(_KEYS[-1])
    os.environ[SIGNING_KEY_ENV], os.environ[PUBLIC_KEY_ENV] = str(private), str(public)


def pytest_unconfigure(config: pytest.Config) -> None:
    level_2.pytest_unconfigure(config)
    for folder in _KEYS:
        shutil.rmtree(folder, ignore_errors=True)


ADMIN_TOKEN = "secret"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
V1, V2, V3 = "1", "2", "3"  # linear regression, ridge (close to v1), a ridge far worse than both


@pytest.fixture(scope="session")
def worse(registry: tuple[Store, dict, dict], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """v3 in the session's store: a ridge so regularised it predicts the mean, far worse than v1 and v2."""
    store, v1, _ = registry
    params = {"train_data": "2021-01", "val_data": "2021-02", "model": "ridge", "params": {"alpha": 1e6}}
    [v3] = train_into(store.folder, data_cache(tmp_path_factory), [params])
    assert v3["model_version"] == V3 and v3["metrics"]["rmse_val"] > 1.1 * v1["metrics"]["rmse_val"]
    return v3


@pytest.fixture
def own_registry(registry: tuple[Store, dict, dict], worse: dict, project: Path, monkeypatch) -> Store:
    """A private copy of the session's store (v1, v2, v3) as this test's project; nothing promoted yet."""
    shutil.rmtree(project)
    copy = registry[0].copy_to(project)
    monkeypatch.chdir(project)
    return copy


def platform_app(store: Store, state_dir: Path | None = None, **kwargs: Any) -> Any:
    """The platform on a store, its state in the store's folder unless told; admin token `secret`."""
    from taxi_duration.platform_api import create_app

    return create_app(store.config(), state_dir or store.folder / "platform", admin_token=ADMIN_TOKEN, **kwargs)


@pytest.fixture
def platform(registry: tuple[Store, dict, dict], tmp_path: Path) -> Iterator[Any]:
    """A TestClient on the platform over the session's store (its lifespan runs): for calls that change nothing."""
    from fastapi.testclient import TestClient

    with TestClient(platform_app(registry[0], tmp_path / "platform"), raise_server_exceptions=False) as client:
        yield client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def platform_process(store: Store, state_dir: Path, timeout: float = 120) -> Iterator[str]:
    """The platform by its own command (`python -m taxi_duration.platform_api`), a real uvicorn on 127.0.0.1."""
    port = free_port()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": store.uri,
        "PLATFORM_STATE_DIR": str(state_dir),
        "PLATFORM_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    command = [sys.executable, "-m", "taxi_duration.platform_api", "--port", str(port)]
    process = subprocess.Popen(command, cwd=LEVEL_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                httpx.get(f"{url}/health")  # 503 until something is deployed: an answer is enough
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read().decode() if process.stderr else ""
                assert time.monotonic() < deadline, f"the platform did not start within {timeout:.0f} s"
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)
