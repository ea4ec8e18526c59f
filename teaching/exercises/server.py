"""A warm check server per workspace, so `exercise check` answers in a second or two, not in ten.

    python -m teaching.exercises.server FOLDER      (started in the background by `exercise start|check`)

Why: a fresh interpreter pays for importing pandas, scikit-learn, MLflow, Prefect, FastAPI and Evidently
(~5 s on a quiet 2-core laptop, 15-25 s on a busy one) and for migrating a new MLflow sqlite store (7-10 s)
before the first line of a check runs. The server pays both once: it imports the stack, migrates one
template store, then waits on a unix socket. Each check runs in a FORKED child of the server, so

- the student's copy is imported fresh in every check (the server itself never imports `taxi_duration`),
- whatever a check changes (a global, an environment variable, a patched module) dies with its child,
- a crash, an `os._exit` or an endless loop of the student's code takes down the child only: the server
  kills a child that runs past the timeout, and answers "fall back" when a child died without a result,
  so the client runs the same check in a fresh interpreter (the old path) and a crash reads as before.

Only the student may talk to it: the socket lives in <workspace>/check-server/ (mode 0700), the client
refuses a folder that is not its own and 0700, and the server refuses a peer of another uid
(SO_PEERCRED). Its record (server.json: pid, start time, command line) lets `mlops-levels stop` and
`clean` stop it as they stop the Prefect server; it also exits by itself after IDLE_S without a check.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

IDLE_S = 30 * 60  # a class's break is shorter; a server left over night is not
STARTUP_S = 120  # the slowest start measured was ~45 s at load 9 on 2 cores
SOCKET = "sock"
RECORD = "server.json"
LOG = "server.log"
MAX_REQUEST = 1 << 20  # a request is a few paths and an environment
OUTPUT_LINES = 30
# The stack the levels and the checks import, loaded once before the first fork. The student's
# `taxi_duration` is never among them, and neither are the check modules (the harness forgets them).
PRELOAD = (
    "numpy",
    "pandas",
    "scipy.sparse",
    "sklearn.linear_model",
    "sklearn.ensemble",
    "sklearn.pipeline",
    "matplotlib",
    "matplotlib.pyplot",
    "pydantic",
    "fastapi",
    "fastapi.testclient",
    "prometheus_client",
    "prometheus_client.parser",
    "mlflow",
    "mlflow.sklearn",
    "mlflow.models",
    "mlflow.artifacts",
    "mlflow.exceptions",
    "mlflow.store.tracking.sqlalchemy_store",
    "mlflow.store.model_registry.sqlalchemy_store",
    "prefect",
    "prefect.states",
    "prefect.runtime",
    "prefect.cache_policies",
    "evidently",
    "evidently.metrics",
    "evidently.presets",
    "plotly.graph_objs",
    "plotly.io",
    "plotly.offline",
    "IPython.display",
    "narwhals",
    "pyarrow.dataset",
    "pyarrow.parquet",
    "uvicorn",
    "anyio._backends._asyncio",
    "filelock",
    "git",
    "mlflow.pyfunc",
    "opentelemetry.sdk.metrics",
    "prefect.main",
    "prefect.flows",
    "prefect.tasks",
    "watchfiles",
    "common.connections",
    "common.http",
    "common.data",
    "common.datasource",
    "common.features",
    "common.model",
    "common.schemas",
    "common.sources",
    "common.synthetic",
    "teaching.exercises.checks.fixtures",
    "teaching.exercises.harness",
)


# The client side (the CLI): find or start the server, send it a check, read the answer ---------------


def server_folder(workspace: Path) -> Path:
    from teaching.infra.workspace import Workspace

    return Workspace(workspace).check_server


def enabled() -> bool:
    """MLOPS_LEVELS_CHECK_SERVER=off checks in a fresh interpreter every time (the old, slow path)."""
    return os.environ.get("MLOPS_LEVELS_CHECK_SERVER", "on").strip().lower() not in ("off", "0", "false", "no")


def _private(folder: Path) -> bool:
    """Ours and 0700: anything else may be another user's trap, and is never talked to."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return info.st_uid == os.getuid() and (info.st_mode & 0o7777) == 0o700 and not folder.is_symlink()


def _fits(folder: Path) -> bool:
    """AF_UNIX paths end near 108 bytes; the server binds `sock.<pid>` before renaming it to `sock`, so both
    sides use this one limit: a workspace too deep for it is checked in a fresh interpreter, no server started."""
    return len(os.fsencode(folder / f"{SOCKET}.{2**22}")) < 100


def _socket_path(folder: Path) -> Path | None:
    path = folder / SOCKET
    if not _private(folder) or not _fits(folder):
        return None
    try:
        info = path.lstat()
    except OSError:
        return None
    return path if info.st_uid == os.getuid() else None


