"""Shared fixtures: a throw-away workspace, small synthetic months, no network, level markers."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# One thread of OpenMP and BLAS per process: the suites run two at a time on two cores, and each starts
# servers and level commands beside it. With a thread per core, OpenMP's workers spin-wait for a core the
# neighbours hold: scikit-learn's HistGradientBoosting on 4,000 rows took 247 s instead of 5 s at load ~9.
# Set before numpy is imported, and inherited by every command a test starts.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")
HEAVY = ["pandas", "sklearn", "mlflow", "prefect", "evidently", "fastapi", "numpy", "scipy", "watchfiles"]


def heavy_imports_of(commands: list[list[str]], workspace: Path) -> list[str]:
    """The heavy libraries a fresh interpreter holds after running these CLI commands (each must succeed)."""
    import ast
    import subprocess
    import sys

    code = (
        "import sys\nfrom typer.testing import CliRunner\nfrom cli import app\n"
        f"for args in {commands!r}:\n"
        "    r = CliRunner().invoke(app, args)\n"
        "    assert r.exit_code == 0 and 'Traceback' not in r.output, (args, r.output)\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    env = {"MLOPS_LEVELS_WORKSPACE": str(workspace), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    return list(ast.literal_eval(out.stdout.strip()))


REAL_DATA = Path(os.environ.get("MLOPS_LEVELS_REAL_DATA", REPO.parent / "shared" / "data" / "real"))
SMALL_MONTH_ROWS = 4000

# Rich output in tests: fixed width, no colour, so assertions see plain text.
os.environ.setdefault("COLUMNS", "120")
os.environ["NO_COLOR"] = "1"
os.environ["TERM"] = "dumb"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ.setdefault("MLOPS_LEVELS_PREFECT_UI", "false")  # nobody looks at it in a test; it starts faster


SUITES = ("level0", "level1", "level2", "level3", "level4", "common", "teaching")
# tests/<folder> -> the suite its tests belong to when the folder is not a level's
FOLDER_SUITES = {
    "common": "common",
    "stack": "common",
    "faults": "common",
    "cli": "teaching",
    "levels": "teaching",
    "assess": "teaching",
    "exercises": "teaching",
}


# What makes a test slow is what it needs: the session's Prefect server (10-20 s to start, then a level's
# pipeline in a process of its own importing MLflow, Prefect and scikit-learn), every exercise checked,
# level 4's loop on the damaged decision logs, or the warm exercise check server (it imports the whole stack
# before it answers: about a minute of the quick loop for its six tests).
# A test that needs one is marked slow here, so `-m "not slow"` never waits for them, whoever forgets the mark.
SLOW_FIXTURES = {"prefect_api", "checked", "loop_on_damaged_logs", "served"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`pytest -m level2` selects tests/level_2 with no decorator in the files; every test belongs to a suite.
    A test that needs a slow fixture (SLOW_FIXTURES) is marked slow."""
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        parts = Path(str(item.fspath)).relative_to(REPO).parts
        folder = parts[1] if len(parts) > 2 else ""
        suite = folder.replace("_", "") if folder.startswith("level_") else FOLDER_SUITES.get(folder)
        if suite:
            item.add_marker(getattr(pytest.mark, suite))
        if not any(item.get_closest_marker(name) for name in SUITES):
            raise pytest.UsageError(f"{item.nodeid} belongs to no suite: put it under a level's folder or mark it")


_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address) -> None:  # type: ignore[no-untyped-def]
    host = address[0] if isinstance(address, tuple) else address
    if (
        isinstance(host, str)
        and not (host.startswith("127.") or host in ("localhost", "::1", ""))
        and self.family in (socket.AF_INET, socket.AF_INET6)
    ):
        raise RuntimeError(f"tests must not touch the network (tried {address})")
    return _real_connect(self, address)


