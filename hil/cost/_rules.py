"""The narrow-product rule, chosen from data: which products HLS builds in LUTs instead of DSPs.

Why a grid search and not least squares: the rule's parameters are thresholds and shares that decide
a count (DSP slices are whole), so the DSP error is a step function of them. AMD's HLS documentation
gives the controls (``bind_op``, ``#pragma HLS ALLOCATION``) but no width at which a product leaves
the DSP, so the rule is what the per-layer and design DSP figures of real designs say. Each rule
parameter is set, in turn, to the grid value with the least weighted log-error of DSP counts over
the rows given; where the data cannot tell values apart (e.g. no narrow product tree in a fold),
the value closest to the documented prior wins, so a fold without evidence keeps the plain binding.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from hil.cost._data import CostRow
from hil.cost._params import PARAMS, CostParams

__all__ = ["RULE_GRID", "choose_rules", "dsp_error"]

_log = logging.getLogger(__name__)

#: Candidate values per rule parameter (each within its documented range).
RULE_GRID: dict[str, tuple[float, ...]] = {
    "mult.fabric_max_bits": (2.0, 3.0, 4.0, 5.0),
    "mult.narrow_bits": (6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0),
    "dsp.tree_fraction": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0),
}


def _dsp(row: CostRow, params: CostParams) -> float:
    from hil.cost._estimate import estimate, estimate_layer

    if not row.include_io and len(row.layers) == 1:
        return estimate_layer(row.layers[0], params, target=row.target, in_beats=row.in_beats).dsp
    return estimate(row.layers, params=params, include_io=row.include_io, target=row.target).totals["dsp"]


def dsp_error(rows: Sequence[CostRow], weights: Sequence[float], coeffs: dict[str, float]) -> float:
    """Weighted mean |log((pred + 1) / (true + 1))| of DSP counts (a true zero counts too)."""
    params = CostParams(coeffs)
    total = norm = 0.0
    for row, weight in zip(rows, weights, strict=True):
        true = row.truth.get("dsp")
        if true is None or weight <= 0:
            continue
        total += weight * abs(math.log((_dsp(row, params) + 1.0) / (true + 1.0)))
        norm += weight
    return total / norm if norm else 0.0


def choose_rules(
    rows: Sequence[CostRow],
    weights: Sequence[float],
    coeffs: dict[str, float],
    prior: CostParams,
    ranges: dict[str, tuple[float, float]] | None = None,
) -> dict[str, float]:
    """Rule parameters chosen one at a time by grid search (see the module docstring).

    ``ranges``, when given, receives per rule parameter the lowest and highest grid value that fits
    the data exactly as well as the chosen one: what the data cannot tell apart (the whole grid when
    no row exercises the rule). The DSP band spans it (``CostParams.rule_variants``).
    """
    chosen = dict(coeffs)
    for name, grid in RULE_GRID.items():
        assert PARAMS[name].how == "rule", name
        want = prior.coefficients[name]
        scored = []
        for value in grid:
            trial = dict(chosen, **{name: value})
            scored.append((round(dsp_error(rows, weights, trial), 9), abs(value - want), value))
        best = min(scored)[2]
        chosen[name] = best
        if ranges is not None:
            tied = [value for score, _, value in scored if score == min(scored)[0]]
            ranges[name] = (min(tied), max(tied))
        _log.debug("rule %s = %g (grid %s)", name, best, scored)
    return {name: chosen[name] for name in RULE_GRID}
