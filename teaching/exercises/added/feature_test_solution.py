"""Unit tests of common.features.prepare_features: they pass on it, and fail as soon as it breaks.

Plain functions named test_… with assert: pytest runs them, and so does `mlops-levels exercise check`.
"""

from common.features import prepare_features

RIDE = {"PULocationID": 74, "DOLocationID": 75, "trip_distance": 1.2}


def test_a_ride_becomes_its_zone_pair_and_its_distance():
    assert prepare_features(RIDE) == {"PU_DO": "74_75", "trip_distance": 1.2}


def test_the_pair_is_ordered_pickup_first():
    back = {**RIDE, "PULocationID": 75, "DOLocationID": 74}
    assert prepare_features(back)["PU_DO"] == "75_74"


def test_the_distance_is_a_float_even_from_an_integer():
    distance = prepare_features({**RIDE, "trip_distance": 3})["trip_distance"]
    assert isinstance(distance, float) and distance == 3.0
