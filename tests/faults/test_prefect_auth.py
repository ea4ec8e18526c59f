"""Prefect is not a way in: the workspace's Prefect server asks every API request for the workspace's secret.

On 127.0.0.1 every local account reaches the server's port. Whoever reaches its API can start a flow run
of any deployment (`serve 4`'s monthly cycle included, the one that holds the admin token), read every
flow run, parameter and log line. The server therefore asks for Prefect's own basic auth, with a secret
made on first use in <workspace>/secrets/prefect-auth (0600, in a 0700 folder); the toolkit's clients get
it through their environment. /health and /ready answer without it (they say only "up").
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

WRONG = "mlops-levels:not-the-secret"


def _secret(prefect_workspace: Path) -> str:
    """The workspace's secret; a placeholder where none was made (a server without auth ignores it)."""
    path = prefect_workspace / "secrets" / "prefect-auth"
    return path.read_text().strip() if path.exists() else "no-secret-was-made"


def _basic(secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(secret.encode()).decode()}


def _a_deployment(api: str, headers: dict[str, str]) -> str:
    """A flow and a deployment of it, made with the secret: what an attacker would start runs of."""
    flow = httpx.post(f"{api}/flows/", json={"name": "auth-probe"}, headers=headers, timeout=30)
    assert flow.status_code in (200, 201), flow.text
    body = {"name": "probe", "flow_id": flow.json()["id"], "parameters": {}}
    deployment = httpx.post(f"{api}/deployments/", json=body, headers=headers, timeout=30)
    assert deployment.status_code in (200, 201), deployment.text
    return str(deployment.json()["id"])


def _attacks(api: str, deployment: str) -> list[tuple[str, str, dict[str, object] | None]]:
    """What someone who reaches the API would do: start a run with their own parameters, read runs and logs."""
    return [
        ("POST", f"{api}/deployments/{deployment}/create_flow_run", {"parameters": {}}),
        ("GET", f"{api}/deployments/{deployment}", None),
        ("POST", f"{api}/flow_runs/filter", {"limit": 5}),
        ("POST", f"{api}/logs/filter", {"limit": 5}),
        ("POST", f"{api}/variables/filter", {"limit": 5}),
        ("GET", f"{api}/admin/version", None),
    ]


@pytest.mark.slow
@pytest.mark.server
def test_the_workspace_prefect_api_answers_401_without_its_secret_and_200_with_it(prefect_api, prefect_workspace):
    secret = _secret(prefect_workspace)
    deployment = _a_deployment(prefect_api, _basic(secret))
    refused = {
        "no header": {},
        "a wrong secret": _basic(WRONG),
        "the secret as a bearer token": {"Authorization": f"Bearer {secret}"},
        "a malformed header": {"Authorization": "Basic !!!"},
    }
    for method, url, body in _attacks(prefect_api, deployment):
        for how, headers in refused.items():
            answer = httpx.request(method, url, json=body, headers=headers, timeout=30)
            assert answer.status_code == 401, (how, url, answer.status_code)
        answer = httpx.request(method, url, json=body, headers=_basic(secret), timeout=30)
        assert answer.status_code in (200, 201), (url, answer.text)
    assert httpx.get(f"{prefect_api}/health", timeout=30).status_code == 200  # a probe needs no secret

    # The secret is kept like the admin token: the owner's only.
    path = prefect_workspace / "secrets" / "prefect-auth"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700


async def _socket_verdict(url: str, token: str | None) -> str:
    """What Prefect's log/event stream says to a client that authenticates with `token` (None: not at all)."""
    import websockets

    protocols = [websockets.Subprotocol("prefect")] if token is not None else None
    try:
        async with websockets.connect(url, subprotocols=protocols, open_timeout=30) as socket:
            if token is None:
                return "accepted without auth"
            await socket.send(json.dumps({"type": "auth", "token": token}))
            # Bounded: a server that ignores the message would leave us waiting for events forever.
            return str(json.loads(await asyncio.wait_for(socket.recv(), 30))["type"])
    except TimeoutError:
        return "no answer to the auth message"
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else '?'}"
    except websockets.InvalidStatus as refused:  # closed before the handshake: Starlette answers 403
        return f"refused {refused.response.status_code}"


