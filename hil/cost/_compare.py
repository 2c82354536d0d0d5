"""Compare two checks of the same data: is a new parameter set worse than the old one?

Why three measures and a margin: a recalibration can lower the MAPE while ranking designs worse
(which is what a search needs) or while its bands stop covering the truth; each metric is judged on
MAPE (up is worse), Spearman rank correlation (down is worse) and band coverage (worse when it
falls below the lesser of the old coverage and the nominal 80 %: a wider band always covers more,
so more coverage than promised is no merit), each with the same absolute margin, so noise of a point
or two does not fail a regression check.
"""

from __future__ import annotations

import logging
from typing import Any

from hil.cost._check import CheckReport

__all__ = ["NOMINAL_COVERAGE", "compare_reports"]

#: The bands are 80 % prediction intervals.
NOMINAL_COVERAGE = 0.8

_log = logging.getLogger(__name__)


def compare_reports(new: CheckReport, old: CheckReport, margin: float) -> dict[str, Any]:
    """Per metric (new, old) MAPE, rank correlation and coverage, what got worse, and a list of
    regressions (empty when the new parameters are at least as good within ``margin``)."""
    metrics: dict[str, Any] = {}
    regressions: list[str] = []
    for metric, rep in new.metrics.items():
        base = old.metrics.get(metric)
        if base is None:
            continue
        worse = []
        if rep.mape is not None and base.mape is not None and rep.mape > base.mape + margin:
            worse.append("mape")
        rho, rho0 = rep.rank_correlation, base.rank_correlation
        if rho is not None and rho0 is not None and rho < rho0 - margin:
            worse.append("rank_correlation")
        cov, cov0 = rep.coverage, base.coverage
        # A wider band always covers more: coverage only regresses below the band's nominal 80 %.
        if cov is not None and cov0 is not None and cov < min(cov0, NOMINAL_COVERAGE) - margin:
            worse.append("band_coverage")
        metrics[metric] = {
            "mape": (rep.mape, base.mape),
            "rank_correlation": (rho, rho0),
            "band_coverage": (cov, cov0),
            "worse": worse,
        }
        regressions += [f"{metric} {what}" for what in worse]
    return {"margin": margin, "metrics": metrics, "regressions": regressions}
