"""The model factory, training, RMSE and save/load: the ML that every level shares unchanged."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from common.atomic import atomic_path
from common.errors import DataError, UsageError
from common.features import FEATURE_COLUMNS, TripEncoder

TARGET = "duration"


@dataclass(frozen=True)
class ModelSpec:
    """How to build one kind of model: the estimator, its defaults, and the encoding it wants."""

    estimator: str
    encoding: str
    defaults: dict[str, Any] = field(default_factory=dict)


MODELS: dict[str, ModelSpec] = {
    "linear_regression": ModelSpec("sklearn.linear_model.LinearRegression", "onehot"),
    "lasso": ModelSpec("sklearn.linear_model.Lasso", "onehot", {"alpha": 0.001}),
    "ridge": ModelSpec("sklearn.linear_model.Ridge", "onehot", {"alpha": 1.0}),
    "gradient_boosting": ModelSpec(
        "sklearn.ensemble.HistGradientBoostingRegressor",
        "ordinal",
        {"max_iter": 200, "learning_rate": 0.1, "max_leaf_nodes": 63, "random_state": 42},
    ),
}


def model_names() -> list[str]:
    return list(MODELS)


def build_model(name: str, params: dict[str, Any] | None = None, feature_set: str = "pu_do") -> Pipeline:
    """A fresh, unfitted pipeline: TripEncoder -> estimator."""
    if name not in MODELS:
        raise UsageError(f"unknown model {name!r}", fix=f"use one of: {', '.join(MODELS)}")
    spec = MODELS[name]
    module_name, _, class_name = spec.estimator.rpartition(".")
    estimator_class = getattr(__import__(module_name, fromlist=[class_name]), class_name)
    try:
        estimator = estimator_class(**{**spec.defaults, **(params or {})})
    except TypeError as exc:
        raise UsageError(f"bad parameter for {name}: {exc}", fix="check the hyperparameter names") from None
    encoder = TripEncoder(feature_set=feature_set, encoding=spec.encoding)
    return Pipeline([("encode", encoder), ("model", estimator)])


def features_of(trips: pd.DataFrame) -> pd.DataFrame:
    return trips.loc[:, list(FEATURE_COLUMNS)]


def train(
    trips: pd.DataFrame,
    name: str = "linear_regression",
    params: dict[str, Any] | None = None,
    feature_set: str = "pu_do",
) -> Pipeline:
    """Fit a model on prepared trips (see `common.data.prepare_trips`)."""
    model = build_model(name, params, feature_set)
    model.fit(features_of(trips), trips[TARGET].to_numpy())
    return model


def predict(model: Pipeline, rides: Any) -> np.ndarray:
    """Predict durations for a DataFrame, a dict of columns, or a list of ride dicts."""
    if isinstance(rides, pd.DataFrame):
        rides = features_of(rides)
    return np.asarray(model.predict(rides), dtype=np.float64)


def rmse(actual: Any, predicted: Any) -> float:
    from sklearn.metrics import root_mean_squared_error

    return float(root_mean_squared_error(actual, predicted))


def evaluate(model: Pipeline, trips: pd.DataFrame) -> float:
    return rmse(trips[TARGET].to_numpy(), predict(model, trips))


def save_model(model: Pipeline, path: Path) -> Path:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def load_model(path: Path) -> Pipeline:
    path = Path(path)
    if not path.is_file():
        raise DataError("model file not found", where=str(path), fix="train a model first")
    try:
        with open(path, "rb") as handle:
            model = pickle.load(handle)
    except Exception as exc:  # any unpickling failure means the same thing to a user
        raise DataError(
            f"not a model file ({type(exc).__name__})", where=str(path), fix="train the model again"
        ) from None
    if not hasattr(model, "predict"):
        raise DataError("the file holds no model", where=str(path), fix="train the model again")
    return model