def start_in_background(workspace: Path, env: dict[str, str]) -> None:
    """Start the workspace's server unless it runs (or starts) already; do not wait for it."""
    if not enabled():
        return
    folder = server_folder(workspace)
    if _fits(folder):
        with contextlib.suppress(OSError):
            _ensure_started(folder, env)


def code_version(root: Path | None = None) -> str:
    """Which toolkit and product code a server would check with: its files' names and contents. A server
    keeps the code it imported at start, so one started before a `git pull` or an edit is replaced; an edit
    undone (the guide's swap-and-revert of the feature function) keeps it warm, as file times would not
    (hashing the ~2 MB of code takes milliseconds)."""
    root = root or Path(__file__).resolve().parents[2]
    digest = hashlib.sha256()
    for package in ("common", "teaching"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _current(folder: Path) -> dict[str, Any] | None:
    """The running server, if it checks with today's code."""
    record = _running(folder)
    return record if record and record.get("code") == code_version() else None


def _running(folder: Path) -> dict[str, Any] | None:
    from teaching.infra.processes import is_same

    try:
        record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and is_same(record) else None


def _ensure_started(folder: Path, env: dict[str, str]) -> None:
    from filelock import FileLock, Timeout

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not _private(folder):
        return
    try:
        # Two commands at once (a `check` and a `--watch`) must not start two servers.
        with FileLock(folder / "start.lock", timeout=5):
            if _current(folder):
                return
            if stale := _running(folder):  # started with code that has changed since
                from teaching.infra.processes import stop_group

                stop_group(stale, timeout=10.0)
            (folder / SOCKET).unlink(missing_ok=True)  # a dead server's socket
            with open(folder / LOG, "ab") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "teaching.exercises.server", str(folder)],
                    env=env,
                    cwd=folder,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,  # its own process group: `stop` ends it and its children
                )
            from common.atomic import write_text_atomic

            # Who it is, not only its pid: `stop` signals nothing unless the same process still runs.
            started = _identity_once_started(process)
            write_text_atomic(folder / RECORD, json.dumps({**started, "code": code_version()} if started else {}))
    except Timeout:
        return


def _identity_once_started(process: subprocess.Popen[bytes]) -> dict[str, Any] | None:
    """Its identity once it runs the server: read before its exec, /proc shows the CLI's command line,
    and a record of that would never match the running server again (a second server would start)."""
    from teaching.infra.processes import identity

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        found = identity(process.pid)
        if found and "teaching.exercises.server" in found["cmdline"]:
            return found
        time.sleep(0.01)
    return None


def _wait_for_socket(folder: Path, deadline: float) -> Path | None:
    while time.monotonic() < deadline:
        path = _socket_path(folder)
        if path is not None:
            return path
        if not _running(folder):
            return None  # it died while starting: its log says why
        time.sleep(0.1)
    return None


def check_on_server(
    workspace: Path, pairs: list[tuple[str, Path]], timeout: float, env: dict[str, str]
) -> tuple[list[dict[str, Any]], list[str]] | None:
    """(results, output) from the warm server, or None when it cannot answer (the caller checks afresh)."""
    folder = server_folder(workspace)
    if not _fits(folder):
        return None
    try:
        if _socket_path(folder) is None or not _current(folder):
            _ensure_started(folder, env)
        if not _private(folder):
            return None
        path = _wait_for_socket(folder, time.monotonic() + STARTUP_S)
        if path is None:
            return None
        request = {"pairs": [[i, str(c)] for i, c in pairs], "timeout": timeout, "env": env}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout + 60)  # the server stops a check at `timeout` itself
            connection.connect(str(path))
            connection.sendall(json.dumps(request).encode() + b"\n")
            answer = _read_line(connection)
    except (OSError, ValueError):
        return None
    if not answer:
        return None
    try:
        reply = json.loads(answer)
    except ValueError:  # cut off mid-answer (the server was stopped): check afresh
        return None
    if not isinstance(reply, dict) or "results" not in reply:
        return None  # {"fall_back": why}: the child died without a result
    return list(reply["results"]), list(reply.get("output", []))


def _read_line(connection: socket.socket) -> bytes:
    chunks = []
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        if chunk.endswith(b"\n"):
            break
    return b"".join(chunks)


def stop_server(workspace: Path) -> bool:
    """Stop the workspace's check server (only if the recorded process is the one running); True if it ran."""
    from teaching.infra.processes import stop_group

    folder = server_folder(workspace)
    record = _running(folder)
    stopped = stop_group(record, timeout=10.0) if record else False
    for name in (RECORD, SOCKET):
        with contextlib.suppress(OSError):
            (folder / name).unlink()
    return stopped


