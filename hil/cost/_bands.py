"""Error bands: the 80 % prediction interval of every estimate, from leave-one-family-out residuals.

Why from leave-one-family-out: an estimate is used on designs the model was not fitted on, and the
honest error of such a design is what a family the fit never saw shows. For each source family of
the rows given, the model is refitted without it (``calibrate(..., bands=False)``) and the family's
designs and layers are predicted; the residual factors ``true / predicted`` are pooled with each
family's weight growing only as the square root of its size (a family of 68 designs must not
outvote one of 2 sixty-eight times over). Whole-design residuals (a layer measured alone is a design)
give the design band of each metric (``metric``): a design's resource band
(``_estimate.design_bands``). Layers with their own figures (and N-TORC's single layers) give one
band per layer class and metric (``layer:<class>/<metric>``, classes ``mac_resource``,
``mac_constant``, ``other``): the latency band of a design is the class band of the layer that sets
its latency, and a layer inside a design carries its class band; a class with too few residuals
falls back to the design band. The narrow-product rule's undetermined values (``rule:<name>``) are
recorded by ``calibrate``, not here.

Which interval (issue 21c): the *shortest* interval that holds 80 % of the pooled residual weight and
contains the estimate itself (``shortest_interval``), not the 10th-90th percentile. The residuals of
an unseen family are clumped by family (a family's designs share its bias), so their distribution is
lumpy and skewed; a percentile band then reaches into the far tail on both sides at once, the
shortest one only where the mass is. Held out one family at a time it is what made the bands
informative (LUT median half-width 0.39 -> 0.30 of the estimate, FF 0.58 -> 0.43, coverage 72 % ->
82 % and 80 % -> 75 %; README, "Validation"). A count (DSP slices, BRAM blocks) gets an absolute
slack on top, chosen from the same residuals (``count_slack``): the fewest units either way that
bring the band's coverage of the pooled designs to 80 % (a true or predicted zero included). BRAM is
priced exactly on most designs of every family, so its slack is 0 where it was one block
(a 1-block slack on ~30 blocks was ten times BRAM's 0.3 % error).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from hil.cost._data import CostRow
from hil.cost._params import CostParams
from hil.cost._synth import SynthPair

__all__ = [
    "BAND_METRICS",
    "COUNT_METRICS",
    "COVERAGE",
    "count_slack",
    "family_bands",
    "shortest_interval",
    "weighted_quantile",
]

_log = logging.getLogger(__name__)

BAND_METRICS = ("lut", "ff", "dsp", "bram_18k", "latency")
#: Metrics that count whole units (DSP slices, BRAM blocks): their bands get an absolute slack.
COUNT_METRICS = ("dsp", "bram_18k")
#: The bands are 80 % prediction intervals.
COVERAGE = 0.80
#: Fewer residuals than this in a class: that class's band falls back to the design band.
_MIN_RESIDUALS = 4
#: A count's slack is searched up to this many units (more would say the relative band is wrong).
_MAX_SLACK = 8

#: One residual: (true value, predicted value, weight).
Residual = tuple[float, float, float]


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


def shortest_interval(
    values: Sequence[float], weights: Sequence[float], coverage: float = COVERAGE
) -> tuple[float, float]:
    """The shortest ``[lo, hi]`` that holds at least ``coverage`` of the weight and contains 1.

    ``values`` are residual factors (true / predicted); 1 is the estimate itself, which a band must
    hold. Width is ``hi - lo``, the band's width as a fraction of the estimate (what the half-width
    target measures). Ties go to the lower interval. A two-pointer scan over the sorted values.
    """
    pairs = sorted(zip(values, weights, strict=True))
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        raise ValueError("shortest_interval: no values")
    xs = [v for v, _ in pairs]
    need = coverage * total - 1e-12
    best: tuple[float, float, float] | None = None
    mass, j = 0.0, -1
    for i in range(len(pairs)):
        while mass < need and j + 1 < len(pairs):
            j += 1
            mass += pairs[j][1]
        if mass < need:
            break
        lo, hi = min(xs[i], 1.0), max(xs[j], 1.0)
        if best is None or hi - lo < best[0] - 1e-15:
            best = (hi - lo, lo, hi)
        mass -= pairs[i][1]
    assert best is not None
    return best[1], best[2]


def count_slack(residuals: Sequence[Residual], lo: float, hi: float, coverage: float = COVERAGE) -> int:
    """The fewest whole units ``s`` for which ``[pred * lo - s, pred * hi + s]`` holds ``coverage`` of
    the residuals' weight (true zeros and predicted zeros included: a ratio says nothing there)."""
    total = sum(w for _, _, w in residuals)
    if total <= 0:
        return 1
    for slack in range(_MAX_SLACK + 1):
        inside = sum(w for t, p, w in residuals if p * lo - slack - 1e-9 <= t <= p * hi + slack + 1e-9)
        if inside >= coverage * total - 1e-12:
            return slack
    return _MAX_SLACK


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
    residuals: dict[str, list[Residual]] = {}

    def note(key: str, true: float | None, pred: float, weight: float) -> None:
        if true is not None:
            residuals.setdefault(key, []).append((float(true), float(pred), weight))

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
                note(metric, row.truth.get(metric), pred[metric], design_weight)
        for layer_row, _ in layers:
            pred = predict_row(layer_row, params)
            kind = layer_kind(layer_row.layers[0])
            for metric in BAND_METRICS:
                weight = 1.0 / len(layers) ** 0.5
                note(f"layer:{kind}/{metric}", layer_row.truth.get(metric), pred[metric], weight)
    return _table(residuals)


def _table(residuals: dict[str, list[Residual]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for key in sorted(residuals):
        items = residuals[key]
        ratios = [(t / p, w) for t, p, w in items if t > 0 and p > 0]  # a zero says nothing of a ratio
        if len(ratios) < _MIN_RESIDUALS:
            continue
        lo, hi = shortest_interval([v for v, _ in ratios], [w for _, w in ratios])
        band: dict[str, Any] = {"lo": round(min(lo, 1.0), 4), "hi": round(max(hi, 1.0), 4), "n": len(ratios)}
        if key.rsplit("/", 1)[-1] in COUNT_METRICS:
            band["slack"] = count_slack(items, band["lo"], band["hi"])
        out[key] = band
    return out
