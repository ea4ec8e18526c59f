"""Processes the toolkit starts are its own to stop, and only those: real processes, real signals.

- a stale prefect/server.json whose pid now belongs to another program: `stop` signals nothing;
- `ui 2` stopped by SIGTERM, SIGINT or SIGHUP, or killed outright: its `mlflow server` and uvicorn go with it;
- `stack up` interrupted half-way: nothing it started is left running.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from teaching.infra.serving import free_port, http_ok

CLI = str(Path(sys.executable).with_name("mlops-levels"))


def processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line or environment names `text` (e.g. a test's workspace)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
                continue
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if text.encode() in cmdline or text.encode() in environ:
            shown = cmdline.replace(b"\0", b" ")[:200].decode(errors="replace")
            found.append(f"{entry.name}: {shown}")
    return found


def nobody_listens(port: int) -> bool:
    """A connect is refused (a bind test would also trip over the TIME_WAIT the health checks leave)."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture
def stranger():
    """An unrelated process, in a process group of its own, that must survive."""
    process = subprocess.Popen(["sleep", "300"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


@pytest.mark.parametrize("recorded", ["another start time", "no identity (an old server.json)"])
def test_stop_with_a_stale_server_json_signals_nothing(invoke, workspace, stranger, recorded):
    from teaching.infra.processes import identity

    state = {"pid": stranger.pid, "api_url": "http://127.0.0.1:9/api"}
    if recorded == "another start time":
        real = identity(stranger.pid)
        state.update(start=real["start"] - 1, cmdline=["prefect", "server", "start"])
    (workspace / "prefect").mkdir(parents=True)
    (workspace / "prefect" / "server.json").write_text(json.dumps(state))

    result = invoke("stop")

    assert result.exit_code == 0, result.output
    assert "No server was running" in result.output
    assert stranger.poll() is None, "stop signalled a process the toolkit did not start"
    assert not (workspace / "prefect" / "server.json").exists()


def _write_server_json(workspace: Path, state: dict) -> Path:
    path = workspace / "prefect" / "server.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**state, "api_url": "http://127.0.0.1:9/api"}))
    return path


@pytest.fixture
def signals_sent(monkeypatch):
    """Every signal the toolkit sends, recorded and NOT delivered: a forged record may name init's group."""
    sent: list[tuple[str, int, int]] = []
    monkeypatch.setattr(os, "kill", lambda pid, signum: sent.append(("kill", pid, signum)))
    monkeypatch.setattr(os, "killpg", lambda pgid, signum: sent.append(("killpg", pgid, signum)))
    return sent


def _init_itself() -> dict:
    from teaching.infra.processes import identity

    return identity(1) or {"pid": 1, "start": 0, "cmdline": []}


@pytest.mark.parametrize(
    "forged",
    [
        {"pid": 0, "start": 0, "cmdline": []},
        {"pid": -1, "start": 0, "cmdline": []},
        {"pid": "1", "start": 0, "cmdline": []},
        {"pid": 1.0, "start": 0, "cmdline": []},
        "init, exactly as it runs",
    ],
    ids=["pid 0", "pid -1", "pid as text", "pid as float", "pid 1 with init's own identity"],
)
def test_stop_refuses_a_record_naming_pid_0_or_1_or_not_an_int(invoke, workspace, signals_sent, forged):
    record = _write_server_json(workspace, _init_itself() if isinstance(forged, str) else forged)

    result = invoke("stop")

    assert result.exit_code == 0, result.output
    assert signals_sent == []
    assert "stale server record" in result.output
    assert not record.exists()


@pytest.fixture
def orphaned_group():
    """A process group whose leader has exited while a member (started after it) lives on: (leader, member).
    The member blocks the stop signals, so a signal sent to it stays pending, for `pending_stops` to see."""
    member = f"{sys.executable} -c {shlex.quote(BLOCKS_STOPS)}"
    shell = subprocess.Popen(
        ["sh", "-c", f"{member} </dev/null >/dev/null 2>&1 & echo $!"], start_new_session=True, stdout=subprocess.PIPE
    )
    member = int(shell.stdout.readline())
    shell.wait()
    shell.stdout.close()
    wait_until(lambda: blocking_stops(member), 30, "the member to block stop signals")
    yield shell.pid, member
    with contextlib.suppress(ProcessLookupError):
        os.kill(member, signal.SIGKILL)


def test_stop_leaves_alone_a_group_whose_recorded_leader_is_dead(invoke, workspace, orphaned_group):
    from teaching.infra.processes import identity

    leader, member = orphaned_group
    assert os.getpgid(member) == leader and identity(leader) is None
    record = _write_server_json(workspace, {"pid": leader, "start": 0, "cmdline": ["prefect", "server", "start"]})

    result = invoke("stop")

    assert result.exit_code == 0, result.output
    assert f"still run: {member}" in result.output and f"kill {member}" in result.output  # never silent
    assert record.exists()  # what names the survivors is not thrown away
    assert untouched(member), "stop signalled a group whose recorded leader was gone"
    os.kill(member, signal.SIGTERM)  # and the check sees a signal when one is sent
    assert not untouched(member)


# Blocks the stop signals, and takes one (so ends by it) once one is pending: a signal sent to it is
# pending (readable in /proc) or has ended it, so a test can tell at once, without waiting for a
# delivery, whether anything was sent.
BLOCKS_STOPS = (
    "import signal, time; stops = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}; "
    "signal.pthread_sigmask(signal.SIG_BLOCK, stops)\n"
    "while not signal.sigpending() & stops: time.sleep(0.05)\n"
    "signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)"  # the signal is taken now: it ends the process as sent
)
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT, signal.SIGHUP}


def _status_mask(pid: int, field: str) -> int:
    for line in (Path("/proc") / str(pid) / "status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1], 16)
    return 0


def untouched(pid: int) -> bool:
    """`pid` (a BLOCKS_STOPS process) still runs and no stop signal was sent to it."""
    try:
        mask = _status_mask(pid, "SigPnd") | _status_mask(pid, "ShdPnd")
    except FileNotFoundError:
        return False  # it ended: only a stop signal ends it
    return not any(mask & (1 << (s.value - 1)) for s in STOP_SIGNALS)


def blocking_stops(pid: int) -> bool:
    blocked = _status_mask(pid, "SigBlk")
    return all(blocked & (1 << (s.value - 1)) for s in STOP_SIGNALS)


def _server_of(workspace: Path) -> subprocess.Popen:
    """A stand-in for the workspace's Prefect server: what `stop` checks is who it is and whose home it has."""
    (workspace / "prefect").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PREFECT_HOME": str(workspace / "prefect")}
    server = subprocess.Popen([sys.executable, "-c", BLOCKS_STOPS], env=env, start_new_session=True)
    wait_until(lambda: blocking_stops(server.pid), 30, "the stand-in to block stop signals")
    return server


def test_stop_in_a_copied_workspace_leaves_the_original_server_alone(invoke, workspace, tmp_path):
    from teaching.infra.processes import identity

    server = _server_of(workspace)
    try:
        _write_server_json(workspace, identity(server.pid))
        copy = tmp_path / "copy"
        shutil.copytree(workspace, copy)  # server.json comes along, naming the original's server

        result = invoke("--workspace", str(copy), "stop")

        assert result.exit_code == 0, result.output
        assert "stale server record" in result.output
        assert server.poll() is None and untouched(server.pid), "stop in the copy signalled the original's server"
        assert "stopped the Prefect server" in invoke("stop").output  # its own workspace still can
    finally:
        server.kill()
        server.wait()


def test_stop_still_stops_the_server_it_recorded(invoke, workspace):
    from teaching.infra.processes import identity

    server = _server_of(workspace)
    try:
        _write_server_json(workspace, identity(server.pid))

        result = invoke("stop")

        assert result.exit_code == 0, result.output
        assert "stopped the Prefect server" in result.output
        assert server.wait(timeout=10) == -signal.SIGTERM
    finally:
        server.kill()
        server.wait()


@pytest.fixture(scope="session")
def mlflow_store(tmp_path_factory) -> Path:
    """An empty but real MLflow store (`ui` refuses a file without MLflow's tables), made once."""
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("store") / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{path}").search_experiments()  # creates the tables
    return path


def _start_ui(workspace: Path, template: Path, cwd: Path | None = None) -> tuple[subprocess.Popen, int]:
    """`ui 2` on a copy of an empty store, started as a terminal would start it; returns once it answers."""
    (workspace / "level_2").mkdir(parents=True)
    shutil.copy(template, workspace / "level_2" / "mlflow.db")
    port = free_port()
    ui = subprocess.Popen(
        [CLI, "ui", "2", "--port", str(port)],
        env={**os.environ, "MLOPS_LEVELS_WORKSPACE": str(workspace)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the test signals the command, not its group
        cwd=cwd,
    )
    try:
        wait_until(lambda: http_ok(f"http://127.0.0.1:{port}/health"), 120, "the MLflow UI")
    except BaseException:
        os.killpg(ui.pid, signal.SIGKILL)
        raise
    return ui, port


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_ui_takes_its_mlflow_server_down_with_it(workspace, mlflow_store, signum):
    ui, port = _start_ui(workspace, mlflow_store)
    try:
        assert len(processes_mentioning(str(workspace))) >= 2  # mlflow server and its uvicorn

        ui.send_signal(signum)
        ui.wait(timeout=30)

        assert processes_mentioning(str(workspace)) == []
        assert nobody_listens(port)
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)


@pytest.mark.slow
@pytest.mark.server
def test_ui_started_in_a_folder_with_a_uvicorn_py_still_runs_the_real_one(workspace, mlflow_store, tmp_path):
    """mlflow runs `python -m uvicorn`, which imports from the current folder first: a student's file there
    must not become the server."""
    folder = tmp_path / "students-folder"
    folder.mkdir()
    marker = tmp_path / "hijacked"
    for name in ("uvicorn.py", "mlflow.py", "prefect.py"):
        (folder / name).write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    ui, _ = _start_ui(workspace, mlflow_store, cwd=folder)  # fails if the fake uvicorn ran instead
    try:
        assert not marker.exists(), marker.read_text()
    finally:
        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.server
def test_ui_killed_outright_still_takes_its_mlflow_server_down(workspace, mlflow_store):
    """SIGKILL leaves the command no chance to stop anything: the server's guardian must notice alone."""
    ui, port = _start_ui(workspace, mlflow_store)
    try:
        os.kill(ui.pid, signal.SIGKILL)
        ui.wait(timeout=30)

        wait_until(lambda: processes_mentioning(str(workspace)) == [], 30, "the orphaned MLflow server to stop")
        assert nobody_listens(port)
    finally:
        for pid in processes_mentioning(str(workspace)):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid.split(":")[0]), signal.SIGKILL)