@pytest.mark.slow
@pytest.mark.server
def test_the_log_and_event_streams_ask_for_the_secret_too(prefect_api, prefect_workspace):
    """The HTTP check does not cover websockets: Prefect checks them itself, in their first message."""
    secret = _secret(prefect_workspace)
    base = prefect_api.replace("http://", "ws://")
    for stream in ("logs/out", "events/out"):
        verdicts = {
            how: asyncio.run(_socket_verdict(f"{base}/{stream}", token))
            for how, token in (("none", None), ("wrong", WRONG), ("secret", secret))
        }
        assert verdicts["none"] == "refused 403" and verdicts["wrong"] == "closed 1008", (stream, verdicts)
        assert verdicts["secret"] == "auth_success", (stream, verdicts)


SECOND_USER = """
import json, sys, urllib.request, urllib.error
path, api = sys.argv[1], sys.argv[2]
seen = {}
try:
    open(path).read()
    seen["secret"] = "read"
except PermissionError:
    seen["secret"] = "permission denied"
except OSError as exc:
    seen["secret"] = type(exc).__name__
request = urllib.request.Request(api + "/flow_runs/filter", data=b"{}", headers={"Content-Type": "application/json"})
try:
    seen["api"] = urllib.request.urlopen(request, timeout=30).status
except urllib.error.HTTPError as exc:
    seen["api"] = exc.code
print(json.dumps(seen))
"""


def _as_another_account() -> list[str]:
    """The command prefix that runs a program as `nobody`, with no group of ours; skip where there is none."""
    if os.geteuid() != 0:
        pytest.skip("only root can run a program as another local account here (tests run as root in CI)")
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    pytest.skip("neither setpriv nor runuser is installed: no way to become a second local user")


