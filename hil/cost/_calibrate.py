"""Fit the cost model's coefficients to measured rows.

Why this fit: every metric is linear in its coefficients (see ``_terms``), and the figure of merit
is the mean absolute *percentage* error, so each row is divided by its measured value and the
coefficients solve a non-negative least-squares problem, re-weighted a few times (IRLS) towards
least absolute relative error. Coefficients must stay >= 0: each prices a piece of hardware.
A weak pull towards each coefficient's prior keeps coefficients the data cannot identify (e.g.
the Latency strategy when its only row is held out) at a physics guess instead of at zero.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from hil.cost._data import CostRow
from hil.cost._params import COEFFICIENTS, CostParams
from hil.cost._terms import METRICS, fifo_terms, layer_terms
from hil.errors import InputError

__all__ = ["FIT_METRICS", "calibrate", "features"]

_log = logging.getLogger(__name__)

#: Metrics whose coefficients are fitted (BRAM is structural; DSP only for the Latency strategy).
FIT_METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "latency", "latency_min")
_PRIOR_WEIGHT = 0.03
_IRLS_STEPS = 8


def features(
    row: CostRow, metric: str, names: Sequence[str], coeffs: dict[str, float]
) -> tuple[list[float], float]:
    """(feature per coefficient in ``names``, fixed part) of ``metric`` for a row."""
    index = METRICS.index(metric)
    x = [0.0] * len(names)
    where = {n: i for i, n in enumerate(names)}
    fixed = 0.0
    for spec in row.layers:
        for name, value in layer_terms(spec, coeffs)[0][index]:
            if name in where:
                x[where[name]] += value
            else:
                fixed += value if name is None else coeffs[name] * value
    if row.include_io and metric in ("lut", "ff"):
        for spec in row.layers[:-1]:
            lut, ff, _ = fifo_terms(spec.out_shape, spec.result_bits, spec.io_type, coeffs)
            fixed += lut if metric == "lut" else ff
    return x, fixed


def _fit_metric(
    rows: Sequence[CostRow], metric: str, coeffs: dict[str, float], prior: CostParams
) -> dict[str, float]:
    import numpy as np
    from scipy.optimize import nnls

    names = [n for n in COEFFICIENTS if n.split(".", 1)[0] == metric]
    a_rows, b_rows = [], []
    for row in rows:
        y = row.truth.get(metric)
        if y is None or y <= 0:
            continue
        x, fixed = features(row, metric, names, coeffs)
        a_rows.append([v / y for v in x])
        b_rows.append(1.0 - fixed / y)
    if not a_rows:
        return {}
    a = np.asarray(a_rows, dtype=float)
    b = np.asarray(b_rows, dtype=float)
    priors = np.asarray([prior.coefficients[n] for n in names], dtype=float)
    # Pseudo-rows: lambda * (c_j / prior_j - 1), a relative pull towards the prior.
    a_prior = np.diag(_PRIOR_WEIGHT / priors)
    b_prior = np.full(len(names), _PRIOR_WEIGHT)
    weights = np.ones(len(b))
    c = priors.copy()
    for _ in range(_IRLS_STEPS):
        c, _ = nnls(np.vstack([a * weights[:, None], a_prior]), np.concatenate([b * weights, b_prior]))
        residual = np.abs(a @ c - b)
        weights = 1.0 / np.sqrt(np.maximum(residual, 0.02))
    return dict(zip(names, (float(v) for v in c), strict=True))


def calibrate(
    rows: Sequence[CostRow], *, prior: CostParams | None = None, labels: Sequence[str] = ()
) -> CostParams:
    """Fit all coefficients of FIT_METRICS to ``rows``; structural constants come from ``prior``.

    Args:
        rows: measured designs (see ``read_cost_data``).
        prior: the starting point and prior (default: the data-independent physics priors).
        labels: names of the data files, recorded in the result's ``fitted_on``.
    """
    if not rows:
        raise InputError("calibrate: no measured rows")
    prior = prior or CostParams.priors()
    coeffs = dict(prior.coefficients)
    for metric in FIT_METRICS:
        coeffs.update(_fit_metric(rows, metric, coeffs, prior))
    kinds = sorted({s.kind.value for r in rows for s in r.layers})
    bits = sorted({b for r in rows for s in r.layers for b in (s.weight_bits, s.act_bits)})
    _log.info("calibrated on %d rows (%s)", len(rows), ", ".join(kinds))
    return CostParams(
        coefficients={k: round(v, 6) for k, v in coeffs.items()},
        fitted_on=tuple(labels),
        calibrated_kinds=tuple(kinds),
        calibrated_bits=tuple(bits),
        notes={"rows": len(rows), "method": "IRLS non-negative least squares on relative error"},
    )
