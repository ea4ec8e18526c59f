"""Level 3+ · quality_gate: a candidate may serve only if it is not worse than the champion on the same
validation data, beyond a tolerance.

A person no longer reads the runs and picks a version: the rule does, the same way every time. The
platform (deployer.py) applies it to every deploy and promote, whoever calls; a human can override it
only explicitly, with a reason that is recorded.

What the gate trusts is as important as the rule, and it trusts only what it can verify:

- What the candidate trained on comes from its signed lineage (lineage.py): a record the training
  pipeline signs with a private key registry writers do not hold, checked here with the public key. The
  run's `train_data`/`val_data` tags are for people: anyone who can reach the registry can edit them, and
  a model fitted on the gate's own month, tagged as trained on the month before, would pass. A candidate
  with no signed lineage, a record that does not verify, a signature copied from another version, or
  model files replaced after signing, is refused (409) with the reason and the fix, before any measuring.
- The model measured (and then served) is loaded from a private copy of the files whose digest was signed.
- The month is the platform's choice: the first month after the signed training months, which the
  candidate never saw, loaded from the platform's own data source (never a file the candidate's run
  points at: a candidate could bring 120 easy rows). When it is the month the pipeline validated on, its
  sha256 must be the signed one, so both sides mean the same rides.
- Both RMSEs are measured here and kept by the platform; the copy written as a tag on the model version
  is for people (the MLflow UI shows it) and is never read back.

The champion needs no signature: it is already serving, and it is only measured, on the month the
candidate's lineage gives. The first promotion (no champion yet) has nothing to compare with and passes,
but only for a candidate whose lineage verifies: the first champion is the pipeline's too.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from mlflow.exceptions import MlflowException

from common.data import fingerprint, load_prepared
from common.errors import TaxiDurationError
from common.model import evaluate
from common.months import is_month, is_month_list, month_range, next_month
from common.sources import resolve_data
from taxi_duration.config import Config
from taxi_duration.lineage import Lineage, LineageRefused, load_verified, public_key, verified_lineage
from taxi_duration.registry import load_version, registry_client

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
    fix: str | None = None  # what to do about a refusal, when it is not "train a better candidate"

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


def _refused(candidate: str, champion: str | None, reason: str, fix: str | None = None) -> GateDecision:
    return GateDecision(False, candidate, None, champion, None, None, reason, fix)


def evaluation_data(config: Config, lineage: Lineage) -> tuple[str, str]:
    """The month the platform judges a candidate on, and the sha256 of the platform's own file of it.

    The signed validation month when it comes after every signed training month (across a gap in the
    months, the month the candidate was made for, not one nobody gave it); otherwise the month after its
    training. Either way the platform reads the month from its own source, never from a file the run names.
    """
    if not is_month_list(lineage.train_data):
        raise LineageRefused(
            f"v{lineage.version} was trained on {lineage.train_data}, not months: the platform cannot choose a "
            "month it never saw",
            fix="train it with --train-data YYYY-MM (or a range of months)",
        )
    last_trained = month_range(lineage.train_data)[-1]
    later = is_month(lineage.val_data) and lineage.val_data > last_trained
    month = lineage.val_data if later else next_month(last_trained)
    path = resolve_data(month, config.data).path
    sha256 = fingerprint(path)
    if month == lineage.val_data and sha256 != lineage.val_sha256:
        raise TaxiDurationError(
            f"the platform's {month} is not the file v{lineage.version} was validated on",
            where=str(path),
            fix="start the platform and the pipeline with the same months (TAXI_* settings)",
        )
    return month, sha256


Measurements = dict[tuple[str, str], float]  # (version, data sha256) -> RMSE, kept by one platform


def measured_rmse(
    config: Config,
    version: str,
    month: str,
    sha256: str,
    measured: Measurements | None = None,
    model: Any = None,
) -> float:
    """The version's RMSE on the month, loaded from the platform's own source; measured once per platform
    (`measured`), and tagged on the version for people to read. `model`: the version, already loaded."""
    measured = {} if measured is None else measured
    if (version, sha256) not in measured:
        path = resolve_data(month, config.data).path
        if not path.is_file() or fingerprint(path) != sha256:
            raise TaxiDurationError(f"{month} changed while the gate measured v{version}", where=str(path))
        rmse = evaluate(load_version(config, version) if model is None else model, load_prepared(path))
        measured[(version, sha256)] = rmse
        try:
            registry_client(config).set_model_version_tag(
                config.model_name, version, f"{RMSE_TAG}{sha256[:16]}", f"{rmse:.6f}"
            )
        except MlflowException as exc:  # the people's copy only: the decision and the audit log have the number
            logging.getLogger(__name__).warning("v%s: RMSE not tagged in the registry (%s)", version, exc.message)
    return measured[(version, sha256)]


def check_candidate(
    config: Config,
    candidate: str,
    champion: str | None,
    measured: Measurements | None = None,
    loaded: dict[str, Any] | None = None,
) -> GateDecision:
    """The platform's check: the candidate's signed lineage, then candidate and champion measured on the month
    the platform chooses. `loaded` receives the verified candidate, so that what serves is what was checked."""
    if candidate == champion:
        return GateDecision(True, candidate, None, champion, None, None, "it is the champion")
    try:
        lineage = verified_lineage(config, candidate, public_key())
        model = load_verified(config, lineage)
    except TaxiDurationError as exc:  # unverified lineage is no evidence: nothing is measured
        return _refused(candidate, champion, exc.what, exc.fix)
    if loaded is not None:
        loaded[candidate] = model
    if champion is None:
        return GateDecision(True, candidate, None, None, None, None, "no champion yet")
    try:
        month, sha256 = evaluation_data(config, lineage)
        candidate_rmse = measured_rmse(config, candidate, month, sha256, measured, model)
        # the champion the platform serves (files checked against its promotion record), not the registry's now
        champion_model = loaded.get(champion) if loaded is not None else None
        champion_rmse = measured_rmse(config, champion, month, sha256, measured, champion_model)
    except TaxiDurationError as exc:  # without both measurements there is no evidence, so no pass
        reason = f"cannot evaluate v{candidate} against v{champion}: {exc.one_line()}"
        return _refused(candidate, champion, reason, exc.fix)
    return quality_gate(candidate, candidate_rmse, champion, champion_rmse, month)