@pytest.mark.slow
@pytest.mark.server
def test_a_second_local_user_can_read_neither_the_secret_nor_the_api(prefect_api, prefect_workspace):
    path = prefect_workspace / "secrets" / "prefect-auth"
    # Only what the program itself reads; none of our environment (the session's secret is in it).
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    done = subprocess.run(
        [*_as_another_account(), sys.executable, "-I", "-S", "-c", SECOND_USER, str(path), prefect_api],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen == {"secret": "permission denied", "api": 401}, seen
    assert path.is_file()  # it was there to be read, by its owner only
    # Prefect's database holds what the API guards (runs, parameters, logs): not readable around the API
    database = next((prefect_workspace / "prefect").glob("*.db"))
    copied = subprocess.run([*_as_another_account(), "/bin/cat", str(database)], env=env, capture_output=True)
    assert copied.returncode != 0 and b"Permission denied" in copied.stderr and not copied.stdout


def test_a_secret_file_others_can_read_is_refused_in_one_line(invoke, workspace, monkeypatch):
    """A 0644 secret may have been read (or written) by another account: refused before any server starts."""
    from teaching.infra.config import Settings
    from teaching.infra.services import stop_prefect_server

    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # this workspace's own server, not the session's
    path = workspace / "secrets" / "prefect-auth"
    path.parent.mkdir(mode=0o700, parents=True)
    path.write_text("mlops-levels:readable-by-all")
    path.chmod(0o644)
    try:
        result = invoke("run", "2")
    finally:
        stop_prefect_server(Settings())
    lines = result.output.strip().splitlines()
    assert result.exit_code == 3 and len(lines) == 1, result.output
    assert str(path) in lines[0] and "chmod 600" in lines[0] and "readable-by-all" not in result.output
    assert not (workspace / "prefect" / "server.json").exists()  # no server started with it


def test_a_worker_without_the_class_secret_is_refused_before_it_asks_anything(monkeypatch, tmp_path):
    from common.errors import UsageError
    from teaching.infra.classroom import worker_command
    from teaching.infra.config import Settings

    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    with pytest.raises(UsageError) as refused:  # away from the class's host: no file to read it from
        worker_command(Settings(workspace=tmp_path / "ws"), "http://127.0.0.1:9/api", None, None, 1)
    assert "PREFECT_API_AUTH_STRING" in str(refused.value)


def test_a_students_env_file_carries_the_class_secret_and_only_its_owner_reads_it(tmp_path):
    from teaching.infra.classroom import write_student_env
    from teaching.infra.classroom_auth import prefect_auth_file
    from teaching.infra.secrets import ensure_secret_file

    stack = tmp_path / "stack"
    secret = ensure_secret_file(prefect_auth_file(stack))
    state = {"prefect": {"api_url": "http://127.0.0.1:4200/api"}, "mlflow": {"url": "http://127.0.0.1:5000"}}
    env_file = write_student_env(stack, state, "alice")
    pairs = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line)
    assert pairs["PREFECT_API_AUTH_STRING"] == secret
    assert pairs["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5000"  # the address comes with the login
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(prefect_auth_file(stack).stat().st_mode) == 0o600


@pytest.mark.slow
@pytest.mark.server
def test_a_server_an_older_toolkit_left_without_auth_is_replaced_not_reused(settings, monkeypatch):
    """A workspace upgraded while its server runs: that server lets anyone in, so the next command stops it
    and starts one that asks for the secret."""
    from teaching.infra.processes import identity
    from teaching.infra.services import ensure_prefect_api, stop_prefect_server
    from teaching.infra.serving import free_port, http_ok

    monkeypatch.delenv("PREFECT_API_URL", raising=False)  # this workspace's own server, not the session's
    home = settings.layout.prefect_home
    home.mkdir(parents=True)
    port = free_port()
    old_api = f"http://127.0.0.1:{port}/api"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env |= {"PREFECT_HOME": str(home), "PREFECT_API_URL": old_api, "PREFECT_SERVER_UI_ENABLED": "false"}
    prefect = str(Path(sys.executable).with_name("prefect"))
    old = subprocess.Popen(
        [prefect, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=home,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300  # a hung server fails this test, not the whole suite
        while not http_ok(f"{old_api}/health"):
            assert old.poll() is None and time.monotonic() < deadline, "the old-style server did not start"
            time.sleep(0.2)
        # Its record as the toolkit wrote it before: who it is and where, no secret file.
        (home / "server.json").write_text(json.dumps({**(identity(old.pid) or {}), "api_url": old_api}))
        assert httpx.post(f"{old_api}/flow_runs/filter", json={}, timeout=30).status_code == 200  # open

        api = ensure_prefect_api(settings)

        assert old.wait(timeout=60) is not None  # stopped: it was ours, and open
        assert httpx.post(f"{api}/flow_runs/filter", json={}, timeout=30).status_code == 401
    finally:
        stop_prefect_server(settings)
        if old.poll() is None:
            os.killpg(old.pid, 15)
            old.wait(timeout=60)


def test_a_host_worker_takes_mlflow_from_the_stack_not_from_the_class_variable(monkeypatch, tmp_path):
    """Every student holds the class's Prefect secret, so any of them can edit the class variable: a worker on
    the host must not send its MLflow password to the address it names."""
    from teaching.infra.classroom import worker_command
    from teaching.infra.classroom_auth import WORKER, ensure_password, prefect_auth_file
    from teaching.infra.config import Settings
    from teaching.infra.secrets import ensure_secret_file

    monkeypatch.delenv("PREFECT_API_AUTH_STRING", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_USERNAME", raising=False)
    stack = tmp_path / "stack"
    ensure_secret_file(prefect_auth_file(stack))
    ensure_password(stack, WORKER)
    (stack / "stack.json").write_text(json.dumps({"mlflow": {"url": "http://127.0.0.1:5999"}}))
    # Nothing listens on port 9: a worker that asked the class variable would fail here.
    _, env = worker_command(Settings(workspace=tmp_path / "ws"), "http://127.0.0.1:9/api", stack, None, 1)
    assert env["MLFLOW_TRACKING_URI"] == "http://127.0.0.1:5999"
    assert env["PREFECT_API_AUTH_STRING"] == prefect_auth_file(stack).read_text().strip()
