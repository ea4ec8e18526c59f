"""Fixtures of level 1's suite: small synthetic months (offline, seconds), a trained model, a test client."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

import pytest

# One thread of OpenMP and BLAS per process: the suites run two at a time on two cores, and each starts
# servers and level commands beside it. With a thread per core, OpenMP's workers spin-wait for a core the
# neighbours hold: scikit-learn's HistGradientBoosting on 4,000 rows took 247 s instead of 5 s at load ~9.
# Set before numpy is imported, and inherited by every command a test starts.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

SMALL_MONTH_ROWS = 4000
LEVEL_DIR = Path(__file__).resolve().parents[1]
# Real TLC months, for the checks against the course's numbers; skipped where they are not present.
REAL_DATA = Path(os.environ.get("TAXI_REAL_DATA", LEVEL_DIR.parents[2] / "shared" / "data" / "real"))
# Training on the real 2023-01 and validating on 2023-02, without the 36 meter typos the notebook keeps.
VALIDATED_REAL_RMSE = 5.6304


@pytest.fixture(autouse=True)
def small_synthetic_months(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test reads months from the generator, into a cache of the session's, never ./data."""
    monkeypatch.setenv("TAXI_DATA_CACHE", str(tmp_path_factory.getbasetemp() / "data"))
    monkeypatch.setenv("TAXI_SYNTHETIC_ROWS", str(SMALL_MONTH_ROWS))
    for name in ("TAXI_DATA_SOURCE", "TAXI_DATA_DIR", "TAXI_SCENARIO", "TAXI_SEED"):
        monkeypatch.delenv(name, raising=False)


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


@pytest.fixture(scope="session")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from common.data import load_prepared
    from common.model import save_model, train
    from common.synthetic import ensure_month

    folder = tmp_path_factory.mktemp("level1")
    month = ensure_month(folder, "2021-01", rows=SMALL_MONTH_ROWS)
    return save_model(train(load_prepared(month)), folder / "model.bin")


@pytest.fixture
def client(model_file: Path):
    from fastapi.testclient import TestClient

    from taxi_duration.serve import create_app

    with TestClient(create_app(model_file), raise_server_exceptions=False) as test_client:
        yield test_client


def real_month(name: str) -> Path:
    path = REAL_DATA / name
    if not path.exists():
        pytest.skip(f"real data sample not present ({path})")
    return path
