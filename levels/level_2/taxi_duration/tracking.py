"""Level 2+ · experiment_tracking: every training run is recorded in MLflow.

Parameters (data, model, hyperparameters), metrics (train and validation RMSE), artifacts (the model
with its signature and an input example, a predicted-vs-actual plot, the feature list) and tags (git
commit, source file, data fingerprints). The store is MLFLOW_TRACKING_URI's (config.py): a sqlite file
here by default, or a shared `mlflow server` (`MLFLOW_TRACKING_URI=http://...`) with the same code.
"""

from __future__ import annotations

import subprocess
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature

import common
from common.model import features_of, predict
from taxi_duration.config import Config

# Passing the requirements explicitly: inferring them costs 6-12 s per run, and the guess was wrong.
# The versions are the installed ones, which constraints.txt pins.
PIP_REQUIREMENTS = [f"{name}=={version(name)}" for name in ("scikit-learn", "pandas", "numpy", "scipy")]
PROJECT = Path(__file__).resolve().parents[1]
# The model pickles a TripEncoder from common/: ship that code inside the model, so that
# `mlflow models serve` (or any pyfunc loader) works without this project installed.
CODE_PATHS = [str(Path(common.__file__).parent)]


def start_tracking(config: Config) -> str:
    """Point MLflow at the configured store and experiment (created on first use); return its id."""
    mlflow.set_tracking_uri(config.tracking_uri)
    experiment = mlflow.get_experiment_by_name(config.experiment)
    if experiment is not None:
        return str(experiment.experiment_id)
    return mlflow.create_experiment(config.experiment)


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT, capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT, capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if out.returncode != 0:
        return "unknown"
    return out.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def run_tags(data: dict[str, dict[str, str]]) -> dict[str, str]:
    commit = git_commit()
    tags = {
        "mlflow.source.git.commit": commit,
        "git_commit": commit,
        "mlflow.source.name": "taxi_duration/pipeline.py",
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
