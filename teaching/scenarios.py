"""How each synthetic scenario's drift compares with real months, so that every page showing one says so.

A story that drifts faster than the world teaches that models rot faster than they do. The figures are
measured, not chosen: full-size months (seed 42), 2021-01 to 2021-06, against the real green-taxi months
of the same names (the months the course's story is set in, as traffic returned to the city), on the
trips a model sees (1 to 60 minutes). tests/common/test_scenarios.py measures them again from the
generator and the real months, so a change to the generator that makes a sentence untrue fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass

from common.datasource import DataSource


@dataclass(frozen=True)
class Drift:
    """Month-to-month drift of one scenario next to real 2021-01 → 2021-06."""

    psi_pickup: float  # median PSI of pickup zones between consecutive months
    frozen_loss: float  # RMSE of a model frozen on 2021-01, June against February, as a fraction
    frozen_vs_retrained: float  # in June, how much worse the frozen model is than one retrained on May


REAL_2021 = Drift(psi_pickup=0.014, frozen_loss=0.144, frozen_vs_retrained=0.092)
SCENARIO_DRIFT = {
    "traffic-returns": Drift(psi_pickup=0.032, frozen_loss=0.231, frozen_vs_retrained=0.173),
    "mild": Drift(psi_pickup=0.008, frozen_loss=-0.061, frozen_vs_retrained=-0.001),
    "none": Drift(psi_pickup=0.0, frozen_loss=0.0, frozen_vs_retrained=0.0),
}


# Where the figures come from, said with them: another seed, size or span of months drifts by other amounts.
MEASURED = " (measured at seed 42, full-size months, 2021-01 to 2021-06)"


def factor(scenario: str) -> float:
    """How many times faster than real 2021 months the scenario's pickup zones drift."""
    return SCENARIO_DRIFT[scenario].psi_pickup / REAL_2021.psi_pickup


def drift_note(source: DataSource) -> str | None:
    """One sentence on how the months' drift compares with real months, or None for real months."""
    if source.folder is not None or source.source != "synthetic" or source.scenario not in SCENARIO_DRIFT:
        return None
    drift, real = SCENARIO_DRIFT[source.scenario], REAL_2021
    if source.scenario == "none":
        return "Synthetic months of the 'none' scenario do not drift at all: a control, not the world."
    if source.scenario == "traffic-returns":
        return (
            f"Stylised: the 'traffic-returns' months drift {factor('traffic-returns'):.1f}× as fast as real "
            f"2021 months (pickup-zone PSI {drift.psi_pickup:.3f} vs {real.psi_pickup:.3f} month to month); a "
            f"model frozen on January loses {drift.frozen_loss:.0%} by June here, {real.frozen_loss:.0%} on the "
            f"real months; in June it is {drift.frozen_vs_retrained:.0%} worse here than a model retrained on May, "
            f"{real.frozen_vs_retrained:.0%} on the real months{MEASURED}. Real months: run all --data-dir DIR."
        )
    return (
        f"The '{source.scenario}' months drift more slowly than real 2021 months (pickup-zone PSI "
        f"{drift.psi_pickup:.3f} vs {real.psi_pickup:.3f} month to month): a model frozen on January does not get "
        f"worse by June ({drift.frozen_loss:+.0%} here, {real.frozen_loss:+.0%} on the real months){MEASURED}. "
        "For the drift of the course's story: --scenario traffic-returns."
    )