# The server side -------------------------------------------------------------------------------------


def _preload() -> None:
    """Import the stack and fill the caches a check would fill again in every child (the same values)."""
    import importlib
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            with contextlib.suppress(Exception):  # a missing optional library is the check's finding, later
                importlib.import_module(name)
        # MLflow maps every installed package's modules on its first log_model (~1.3-3 s): once, here.
        with contextlib.suppress(Exception):
            from mlflow.utils.requirements_utils import _init_packages_to_modules_map

            _init_packages_to_modules_map()  # type: ignore[no-untyped-call]
        with contextlib.suppress(Exception):  # the small months and models the checks share (fixtures.py)
            from teaching.exercises.checking import SMALL_ROWS
            from teaching.exercises.checks import fixtures

            fixtures.month("2021-01", rows=2 * SMALL_ROWS)
            fixtures.model()
            fixtures.model("ridge", alpha=1e6)
        with contextlib.suppress(Exception):
            _warm_evidently()


def _warm_evidently() -> None:
    """One small drift and regression report, saved: Evidently and plotly load most of their code lazily,
    on the first report (~2 s a check otherwise). Library code only; no student code runs here."""
    import numpy as np
    import pandas as pd
    from evidently import DataDefinition, Dataset, Regression, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import RegressionPreset

    rows = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "PULocationID": rows.integers(1, 50, 200),
            "trip_distance": rows.random(200) * 5,
            "prediction": rows.random(200) * 20,
            "duration": rows.random(200) * 20,
        }
    )
    numbers = DataDefinition(numerical_columns=["trip_distance", "prediction"], categorical_columns=["PULocationID"])
    target = DataDefinition(
        numerical_columns=["trip_distance", "prediction", "duration"],
        categorical_columns=["PULocationID"],
        regression=[Regression(target="duration", prediction="prediction")],
    )
    drift = Report(
        [
            ValueDrift(column="PULocationID", method="jensenshannon", threshold=0.15),
            ValueDrift(column="trip_distance", method="wasserstein", threshold=0.1),
        ]
    ).run(Dataset.from_pandas(frame, data_definition=numbers), Dataset.from_pandas(frame, data_definition=numbers))
    quality = Report([RegressionPreset()]).run(Dataset.from_pandas(frame, data_definition=target), None)
    with tempfile.TemporaryDirectory() as tmp:
        for snapshot in (drift, quality):
            snapshot.save_html(str(Path(tmp) / "report.html"))
            snapshot.save_json(str(Path(tmp) / "report.json"))


def make_template(folder: Path) -> Path | None:
    """An MLflow sqlite store migrated once (7-10 s); each check gets a copy (0.1 s). None if it fails."""
    import mlflow
    from mlflow.store.db.utils import _get_latest_schema_revision
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    head = _get_latest_schema_revision()  # type: ignore[no-untyped-call]
    path = folder / f"mlflow-template-{mlflow.__version__}-{head}.db"
    if path.is_file():
        return path
    try:
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            building = Path(tmp) / "mlflow.db"
            store = SqlAlchemyStore(f"sqlite:///{building}", str(Path(tmp) / "mlruns"))  # type: ignore[no-untyped-call]
            store.engine.dispose()
            os.replace(building, path)
    except Exception as exc:  # checks still run, on stores of their own: slower, never wrong
        print(f"no template store ({type(exc).__name__}: {exc}); each check migrates its own", flush=True)
        return None
    return path


