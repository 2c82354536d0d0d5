"""Fit the cost model's coefficients to measured rows.

Why this fit: every metric is linear in its coefficients (see ``_terms``), and the figure of merit
is the mean absolute *percentage* error, so each row is divided by its measured value and the
coefficients solve a non-negative least-squares problem, re-weighted a few times (IRLS) towards
least absolute relative error. Coefficients must stay >= 0: each prices a piece of hardware.
A weak pull towards each coefficient's prior keeps coefficients the data cannot identify (e.g.
Vivado-HLS convolution timing when no such row is in the data) at a physics guess instead of at zero.

What is fitted on what: per-layer truth (N-TORC rows, the layers of design files that have their
own figures) pins the layer terms; whole-design truth adds the FIFOs, the top-level glue and the
dataflow schedule. A design's weight is its confidence divided by the square root of how many rows
share its layer stack, so a stack synthesized at four clocks does not count four times; a design's
layer rows share, the same way, the square root of their number.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence

from hil.cost._data import CostRow
from hil.cost._estimate import domain_key, io_terms, network_stages
from hil.cost._params import COEFFICIENTS, CostParams
from hil.cost._spec import IOType
from hil.cost._term import LayerTerms, Term
from hil.cost._terms import layer_terms
from hil.errors import InputError

__all__ = ["FIT_METRICS", "calibrate", "layer_rows", "row_terms", "synth_ratios"]

_log = logging.getLogger(__name__)

#: Metrics whose coefficients are fitted, in fitting order (LUT features read the fitted DSP shares).
FIT_METRICS: tuple[str, ...] = ("dsp", "lut", "ff", "latency", "latency_min")
_PRIOR_WEIGHT = 0.03
_IRLS_STEPS = 8


def layer_rows(row: CostRow) -> list[CostRow]:
    """The per-layer truths of a whole design as rows of one layer each (with the beats it reads)."""
    if not row.layer_truth:
        return []
    stages = network_stages(row.layers)
    by_name = {st.spec.name: st for st in stages}
    out = []
    for lt in row.layer_truth:
        stage = by_name.get(row.layers[lt.index].name)
        if stage is None:
            continue
        out.append(
            CostRow(
                source=f"{row.source} / {lt.name}",
                group=row.group,
                layers=(stage.spec,),
                include_io=False,
                truth=lt.truth,
                family=row.family,
                target=row.target,
                weight=1.0,
                design_id=f"{row.name}/{lt.name}",
                part=row.part,
                in_beats=stage.in_beats,
            )
        )
    return out


def row_terms(row: CostRow, metric: str, coeffs: dict[str, float]) -> list[Term]:
    """The terms that make up ``metric`` of a row's estimate (the same composition as ``estimate``)."""
    if not row.include_io:
        return [
            t
            for t in _recorded(layer_terms(row.layers[0], coeffs, row.target, row.in_beats, record=True))
            if t.metric == metric
        ]
    stages = network_stages(row.layers)
    per_stage = [
        _recorded(layer_terms(st.spec, coeffs, row.target, st.in_beats, record=True)) for st in stages
    ]
    built = [any(t.metric in ("lut", "ff", "dsp", "ii") for t in terms) for terms in per_stage]
    if metric in ("latency", "latency_min"):
        functions = [terms for terms, b in zip(per_stage, built, strict=True) if b]
        stream = stages[-1].spec.io_type is IOType.IO_STREAM
        chosen = [[t for t in terms if t.metric == metric] for terms in functions]
        if not chosen:
            return []
        if not stream:
            return [t for terms in chosen for t in terms]
        values = [_value(terms, coeffs) for terms in chosen]
        slowest = max(range(len(chosen)), key=values.__getitem__)
        downstream = len(chosen) - 1 - slowest
        return [*chosen[slowest], Term(metric, "dataflow stages downstream", f"{metric}.stage", downstream)]
    out = [t for terms in per_stage for t in terms if t.metric == metric]
    out += [
        t
        for t in _recorded(io_terms(stages, built, row.target, True, coeffs, record=True))
        if t.metric == metric
    ]
    return out


def _recorded(lt: LayerTerms) -> list[Term]:
    assert lt.terms is not None
    return lt.terms


def _value(terms: list[Term], coeffs: dict[str, float]) -> float:
    return sum(t.x if t.coef is None else coeffs[t.coef] * t.x for t in terms)


def features(
    row: CostRow, metric: str, names: Sequence[str], coeffs: dict[str, float]
) -> tuple[list[float], float]:
    """(feature per coefficient in ``names``, fixed part) of ``metric`` for a row."""
    x = [0.0] * len(names)
    where = {n: i for i, n in enumerate(names)}
    fixed = 0.0
    for term in row_terms(row, metric, coeffs):
        if term.coef in where:
            x[where[term.coef]] += term.x
        else:
            fixed += term.x if term.coef is None else coeffs[term.coef] * term.x
    return x, fixed


