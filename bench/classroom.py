"""One class server, two workers, N simulated students submitting `run 2` at once (N = 1, 10, 30).

Each simulated student does what `mlops-levels run 2 --stack-url …` does on a laptop, minus the
laptop: the same deployment, the same parameters (their own experiment and model, small synthetic
months), submitted to their queue of the class's pool; two `mlops-levels stack worker` processes
(2 flow runs at once each) execute them. Measured: runs per minute, p50/p95 time from submit to the
registered model version, and the peak memory (PSS) of the stack's processes (PostgreSQL, MLflow,
Prefect) and of the workers with their flow runs. N = 1 is the baseline: one run alone on the same stack.

    .venv/bin/python bench/classroom.py            # ~10 minutes on 2 cores
    .venv/bin/python bench/classroom.py 1 5        # other class sizes
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common_bench import ROOT, save

sys.path.insert(0, str(ROOT))
CLI = str(Path(sys.executable).with_name("mlops-levels"))
ROWS = 4000


class MemorySampler(threading.Thread):
    """Peak summed PSS of the processes under given roots (their whole trees), sampled every second."""

    def __init__(self, roots: dict[str, list[int]]) -> None:
        super().__init__(daemon=True)
        self.roots, self.peak_mb = roots, dict.fromkeys(roots, 0.0)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(1.0):
            children = _children_map()
            for name, roots in self.roots.items():
                total = sum(_pss_kb(pid) for pid in _tree(roots, children)) / 1024
                self.peak_mb[name] = max(self.peak_mb[name], total)


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit():
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry.name))
        except OSError:
            pass
    return children


def _tree(roots: list[int], children: dict[int, list[int]]) -> list[int]:
    found, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(roots: list[int]) -> float:
    """CPU time used so far by these processes, their live descendants and their reaped children."""
    ticks, children = 0, _children_map()
    for pid in _tree(roots, children):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def submit_class(students: list[str], api_url: str, tracking_uri: str) -> list[float]:
    """Submit one `run 2` per student at once; seconds from each submit to its registered version."""
    from mlflow import MlflowClient
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    from teaching.infra.classroom import POOL, student_queue
    from teaching.infra.classroom_submit import deploy
    from teaching.infra.config import Settings, experiment_name

    folder = ROOT / "levels" / "level_2"
    name = deploy(2, folder, Settings(stack_url=api_url, work_pool=POOL))
    submitted = {}
    for student in students:
        settings = Settings(student=student, synthetic_rows=ROWS, tracking_uri=tracking_uri)
        parameters = {"train_data": "2021-01", "val_data": "2021-02", "model": "linear_regression"}
        parameters |= {"model_name": settings.model_name, "experiment": experiment_name(2, student)}
        run = run_deployment(name, parameters=parameters, timeout=0, work_queue_name=student_queue(student))
        submitted[run.id] = (student, time.time())
    with get_client(sync_client=True) as client:
        while pending := [i for i in submitted if not client.read_flow_run(i).state.is_final()]:
            print(f"  {len(submitted) - len(pending)}/{len(submitted)} done", end="\r", flush=True)
            time.sleep(2)
        states = {i: client.read_flow_run(i).state.name for i in submitted}
    failed = [s for s in states.values() if s != "Completed"]
    if failed:
        raise RuntimeError(f"flow runs ended {failed}")
    mlflow_client = MlflowClient(tracking_uri)
    latencies = []
    for student, started in submitted.values():
        versions = mlflow_client.search_model_versions(f"name='nyc-taxi-duration-{student}'")
        newest = max(versions, key=lambda v: int(v.version))
        latencies.append(newest.creation_timestamp / 1000 - started)
    return latencies


def main(sizes: list[int]) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-class-"))
    root.chmod(0o755)  # as root, PostgreSQL runs as `postgres`, who must reach the workspace
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "MLFLOW_TRACKING", "MLOPS_LEVELS"))}
    env["MLOPS_LEVELS_WORKSPACE"] = str(root / "ws")
    env["MLOPS_LEVELS_SYNTHETIC_ROWS"] = str(ROWS)  # the workers read the months' size from their environment
    workers: list[subprocess.Popen] = []
    try:
        started = time.perf_counter()
        subprocess.run([CLI, "stack", "up", "--class"], env=env, check=True, capture_output=True)
        up_seconds = time.perf_counter() - started
        students = [f"s{i:02d}" for i in range(1, max(sizes) + 1)]
        (root / "roster.txt").write_text("\n".join(students))
        started = time.perf_counter()
        subprocess.run([CLI, "stack", "users", "add", "--roster", str(root / "roster.txt")], env=env, check=True)
        enrol_seconds = time.perf_counter() - started
        state = __import__("json").loads((root / "ws" / "stack" / "stack.json").read_text())
        workers = [
            subprocess.Popen([CLI, "stack", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for _ in range(2)
        ]
        postmaster = int((root / "ws/stack/postgres/data/postmaster.pid").read_text().split()[0])
        prefect = __import__("json").loads((root / "ws" / "prefect" / "server.json").read_text())["pid"]
        sampler = MemorySampler(
            {"stack": [postmaster, state["mlflow"]["pid"], prefect], "workers": [w.pid for w in workers]}
        )
        sampler.start()
        os.environ["PREFECT_API_URL"] = state["prefect"]["api_url"]
        os.environ["PREFECT_API_AUTH_STRING"] = (root / "ws/stack/class/prefect-auth").read_text().strip()
        os.environ["MLFLOW_TRACKING_USERNAME"] = "admin"
        os.environ["MLFLOW_TRACKING_PASSWORD"] = (root / "ws/stack/class/users/admin.password").read_text().strip()
        result: dict[str, object] = {
            "stack up --class (s)": round(up_seconds, 1),
            f"users add, {len(students)} students (s)": round(enrol_seconds, 1),
        }
        solo = None
        for size in sizes:
            sampler.peak_mb = dict.fromkeys(sampler.peak_mb, 0.0)
            began, cpu_before = time.perf_counter(), cpu_seconds(sampler.roots["stack"])
            latencies = sorted(submit_class(students[:size], state["prefect"]["api_url"], state["mlflow"]["url"]))
            wall = time.perf_counter() - began
            stack_cpu = cpu_seconds(sampler.roots["stack"]) - cpu_before
            p95 = latencies[max(0, round(0.95 * len(latencies)) - 1)]
            solo = solo or statistics.median(latencies)
            result[f"N={size}: runs per minute"] = round(size / wall * 60, 1)
            result[f"N={size}: submit->registered p50 / p95 (s)"] = f"{statistics.median(latencies):.1f} / {p95:.1f}"
            result[f"N={size}: p95 / solo run"] = round(p95 / solo, 1)
            result[f"N={size}: stack CPU per run (s)"] = round(stack_cpu / size, 2)
            result[f"N={size}: peak PSS stack / workers (MB)"] = (
                f"{sampler.peak_mb['stack']:.0f} / {sampler.peak_mb['workers']:.0f}"
            )
        sampler.stopping.set()
        save("classroom", result)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(timeout=60)
        subprocess.run([CLI, "stack", "down"], env=env, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [1, 10, 30])
