"""Regression check and leave-one-shape-out cross-validation of the cost model.

Why leave one *shape* out: every CSV row is already one configuration (shape x reuse x sequence
length), and rows of one shape differ only in reuse factor and length, so leaving out single rows
would let the model see the held-out shape and flatter it. MAPE counts only rows whose true value
is > 0 (a zero would divide by zero); the number left out is reported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hil.cost._calibrate import calibrate
from hil.cost._data import CostRow
from hil.cost._estimate import estimate, estimate_layer
from hil.cost._params import CostParams

__all__ = ["CHECK_METRICS", "CheckReport", "MetricReport", "check", "cross_validate", "predict_row"]

_log = logging.getLogger(__name__)

#: Metrics that a check thresholds; ``latency`` is the worst case (latency_max).
CHECK_METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "latency")
_BESIDE = ("latency_min",)


@dataclass(frozen=True)
class MetricReport:
    """Errors of one metric over the rows that carry it."""

    metric: str
    n: int
    excluded_zero: int
    mape: float | None
    median_ape: float | None
    kendall_tau: float | None
    worst: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "excluded_zero": self.excluded_zero,
            "mape": self.mape,
            "median_ape": self.median_ape,
            "kendall_tau": self.kendall_tau,
            "worst": self.worst,
        }


@dataclass(frozen=True)
class CheckReport:
    """A check (or cross-validation) over ``rows`` measured designs."""

    rows: int
    metrics: dict[str, MetricReport]
    beside: dict[str, MetricReport]
    pairs: dict[str, list[tuple[str, float, float]]] = field(repr=False, default_factory=dict)

    def over(self, max_mape: float) -> list[str]:
        """Metrics whose MAPE exceeds ``max_mape``."""
        return [m for m, r in self.metrics.items() if r.mape is not None and r.mape > max_mape]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "metrics": {m: r.to_dict() for m, r in self.metrics.items()},
            "latency_min": self.beside["latency_min"].to_dict() if "latency_min" in self.beside else None,
        }


def predict_row(row: CostRow, params: CostParams) -> dict[str, float]:
    """The estimate of a measured row, in the row's metric names."""
    if not row.include_io and len(row.layers) == 1:
        le = estimate_layer(row.layers[0], params)
        return {
            "lut": le.lut,
            "ff": le.ff,
            "dsp": le.dsp,
            "bram_18k": le.bram_18k,
            "latency": le.latency_cycles,
            "latency_min": le.latency_min_cycles,
        }
    est = estimate(row.layers, params=params, include_io=row.include_io)
    t = est.totals
    return {
        "lut": t["lut"],
        "ff": t["ff"],
        "dsp": t["dsp"],
        "bram_18k": t["bram_18k"],
        "latency": t["latency_cycles"],
        "latency_min": float(sum(le.latency_min_cycles for le in est.layers)),
    }


def _metric_report(metric: str, pairs: list[tuple[str, float, float]], n_worst: int) -> MetricReport:
    from scipy.stats import kendalltau

    used = [(src, t, p) for src, t, p in pairs if t > 0]
    apes = sorted(((abs(p - t) / t, src, t, p) for src, t, p in used), reverse=True)
    tau: float | None = None
    if len(pairs) >= 2:
        value = kendalltau([t for _, t, _ in pairs], [p for _, _, p in pairs]).statistic
        tau = None if value is None or math.isnan(value) else float(value)
    values = sorted(a for a, *_ in apes)
    median = None
    if values:
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
    return MetricReport(
        metric=metric,
        n=len(used),
        excluded_zero=len(pairs) - len(used),
        mape=sum(values) / len(values) if values else None,
        median_ape=median,
        kendall_tau=tau,
        worst=[{"row": s, "true": t, "pred": p, "ape": a} for a, s, t, p in apes[:n_worst]],
    )


def _report(pairs: dict[str, list[tuple[str, float, float]]], n_rows: int, n_worst: int) -> CheckReport:
    return CheckReport(
        rows=n_rows,
        metrics={m: _metric_report(m, pairs[m], n_worst) for m in CHECK_METRICS if pairs[m]},
        beside={m: _metric_report(m, pairs[m], n_worst) for m in _BESIDE if pairs[m]},
        pairs=pairs,
    )


def _collect(
    rows: Sequence[CostRow], predictions: Sequence[dict[str, float]]
) -> dict[str, list[tuple[str, float, float]]]:
    pairs: dict[str, list[tuple[str, float, float]]] = {m: [] for m in (*CHECK_METRICS, *_BESIDE)}
    for row, pred in zip(rows, predictions, strict=True):
        for metric in pairs:
            if metric in row.truth:
                pairs[metric].append((row.source, row.truth[metric], pred[metric]))
    return pairs


def check(rows: Sequence[CostRow], params: CostParams, *, n_worst: int = 3) -> CheckReport:
    """Predict every row with ``params`` and report errors per metric."""
    predictions = [predict_row(r, params) for r in rows]
    return _report(_collect(rows, predictions), len(rows), n_worst)


def cross_validate(
    rows: Sequence[CostRow], *, prior: CostParams | None = None, n_worst: int = 3
) -> CheckReport:
    """Leave-one-shape-out: refit without each shape group and predict that group."""
    groups = sorted({r.group for r in rows})
    predictions: dict[int, dict[str, float]] = {}
    for group in groups:
        train = [r for r in rows if r.group != group]
        test = [i for i, r in enumerate(rows) if r.group == group]
        if not train:
            raise_single = f"cross-validation needs at least two layer shapes; only {group!r} given"
            from hil.errors import InputError

            raise InputError(raise_single)
        params = calibrate(train, prior=prior)
        for i in test:
            predictions[i] = predict_row(rows[i], params)
        _log.info("cv: held out %s (%d rows)", group, len(test))
    ordered = [predictions[i] for i in range(len(rows))]
    return _report(_collect(rows, ordered), len(rows), n_worst)
