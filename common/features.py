"""Features of a ride: the course's PU_DO pair plus trip_distance, made in one place, `trip_features`.

Every model of every level is trained and served on what `trip_features` returns: `TripEncoder` (the
first step of every model pipeline) calls it in `fit` and in `transform`, and `prepare_features` (one
ride as the course's dict, what level 0's DictVectorizer reads) is built from it. So a bug in it is a
bug in every model at once, and each level's suite fails on it (tests/test_trained_features.py): the
training/serving-skew lesson, true in the code.

The course builds a dict per row and runs a DictVectorizer over them; that gives the same matrix but
spends seconds and hundreds of MB on Python dicts. `trip_features` computes a pair code with integer
arithmetic and `TripEncoder` looks it up with a binary search: the same one-hot columns, without the dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

FEATURE_COLUMNS = ("PULocationID", "DOLocationID", "trip_distance")
FEATURE_SETS = ("pu_do", "pu_and_do")
ENCODINGS = ("onehot", "ordinal")
_PAIR_BASE = 1000  # location IDs are below 1000, so PU*1000+DO is a unique code for a pair


class TripFeatures(NamedTuple):
    """The features of many rides, one array each (row i is ride i)."""

    pickup: np.ndarray  # PULocationID
    dropoff: np.ndarray  # DOLocationID
    pair: np.ndarray  # the pickup -> dropoff route as one code, pickup * 1000 + dropoff (see pair_name)
    distance: np.ndarray  # trip_distance in miles, as float


def trip_features(rides: Any) -> TripFeatures:
    """THE features of rides, for training and serving alike: a DataFrame, a dict of columns, or a list
    of ride dicts (the service's fast path). A route has a direction: 74 -> 75 is not 75 -> 74."""
    if isinstance(rides, list):
        rides = {c: [ride[c] for ride in rides] for c in FEATURE_COLUMNS}
    pickup = np.asarray(rides["PULocationID"]).astype(np.int64)
    dropoff = np.asarray(rides["DOLocationID"]).astype(np.int64)
    distance = np.asarray(rides["trip_distance"], dtype=np.float64)
    return TripFeatures(pickup, dropoff, pickup * _PAIR_BASE + dropoff, distance)


def pair_name(code: int) -> str:
    """A pair code as the course writes it: 74075 -> "74_75" (pickup first)."""
    return f"{code // _PAIR_BASE}_{code % _PAIR_BASE}"


def feature_dicts(rides: Any) -> list[dict[str, Any]]:
    """Rides as the course's feature dicts, made by `trip_features`: what a DictVectorizer reads."""
    features = trip_features(rides)
    return [
        {"PU_DO": pair_name(int(code)), "trip_distance": float(distance)}
        for code, distance in zip(features.pair, features.distance, strict=True)
    ]


def prepare_features(ride: Mapping[str, Any]) -> dict[str, Any]:
    """One ride as the course's feature dict: {"PU_DO": "74_75", "trip_distance": 1.2}."""
    return feature_dicts([ride])[0]


def _lookup(categories: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Column index of each key and whether it was seen in training (unseen keys get no column)."""
    index = np.searchsorted(categories, keys).clip(0, max(len(categories) - 1, 0))
    seen = categories[index] == keys if len(categories) else np.zeros(len(keys), dtype=bool)
    return index, seen


class TripEncoder(TransformerMixin, BaseEstimator):
    """Encode PULocationID, DOLocationID and trip_distance.

    Args:
        feature_set: "pu_do" (one column per pickup-dropoff pair, the course's final choice) or
            "pu_and_do" (one column per pickup zone and one per dropoff zone, where the course starts).
        encoding: "onehot" (sparse, for linear models) or "ordinal" (dense IDs, for tree ensembles).
    """

    def __init__(self, feature_set: str = "pu_do", encoding: str = "onehot") -> None:
        self.feature_set = feature_set
        self.encoding = encoding

    def _keys(self, features: TripFeatures) -> list[np.ndarray]:
        return [features.pair] if self.feature_set == "pu_do" else [features.pickup, features.dropoff]

    def fit(self, X: Any, y: Any = None) -> TripEncoder:
        if self.feature_set not in FEATURE_SETS or self.encoding not in ENCODINGS:
            raise ValueError(f"unknown feature_set/encoding {self.feature_set}/{self.encoding}")
        self.categories_ = [np.unique(keys) for keys in self._keys(trip_features(X))]
        return self

    def transform(self, X: Any) -> sp.csr_matrix | np.ndarray:
        features = trip_features(X)
        pu, distance = features.pickup, features.distance
        if self.encoding == "ordinal":
            return np.column_stack([pu, features.dropoff, distance]).astype(np.float64)
        blocks, offset = [], 0
        rows = np.arange(len(pu))
        for categories, keys in zip(self.categories_, self._keys(features), strict=True):
            index, seen = _lookup(categories, keys)
            blocks.append((rows[seen], index[seen] + offset))
            offset += len(categories)
        row_idx = np.concatenate([r for r, _ in blocks] + [rows])
        col_idx = np.concatenate([c for _, c in blocks] + [np.full(len(pu), offset)])
        values = np.concatenate([np.ones(len(row_idx) - len(pu)), distance])
        return sp.csr_matrix((values, (row_idx, col_idx)), shape=(len(pu), offset + 1))

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        if self.encoding == "ordinal":
            return np.array(FEATURE_COLUMNS, dtype=object)
        if self.feature_set == "pu_do":
            names = [f"PU_DO={pair_name(int(k))}" for k in self.categories_[0]]
        else:
            names = [f"PULocationID={k}" for k in self.categories_[0]]
            names += [f"DOLocationID={k}" for k in self.categories_[1]]
        return np.array([*names, "trip_distance"], dtype=object)
