"""The TLC trip-record schema, in one place: column names and the dtypes the toolkit works with."""

from __future__ import annotations

# The columns every model in the toolkit needs; a file without one of these cannot be used.
PICKUP = {"green": "lpep_pickup_datetime", "yellow": "tpep_pickup_datetime"}
DROPOFF = {"green": "lpep_dropoff_datetime", "yellow": "tpep_dropoff_datetime"}
LOCATION_COLUMNS = ("PULocationID", "DOLocationID")
DISTANCE = "trip_distance"

_MONEY = {
    "fare_amount": "float64",
    "extra": "float64",
    "mta_tax": "float64",
    "tip_amount": "float64",
    "tolls_amount": "float64",
    "improvement_surcharge": "float64",
    "total_amount": "float64",
    "congestion_surcharge": "float64",
}

# Real files drift from month to month (IDs int32 in one month and int64 in the next; ehail_fee typed
# null in one and double in another), so every file is cast to this one schema on read.
GREEN = {
    "VendorID": "int64",
    "lpep_pickup_datetime": "datetime64[us]",
    "lpep_dropoff_datetime": "datetime64[us]",
    "store_and_fwd_flag": "object",
    "RatecodeID": "float64",
    "PULocationID": "int64",
    "DOLocationID": "int64",
    "passenger_count": "float64",
    "trip_distance": "float64",
    "fare_amount": "float64",
    "extra": "float64",
    "mta_tax": "float64",
    "tip_amount": "float64",
    "tolls_amount": "float64",
    "ehail_fee": "float64",
    "improvement_surcharge": "float64",
    "total_amount": "float64",
    "payment_type": "float64",
    "trip_type": "float64",
    "congestion_surcharge": "float64",
}

YELLOW = {
    "VendorID": "int64",
    "tpep_pickup_datetime": "datetime64[us]",
    "tpep_dropoff_datetime": "datetime64[us]",
    "passenger_count": "float64",
    "trip_distance": "float64",
    "RatecodeID": "float64",
    "store_and_fwd_flag": "object",
    "PULocationID": "int64",
    "DOLocationID": "int64",
    "payment_type": "float64",
    **_MONEY,
    "airport_fee": "float64",
}

SCHEMAS = {"green": GREEN, "yellow": YELLOW}


def required_columns(color: str) -> tuple[str, ...]:
    return (PICKUP[color], DROPOFF[color], *LOCATION_COLUMNS, DISTANCE)


def detect_color(columns: list[str]) -> str | None:
    """Green files say lpep_, yellow files tpep_; None when neither pickup column is there."""
    for color, pickup in PICKUP.items():
        if pickup in columns:
            return color
    return None
