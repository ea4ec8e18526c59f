"""Level 3+ · automated_deployment: the quality gate. A candidate may replace the champion only if it is
not worse on the same validation data, beyond a tolerance.

A person no longer reads the runs and picks a version: the rule does, the same way every time, and
its decision (with both numbers) is part of the run's record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_TOLERANCE = 0.02  # a candidate may be up to 2% worse (noise) and still pass


@dataclass(frozen=True)
class GateDecision:
    passed: bool
    candidate_version: str
    candidate_rmse: float
    champion_version: str | None
    champion_rmse: float | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# [automated_deployment]
def quality_gate(
    candidate_version: str,
    candidate_rmse: float,
    champion_version: str | None,
    champion_rmse: float | None,
    tolerance: float = DEFAULT_TOLERANCE,
) -> GateDecision:
    """Both RMSEs must come from the same validation data; the gate only compares numbers."""
    if champion_version is None or champion_rmse is None:
        return GateDecision(True, candidate_version, candidate_rmse, None, None, "no champion yet")
    limit = champion_rmse * (1 + tolerance)
    passed = candidate_rmse <= limit
    verb = "within" if passed else "worse than"
    return GateDecision(
        passed,
        candidate_version,
        candidate_rmse,
        champion_version,
        champion_rmse,
        f"RMSE {candidate_rmse:.4f} is {verb} the champion's {champion_rmse:.4f} (+{tolerance:.0%})",
    )
