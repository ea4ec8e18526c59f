"""The class server as a class would use it, on one machine: every part a real process.

stack up --class → two students → each `run 2` goes through a worker → nobody reads, writes or
promotes another's runs or models (MLflow answers 403) → no secret on any command line → a worker
killed mid-run leaves its flow run Crashed and a second worker completes the retry → stack down
leaves no process and no port behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.faults.test_processes import nobody_listens, open_workspace, processes_mentioning, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.server]
__all__ = ["open_workspace"]  # a fixture, used by name

CLI = str(Path(sys.executable).with_name("mlops-levels"))
INSTRUCTOR_SECRETS = {"MLOPS_LEVELS_ADMIN_TOKEN": "instructor-token-7f3a", "PGPASSWORD": "instructor-pg-9c1e"}
AMBIENT = (
    "PREFECT_API_URL",
    "PREFECT_API_AUTH_STRING",
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
)


class Class:
    """The instructor's host (the stack's workspace) and the students' laptops (a workspace each)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.base = {k: v for k, v in os.environ.items() if k not in AMBIENT and not k.startswith("MLOPS_LEVELS_")}
        self.base["MLOPS_LEVELS_SYNTHETIC_ROWS"] = "4000"
        # The instructor's shell holds credentials of its own: the servers it leaves running must not.
        self.instructor = {**self.base, "MLOPS_LEVELS_WORKSPACE": str(root / "ws"), **INSTRUCTOR_SECRETS}

    def cli(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([CLI, *args], env=env or self.instructor, capture_output=True, text=True, timeout=300)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        return subprocess.Popen(
            [CLI, *args],
            env=env or self.instructor,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # a session of its own: killing it is losing that machine
        )

    def laptop(self, student: str) -> dict[str, str]:
        env_file = self.root / "ws" / "stack" / "class" / "users" / f"{student}.env"
        pairs = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if line)
        return {**self.base, **pairs, "MLOPS_LEVELS_WORKSPACE": str(self.root / f"laptop-{student}")}

    def state(self) -> dict:
        return json.loads((self.root / "ws" / "stack" / "stack.json").read_text())

    def prefect_auth(self) -> tuple[str, str]:
        user, _, password = (self.root / "ws" / "stack" / "class" / "prefect-auth").read_text().strip().partition(":")
        return user, password

    def password(self, user: str) -> str:
        return (self.root / "ws" / "stack" / "class" / "users" / f"{user}.password").read_text().strip()


def kill_machine(process: subprocess.Popen) -> None:
    """SIGKILL the worker and every process below it, including a flow run Prefect put in a session of its own."""
    doomed = {process.pid} | descendants(process.pid)
    for pid in doomed:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=30)


