"""Level 3+ · quality_gate: a candidate may serve only if it is not worse than the champion on the same
validation data, beyond a tolerance.

A person no longer reads the runs and picks a version: the rule does, the same way every time. The
platform (deployer.py) applies it to every deploy and promote, whoever calls; a human can override it
only explicitly, with a reason that is recorded.

What the gate trusts is as important as the rule. Both RMSEs are measured here, by the platform, on a
month it loads from its own data source: never on a file the candidate's run points at (a candidate
could bring 120 easy rows), never on a month the candidate trained on. The numbers are kept by the
platform itself; the copy written as a tag on the model version is for people (the MLflow UI shows it)
and is never read back, since anyone who can reach the registry can edit tags.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from mlflow.exceptions import MlflowException

from common.data import fingerprint, load_prepared
from common.errors import TaxiDurationError
from common.model import evaluate
from common.months import is_month, is_month_list, month_range
from common.sources import resolve_data
from taxi_duration.config import Config
from taxi_duration.registry import load_version, registry_client, resolve_version

DEFAULT_TOLERANCE = 0.02  # a candidate may be up to 2% worse (noise) and still pass
RMSE_TAG = "gate.rmse."  # + the first 16 hex digits of the data's sha256


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    candidate_version: str
    candidate_rmse: float | None
    champion_version: str | None
    champion_rmse: float | None
    data: str | None  # the validation data both RMSEs were measured on
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def quality_gate(
    candidate_version: str,
    candidate_rmse: float,
    champion_version: str | None,
    champion_rmse: float | None,
    data: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GateDecision:
    """The rule itself. Both RMSEs must come from the same validation data; the gate only compares numbers."""
    if champion_version is None or champion_rmse is None:
        return GateDecision(True, candidate_version, candidate_rmse, None, None, data, "no champion yet")
    limit = champion_rmse * (1 + tolerance)
    passed = candidate_rmse <= limit
    verb = "within" if passed else "worse than"
    reason = (
        f"v{candidate_version}'s RMSE {candidate_rmse:.4f} is {verb} champion v{champion_version}'s "
        f"{champion_rmse:.4f} +{tolerance:.0%}" + (f" on {data}" if data else "")
    )
    return GateDecision(passed, candidate_version, candidate_rmse, champion_version, champion_rmse, data, reason)


def _refused(candidate: str, champion: str | None, reason: str) -> GateDecision:
    return GateDecision(False, candidate, None, champion, None, None, reason)


def validation_data(config: Config, version: str) -> tuple[str, str]:
    """The month a version was validated on, and its sha256, if the platform can vouch for that month."""
    tags = registry_client(config).get_run(resolve_version(config, version).run_id).data.tags
    label, sha256, trained = tags.get("val_data"), tags.get("val_data_sha256"), tags.get("train_data")
    if not label or not sha256:
        raise TaxiDurationError(f"v{version}'s run does not name its validation data", fix="train it with the pipeline")
    if not is_month(label):
        raise TaxiDurationError(
            f"v{version} was validated on {label}, not a month: the gate measures only on months it loads itself",
            fix="train it with --val-data YYYY-MM",
        )
    if not trained or not is_month_list(trained):
        raise TaxiDurationError(
            f"v{version} was trained on {trained or 'unnamed data'}, not months: the gate cannot tell that it "
            f"never saw {label}",
            fix="train it with --train-data YYYY-MM (or a range of months)",
        )
    if label in month_range(trained):
        raise TaxiDurationError(
            f"v{version} was trained on {label}, the month it would be judged on",
            fix="validate on a month after its training data",
        )
    return label, sha256


Measurements = dict[tuple[str, str], float]  # (version, data sha256) -> RMSE, kept by one platform


def measured_rmse(config: Config, version: str, label: str, sha256: str, measured: Measurements | None = None) -> float:
    """The version's RMSE on the named month, loaded from the platform's own source; measured once per
    platform (`measured`), and tagged on the version for people to read."""
    measured = {} if measured is None else measured
    if (version, sha256) not in measured:
        path = resolve_data(label, config.data).path
        if not path.is_file() or fingerprint(path) != sha256:
            raise TaxiDurationError(
                f"the validation data {label} is not the file v{version} was checked on", where=str(path)
            )
        rmse = evaluate(load_version(config, version), load_prepared(path))
        measured[(version, sha256)] = rmse
        try:
            registry_client(config).set_model_version_tag(
                config.model_name, version, f"{RMSE_TAG}{sha256[:16]}", f"{rmse:.6f}"
            )
        except MlflowException as exc:  # the people's copy only: the decision and the audit log have the number
            logging.getLogger(__name__).warning("v%s: RMSE not tagged in the registry (%s)", version, exc.message)
    return measured[(version, sha256)]


def check_candidate(
    config: Config, candidate: str, champion: str | None, measured: Measurements | None = None
) -> GateDecision:
    """The platform's check: the candidate against the serving champion, on the candidate's validation month."""
    if champion is None or candidate == champion:
        reason = "no champion yet" if champion is None else "it is the champion"
        return GateDecision(True, candidate, None, champion, None, None, reason)
    try:
        label, sha256 = validation_data(config, candidate)
        candidate_rmse = measured_rmse(config, candidate, label, sha256, measured)
        champion_rmse = measured_rmse(config, champion, label, sha256, measured)
    except TaxiDurationError as exc:  # without both measurements there is no evidence, so no pass
        return _refused(candidate, champion, f"cannot evaluate v{candidate} against v{champion}: {exc.one_line()}")
    return quality_gate(candidate, candidate_rmse, champion, champion_rmse, label)
