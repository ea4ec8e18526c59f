"""`assess` speed, each figure with a baseline measured in the same run.

1. A 300-file repository (issue 22: at most 1 s per project on the 2-core machine): a team's project
   with a package, tests, notebooks, CI that goes through make and shell scripts, a job spec,
   manifests, data and docs. Timed in-process (start-up excluded, and reported on its own), against
   two baselines in the same run: the code before issue 22 (commit 090691b, extracted from git and run
   the same way) and a fixed reference workload (CPython's `ast.parse` of the same Python files).
2. A 60,000-file tree shaped like a large ML monorepo, against `os.walk` listing the same tree; a second
   tree has ten times the Python (6,000 modules). Target: seconds.

    python bench/assess_speed.py           # both
    python bench/assess_speed.py --small   # the 300-file repository only
"""

from __future__ import annotations

import ast
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common_bench import ROOT, save  # noqa: E402

MODULE = '''"""Module {i}: features and training helpers."""
import mlflow
import pandas as pd
from sklearn.linear_model import Ridge

from pkg_{p}.module_{j} import helper_{j}


def helper_{i}(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["ratio_{i}"] = df["a"] / (df["b"] + 1)
    return df


class Model{i}:
    def __init__(self, alpha: float = 1.0) -> None:
        self.model = Ridge(alpha=alpha)

    def fit(self, df: pd.DataFrame) -> "Model{i}":
        features = helper_{j}(helper_{i}(df))
        self.model.fit(features[["a", "b"]], features["y"])
        return self


def train_{i}(path: str) -> None:
    with mlflow.start_run():
        model = Model{i}().fit(pd.read_parquet(path))
        mlflow.log_metric("rmse_{i}", 0.0)
        print(model)
'''
TEST = "from pkg_{p}.module_{i} import helper_{i}\n\n\ndef test_helper_{i}():\n    assert helper_{i}\n"
WORKFLOW = "name: ci{i}\non: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - run: pytest -q\n"
NOTEBOOK = json.dumps(
    {"cells": [{"cell_type": "code", "source": f"import pandas as pd\nx{c} = pd.DataFrame()\n"} for c in range(30)]}
)


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_tree(root: Path, python_files: int, total: int = 60_000) -> int:
    written = 0
    for i in range(python_files):
        p = i // 10
        _write(root / "src" / f"pkg_{p}" / f"module_{i}.py", MODULE.format(i=i, p=p, j=p * 10))
        written += 1
    for i in range(python_files // 5):
        _write(root / "tests" / f"test_module_{i}.py", TEST.format(i=i, p=i // 10))
        written += 1
    for i in range(20):
        _write(root / "notebooks" / f"explore_{i}.ipynb", NOTEBOOK)
        _write(root / ".github" / "workflows" / f"ci_{i}.yml", WORKFLOW.format(i=i))
        written += 2
    _write(root / "Dockerfile", 'FROM python:3.11-slim\nCMD ["uvicorn", "pkg_0.module_0:app"]\n')
    _write(root / "Makefile", "test:\n\tpytest -q\n")
    written += 2
    # Everything else is what a real repository carries and assess must not read.
    other = total - written
    shares = {"data/raw": 0.5, "assets/images": 0.25, "docs": 0.05, "node_modules/lib": 0.1, ".git/objects": 0.1}
    for folder, share in shares.items():
        count = int(other * share)
        suffix = {"data/raw": ".csv", "assets/images": ".png", "docs": ".md"}.get(folder, ".js")
        for i in range(count):
            _write(root / folder / f"d{i // 1000}" / f"f{i}{suffix}", "x,y\n1,2\n")
        written += count
    for i in range(total - written):
        _write(root / "misc" / f"note_{i}.txt", "note\n")
    return total


def _median(fn, repeats: int = 3, clock=time.perf_counter) -> float:
    fn()  # warm the file cache, as a second run in a terminal would be
    samples = []
    for _ in range(repeats):
        started = clock()
        fn()
        samples.append(clock() - started)
    return statistics.median(samples)


def _walk(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def measure(python_files: int) -> dict[str, float]:
    from assess import assess

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        make_tree(root, python_files)
        walk_count = _walk(root)
        walk = _median(lambda: _walk(root))
        result = assess(root)
        seconds = _median(lambda: assess(root))
        # CPU time too: on a shared machine, wall time mostly measures the neighbours.
        walk_cpu = _median(lambda: _walk(root), clock=time.process_time)
        cpu = _median(lambda: assess(root), clock=time.process_time)
        return {
            "files": walk_count,
            "python read": result.read.python_files,
            "assess wall (s)": round(seconds, 2),
            "os.walk wall (s)": round(walk, 3),
            "ratio wall": round(seconds / walk, 1),
            "assess CPU (s)": round(cpu, 2),
            "os.walk CPU (s)": round(walk_cpu, 3),
            "ratio CPU": round(cpu / walk_cpu, 1),
            "load average": round(os.getloadavg()[0], 1),
        }


# --- a 300-file repository ------------------------------------------------------------------------

BASELINE_COMMIT = "090691b"  # assess before issue 22, still under teaching/
SHELL_STEP = "#!/usr/bin/env bash\nset -euo pipefail\npython -m team.pipeline_{i} --month 2024-0{m}\n"
JOB_SPEC = "name: train-{i}\nentrypoint: bash scripts/train_{i}.sh\n"
RELEASE = """name: release
on:
  push:
    branches: [main]
  schedule:
    - cron: "0 3 * * 1"
jobs:
  release:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: make train
      - run: anyscale job submit jobs/train_0.yaml --wait
      - run: |
          if (( $(echo "$RMSE > 6.5" | bc -l) )); then exit 1; fi
      - run: make deploy
"""


def make_project(root: Path) -> int:
    """300 files: 150 Python modules (package, pipelines, tests), 10 notebooks, 40 build/CI/deploy
    files, 100 files assess only counts (data, docs, images)."""
    files = 0
    for i in range(100):
        _write(root / "team" / f"module_{i}.py", MODULE.format(i=i, p=0, j=(i + 1) % 100).replace("pkg_0", "team"))
    for i in range(20):
        pipeline = MODULE.format(i=100 + i, p=0, j=i).replace("pkg_0", "team")
        pipeline += f"\n\nif __name__ == '__main__':\n    train_{100 + i}('data/2024-01.parquet')\n"
        _write(root / "team" / f"pipeline_{i}.py", pipeline)
    _write(root / "team" / "__init__.py", "")
    for i in range(29):
        _write(root / "tests" / f"test_module_{i}.py", TEST.format(i=i, p=0).replace("pkg_0", "team"))
    files += 150
    for i in range(10):
        _write(root / "notebooks" / f"explore_{i}.ipynb", NOTEBOOK)
    files += 10
    for i in range(10):
        _write(root / "scripts" / f"train_{i}.sh", SHELL_STEP.format(i=i, m=1 + i % 9))
        _write(root / "jobs" / f"train_{i}.yaml", JOB_SPEC.format(i=i))
        _write(root / ".github" / "workflows" / f"ci_{i}.yml", WORKFLOW.format(i=i))
        _write(
            root / "k8s" / f"deployment_{i}.yaml", f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\n"
        )
    _write(root / ".github" / "workflows" / "release.yml", RELEASE)
    makefile = "test:\n\tpytest -q\ntrain:\n\tbash scripts/train_0.sh\ndeploy:\n\tkubectl apply -f k8s/\n"
    _write(root / "Makefile", makefile)
    _write(root / "Dockerfile", 'FROM python:3.11-slim\nCMD ["uvicorn", "team.module_0:app"]\n')
    _write(
        root / "pyproject.toml",
        '[project]\nname = "team"\n[project.scripts]\nteam-train = "team.pipeline_0:train_100"\n',
    )
    files += 43
    for i in range(97):
        folder, suffix = [("data", ".csv"), ("docs", ".md"), ("assets", ".png")][i % 3]
        _write(root / folder / f"f{i}{suffix}", "x,y\n1,2\n")
    return files + 97


TIMING = """
import importlib, json, sys, time, statistics
from pathlib import Path
sys.path.insert(0, sys.argv[1])
started = time.perf_counter()
importlib.import_module("{readers}")  # the readers too: assess loads them on its first call
from {module} import assess
imported = time.perf_counter() - started
root = Path(sys.argv[2])
result = assess(root)  # warm: file cache, first-call costs
walls, cpus = [], []
for _ in range(int(sys.argv[3])):
    t0, c0 = time.perf_counter(), time.process_time()
    assess(root)
    walls.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
print(json.dumps({{"level": result.level, "python": result.read.python_files, "import": imported,
                  "wall": statistics.median(walls), "cpu": statistics.median(cpus)}}))
"""


def _timed(code_root: Path, module: str, readers: str, project: Path, repeats: int) -> dict[str, float]:
    """assess timed inside a fresh interpreter (so neither version's imports are shared), start-up apart."""
    code = TIMING.format(module=module, readers=readers)
    out = subprocess.run(
        [sys.executable, "-c", code, str(code_root), str(project), str(repeats)],
        capture_output=True,
        text=True,
        check=True,
        cwd=code_root,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _reference(project: Path) -> float:
    """The fixed workload: CPython parsing the same Python files, nothing else."""
    sources = [p.read_text() for p in sorted(project.rglob("*.py"))]
    return _median(lambda: [ast.parse(s) for s in sources], repeats=5)


def measure_project(repeats: int = 7) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        project, old = Path(tmp) / "project", Path(tmp) / "before"
        files = make_project(project)
        old.mkdir()
        archive = subprocess.run(["git", "archive", BASELINE_COMMIT], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
        new = _timed(ROOT, "assess", "assess.pipeline", project, repeats)
        before = _timed(old, "teaching.assess", "teaching.assess", project, repeats)
        reference = _reference(project)
        return {
            "files": files,
            "python read": new["python"],
            "level": new["level"],
            "assess wall per project (s)": round(new["wall"], 3),
            "assess CPU per project (s)": round(new["cpu"], 3),
            f"before issue 22 ({BASELINE_COMMIT}) wall (s)": round(before["wall"], 3),
            f"before issue 22 ({BASELINE_COMMIT}) CPU (s)": round(before["cpu"], 3),
            "ratio to before (wall)": round(new["wall"] / before["wall"], 2),
            "reference: ast.parse of the same files (s)": round(reference, 3),
            "ratio to reference (wall)": round(new["wall"] / reference, 1),
            "start-up, excluded: import assess and its readers (s)": round(new["import"], 3),
            "start-up before, excluded (s)": round(before["import"], 3),
            "load average": round(os.getloadavg()[0], 1),
            "target": "at most 1 s per project",
        }


def main() -> None:
    small = measure_project()
    save("assess_speed_project", small)
    if "--small" in sys.argv:
        return
    typical = measure(python_files=600)
    code_heavy = measure(python_files=6_000)
    result = {f"typical tree: {k}": v for k, v in typical.items()}
    result |= {f"code-heavy tree: {k}": v for k, v in code_heavy.items()}
    result["target"] = "60,000 files in seconds"
    save("assess_speed", result)


if __name__ == "__main__":
    main()
