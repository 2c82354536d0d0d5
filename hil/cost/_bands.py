"""Error bands: the 80 % prediction interval of every estimate, from leave-one-family-out residuals.

Why from leave-one-family-out: an estimate is used on designs the model was not fitted on, and the
honest error of such a design is what a family the fit never saw shows. For each source family of
the rows given, the model is refitted without it (``calibrate(..., bands=False)``) and the family's
designs and layers are predicted; the residual factors ``true / predicted`` are pooled with each
family's weight growing only as the square root of its size (a family of 68 designs must not
outvote one of 2 sixty-eight times over), and the 10th and 90th weighted percentiles are the band,
as factors of the estimate. Whole-design residuals (a layer measured alone is a design) give the
design band of each metric (``metric``): a design's resource band (``_estimate.design_bands``).
Layers with their own figures (and N-TORC's single layers) give one band per layer class and metric
(``layer:<class>/<metric>``, classes ``mac_resource``, ``mac_constant``, ``other``): the latency
band of a design is the class band of the layer that sets its latency, and a layer inside a design
carries its class band; a class with too few residuals falls back to the design band. (Summing the
layers' class-band edges for a design, as before issue 21b, assumed every layer at its percentile at
once and made bands three times the design-level error.) The narrow-product rule's undetermined
values (``rule:<name>``) are recorded by ``calibrate``, not here.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from hil.cost._data import CostRow
from hil.cost._params import CostParams
from hil.cost._synth import SynthPair

__all__ = ["BAND_METRICS", "LOW_Q", "HIGH_Q", "family_bands", "weighted_quantile"]

_log = logging.getLogger(__name__)

BAND_METRICS = ("lut", "ff", "dsp", "bram_18k", "latency")
LOW_Q, HIGH_Q = 0.10, 0.90
#: Fewer residuals than this in a class: that class's band falls back to the design band.
_MIN_RESIDUALS = 4


def weighted_quantile(values: Sequence[float], weights: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` with ``weights`` (linear between the weighted midpoints)."""
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        raise ValueError("weighted_quantile: no values")
    acc, points = 0.0, []
    for value, weight in pairs:
        points.append(((acc + weight / 2) / total, value))
        acc += weight
    if q <= points[0][0]:
        return points[0][1]
    for (q0, v0), (q1, v1) in pairwise(points):
        if q <= q1:
            return v0 + (v1 - v0) * (q - q0) / (q1 - q0) if q1 > q0 else v1
    return points[-1][1]


def _residual(true: float | None, pred: float) -> float | None:
    """true / predicted, or None when it says nothing (a zero on either side)."""
    if true is None or true <= 0 or pred <= 0:
        return None
    return true / pred


def family_bands(
    rows: Sequence[CostRow], *, prior: CostParams | None = None, synth_pairs: Sequence[SynthPair] = ()
) -> dict[str, dict[str, float]]:
    """Bands from an inner leave-one-family-out over ``rows`` (empty with fewer than two families)."""
    from hil.cost._calibrate import calibrate, layer_rows
    from hil.cost._check import predict_row
    from hil.cost._estimate import layer_kind

    families = sorted({r.family for r in rows})
    if len(families) < 2:
        _log.info("bands: one family only, no leave-one-family-out residuals")
        return {}
    residuals: dict[str, list[tuple[float, float]]] = {}

    def note(key: str, value: float | None, weight: float) -> None:
        if value is not None:
            residuals.setdefault(key, []).append((value, weight))

    for family in families:
        held = [r for r in rows if r.family == family]
        params = calibrate(
            [r for r in rows if r.family != family], prior=prior, synth_pairs=synth_pairs, bands=False
        )
        design_weight = 1.0 / len(held) ** 0.5
        layers = [(lr, r) for r in held for lr in layer_rows(r)]
        layers += [(r, r) for r in held if not r.include_io and len(r.layers) == 1]
        for row in held:
            pred = predict_row(row, params)
            for metric in BAND_METRICS:
                note(metric, _residual(row.truth.get(metric), pred[metric]), design_weight)
        for layer_row, _ in layers:
            pred = predict_row(layer_row, params)
            kind = layer_kind(layer_row.layers[0])
            for metric in BAND_METRICS:
                weight = 1.0 / len(layers) ** 0.5
                note(f"layer:{kind}/{metric}", _residual(layer_row.truth.get(metric), pred[metric]), weight)
    return _table(residuals)


def _table(residuals: dict[str, list[tuple[float, float]]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(residuals):
        items = residuals[key]
        if len(items) < _MIN_RESIDUALS:
            continue
        values, weights = [v for v, _ in items], [w for _, w in items]
        lo = weighted_quantile(values, weights, LOW_Q)
        hi = weighted_quantile(values, weights, HIGH_Q)
        out[key] = {"lo": round(min(lo, 1.0), 4), "hi": round(max(hi, 1.0), 4), "n": len(items)}
    return out