@pytest.fixture(scope="session", autouse=True)
def nothing_written_outside_the_workspace():
    """Every run writes under its workspace: no ./mlruns, ./mlflow.db or ./mlops-workspace in the repo."""
    strays = ("mlruns", "mlflow.db", "mlops-workspace")
    before = {name for name in strays if (REPO / name).exists()}
    yield
    after = {name for name in strays if (REPO / name).exists()}
    assert after <= before, f"the test run wrote {sorted(after - before)} into the repository"


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh workspace for this test; small synthetic months so runs take seconds."""
    ws = tmp_path / "ws"
    monkeypatch.setenv("MLOPS_LEVELS_WORKSPACE", str(ws))
    monkeypatch.setenv("MLOPS_LEVELS_SYNTHETIC_ROWS", str(SMALL_MONTH_ROWS))
    for name in (
        "MLOPS_LEVELS_SOURCE",
        "MLOPS_LEVELS_SCENARIO",
        "MLOPS_LEVELS_SEED",
        "MLOPS_LEVELS_TRACKING_URI",
        "MLFLOW_TRACKING_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    yield ws
    if (ws / "prefect" / "server.json").exists():  # a run started the workspace's own Prefect server
        from teaching.infra.config import Settings
        from teaching.infra.services import stop_prefect_server

        stop_prefect_server(Settings(workspace=ws))
    if (ws / "check-server" / "server.json").exists():  # `exercise start|check` started its check server
        from teaching.exercises.server import stop_server

        stop_server(ws)


@pytest.fixture
def settings(workspace: Path):
    from teaching.infra.config import Settings

    return Settings(workspace=workspace, synthetic_rows=SMALL_MONTH_ROWS)


@pytest.fixture(scope="session")
def month_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two small synthetic months on disk, shared by the whole session (read-only)."""
    from common.synthetic import ensure_month

    folder = tmp_path_factory.mktemp("months")
    return {m: ensure_month(folder, m, rows=SMALL_MONTH_ROWS) for m in ("2021-01", "2021-02")}


@pytest.fixture(scope="session")
def prepared(month_files: dict[str, Path]):
    from common.data import load_prepared

    return {m: load_prepared(p) for m, p in month_files.items()}


@pytest.fixture(scope="session")
def trained_model(prepared):
    from common.model import train

    return train(prepared["2021-01"])


@pytest.fixture
def cli_runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def invoke(cli_runner, workspace):
    """Run the CLI in-process, like a student would in a shell."""
    from cli import app

    def _invoke(*args: str):
        return cli_runner.invoke(app, [str(a) for a in args])

    return _invoke


def real_file(*parts: str) -> Path:
    path = REAL_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data sample not present ({path})")
    return path


@pytest.fixture(scope="session")
def prefect_workspace(tmp_path_factory) -> Path:
    """The workspace whose Prefect server the whole session shares (its prefect/ folder is Prefect's home)."""
    return tmp_path_factory.mktemp("prefect-workspace")


@pytest.fixture(scope="session")
def prefect_api(prefect_workspace):
    """One real local Prefect server for the whole session (~10 s to start), for levels 2-4."""
    from teaching.infra.config import Settings
    from teaching.infra.services import ensure_prefect_api, prefect_auth, stop_prefect_server

    settings = Settings(workspace=prefect_workspace)
    names = ("PREFECT_API_URL", "PREFECT_API_AUTH_STRING")
    saved = {name: os.environ.pop(name, None) for name in names}
    url = ensure_prefect_api(settings)
    # The test session's choice, as a person's own server would be: every flow and child process uses it,
    # with the secret its API asks for (in the environment, as the toolkit hands it to its own clients).
    os.environ["PREFECT_API_URL"] = url
    auth = prefect_auth(settings, url)
    assert auth, "the workspace's Prefect server asks for no secret"
    os.environ["PREFECT_API_AUTH_STRING"] = auth
    yield url
    stop_prefect_server(settings)
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


# The course's 6.0385 is a model fitted on 36 typos of up to 120,000 miles; common.data drops them
# (level 0's notebook keeps the course's own filter, and its figure).
VALIDATED_REAL_RMSE = 5.6304


def real_rmse(invoke, level: int) -> float:
    """Validation RMSE of `run LEVEL` on the real sample: train 2023-01, validate 2023-02."""
    import json

    months = [real_file(f"green_tripdata_2023-0{m}.parquet") for m in (1, 2)]
    result = invoke("run", str(level), "--train-data", months[0], "--val-data", months[1], "--json")
    assert result.exit_code == 0, result.output
    return float(json.loads(result.output)["metrics"]["rmse_val"])
