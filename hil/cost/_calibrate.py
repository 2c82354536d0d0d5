"""Fit the cost model's parameters to measured rows: least squares, rules, synthesis ratios, bands.

Why this fit: every metric is linear in its fitted parameters (see ``_terms``), and the figure of
merit is the mean absolute *percentage* error, so each row is divided by its measured value and the
parameters solve a bounded least-squares problem (each within its documented range, ``PARAMS``),
re-weighted a few times (IRLS) towards least absolute relative error, with a weak pull towards each
prior so a parameter the data cannot identify stays at its physics guess.

Everything chosen from data is chosen here, from the rows given, so a cross-validation that calls
``calibrate`` per fold chooses it inside the fold: the fitted parameters, the narrow-product rule
(``_rules``: a grid search on per-layer and design DSP figures), the synthesis ratios (``_synth``)
and the error bands (an inner leave-one-family-out over the rows given).

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
from hil.cost._params import PARAMS, CostParams, fitted_names
from hil.cost._spec import IOType
from hil.cost._synth import SynthPair, synth_table
from hil.cost._term import LayerTerms, Term
from hil.cost._terms import layer_terms
from hil.errors import InputError

__all__ = ["FIT_METRICS", "calibrate", "layer_rows", "row_terms", "synth_pairs_of"]

_log = logging.getLogger(__name__)

#: Metrics whose parameters are fitted, in fitting order (LUT features read the fitted DSP shares).
FIT_METRICS: tuple[str, ...] = ("dsp", "lut", "ff", "latency", "latency_min")
_PRIOR_WEIGHT = 0.03
_IRLS_STEPS = 6


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
        return [*chosen[slowest], Term(metric, "dataflow stages downstream", "latency.stage", downstream)]
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
    from scipy.optimize import lsq_linear

    names = fitted_names(metric)
    if not names:
        return {}
    a_rows, b_rows, w_rows = [], [], []
    for row, weight in zip(rows, weights, strict=True):
        y = row.truth.get(metric)
        if y is None or y <= 0 or weight <= 0:
            continue
        x, fixed = features(row, metric, names, coeffs)
        if not any(x):
            continue
        a_rows.append([v / y for v in x])
        b_rows.append(1.0 - fixed / y)
        w_rows.append(weight)
    if not a_rows:
        return {}
    a = np.asarray(a_rows, dtype=float)
    b = np.asarray(b_rows, dtype=float)
    base = np.asarray(w_rows, dtype=float)
    priors = np.asarray([max(prior.coefficients[n], 1e-3) for n in names], dtype=float)
    low = np.asarray([PARAMS[n].low for n in names], dtype=float)
    high = np.asarray([PARAMS[n].high for n in names], dtype=float)
    # Pseudo-rows: lambda * (c_j / prior_j - 1), a relative pull towards the prior.
    a_prior = np.diag(_PRIOR_WEIGHT / priors)
    b_prior = np.full(len(names), _PRIOR_WEIGHT)
    irls = np.ones(len(b))
    c = np.clip(priors, low, high)
    for _ in range(_IRLS_STEPS):
        w = base * irls
        c = lsq_linear(
            np.vstack([a * w[:, None], a_prior]), np.concatenate([b * w, b_prior]), bounds=(low, high)
        ).x
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
            continue  # the parameters price csynth's report; synthesis-level rows check the ratios
        out.append(row)
        weights.append(row.weight / math.sqrt(groups[row.group]))
        layers = layer_rows(row)
        for layer_row in layers:
            out.append(layer_row)
            weights.append(layer_row.weight / math.sqrt(len(layers)))
    return out, weights


def synth_pairs_of(rows: Sequence[CostRow]) -> list[SynthPair]:
    """csynth/Vivado pairs held by the rows themselves (designs whose kernel Vivado synthesized)."""
    from hil.cost._estimate import strategy_of

    return [
        SynthPair(r.name, r.target.hls.value, strategy_of(r.layers), r.truth, r.truth_synth)
        for r in rows
        if r.truth_synth and r.level == "hls"
    ]


def calibrate(
    rows: Sequence[CostRow],
    *,
    prior: CostParams | None = None,
    labels: Sequence[str] = (),
    synth_pairs: Sequence[SynthPair] = (),
    bands: bool = True,
) -> CostParams:
    """Choose every data-dependent part of the model from ``rows`` (see the module docstring).

    Args:
        rows: measured designs and layers (see ``read_cost_data``).
        prior: the starting point and prior (default: the documented priors of ``PARAMS``).
        labels: names of the data files, recorded in the result's ``fitted_on``.
        synth_pairs: csynth/Vivado pairs beyond those the rows carry (report folders).
        bands: also derive the 80 % bands by an inner leave-one-family-out (needs two families).
    """
    from hil.cost._bands import family_bands
    from hil.cost._rules import choose_rules

    if not rows:
        raise InputError("calibrate: no measured rows")
    prior = prior or CostParams.priors()
    coeffs = dict(prior.coefficients)
    fit_rows, weights = calibration_rows(rows)
    ranges: dict[str, tuple[float, float]] = {}
    for _ in range(2):  # the slowest stage and the DSP shares depend on the fit: iterate once more
        for metric in FIT_METRICS:
            coeffs.update(_fit_metric(fit_rows, weights, metric, coeffs, prior))
        coeffs.update(choose_rules(fit_rows, weights, coeffs, prior, ranges))
    pairs = [*synth_pairs_of(rows), *synth_pairs]
    at_bound = sorted(
        name
        for name in fitted_names()
        if abs(coeffs[name] - PARAMS[name].low) < 1e-6 or abs(coeffs[name] - PARAMS[name].high) < 1e-6
    )
    domain = sorted({domain_key(s) for r in rows for s in r.layers})
    params = CostParams(
        coefficients={k: round(v, 6) for k, v in coeffs.items()},
        fitted_on=tuple(labels),
        domain=tuple(domain),
        notes={
            "rows": len(rows),
            "layer_rows": len(fit_rows) - len(rows),
            "families": sorted({r.family for r in rows}),
            # fitted parameters the data pushed to an edge of their documented range
            "at_range_edge": at_bound,
            "method": "IRLS bounded least squares on relative error, weighted by confidence / "
            "sqrt(stack rows); rules by grid search on DSP figures; bands by inner leave-one-family-out",
        },
        synth=synth_table(pairs),
    )
    band_table = family_bands(rows, prior=prior, synth_pairs=synth_pairs) if bands else {}
    # Rule values the data cannot tell apart, as factors of the chosen value (``rule:<name>``).
    for name, (low, high) in sorted(ranges.items()):
        value = params.coefficients[name]
        band_table[f"rule:{name}"] = {
            "lo": round(low / value, 4),
            "hi": round(high / value, 4),
            "n": len(rows),
        }
    params = CostParams(
        params.coefficients, params.fitted_on, params.domain, params.notes, band_table, params.synth
    )
    _log.info("calibrated on %d rows (%d with per-layer truth)", len(rows), len(fit_rows) - len(rows))
    return params
