"""`assess` on a 60,000-file tree against `os.walk` listing the same tree, in the same run.

The synthetic tree is shaped like a large ML monorepo: a few thousand source, test, notebook and CI files
among tens of thousands of data files, images, docs, node_modules and .git objects. A second tree has
ten times the Python (6,000 modules) to show the per-file cost of reading code. Target: seconds.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common_bench import save  # noqa: E402

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
    from teaching.assess import assess

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


def main() -> None:
    typical = measure(python_files=600)
    code_heavy = measure(python_files=6_000)
    result = {f"typical tree: {k}": v for k, v in typical.items()}
    result |= {f"code-heavy tree: {k}": v for k, v in code_heavy.items()}
    result["target"] = "60,000 files in seconds"
    save("assess_speed", result)


if __name__ == "__main__":
    main()
