"""What each level's served model scores on the months after it was trained: the numbers of the story.

Every level is scored on the same rides (each month's trips that could be real, 1 to 60 minutes), so
the lines differ only by what each level does about time passing. Level 4's numbers come from its own
decision log: the model it served that month, measured when the truth arrived.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np

from common.data import load_prepared
from common.features import feature_dicts
from common.model import predict, rmse
from common.sources import resolve_data
from teaching.infra.config import Settings


def _predictions(settings: Settings, level: int, serving: dict[str, str], trips: Any) -> np.ndarray:
    if serving["kind"] == "pickle":  # level 0: the notebook's (DictVectorizer, model) pickle, its own features
        with open(serving["path"], "rb") as handle:
            vectorizer, model = pickle.load(handle)
        rides = trips[["PULocationID", "DOLocationID", "trip_distance"]].to_dict("records")
        if serving.get("features") == "pu_and_do":
            dicts = [
                {
                    "PULocationID": str(r["PULocationID"]),
                    "DOLocationID": str(r["DOLocationID"]),
                    "trip_distance": r["trip_distance"],
                }
                for r in rides
            ]
        else:
            dicts = feature_dicts(rides)  # the same features every level's model is trained on
        return np.asarray(model.predict(vectorizer.transform(dicts)))
    if serving["kind"] == "model_file":
        from common.model import load_model

        return predict(load_model(Path(serving["path"])), trips)
    from teaching.drive.training import load_registered

    return predict(load_registered(level, settings, serving["version"]), trips)


def served_rmse(settings: Settings, reports: list[dict[str, Any]], months: list[str]) -> dict[str, dict[str, float]]:
    """{level: {month: RMSE}}: levels 0-3 keep serving what they trained; level 4 serves what its loop chose."""
    trips = {month: load_prepared(resolve_data(month, settings.data).path) for month in months}
    curves: dict[str, dict[str, float]] = {}
    for report in reports:
        level = report["level"]
        if level == 4:
            decisions = report["details"]["month_by_month"]
            curves["4"] = {d["month"]: d["level 4"] for d in decisions if d["month"] in trips}
            continue
        curves[str(level)] = {
            month: rmse(frame["duration"].to_numpy(), _predictions(settings, level, report["serving"], frame))
            for month, frame in trips.items()
        }
    return curves


def comparison(
    reports: list[dict[str, Any]], curves: dict[str, dict[str, float]], why: dict[int, str]
) -> list[dict[str, Any]]:
    """One row per level: how good its served model was on the first month after training and on the last
    (the same rides for every level), why it differs from the level above (attribution.py), what is left."""
    rows = []
    for report in reports:
        level = report["level"]
        curve = curves[str(level)]
        first_month, last_month = min(curve), max(curve)
        if level == 4:
            retrains = report["metrics"]["retrains"]
            by_hand = f"nothing: it retrained {retrains} time(s) by itself"
        else:
            by_hand = "retrain when the data moves (nobody did)"
        rows.append(
            {
                "level": level,
                f"RMSE {first_month}": round(curve[first_month], 3),
                f"RMSE {last_month}": round(curve[last_month], 3),
                "why": why.get(level, ""),
                "still by hand": by_hand,
                "wall s": round(float(report["wall_seconds"]), 1),
            }
        )
    return rows
