"""Where this project's runs, models and months are: read from the environment, as the tools read it.

    MLFLOW_TRACKING_URI      the tracking store and registry (default: sqlite:///mlflow.db, here)
    MLFLOW_EXPERIMENT_NAME   the experiment every training run goes to (default: nyc-taxi-duration)
    MODEL_NAME               the registered model whose versions the runs add (default: nyc-taxi-duration)
    TAXI_*                   where the months come from (common/datasource.py; default: synthetic, ./data)

Nothing here is secret: a tracking server's credentials stay in MLflow's own variables
(MLFLOW_TRACKING_USERNAME, MLFLOW_TRACKING_PASSWORD), never in a URI that is logged or passed around.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from common.datasource import DataSource

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
DEFAULT_NAME = "nyc-taxi-duration"


@dataclass(frozen=True)
class Config:
    tracking_uri: str = DEFAULT_TRACKING_URI
    experiment: str = DEFAULT_NAME
    model_name: str = DEFAULT_NAME
    data: DataSource = field(default_factory=DataSource)

    @classmethod
    def from_env(cls) -> Config:
        return cls(
            tracking_uri=os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI,
            experiment=os.environ.get("MLFLOW_EXPERIMENT_NAME") or DEFAULT_NAME,
            model_name=os.environ.get("MODEL_NAME") or DEFAULT_NAME,
            data=DataSource.from_env(),
        )
