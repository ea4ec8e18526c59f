"""Checks of the level-2 pipeline exercises: the hyperparameter sweep and Prefect's retry condition."""

from __future__ import annotations

import itertools
from typing import Any

from teaching.exercises.checking import CheckContext, CheckFailed, check, expect

# sweep-grid -----------------------------------------------------------------------------------------


def _grid() -> dict[str, dict[str, list[Any]]]:
    from common.model import model_names
    from taxi_duration.pipeline import SWEEP_GRID

    grids: dict[str, dict[str, list[Any]]] = SWEEP_GRID
    for name in model_names():
        grid = grids.get(name) or {}
        expect(
            any(len(set(map(repr, values))) >= 2 for values in grid.values()),
            f"SWEEP_GRID[{name!r}] needs a hyperparameter with two values or more, got {grid}",
        )
    return grids


@check("sweep-grid", "without --sweep, only the given parameters")
def no_sweep(ctx: CheckContext) -> None:
    from taxi_duration.pipeline import _candidates

    got = _candidates("ridge", {"alpha": 3.0}, False)
    expect(
        got == [{"alpha": 3.0}],
        f"_candidates('ridge', {{'alpha': 3.0}}, sweep=False) should be [{{'alpha': 3.0}}], got {got}",
    )


@check("sweep-grid", "every model has a grid to sweep")
def every_model(ctx: CheckContext) -> None:
    _grid()


@check("sweep-grid", "every combination of the grid is a candidate, once")
def every_combination(ctx: CheckContext) -> None:
    from taxi_duration.pipeline import _candidates

    for name, grid in _grid().items():
        candidates = _candidates(name, {}, True)
        wanted = {tuple(zip(grid, values, strict=True)) for values in itertools.product(*grid.values())}
        got = [tuple((key, c.get(key)) for key in grid) for c in candidates]
        expect(
            set(got) == wanted and len(got) == len(wanted), f"{name}: {len(got)} candidates, {len(wanted)} combinations"
        )


@check("sweep-grid", "every candidate is a real hyperparameter, and the given ones stay")
def real_hyperparameters(ctx: CheckContext) -> None:
    from common.errors import UsageError
    from common.model import build_model
    from taxi_duration.pipeline import _candidates

    for name, grid in _grid().items():
        defaults = build_model(name).named_steps["model"].get_params()
        kept = next(key for key in defaults if key not in grid)
        for candidate in _candidates(name, {kept: defaults[kept]}, True):
            expect(candidate.get(kept) == defaults[kept], f"{name}: the given {kept}= was lost from a candidate")
            try:
                estimator = build_model(name, candidate).named_steps["model"]
            except UsageError as exc:
                raise CheckFailed(f"{name}: {exc.what}") from None
            wrong = {k: v for k, v in candidate.items() if estimator.get_params().get(k) != v}
            expect(not wrong, f"{name}: the estimator did not take {wrong}")


# retry-downloads ------------------------------------------------------------------------------------


def _retried(error: Exception) -> bool:
    from prefect.states import Failed

    from taxi_duration.pipeline import _is_transient

    return bool(_is_transient(None, None, Failed(data=error)))


@check("retry-downloads", "a failed download is retried")
def download_retried(ctx: CheckContext) -> None:
    from common.errors import DownloadError

    expect(
        _retried(DownloadError("connection reset")), "a task that failed with DownloadError should be retried (True)"
    )


@check("retry-downloads", "a bad file is not retried")
def bad_file_not_retried(ctx: CheckContext) -> None:
    from common.errors import DataError

    expect(not _retried(DataError("missing column trip_distance")), "a DataError (a bad file) stays bad: do not retry")


@check("retry-downloads", "a bug is not retried either")
def bug_not_retried(ctx: CheckContext) -> None:
    expect(not _retried(KeyError("trip_distance")), "a KeyError is a bug, not a hiccup: retrying only delays the error")
