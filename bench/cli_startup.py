"""CLI start-up: `mlops-levels --help` and `list` against the floor `python -c "import typer, rich"`,
and against `mlflow --help`. Target: at most 1.5x the floor."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile

from common_bench import save, time_command


def main() -> None:
    env = {**os.environ, "MLOPS_LEVELS_WORKSPACE": tempfile.mkdtemp()}
    cli = [shutil.which("mlops-levels") or os.path.join(os.path.dirname(sys.executable), "mlops-levels")]
    floor = time_command([sys.executable, "-c", "import typer, rich"], env=env)
    help_time = time_command([*cli, "--help"], env=env)
    list_time = time_command([*cli, "list"], env=env)
    mlflow = os.path.join(os.path.dirname(sys.executable), "mlflow")
    mlflow_time = time_command([mlflow, "--help"], repeats=3, env=env)
    save(
        "cli_startup",
        {
            "floor: python -c 'import typer, rich' (s)": round(floor, 3),
            "mlops-levels --help (s)": round(help_time, 3),
            "mlops-levels list (s)": round(list_time, 3),
            "mlflow --help (s)": round(mlflow_time, 3),
            "--help / floor": round(help_time / floor, 2),
            "list / floor": round(list_time / floor, 2),
            "mlflow --help / mlops-levels --help": round(mlflow_time / help_time, 1),
            "target": "--help and list at most 1.5x the floor",
        },
    )


if __name__ == "__main__":
    main()
