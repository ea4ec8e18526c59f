"""Credentials stay where they belong: never in a flow parameter, never in a server that outlives the command.

- a tracking URI with a password in it is refused by every command (Prefect would store it in clear);
- the servers the toolkit leaves running (the workspace's Prefect server, `mlflow server`) start without
  the admin token or the MLflow password of the command that started them.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from teaching.infra.serving import free_port

CLI = str(Path(sys.executable).with_name("mlops-levels"))
PASSWORD = "S3cretPw"
URI_WITH_PASSWORD = f"http://alice:{PASSWORD}@127.0.0.1:15004"
TOKEN = "admin-token-that-must-not-leak"


def _refused_in_one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output, output
    assert "MLFLOW_TRACKING_PASSWORD" in lines[0] and PASSWORD not in output
    return lines[0]


@pytest.mark.parametrize(
    ("variable", "args"),
    [
        ("MLOPS_LEVELS_TRACKING_URI", ["run", "2"]),
        ("MLFLOW_TRACKING_URI", ["run", "2"]),
        (None, ["run", "2", "--tracking-uri", URI_WITH_PASSWORD]),
    ],
)
def test_a_tracking_uri_with_a_password_is_refused_before_anything_runs(invoke, workspace, monkeypatch, variable, args):
    if variable:
        monkeypatch.setenv(variable, URI_WITH_PASSWORD)

    result = invoke(*args)

    assert result.exit_code == 2, result.output
    _refused_in_one_line(result.output)
    assert not workspace.exists()  # refused before a file was written


def test_serve_4_never_puts_a_password_into_its_deployment(workspace):
    """The attack itself: `serve 4` would register the URI as a deployment parameter, kept in clear."""
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace), "MLOPS_LEVELS_TRACKING_URI": URI_WITH_PASSWORD}
    serve = subprocess.Popen(
        [CLI, "serve", "4", "--port", str(free_port())],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = serve.communicate(timeout=60)
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
        subprocess.run([CLI, "stop"], env=env, capture_output=True)
    assert serve.returncode == 2, output
    _refused_in_one_line(output)


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql://mlflow@127.0.0.1:5432/mlflow",  # the password comes from ~/.pgpass
        "http://127.0.0.1:5000/mlflow",
        "http://[::1]:5000",
        "file:///tmp/a:b/mlruns",
    ],
)
def test_a_url_without_a_password_is_accepted(workspace, uri):
    from teaching.infra.config import Settings

    assert Settings(tracking_uri=uri).as_plain()["tracking_uri"] == uri


@pytest.mark.parametrize(
    "field",
    [
        {"tracking_uri": "postgresql://mlflow@127.0.0.1/mlflow?password=S3cretPw"},  # SQLAlchemy passes it on
        {"tracking_uri": "http://alice:S3cretPw@[::1]:5000"},
        {"stack_url": "http://alice:S3cretPw@127.0.0.1:4200/api"},
        {"tlc_base_url": "https://alice:S3cretPw@mirror.example"},
        {"tracking_uri": "http://alice:S3cretPw@[::1:5000"},  # urlsplit gives up on the host: still refused
        {"tracking_uri": "http://127.0.0.1:5000/#password=S3cretPw"},
        {"tracking_uri": "http://127.0.0.1:5000/#alice:S3cretPw@x"},
        {"tracking_uri": "http://127.0.0.1:5000/path?x=1#pw=S3cretPw"},
        {"tracking_uri": "http://alice%3AS3cretPw@127.0.0.1:5000"},  # clients decode it to user:password
        {"tracking_uri": "http:\\\\alice:S3cretPw@127.0.0.1:5000"},  # and read backslashes as slashes
    ],
    ids=lambda f: next(iter(f)),
)
def test_a_password_in_any_url_of_the_settings_is_refused(workspace, field):
    from common.errors import UsageError
    from teaching.infra.config import Settings

    with pytest.raises(UsageError) as refused:
        Settings(**field)
    assert PASSWORD not in str(refused.value)


def test_flow_parameters_refuse_a_password_however_it_got_into_the_settings(workspace):
    from common.errors import UsageError
    from teaching.infra.config import Settings

    settings = Settings()
    object.__setattr__(settings, "tracking_uri", URI_WITH_PASSWORD)  # past every check a constructor makes

    with pytest.raises(UsageError) as refused:
        settings.as_plain()
    assert PASSWORD not in str(refused.value) and "MLFLOW_TRACKING_PASSWORD" in str(refused.value)


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    return dict(entry.decode(errors="replace").partition("=")[::2] for entry in raw.split(b"\0") if entry)


def _group(pgid: int) -> list[int]:
    from teaching.infra.processes import group_members

    return group_members(pgid)


@pytest.mark.slow
@pytest.mark.server
def test_the_workspace_prefect_server_starts_without_the_commands_secrets(settings, monkeypatch):
    from teaching.infra.services import ensure_prefect_api, stop_prefect_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # this workspace's own server, not the session's
    monkeypatch.setenv("MLOPS_LEVELS_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    try:
        ensure_prefect_api(settings)
        leader = json.loads((settings.layout.prefect_home / "server.json").read_text())["pid"]
        servers = _group(leader)
        assert leader in servers
        for pid in servers:  # the server and every process it started
            environ = _environ(pid)
            assert "MLOPS_LEVELS_ADMIN_TOKEN" not in environ and TOKEN not in environ.values(), pid
            assert "MLFLOW_TRACKING_PASSWORD" not in environ and PASSWORD not in environ.values(), pid
            assert environ.get("PREFECT_HOME") == str(settings.layout.prefect_home)  # it is that server
    finally:
        stop_prefect_server(settings)


def test_an_mlflow_server_gets_no_credentials_of_the_command(monkeypatch, tmp_path):
    from teaching.infra.services import mlflow_server

    monkeypatch.setenv("MLOPS_LEVELS_ADMIN_TOKEN", TOKEN)
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", PASSWORD)
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", PASSWORD)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", URI_WITH_PASSWORD)  # a secret by its value, under any name
    monkeypatch.setenv("DATABASE_URL", f"postgres://app:{PASSWORD}@127.0.0.1/app")

    command, env = mlflow_server(f"sqlite:///{tmp_path}/mlflow.db", tmp_path / "artifacts", "127.0.0.1", 5000)

    assert PASSWORD not in " ".join(env.values()) and TOKEN not in " ".join(env.values())
    assert env["PATH"].startswith(str(Path(sys.executable).parent))  # the rest of the environment is kept


def test_an_admin_token_file_others_can_read_is_refused_before_anything_starts(invoke, workspace, monkeypatch):
    from teaching.infra.serving import free_port

    # As on a student's machine: no Prefect server given (a session's shared one would hide a start here).
    monkeypatch.delenv("PREFECT_API_URL", raising=False)

    secrets = workspace / "secrets"
    secrets.mkdir(parents=True, mode=0o700)
    token = secrets / "admin-token"
    token.write_text("tok-" + "x" * 30)
    token.chmod(0o644)
    result = invoke("serve", "4", "--port", str(free_port()))
    assert result.exit_code == 3, result.output
    assert "can be read or written by others" in result.output and str(token) in result.output
    assert "Traceback" not in result.output and len(result.output.strip().splitlines()) <= 3
    assert not (workspace / "prefect").exists()  # nothing started: not even the workspace's Prefect server