def descendants(root: int) -> set[int]:
    children: dict[int, set[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                # The command name may hold spaces and parentheses: the fields after its last ")" are safe.
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, set()).add(int(entry.name))
        except (OSError, IndexError, ValueError):
            pass
    found, frontier = set(), [root]
    while frontier:
        for child in children.get(frontier.pop(), ()):
            if child not in found:
                found.add(child)
                frontier.append(child)
    return found


def flow_runs(api_url: str, state_type: str, auth: tuple[str, str]) -> list[dict]:
    body = {"flow_runs": {"state": {"type": {"any_": [state_type]}}}}
    answer = httpx.post(f"{api_url}/flow_runs/filter", json=body, auth=auth, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def finished(process: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, (out[-2000:], err[-2000:])
    return json.loads(out)


def assert_isolated(url: str, alice: tuple[str, str], own_run: str, other: dict) -> None:
    """Alice against Bob's run, experiment and model: every read, write and promotion is refused."""
    as_alice = httpx.Client(base_url=url, auth=alice, timeout=30)
    assert as_alice.get("/api/2.0/mlflow/runs/get", params={"run_id": own_run}).status_code == 200
    refused = {
        "read a run": as_alice.get("/api/2.0/mlflow/runs/get", params={"run_id": other["run"]}),
        "read an experiment": as_alice.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": other["exp"]}),
        "read a model": as_alice.get("/api/2.0/mlflow/registered-models/get", params={"name": other["model"]}),
        "write a run": as_alice.post(
            "/api/2.0/mlflow/runs/log-metric", json={"run_id": other["run"], "key": "x", "value": 1, "timestamp": 0}
        ),
        "create a run": as_alice.post("/api/2.0/mlflow/runs/create", json={"experiment_id": other["exp"]}),
        "promote a version": as_alice.post(
            "/api/2.0/mlflow/registered-models/alias",
            json={"name": other["model"], "alias": "champion", "version": "1"},
        ),
        "register a version": as_alice.post(
            "/api/2.0/mlflow/model-versions/create",
            json={"name": other["model"], "source": f"runs:/{own_run}/model", "run_id": own_run},
        ),
    }
    assert {what: r.status_code for what, r in refused.items()} == {what: 403 for what in refused}
    searched = as_alice.post("/api/2.0/mlflow/runs/search", json={"experiment_ids": [other["exp"]]}).json()
    assert searched.get("runs", []) == []


def test_a_class_on_one_machine(open_workspace):
    room = Class(open_workspace.parent)
    up = room.cli("stack", "up", "--class")
    workers: list[subprocess.Popen] = []
    traps = contextlib.ExitStack()
    try:
        assert up.returncode == 0, up.stderr
        added = room.cli("stack", "users", "add", "alice", "bob", "--json")
        assert added.returncode == 0, added.stderr
        state = room.state()
        url, api_url = state["mlflow"]["url"], state["prefect"]["api_url"]

        # The class's Prefect asks for its secret: a laptop without it is told so, in one line.
        assert room.laptop("alice")["PREFECT_API_AUTH_STRING"] == ":".join(room.prefect_auth())
        without = {k: v for k, v in room.laptop("alice").items() if k != "PREFECT_API_AUTH_STRING"}
        refused = room.cli("run", "2", env=without)
        assert refused.returncode == 2 and "PREFECT_API_AUTH_STRING" in refused.stderr, refused.stderr
        for auth in (None, ("mlops-levels", "a-guess")):
            answer = httpx.post(f"{api_url}/flow_runs/filter", json={}, auth=auth, timeout=10)
            assert answer.status_code == 401, (auth, answer.status_code)

        # Every student holds the Prefect secret, so any of them can rewrite the class variable: pointed at a
        # server of theirs, it would collect the MLflow password of every laptop and worker that read it.
        trap = traps.enter_context(contextlib.closing(Trap()))
        hostile = {"tracking_uri": trap.url, "work_pool": "mlops-levels-training"}
        edited = httpx.patch(
            f"{api_url}/variables/name/mlops_levels_class",
            json={"value": hostile},
            auth=room.prefect_auth(),
            timeout=10,
        )
        assert edited.status_code == 204, edited.text
        assert room.laptop("alice")["MLFLOW_TRACKING_URI"] == url  # the address comes with the login
        lost = {k: v for k, v in room.laptop("alice").items() if k != "MLFLOW_TRACKING_URI"}
        told = room.cli("run", "2", env=lost)  # without the instructor's address: told where to find it
        assert told.returncode == 2 and "MLFLOW_TRACKING_URI" in told.stderr, told.stderr

        workers.append(room.start("stack", "worker"))
        runs = {s: room.start("run", "2", "--json", env=room.laptop(s)) for s in ("alice", "bob")}
        reports = {s: finished(p) for s, p in runs.items()}
        remote = room.start("stack", "worker", "--student", "bob", env=room.laptop("bob"))  # on bob's machine
        workers.append(remote)  # stopped in `finally` whatever happens below
        wait_until(lambda: _mlflow_address_of_worker(remote), 60, "bob's worker to start")
        assert _mlflow_address_of_worker(remote) == url  # where its flow runs would send bob's password
        workers.remove(remote)
        remote.send_signal(signal.SIGTERM)
        remote.wait(timeout=60)
        assert trap.close() == 0, "a laptop or a worker sent its MLflow password where the class variable said"
        assert reports["alice"]["artifacts"]["registered version"] == "nyc-taxi-duration-alice v1"
        assert reports["bob"]["artifacts"]["registered version"] == "nyc-taxi-duration-bob v1"

        secrets = [room.password(u) for u in ("admin", "worker", "alice", "bob")]
        secrets += [(room.root / "ws" / "stack" / name).read_text().strip() for name in ("db-password",)]
        secrets += [(room.root / "ws" / "stack" / "class" / "flask-secret-key").read_text().strip()]
        secrets += [":".join(room.prefect_auth())]
        assert processes_mentioning(str(room.root / "ws"))  # the scan below sees the stack's processes
        assert [p for secret in secrets for p in processes_with_in_argv(secret)] == []
        servers = [p for p in processes_mentioning(str(room.root / "ws")) if SERVER_WORDS.search(p)]
        assert len(servers) >= 4, servers  # postgres, mlflow server and its uvicorn, prefect server
        leaked = [p for p in servers for value in INSTRUCTOR_SECRETS.values() if value.encode() in environ(p)]
        assert leaked == []

        bob_run = reports["bob"]["artifacts"]["mlflow run"]
        as_admin = httpx.Client(base_url=url, auth=("admin", room.password("admin")), timeout=30)
        bob = {
            "run": bob_run,
            "exp": as_admin.get("/api/2.0/mlflow/runs/get", params={"run_id": bob_run}).json()["run"]["info"][
                "experiment_id"
            ],
            "model": "nyc-taxi-duration-bob",
        }
        assert_isolated(url, ("alice", room.password("alice")), reports["alice"]["artifacts"]["mlflow run"], bob)
        assert httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": bob_run}).status_code == 401
        wrong = httpx.get(f"{url}/api/2.0/mlflow/runs/get", params={"run_id": bob_run}, auth=("alice", "guess"))
        assert wrong.status_code == 401

        # A worker machine dies in the middle of Alice's next run; another worker takes the retry.
        # Months of a real size: the run is still training when its worker dies (4000 rows would be
        # done, and registered, within the seconds the test waits).
        retry = room.start("run", "2", "--json", env={**room.laptop("alice"), "MLOPS_LEVELS_SYNTHETIC_ROWS": "200000"})
        wait_until(lambda: flow_runs(api_url, "RUNNING", room.prefect_auth()), 120, "a worker to start alice's run")
        time.sleep(3)  # past the run's first heartbeat
        assert flow_runs(api_url, "RUNNING", room.prefect_auth())
        while workers:  # every worker machine dies: whichever ran the flow, its run is left behind
            kill_machine(workers.pop())
        workers.append(room.start("stack", "worker"))
        report = finished(retry, timeout=300)
        assert report["artifacts"]["registered version"] == "nyc-taxi-duration-alice v2"
        assert len(flow_runs(api_url, "CRASHED", room.prefect_auth())) == 1
    finally:
        traps.close()
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=60)
        down = room.cli("stack", "down")
    assert down.returncode == 0, down.stderr
    assert processes_mentioning(str(room.root / "ws")) == []
    assert all(nobody_listens(int(u.rsplit(":", 1)[1].split("/")[0])) for u in (url, api_url))
    assert nobody_listens(state["postgres"]["port"])


def _mlflow_address_of_worker(process: subprocess.Popen) -> str | None:
    """MLFLOW_TRACKING_URI in the environment of the Prefect worker `stack worker` started (None before)."""
    for pid in descendants(process.pid):
        try:
            pairs = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for pair in pairs:
            if pair.startswith(b"MLFLOW_TRACKING_URI="):
                return pair.split(b"=", 1)[1].decode()
    return None


class Trap:
    """A server of a student's: counts the connections it is sent (and answers none)."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.socket.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.socket.getsockname()[1]}"
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while self.running:
            try:
                connection, _ = self.socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            connection.close()

    def close(self) -> int:
        """Stop listening (again is harmless) and say how many connections came."""
        self.running = False
        self.thread.join(timeout=5)
        self.socket.close()
        return self.connections


SERVER_WORDS = re.compile(r"postgres|mlflow server|-m uvicorn|prefect server")


def environ(process: str) -> bytes:
    """The environment of a process named as processes_mentioning names it ("pid: command")."""
    try:
        return (Path("/proc") / process.split(":", 1)[0] / "environ").read_bytes()
    except OSError:
        return b""


def processes_with_in_argv(secret: str) -> list[str]:
    """Every process on the machine whose command line holds `secret` (readable by any local user)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and secret.encode() in (entry / "cmdline").read_bytes():
                found.append(entry.name)
        except OSError:
            pass
    return found


def test_nobody_listens_detects_a_listener():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert not nobody_listens(server.getsockname()[1])
