"""Level 2+ · experiment_tracking: every training run is recorded in MLflow.

Parameters (data, model, hyperparameters), metrics (train and validation RMSE), artifacts (the model
with its signature and an input example, a predicted-vs-actual plot, the feature list) and tags (git
commit, source file, data fingerprints). The embedded default is a sqlite store and an artifact folder
inside the workspace; `--tracking-uri http://...` sends the same runs to a shared `mlflow server`.
"""

from __future__ import annotations

import os
import subprocess
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from filelock import FileLock
from mlflow.models import infer_signature

from common.config import Settings
from common.model import features_of, predict
from common.quiet import quiet_libraries
from common.stores import check_sqlite_store

# This file is copied forward unchanged into levels 3 and 4; each level keeps its own store.
LEVEL = int(__name__.split(".")[1].removeprefix("level_"))
EXPERIMENT = f"nyc-taxi-duration-level-{LEVEL}"
# Passing the requirements explicitly: inferring them costs 6-12 s per run, and the guess was wrong.
# The versions are the installed ones, which constraints.txt pins.
PIP_REQUIREMENTS = [f"{name}=={version(name)}" for name in ("scikit-learn", "pandas", "numpy", "scipy")]
REPO = Path(__file__).resolve().parents[2]
# The model pickles a TripEncoder from common/: ship that code inside the model, so that
# `mlflow models serve` (or any pyfunc loader) works without this repository installed.
CODE_PATHS = [str(REPO / "common")]


def tracking_uri(settings: Settings) -> str:
    """The workspace's sqlite store unless a remote server was asked for."""
    if settings.tracking_uri:
        return settings.tracking_uri
    store = settings.layout.mlflow_store(LEVEL)
    check_sqlite_store(store)  # never let MLflow turn a damaged store into an empty one
    return f"sqlite:///{store}"


def experiment_name(settings: Settings) -> str:
    """One experiment per level; on a class server, one per level and student (MLOPS_LEVELS_STUDENT)."""
    return f"{EXPERIMENT}-{settings.student}" if settings.student else EXPERIMENT


def use_store(uri: str) -> None:
    """Point MLflow's run API at a store, without the environment variable mlflow.set_tracking_uri() also
    writes: read back later (a second command in the same process, a test), it would pass for the
    person's own MLFLOW_TRACKING_URI and send another level's runs to this level's store."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


# [experiment_tracking]
def start_tracking(settings: Settings) -> str:
    """Point MLflow at this level's store and experiment; return the experiment id."""
    settings.level_dir(LEVEL).mkdir(parents=True, exist_ok=True)
    quiet_libraries(settings.verbose)
    # The first connection to a new sqlite store runs MLflow's schema migrations; two runs starting at
    # once would both migrate and one would fail. A lock file makes the first one do it alone, and the
    # second one checks the store only once it is whole (half-migrated, it would look damaged).
    with FileLock(settings.level_dir(LEVEL) / ".store.lock", timeout=120):
        use_store(tracking_uri(settings))
        if not settings.tracking_uri:
            check_sqlite_store(settings.layout.mlflow_store(LEVEL), thorough=True)
        experiment = mlflow.get_experiment_by_name(experiment_name(settings))
        if experiment is not None:
            return experiment.experiment_id
        # A local store gets its artifacts in the workspace (MLflow's default would be ./mlruns in the
        # current folder); a tracking server decides for itself where its artifacts go.
        remote = tracking_uri(settings).startswith(("http://", "https://", "databricks"))
        artifacts = None if remote else settings.layout.artifacts(LEVEL).as_uri()
        return mlflow.create_experiment(experiment_name(settings), artifact_location=artifacts)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def run_tags(data: dict[str, dict[str, str]]) -> dict[str, str]:  # [exercise: run-tags]
    commit = git_commit()
    tags = {
        "mlflow.source.git.commit": commit,
        "git_commit": commit,
        "level": str(LEVEL),
        "mlflow.source.name": f"levels/level_{LEVEL}/pipeline.py",
    }
    for role, info in data.items():
        tags[f"{role}_data"] = info["label"]
        tags[f"{role}_data_sha256"] = info["sha256"]
    return tags


def plot_predicted_vs_actual(actual: np.ndarray, predicted: np.ndarray, title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(5, 5))
    sample = np.random.default_rng(0).choice(len(actual), min(len(actual), 5000), replace=False)
    axis.scatter(actual[sample], predicted[sample], s=3, alpha=0.3)
    axis.plot([0, 60], [0, 60], color="black", linewidth=1)
    axis.set(xlabel="actual minutes", ylabel="predicted minutes", title=title, xlim=(0, 60), ylim=(0, 60))
    figure.tight_layout()
    return figure


def log_training(model: Any, params: dict[str, Any], metrics: dict[str, float], val_df: pd.DataFrame) -> Any:
    """Log one trained model, its parameters, metrics and plots into the active run; returns the ModelInfo."""
    import matplotlib.pyplot as plt
    import mlflow.sklearn

    mlflow.log_params(params)
    mlflow.log_metrics(metrics)
    predicted = predict(model, val_df)
    figure = plot_predicted_vs_actual(val_df.duration.to_numpy(), predicted, f"val RMSE {metrics['rmse_val']:.2f}")
    mlflow.log_figure(figure, "predicted_vs_actual.png")
    plt.close(figure)
    mlflow.log_dict(
        {
            "features": list(features_of(val_df).columns),
            "encoded": len(model.named_steps["encode"].get_feature_names_out()),
        },
        "features.json",
    )
    example = features_of(val_df.head(5))
    with warnings.catch_warnings():
        # Two known notes: integer columns in the signature (zone IDs never miss) and cloudpickle (chosen).
        warnings.simplefilter("ignore")
        return _log_model(model, example)


def _log_model(model: Any, example: pd.DataFrame) -> Any:
    import mlflow.sklearn

    return mlflow.sklearn.log_model(
        sk_model=model,
        name="model",
        signature=infer_signature(example, predict(model, example)),
        input_example=example,
        pip_requirements=PIP_REQUIREMENTS,
        code_paths=CODE_PATHS,
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,  # skops refuses TripEncoder
    )
