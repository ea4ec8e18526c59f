"""Features of a ride: the course's PU_DO pair plus trip_distance, encoded straight to a sparse matrix.

The course builds a dict per row and runs a DictVectorizer over them; that gives the same matrix but
spends seconds and hundreds of MB on Python dicts. `TripEncoder` computes a pair code with integer
arithmetic and looks it up with a binary search: the same one-hot columns, without the dicts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

FEATURE_COLUMNS = ("PULocationID", "DOLocationID", "trip_distance")
FEATURE_SETS = ("pu_do", "pu_and_do")
ENCODINGS = ("onehot", "ordinal")
_PAIR_BASE = 1000  # location IDs are below 1000, so PU*1000+DO is a unique code for a pair


def prepare_features(ride: Mapping[str, Any]) -> dict[str, Any]:
    """One ride as the course's feature dict: {"PU_DO": "74_75", "trip_distance": 1.2}."""
    return {
        "PU_DO": f"{int(ride['PULocationID'])}_{int(ride['DOLocationID'])}",
        "trip_distance": float(ride["trip_distance"]),
    }


def _columns(X: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Accept a DataFrame, a dict of columns, or a list of ride dicts (the serving fast path)."""
    if isinstance(X, list):
        X = {c: [row[c] for row in X] for c in FEATURE_COLUMNS}
    pu = np.asarray(X["PULocationID"]).astype(np.int64)
    do = np.asarray(X["DOLocationID"]).astype(np.int64)
    distance = np.asarray(X["trip_distance"], dtype=np.float64)
    return pu, do, distance


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

    def _keys(self, pu: np.ndarray, do: np.ndarray) -> list[np.ndarray]:
        return [pu * _PAIR_BASE + do] if self.feature_set == "pu_do" else [pu, do]

    def fit(self, X: Any, y: Any = None) -> TripEncoder:
        if self.feature_set not in FEATURE_SETS or self.encoding not in ENCODINGS:
            raise ValueError(f"unknown feature_set/encoding {self.feature_set}/{self.encoding}")
        pu, do, _ = _columns(X)
        self.categories_ = [np.unique(keys) for keys in self._keys(pu, do)]
        return self

    def transform(self, X: Any) -> sp.csr_matrix | np.ndarray:
        pu, do, distance = _columns(X)
        if self.encoding == "ordinal":
            return np.column_stack([pu, do, distance]).astype(np.float64)
        blocks, offset = [], 0
        rows = np.arange(len(pu))
        for categories, keys in zip(self.categories_, self._keys(pu, do), strict=True):
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
            names = [f"PU_DO={k // _PAIR_BASE}_{k % _PAIR_BASE}" for k in self.categories_[0]]
        else:
            names = [f"PULocationID={k}" for k in self.categories_[0]]
            names += [f"DOLocationID={k}" for k in self.categories_[1]]
        return np.array([*names, "trip_distance"], dtype=object)