def _fit_metric(
    rows: Sequence[CostRow],
    weights: Sequence[float],
    metric: str,
    coeffs: dict[str, float],
    prior: CostParams,
) -> dict[str, float]:
    import numpy as np
    from scipy.optimize import nnls

    names = [n for n in COEFFICIENTS if n.split(".", 1)[0] == metric]
    a_rows, b_rows, w_rows = [], [], []
    for row, weight in zip(rows, weights, strict=True):
        y = row.truth.get(metric)
        if y is None or y <= 0 or weight <= 0:
            continue
        x, fixed = features(row, metric, names, coeffs)
        a_rows.append([v / y for v in x])
        b_rows.append(1.0 - fixed / y)
        w_rows.append(weight)
    if not a_rows:
        return {}
    a = np.asarray(a_rows, dtype=float)
    b = np.asarray(b_rows, dtype=float)
    base = np.asarray(w_rows, dtype=float)
    priors = np.asarray([max(prior.coefficients[n], 1e-3) for n in names], dtype=float)
    # Pseudo-rows: lambda * (c_j / prior_j - 1), a relative pull towards the prior.
    a_prior = np.diag(_PRIOR_WEIGHT / priors)
    b_prior = np.full(len(names), _PRIOR_WEIGHT)
    irls = np.ones(len(b))
    c = priors.copy()
    for _ in range(_IRLS_STEPS):
        w = base * irls
        c, _ = nnls(np.vstack([a * w[:, None], a_prior]), np.concatenate([b * w, b_prior]))
        residual = np.abs(a @ c - b)
        irls = 1.0 / np.sqrt(np.maximum(residual, 0.02))
    return dict(zip(names, (float(v) for v in c), strict=True))


def calibration_rows(rows: Sequence[CostRow]) -> tuple[list[CostRow], list[float]]:
    """The rows a fit uses (designs and their layers) and each one's weight."""
    groups = Counter(r.group for r in rows)
    out: list[CostRow] = []
    weights: list[float] = []
    for row in rows:
        if row.level != "hls":
            continue  # the coefficients price csynth's report; synthesis-level rows check the ratios
        out.append(row)
        weights.append(row.weight / math.sqrt(groups[row.group]))
        layers = layer_rows(row)
        for layer_row in layers:
            out.append(layer_row)
            weights.append(layer_row.weight / math.sqrt(len(layers)))
    return out, weights


_SYNTH_METRICS = ("lut", "ff", "dsp", "bram_18k")


def synth_ratios(rows: Sequence[CostRow]) -> dict[str, float]:
    """Post-synthesis / csynth per metric: the median ratio of the two real reports of one kernel.

    Both are measurements (csynth's estimate and Vivado's synthesis of the same hls4ml kernel), so
    the ratio is a property of the tool flow, not of this model; rows without both are skipped and a
    metric with no such row keeps its prior.
    """
    import statistics

    out: dict[str, float] = {}
    for metric in _SYNTH_METRICS:
        ratios = [
            r.truth_synth[metric] / r.truth[metric]
            for r in rows
            if r.truth_synth and r.truth_synth.get(metric) and r.truth.get(metric)
        ]
        if ratios:
            out[f"synth.{metric}_ratio"] = round(statistics.median(ratios), 4)
    return out


def calibrate(
    rows: Sequence[CostRow], *, prior: CostParams | None = None, labels: Sequence[str] = ()
) -> CostParams:
    """Fit all coefficients of FIT_METRICS to ``rows``; structural constants come from ``prior``.

    Args:
        rows: measured designs and layers (see ``read_cost_data``).
        prior: the starting point and prior (default: the data-independent physics priors).
        labels: names of the data files, recorded in the result's ``fitted_on``.
    """
    if not rows:
        raise InputError("calibrate: no measured rows")
    prior = prior or CostParams.priors()
    coeffs = dict(prior.coefficients)
    fit_rows, weights = calibration_rows(rows)
    for _ in range(2):  # the slowest stage and the DSP shares depend on the fit: iterate once more
        for metric in FIT_METRICS:
            coeffs.update(_fit_metric(fit_rows, weights, metric, coeffs, prior))
    ratios = synth_ratios(rows)
    coeffs.update(ratios)
    domain = sorted({domain_key(s) for r in rows for s in r.layers})
    _log.info("calibrated on %d rows (%d with per-layer truth)", len(rows), len(fit_rows) - len(rows))
    return CostParams(
        coefficients={k: round(v, 6) for k, v in coeffs.items()},
        fitted_on=tuple(labels),
        domain=tuple(domain),
        notes={
            "rows": len(rows),
            "layer_rows": len(fit_rows) - len(rows),
            "method": "IRLS non-negative least squares on relative error, "
            "weighted by confidence / sqrt(stack rows)",
            "synth_ratio_designs": sum(1 for r in rows if r.truth_synth),
        },
    )
