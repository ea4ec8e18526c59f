"""Level 3+ · ab_testing: split traffic between deployed versions by a stable hash of the ride id.

The same ride id always reaches the same variant (a retried request is not counted twice in two
arms), and the split follows the configured weights over many rides.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any


@dataclass
class Variant:
    name: str  # "champion", "challenger"
    version: str
    weight: float
    model: Any = None


def bucket(ride_id: str) -> float:
    """A number in [0, 1) fixed by the ride id."""
    digest = hashlib.blake2b(ride_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def choose_variant(variants: list[Variant], ride_id: str) -> Variant:
    point, edge = bucket(ride_id), 0.0
    for variant in variants:
        edge += variant.weight
        if point < edge:
            return variant
    return variants[-1]  # rounding: weights that sum to 0.999… still route everything
