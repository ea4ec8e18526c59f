"""Issue 23, point 5: months the CLI accepts, empty options, and what `serve` says before it listens."""

from __future__ import annotations

import datetime
import socket
import subprocess
import sys

import httpx
import pytest

from common.errors import UsageError
from common.months import parse_month
from teaching.infra.serving import free_port
from tests.conftest import REPO


def _refused(result, says: str) -> None:
    assert result.exit_code == 2, result.output
    assert says in result.output, result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize(
    "args",
    [
        ("run", "1", "--train-month", "２０２１-０１", "--val-month", "2021-02"),  # full-width digits
        ("run", "1", "--train-month", "2021-01", "--val-month", "٢٠٢١-٠٢"),  # Arabic-Indic digits
        ("run", "4", "--months", "２０２１-０１..２０２１-０３"),
        ("data", "generate", "۲۰۲۱-۰۱"),  # Extended Arabic-Indic (Persian) digits
    ],
)
def test_months_are_written_with_ascii_digits(invoke, args):
    _refused(invoke(*args), "is not a month")


@pytest.mark.parametrize(
    "args",
    [
        ("run", "4", "--months", "0001-01..9999-12"),
        ("run", "1", "--train-month", "0001-01", "--val-month", "0001-02"),
        ("run", "1", "--train-month", "2008-12", "--val-month", "2009-01"),
        ("data", "generate", f"{datetime.date.today().year + 2}-01"),
    ],
)
def test_months_are_refused_outside_2009_to_next_year_before_anything_runs(invoke, workspace, args):
    _refused(invoke(*args), "is not between 2009-01 and")
    assert not (workspace / "level_1").exists() and not (workspace / "level_4").exists()


def test_the_month_range_includes_its_ends():
    assert parse_month("2009-01") == (2009, 1)
    next_year = datetime.date.today().year + 1
    assert parse_month(f"{next_year}-12") == (next_year, 12)
    with pytest.raises(UsageError):
        parse_month(f"{next_year + 1}-01")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("run", "4", "--months", ""), "--months is empty"),
        (("run", "4", "--months", "  "), "--months is empty"),
        (("run", "1", "--train-month", ""), "--train-data is empty"),  # the option's first name
    ],
)
def test_an_empty_option_is_an_error_not_the_default(invoke, args, says):
    _refused(invoke(*args), says)


def test_serve_with_a_bad_model_path_prints_no_address(invoke, tmp_path):
    port = free_port()
    result = invoke("serve", "1", "--model-path", tmp_path / "nothing.bin", "--port", port)
    assert result.exit_code != 0
    assert "no model to serve yet" in result.output, result.output
    assert "Serving" not in result.output and f":{port}" not in result.output, result.output


def _time_wait_on(port: int) -> None:
    """Leave the server side of a finished connection on 127.0.0.1:port in TIME_WAIT, as a service that
    just answered traffic and was stopped does (the side that closes first waits there ~60 s)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    served.close()  # the server closes first
    assert client.recv(1) == b""
    client.close()
    listener.close()


def test_a_port_in_time_wait_after_traffic_is_free_to_serve_on(invoke, tmp_path):
    port = free_port()
    _time_wait_on(port)
    result = invoke("serve", "1", "--model-path", tmp_path / "nothing.bin", "--port", port)
    assert "is taken" not in result.output, result.output
    assert "no model to serve yet" in result.output, result.output  # it went on to the next check


def test_a_port_somebody_listens_on_is_still_taken(invoke, tmp_path):
    with socket.socket() as other:
        other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # even one that allows reuse, as uvicorn's
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = invoke("serve", "1", "--model-path", tmp_path / "nothing.bin", "--port", port)
    _refused(result, f"port {port} on 127.0.0.1 is taken")


@pytest.mark.slow
@pytest.mark.server
def test_serve_prints_its_address_once_it_answers(trained_model, tmp_path):
    from common.model import save_model

    model = save_model(trained_model, tmp_path / "model.bin")
    port = free_port()
    env = {"PATH": "/usr/bin:/bin", "MLOPS_LEVELS_WORKSPACE": str(tmp_path / "ws"), "HOME": str(tmp_path)}
    command = [sys.executable, "-m", "cli", "serve", "1", "--model-path", str(model), "--port", str(port)]
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # blocks until the address is said (or the process ends)
        assert f"Serving level 1 on http://127.0.0.1:{port}" in line, line
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=20)