@pytest.fixture
def open_workspace(monkeypatch):
    """As root, PostgreSQL runs as `postgres`, who cannot enter pytest's private (0700) tmp folders."""
    if not (shutil.which("initdb") or glob.glob("/usr/lib/postgresql/*/bin/initdb")):
        pytest.skip("PostgreSQL is not installed here")
    folder = Path(tempfile.mkdtemp(prefix="mlops-faults-"))
    folder.chmod(0o755)
    yield folder / "ws"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.server
def test_stack_up_interrupted_half_way_leaves_nothing_behind(open_workspace):
    workspace = open_workspace
    env = {key: value for key, value in os.environ.items() if key != "PREFECT_API_URL"}
    up = subprocess.Popen(
        [CLI, "stack", "up"],
        env={**env, "MLOPS_LEVELS_WORKSPACE": str(workspace)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        # Half-way: PostgreSQL is up and the MLflow server is starting.
        wait_until(lambda: (workspace / "stack" / "mlflow.log").exists(), 120, "the MLflow server to start")
        assert processes_mentioning(str(workspace))

        up.send_signal(signal.SIGTERM)
        code = up.wait(timeout=90)

        assert code != 0
        assert processes_mentioning(str(workspace)) == []
        assert not (workspace / "stack" / "postgres" / "data" / "postmaster.pid").exists()
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
        subprocess.run([CLI, "stack", "down"], env={**env, "MLOPS_LEVELS_WORKSPACE": str(workspace)})


COUNTS_STOPS = """
import signal, sys, time
seen = []
def count(signum, frame):
    seen.append(signum)
    open(sys.argv[1], "a").write("TERM\\n")
    if len(seen) > 1:  # what a Prefect worker does on a second SIGTERM: kill itself
        sys.exit(137)
signal.signal(signal.SIGTERM, count)
open(sys.argv[1], "a").write("ready\\n")
while len(seen) == 0:
    time.sleep(0.05)
time.sleep(1.0)  # a graceful shutdown takes a moment: a second SIGTERM would land in it
"""

DRIVES_RUN_OWNED = """
import sys
from teaching.infra.processes import run_owned
sys.exit(run_owned([sys.executable, "-c", sys.argv[1], sys.argv[2]], env={}))
"""


def test_a_stop_reaches_a_foreground_server_once(tmp_path):
    """Ctrl-C on `stack worker`: the worker gets one SIGTERM (a second one is a kill to a Prefect worker)."""
    record = tmp_path / "signals"
    driver = subprocess.Popen(
        [sys.executable, "-c", DRIVES_RUN_OWNED, COUNTS_STOPS, str(record)],
        env={**os.environ},
        start_new_session=True,
    )
    try:
        wait_until(lambda: record.exists() and "ready" in record.read_text(), 30, "the server to start")
        driver.send_signal(signal.SIGINT)
        assert driver.wait(timeout=30) == 0
        assert record.read_text().split() == ["ready", "TERM"]
    finally:
        if driver.poll() is None:
            os.killpg(driver.pid, signal.SIGKILL)


WRITES_ITS_PID = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)"


def test_a_foreground_server_is_announced_only_once_it_answers(tmp_path):
    """`ui N` printed its address ~11 s before MLflow listened: the announcement waits for an answer."""
    from teaching.infra.processes import Readiness, run_owned

    pid_file, announced = tmp_path / "pid", []

    def answers() -> bool:
        return pid_file.exists() and pid_file.read_text() != ""

    def then() -> None:
        announced.append(pid_file.read_text())
        os.kill(os.getpid(), signal.SIGINT)  # the person's Ctrl-C, once it is up

    command = [sys.executable, "-c", WRITES_ITS_PID, str(pid_file)]
    assert run_owned(command, env={}, ready=Readiness(answers, then, timeout=30)) == 0
    assert announced == [pid_file.read_text()]


def test_a_foreground_server_that_never_answers_is_stopped_and_never_announced(tmp_path):
    from teaching.infra.processes import NeverAnswered, Readiness, identity, run_owned

    pid_file, announced = tmp_path / "pid", []
    command = [sys.executable, "-c", WRITES_ITS_PID, str(pid_file)]
    with pytest.raises(NeverAnswered):
        run_owned(command, env={}, ready=Readiness(lambda: False, lambda: announced.append(1), timeout=5))
    assert announced == []
    assert pid_file.exists()  # it had started: it was stopped, not left running
    assert identity(int(pid_file.read_text())) is None
