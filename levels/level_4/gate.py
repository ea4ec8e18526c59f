"""Level 3+ · quality_gate: a candidate may serve only if it is not worse than the champion on the same
validation data, beyond a tolerance.

A person no longer reads the runs and picks a version: the rule does, the same way every time. The
platform (deployer.py) applies it to every deploy and promote, whoever calls; a human can override it
only explicitly, with a reason that is recorded. The two RMSEs are measured here, on the candidate's own
validation data (named and fingerprinted in its MLflow run), so they are comparable by construction;
each measurement is kept as a tag on the model version, where the MLflow UI shows it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from common.config import Settings
from common.errors import MlopsLevelsError

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


# [quality_gate]
def quality_gate(
    candidate_version: str,
    candidate_rmse: float,
    champion_version: str | None,
    champion_rmse: float | None,
    data: str | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GateDecision:  # [exercise: gate-rule]
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


def validation_data(settings: Settings, version: str) -> tuple[str, str]:
    """The validation data a version was evaluated on when it was trained: (label, sha256)."""
    from levels.level_4.registry import registry_client, resolve_version

    run = registry_client(settings).get_run(resolve_version(settings, version).run_id)
    label, sha256 = run.data.tags.get("val_data"), run.data.tags.get("val_data_sha256")
    if not label or not sha256:
        raise MlopsLevelsError(f"v{version}'s run does not name its validation data", fix="train it with the pipeline")
    return label, sha256


def measured_rmse(settings: Settings, version: str, label: str, sha256: str) -> float:
    """The version's RMSE on the named data: from its tag if measured before, else measured now and tagged."""
    from common.data import fingerprint, load_prepared
    from common.model import evaluate
    from common.sources import resolve_data
    from levels.level_4.registry import load_version, registry_client, resolve_version

    client = registry_client(settings)
    tag = f"{RMSE_TAG}{sha256[:16]}"
    known = resolve_version(settings, version).tags.get(tag)
    if known is not None:
        return float(known)
    path = resolve_data(label, settings).path
    if not path.is_file() or fingerprint(path) != sha256:
        raise MlopsLevelsError(
            f"the validation data {label} is not the file v{version} was checked on", where=str(path)
        )
    rmse = evaluate(load_version(settings, version), load_prepared(path))
    client.set_model_version_tag(settings.model_name, version, tag, f"{rmse:.6f}")
    return rmse


def check_candidate(settings: Settings, candidate: str, champion: str | None) -> GateDecision:
    """The platform's check: the candidate against the serving champion, on the candidate's validation data."""
    if champion is None or candidate == champion:
        reason = "no champion yet" if champion is None else "it is the champion"
        return GateDecision(True, candidate, None, champion, None, None, reason)
    try:
        label, sha256 = validation_data(settings, candidate)
        candidate_rmse = measured_rmse(settings, candidate, label, sha256)
        champion_rmse = measured_rmse(settings, champion, label, sha256)
    except MlopsLevelsError as exc:  # without both measurements there is no evidence, so no pass
        return _refused(candidate, champion, f"cannot evaluate v{candidate} against v{champion}: {exc.one_line()}")
    return quality_gate(candidate, candidate_rmse, champion, champion_rmse, label)