class Server:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.child: int | None = None
        self.template: Path | None = None
        self.socket_inode = 0

    def serve(self) -> int:
        started = time.perf_counter()
        _preload()
        self.template = make_template(self.folder)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        building = self.folder / f"{SOCKET}.{os.getpid()}"
        building.unlink(missing_ok=True)
        listener.bind(str(building))
        os.chmod(building, 0o600)
        listener.listen(8)
        os.replace(building, self.folder / SOCKET)  # clients see the socket only once it answers
        self.socket_inode = os.stat(self.folder / SOCKET).st_ino
        print(f"ready in {time.perf_counter() - started:.1f} s (pid {os.getpid()})", flush=True)
        try:
            return self._loop(listener)
        finally:
            listener.close()
            if self._still_ours():
                with contextlib.suppress(OSError):
                    (self.folder / SOCKET).unlink()

    def _loop(self, listener: socket.socket) -> int:
        last = time.monotonic()
        while time.monotonic() - last < IDLE_S:
            ready, _, _ = select.select([listener], [], [], 30)
            if not self._still_ours():
                return 0  # `clean` removed the workspace, or another server took over the socket
            if not ready:
                continue
            connection, _ = listener.accept()
            with connection:
                self._answer(connection)
            last = time.monotonic()
        print("idle: exiting", flush=True)
        return 0

    def _still_ours(self) -> bool:
        try:
            return os.stat(self.folder / SOCKET).st_ino == self.socket_inode
        except OSError:
            return False

    def _answer(self, connection: socket.socket) -> None:
        peer_credentials = getattr(socket, "SO_PEERCRED", None)  # Linux; elsewhere the 0700 folder guards alone
        if peer_credentials is not None:
            uid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, peer_credentials, 12))[1]
            if uid != os.getuid():
                return  # another user's process: not a word
        connection.settimeout(10)
        try:
            line = _read_line(connection)[:MAX_REQUEST]
            request = json.loads(line)
            reply = self._check(request)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            reply = {"fall_back": f"{type(exc).__name__}: {exc}"}
        with contextlib.suppress(OSError):
            connection.settimeout(10)
            connection.sendall(json.dumps(reply).encode() + b"\n")

    def _check(self, request: dict[str, Any]) -> dict[str, Any]:
        pairs = [(str(i), str(c)) for i, c in request["pairs"]]
        timeout = float(request["timeout"])
        env = {str(k): str(v) for k, v in dict(request["env"]).items()}
        with tempfile.TemporaryDirectory(prefix="mlops-levels-check-") as tmp:
            result_file, output_file = Path(tmp) / "result.json", Path(tmp) / "output.txt"
            pid = os.fork()
            if pid == 0:  # the child: never returns
                self._child(pairs, env, Path(tmp), result_file, output_file)
            self.child = pid
            status = _wait(pid, timeout)
            self.child = None
            output = _tail(output_file)
            if status is None:
                reason = f"the checks did not finish in {timeout:.0f} s (an endless loop?)"
                stopped = {"exercise": pairs[0][0], "passed": False}
                return {"results": [{**stopped, "checks": [{"name": "runs", "passed": False, "reason": reason}]}]}
            if status != 0 or not result_file.exists():
                return {"fall_back": f"the check's process ended with status {status}", "output": output}
            return {"results": json.loads(result_file.read_text(encoding="utf-8")), "output": output}

    def _child(self, pairs: list[tuple[str, str]], env: dict[str, str], tmp: Path, result: Path, out: Path) -> None:
        code = 70
        try:
            os.setsid()  # a group of its own: whatever the student's code starts is stopped with it
            for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            with open(out, "wb") as output:  # what the checks print, as the fresh interpreter's output
                os.dup2(output.fileno(), 1)
                os.dup2(output.fileno(), 2)
            # What a fresh interpreter would start with: its own random seeds, no .pyc in the copy.
            import random

            random.seed()
            if "numpy" in sys.modules:
                sys.modules["numpy"].random.seed()
            sys.dont_write_bytecode = True
            os.environ.clear()
            os.environ.update({**env, "TMPDIR": str(tmp)})
            tempfile.tempdir = None  # tempfile caches its folder: the check's own, as in a fresh interpreter
            os.chdir(tmp)
            from teaching.exercises.harness import run_one

            results = [run_one(exercise_id, Path(copy).resolve(), self.template) for exercise_id, copy in pairs]
            import resource

            used = resource.getrusage(resource.RUSAGE_SELF)  # a forked child's counters start at zero
            for one in results:  # what the check cost on a CPU, whatever else the machine does (bench)
                one["check_cpu_seconds"] = round((used.ru_utime + used.ru_stime) / len(results), 2)
            result.write_text(json.dumps(results), encoding="utf-8")
            code = 0
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)

    def stop(self, signum: int, frame: Any) -> None:
        if self.child:
            _kill(self.child)
        raise SystemExit(0)


def _kill(pid: int) -> None:
    """The child and whatever it started (its own process group, once it made one), for good."""
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(OSError):  # killed before its setsid(): the group is not its own yet
        os.kill(pid, signal.SIGKILL)


def _wait(pid: int, timeout: float) -> int | None:
    """The child's exit status, or None after killing it at the timeout."""
    deadline = time.monotonic() + timeout
    try:
        waiter = os.pidfd_open(pid)
    except (AttributeError, OSError):
        waiter = None
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status)
            left = deadline - time.monotonic()
            if left <= 0:
                _kill(pid)
                os.waitpid(pid, 0)
                return None
            if waiter is not None:
                select.select([waiter], [], [], left)
            else:
                time.sleep(min(left, 0.02))
    finally:
        if waiter is not None:
            os.close(waiter)


def _tail(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()[-OUTPUT_LINES:]
    except OSError:
        return []


def main(argv: list[str]) -> int:
    folder = Path(argv[0]).resolve()
    if not _private(folder):
        print(f"refusing {folder}: not a 0700 folder of this user", flush=True)
        return 2
    server = Server(folder)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, server.stop)
    return server.serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
