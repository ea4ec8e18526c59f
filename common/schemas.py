"""The request and response bodies every prediction service shares (levels 1-4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from common.zones import MAX_LOCATION_ID, MIN_LOCATION_ID

MAX_DISTANCE_MILES = 200.0  # the longest plausible taxi ride; TLC files hold typos of 100,000 miles
MAX_BATCH = 1000


def servable(trips: Any) -> Any:
    """Which rows of a trips DataFrame a service accepts as a `Ride` (the schema's bounds), as a mask.

    Real months hold rides the API rightly refuses (a 120,000-mile trip); a replay sends only the rest.
    """
    zones = [trips[c].between(MIN_LOCATION_ID, MAX_LOCATION_ID) for c in ("PULocationID", "DOLocationID")]
    return trips.trip_distance.between(0, MAX_DISTANCE_MILES) & zones[0] & zones[1]


class Ride(BaseModel):
    """One ride to price in minutes. Strict types: "12" is not a location ID."""

    model_config = ConfigDict(extra="forbid", strict=True)

    PULocationID: int = Field(ge=MIN_LOCATION_ID, le=MAX_LOCATION_ID, description="TLC pickup zone, 1-265")
    DOLocationID: int = Field(ge=MIN_LOCATION_ID, le=MAX_LOCATION_ID, description="TLC dropoff zone, 1-265")
    trip_distance: float = Field(ge=0, le=MAX_DISTANCE_MILES, allow_inf_nan=False, description="miles")
    ride_id: str | None = Field(default=None, min_length=1, max_length=64)
    pickup_datetime: datetime | None = Field(default=None, strict=False)

    def features(self) -> dict[str, float | int]:
        return {
            "PULocationID": self.PULocationID,
            "DOLocationID": self.DOLocationID,
            "trip_distance": float(self.trip_distance),
        }


class RideBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rides: list[Ride] = Field(min_length=1, max_length=MAX_BATCH)


class Prediction(BaseModel):
    duration_minutes: float
    model_version: str
    ride_id: str | None = None
    variant: str | None = None


class BatchPrediction(BaseModel):
    predictions: list[Prediction]
