"""Data the checks share: small synthetic months and models trained on them.

Only `common` is used here, never the student's copy, so what is cached stays valid from one copy to
the next when several copies are checked in one process (the harness forgets `taxi_duration` between copies,
not this module).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from teaching.exercises.checking import SMALL_ROWS


@cache
def month(name: str, rows: int = SMALL_ROWS) -> Any:
    """A prepared month of synthetic trips (with `duration`), read-only: copy it before changing it."""
    from common.data import prepare_trips
    from common.synthetic import generate_month

    return prepare_trips(generate_month(name, rows=rows))


@cache
def model(name: str = "linear_regression", alpha: float | None = None) -> Any:
    """A model fitted on the small 2021-01."""
    from common.model import train

    return train(month("2021-01"), name, {"alpha": alpha} if alpha is not None else None)


def log_model(fitted: Any, tags: dict[str, str], experiment_id: str) -> tuple[str, str, str | None]:
    """Log a fitted model in a run of the active tracking store: (model URI, run id, model id).

    The level's own log_training also logs plots and ships common/ with the model, which a copy in the
    workspace does not hold; a check only needs a loadable model, logged in a fraction of a second.
    """
    import warnings

    import mlflow
    import mlflow.sklearn

    with mlflow.start_run(experiment_id=experiment_id, tags=tags) as run, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = mlflow.sklearn.log_model(
            sk_model=fitted,
            name="model",
            pip_requirements=["scikit-learn"],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        )
    return info.model_uri, run.info.run_id, info.model_id
