"""The model is trained and served on one feature function, common.features.trip_features.

Break it and this suite fails before anything is deployed. Swapping pickup and dropoff inside it moves
no RMSE (every route is only renamed, in training and in serving alike), so the tests that catch it
know which way a route goes: a ride from 74 to 75 is the route "74_75", and what the model learnt
from those rides it keeps under that name.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from common.features import pair_name, prepare_features, trip_features
from common.model import TARGET, predict, train
from common.schemas import Ride

# A tiny month where the two directions of one route differ: 74 -> 75 is slow, 75 -> 74 is fast
# (minutes = base of the route + 2 a mile), and a third route so that the pair is not all there is.
ROUTES = {(74, 75): 30.0, (75, 74): 5.0, (41, 42): 12.0}
PER_MILE = 2.0


def _month() -> pd.DataFrame:
    rows = [
        {"PULocationID": pu, "DOLocationID": do, "trip_distance": miles, TARGET: base + PER_MILE * miles}
        for (pu, do), base in ROUTES.items()
        for miles in (1.0, 2.0, 3.0)
    ]
    return pd.DataFrame(rows)


def _served(pu: int, do: int, miles: float = 2.0) -> dict[str, float | int]:
    """A ride as the service hands it to the model: validated by the request schema, then its features."""
    return Ride(PULocationID=pu, DOLocationID=do, trip_distance=miles).features()


def test_a_served_ride_is_its_route_pickup_first():
    features = trip_features([_served(74, 75, 1.2)])
    assert (int(features.pickup[0]), int(features.dropoff[0]), float(features.distance[0])) == (74, 75, 1.2)
    assert pair_name(int(features.pair[0])) == "74_75"
    assert prepare_features(_served(74, 75, 1.2)) == {"PU_DO": "74_75", "trip_distance": 1.2}
    assert prepare_features(_served(75, 74, 1.2))["PU_DO"] == "75_74"


def test_the_trained_model_keeps_each_direction_under_its_own_name():
    model = train(_month())
    names = list(model.named_steps["encode"].get_feature_names_out())
    weight = dict(zip(names, model.named_steps["model"].coef_, strict=True))
    assert weight["PU_DO=74_75"] - weight["PU_DO=75_74"] == pytest.approx(30.0 - 5.0, abs=0.01)
    assert weight["trip_distance"] == pytest.approx(PER_MILE, abs=0.01)


def test_the_model_answers_each_direction_with_what_it_learnt():
    there, back = predict(train(_month()), [_served(74, 75), _served(75, 74)])
    assert np.allclose([there, back], [30.0 + 2 * PER_MILE, 5.0 + 2 * PER_MILE], atol=0.01)
