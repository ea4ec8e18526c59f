"""`mlops-levels doctor`: the environment checks a course starts with, each problem with its fix.

It needs only the standard library (and common/, which needs no more), so it runs even when the
installed packages are broken.
"""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from teaching.infra.serving import http_ok, port_is_free
from teaching.infra.workspace import Workspace

PINNED = (
    "mlflow",
    "prefect",
    "evidently",
    "pandas",
    "scikit-learn",
    "fastapi",
    "uvicorn",
    "typer",
    "rich",
    "pyarrow",
    "numpy",
)
PORTS = {8000: "prediction services (serve N)", 5000: "MLflow UI (ui N)", 4200: "a Prefect server"}
MIN_FREE_GB = 2.0


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def _pins() -> dict[str, str]:
    """The exact versions this checkout was tested with, from the installed package's metadata."""
    pins: dict[str, str] = {}
    try:
        requirements = metadata.requires("mlops-levels") or []
    except metadata.PackageNotFoundError:
        return pins
    for requirement in requirements:
        if "==" in requirement and "extra ==" not in requirement:
            name, version = requirement.split(";")[0].split("==")
            pins[name.strip().lower()] = version.strip()
    return pins


def check_python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check(
        "python",
        ok,
        f"{sys.version.split()[0]} at {sys.executable}",
        "" if ok else "install Python 3.11+ and run: python3 tasks.py demo",
    )


def check_versions() -> list[Check]:
    pins, checks = _pins(), []
    for name in PINNED:
        wanted = pins.get(name)
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            checks.append(Check(name, False, "not installed", "python3 tasks.py test (installs the pinned set)"))
            continue
        ok = wanted is None or have == wanted
        detail = have if ok else f"{have}, pinned {wanted}"
        checks.append(Check(name, ok, detail, "" if ok else f"pip install -c constraints.txt {name}=={wanted}"))
    return checks


def check_ports(host: str = "127.0.0.1") -> list[Check]:

    checks = []
    for port, use in PORTS.items():
        free = port_is_free(port, host)
        checks.append(
            Check(
                f"port {port}",
                free,
                f"{'free' if free else 'taken'}: {use}",
                "" if free else f"pass --port to use another (e.g. --port {port + 1})",
            )
        )
    return checks


def check_disk(workspace: Path) -> Check:
    target = workspace if workspace.exists() else workspace.parent
    free_gb = shutil.disk_usage(target if target.exists() else Path.cwd()).free / 1e9
    ok = free_gb >= MIN_FREE_GB
    return Check(
        "disk",
        ok,
        f"{free_gb:.1f} GB free for {workspace}",
        "" if ok else "free some space or point --workspace at another disk",
    )


def check_servers(workspace: Path) -> list[Check]:
    checks = []
    state = Workspace(workspace).prefect_home / "server.json"
    if state.exists():
        api = json.loads(state.read_text()).get("api_url", "")
        up = http_ok(f"{api}/health")
        checks.append(
            Check(
                "prefect server",
                True,
                f"{'running' if up else 'stale record'} at {api}",
                "" if up else "it will be restarted on the next run",
            )
        )
    else:
        checks.append(Check("prefect server", True, "not started yet (the first level-2 run starts it, ~10 s)"))
    mlflow_up = http_ok("http://127.0.0.1:5000/health")
    checks.append(Check("mlflow server", True, "one answers on 127.0.0.1:5000" if mlflow_up else "none on :5000"))
    return checks


def check_notebook() -> Check:
    """Level 0 is a real notebook: a Jupyter kernel must exist to run it, and a student needs an editor."""
    how = (
        "open levels/level_0/duration_prediction.ipynb in VS Code (Python + Jupyter extensions), or: "
        "pip install jupyterlab && jupyter lab"
    )
    try:
        from jupyter_client.kernelspec import find_kernel_specs

        kernels = find_kernel_specs()
    except ImportError:
        return Check("notebook kernel", False, "ipykernel is not installed", "python3 tasks.py test (installs it)")
    ok = "python3" in kernels or bool(kernels)
    return Check(
        "notebook kernel",
        ok,
        f"{'a Python kernel' if ok else 'no kernel'}; to read level 0: {how}",
        "" if ok else "pip install -c constraints.txt ipykernel",
    )


def run_checks(workspace: Path) -> list[Check]:
    return [
        check_python(),
        *check_versions(),
        check_notebook(),
        *check_ports(),
        check_disk(workspace),
        *check_servers(workspace),
    ]
