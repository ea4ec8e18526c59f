"""Fixtures of level 4's suite: each test in a project folder of its own (stores, platform state and months
from the environment, as config.py reads them), one Prefect server for the session, and the platform
started by its own command (`python -m taxi_duration.platform_api`) on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

# One thread of OpenMP and BLAS per process: the suites run two at a time on two cores, and each starts
# servers and level commands beside it. With a thread per core, OpenMP's workers spin-wait for a core the
# neighbours hold: scikit-learn's HistGradientBoosting on 4,000 rows took 247 s instead of 5 s at load ~9.
# Set before numpy is imported, and inherited by every command a test starts.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

SMALL_MONTH_ROWS = 4000
LEVEL_DIR = Path(__file__).resolve().parents[1]
# Real TLC months, for the checks on real data; skipped where they are not present.
REAL_DATA = Path(os.environ.get("TAXI_REAL_DATA", LEVEL_DIR.parents[2] / "shared" / "data" / "real"))
TOKEN = "tok-" + "e" * 20 + "-known-to-the-test"  # the platform's admin token: searched for where it must not be
# The Prefect server's basic auth, as on a shared machine: whoever lacks it cannot reach the deployment at all.
PREFECT_AUTH = "suite:" + "p" * 24

# Quiet, and no telemetry: a test run never phones home. Set before Prefect or MLflow is first imported.
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_KEYS: list[Path] = []


def lineage_keys() -> tuple[Path, Path]:
    """The session's lineage key pair, made once by the level's own keygen (`make keys`): the loop's pipeline
    signs every candidate with it, the platform verifies with its public half."""
    if not _KEYS:
        from taxi_duration.lineage import keygen

        _KEYS.append(Path(tempfile.mkdtemp(prefix="lineage-keys-")))
        keygen(_KEYS[0])
    return _KEYS[0] / "lineage.key", _KEYS[0] / "lineage.pub"


def pytest_unconfigure(config: pytest.Config) -> None:
    for folder in _KEYS:
        shutil.rmtree(folder, ignore_errors=True)


def project_env(folder: Path, scenario: str | None = None) -> dict[str, str]:
    """What a project folder's commands read: its stores, its platform state, the admin token, the lineage
    keys (file paths), its months."""
    private, public = lineage_keys()
    env = {
        "MLFLOW_TRACKING_URI": f"sqlite:///{folder / 'mlflow.db'}",
        "PLATFORM_STATE_DIR": str(folder / "platform"),
        "PLATFORM_ADMIN_TOKEN": TOKEN,
        "TAXI_SYNTHETIC_ROWS": str(SMALL_MONTH_ROWS),
        "LINEAGE_SIGNING_KEY_FILE": str(private),
        "LINEAGE_PUBLIC_KEY_FILE": str(public),
    }
    if scenario:
        env["TAXI_SCENARIO"] = scenario
    return env


UNSET = (
    "TAXI_DATA_SOURCE",
    "TAXI_DATA_DIR",
    "TAXI_SCENARIO",
    "TAXI_SEED",
    "TAXI_COLOR",
    "MLFLOW_EXPERIMENT_NAME",
    "MLFLOW_RUN_ID",
    "MODEL_NAME",
    "PLATFORM_ADMIN_TOKEN_FILE",
    "PLATFORM_URL",
)


def enter_project(mp: pytest.MonkeyPatch, folder: Path, cache: Path, scenario: str | None = None) -> Path:
    """Make `folder` the working folder of the level's code in this process, as `cd folder` would."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in UNSET:
        mp.delenv(name, raising=False)
    for name, value in {**project_env(folder, scenario), "TAXI_DATA_CACHE": str(cache)}.items():
        mp.setenv(name, value)
    mp.chdir(folder)  # MLflow's default artifact root (./mlruns) and anything relative land here
    return folder


@pytest.fixture(scope="session")
def month_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated months, shared by the session (deterministic per month, scenario, seed and size)."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(autouse=True)
def project(tmp_path: Path, month_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test works in a fresh project folder: its own MLflow store, platform state and decisions."""
    return enter_project(monkeypatch, tmp_path / "project", month_cache)


_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
        if not (host.startswith("127.") or host in ("localhost", "::1")):
            raise RuntimeError(f"tests must not touch the network (tried {address})")
    return _connect(self, address)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


def wait_for(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    """Until `url` answers at all (a platform with nothing deployed says 503, and is up)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise AssertionError(f"{url} did not come up; its log:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextmanager
def level_command(module: str, args: list[str], folder: Path, env: dict[str, str], log: Path) -> Iterator[Any]:
    """`python -m MODULE ARGS` run from `folder` as the level's own command (this project on PYTHONPATH)."""
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            cwd=folder,
            env={**os.environ, **env, "PYTHONPATH": str(LEVEL_DIR)},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        yield process
    finally:
        stop(process)


@pytest.fixture(scope="session")
def prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Prefect server's home: its database and everything else it writes."""
    return tmp_path_factory.mktemp("prefect-home")


@pytest.fixture(scope="session")
def prefect_api(prefect_home: Path) -> Iterator[str]:
    """One `prefect server start` for the whole session (~20 s); every flow of the suite reports to it,
    with the secret its API asks for (PREFECT_SERVER_API_AUTH_STRING in the server's environment only)."""
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    home = prefect_home
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {"PREFECT_HOME": str(home), "PREFECT_UI_ENABLED": "false", "PREFECT_API_URL": url}
    env["PREFECT_SERVER_API_AUTH_STRING"] = PREFECT_AUTH
    command = ["-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    log = home / "server.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(
            [sys.executable, *command], cwd=home, env={**os.environ, **env}, stdout=output, stderr=subprocess.STDOUT
        )
    saved = {name: os.environ.get(name) for name in ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")}
    try:
        wait_for(f"{url}/health", server, log, timeout=120)
        os.environ["PREFECT_API_URL"] = url  # for every command the suite starts
        os.environ["PREFECT_API_AUTH_STRING"] = PREFECT_AUTH
        # Prefect read its settings when imported
        with temporary_settings(updates={PREFECT_API_URL: url, PREFECT_API_AUTH_STRING: PREFECT_AUTH}):
            yield url
    finally:
        stop(server)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def running_platform(folder: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """The platform of the project in `folder`, started by its own command; its URL until the block ends."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / f"platform-{port}.log"
    with level_command("taxi_duration.platform_api", ["--port", str(port)], folder, env or {}, log) as process:
        wait_for(f"{url}/health", process, log, timeout=120)
        yield url


@pytest.fixture
def platform(project: Path) -> Iterator[str]:
    """The platform of this test's project folder, on a free port."""
    with running_platform(project) as url:
        yield url


StoryRunner = Callable[..., dict[str, Any]]


def run_story(folder: Path, cache: Path, months: list[str], scenario: str | None = None) -> dict[str, Any]:
    """The closed loop over `months` (`python -m taxi_duration.automation`'s work, in this process), against
    a platform started for the story and stopped after it."""
    from taxi_duration import automation

    with pytest.MonkeyPatch.context() as mp:
        enter_project(mp, folder, cache, scenario)
        with running_platform(folder) as url:
            mp.setenv("PLATFORM_URL", url)  # where the platform lives: this process's environment, as in a worker
            return automation.run_months(months)


def real_month(name: str) -> Path:
    path = REAL_DATA / name
    if not path.exists():
        pytest.skip(f"real data sample not present ({path})")
    return path
