"""Level 4 · automated_retraining: the rules that decide, every month, whether to retrain.

- drift: the share of drifted columns (Evidently) reaches `drift_share`;
- degradation: this month's RMSE is worse than the champion's validation RMSE by more than `degradation`.
No rule fires -> nothing changes. Every evaluation is recorded, whether or not a rule fired.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Thresholds:
    drift_share: float = 0.5
    degradation: float = 0.10  # 10% worse than at promotion


def fired_rules(
    drift_share: float, month_rmse: float, champion_rmse: float, thresholds: Thresholds = Thresholds()
) -> list[str]:
    rules = []
    if drift_share >= thresholds.drift_share:
        rules.append(f"drift: {drift_share:.0%} of columns drifted (>= {thresholds.drift_share:.0%})")
    if month_rmse > champion_rmse * (1 + thresholds.degradation):
        rules.append(f"degradation: RMSE {month_rmse:.2f} > {champion_rmse:.2f} +{thresholds.degradation:.0%}")
    return rules
