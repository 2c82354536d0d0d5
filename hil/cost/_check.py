"""Regression check and cross-validation of the cost model against real results.

What a check compares: every row's whole-design figures (or a single layer's, for N-TORC rows), and
besides, every layer that has its own figures in its design's report. It reports, per metric, the
mean and median absolute percentage error and Kendall's tau (does the model rank designs right), the
same per source family, how often ``fits`` on the design's own part agrees with the real report, and
which rows lie outside the calibration data's domain (extrapolated).

Why two cross-validations: leaving one *shape* (layer stack) out asks how well the model predicts a
new network of a family it has seen (N-TORC rows of one shape differ only in reuse and length; the
designs of one stack only in clock), leaving one *family* out how well it predicts a source it has
never seen. MAPE counts only rows whose true value is > 0 (a zero would divide by zero); the number
left out is reported.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hil.cost._calibrate import calibrate, layer_rows
from hil.cost._data import CostRow
from hil.cost._estimate import estimate, estimate_layer
from hil.cost._fits import fits
from hil.cost._params import CostParams
from hil.errors import InputError

__all__ = [
    "CHECK_METRICS",
    "CV_MODES",
    "CheckReport",
    "MetricReport",
    "check",
    "cross_validate",
    "cv_summary",
    "predict_row",
]

_log = logging.getLogger(__name__)

#: Metrics that a check thresholds; ``latency`` is the worst case (latency_max).
CHECK_METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "latency")
_BESIDE = ("latency_min", "ii")
_DESIGN_KEYS = ("lut", "ff", "dsp", "bram_18k", "latency")
#: How a cross-validation groups rows.
CV_MODES: dict[str, Callable[[CostRow], str]] = {
    "shape": lambda row: row.group,
    "family": lambda row: row.family,
}

Pair = tuple[str, float, float]


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
    #: Spearman's rank correlation of predicted with true values (None for fewer than 3 rows).
    rank_correlation: float | None = None
    #: share of rows whose prediction lies within [0.67, 1.5]x of the truth (a true zero counts as
    #: inside when predicted as at most 2).
    within_1_5x: float | None = None
    #: share of rows outside [0.25, 4]x (a true zero: predicted above 2).
    outside_4x: float | None = None
    #: share of rows whose truth lies inside the estimate's 80 % band (None: no bands).
    coverage: float | None = None
    #: median half-width of the band, as a fraction of the estimate.
    median_half_width: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "excluded_zero": self.excluded_zero,
            "mape": self.mape,
            "median_ape": self.median_ape,
            "kendall_tau": self.kendall_tau,
            "rank_correlation": self.rank_correlation,
            "rank_correlation_method": "spearman",
            "within_1_5x": self.within_1_5x,
            "outside_4x": self.outside_4x,
            "band_coverage": self.coverage,
            "band_median_half_width": self.median_half_width,
            "worst": self.worst,
        }


@dataclass(frozen=True)
class FitsAgreement:
    """``fits`` on each design's own part, against the real report."""

    n: int
    agree: int
    unknown_part: int
    disagree: list[str]

    @property
    def fraction(self) -> float | None:
        return self.agree / self.n if self.n else None


@dataclass(frozen=True)
class CheckReport:
    """A check (or cross-validation) over ``rows`` measured designs."""

    rows: int
    metrics: dict[str, MetricReport]
    beside: dict[str, MetricReport]
    pairs: dict[str, list[Pair]] = field(repr=False, default_factory=dict)
    layers: dict[str, MetricReport] = field(default_factory=dict)
    layer_pairs: dict[str, list[Pair]] = field(repr=False, default_factory=dict)
    by_family: dict[str, dict[str, MetricReport]] = field(default_factory=dict)
    fits: FitsAgreement | None = None
    designs: list[dict[str, Any]] = field(default_factory=list)
    extrapolated: list[str] = field(default_factory=list)
    title: str = "cost model check"

    def over(self, max_mape: float) -> list[str]:
        """Metrics whose MAPE exceeds ``max_mape``."""
        return [m for m, r in self.metrics.items() if r.mape is not None and r.mape > max_mape]

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "metrics": {m: r.to_dict() for m, r in self.metrics.items()},
            "latency_min": self.beside["latency_min"].to_dict() if "latency_min" in self.beside else None,
            "ii": self.beside["ii"].to_dict() if "ii" in self.beside else None,
            "layers": {m: r.to_dict() for m, r in self.layers.items()},
            "by_family": {
                fam: {m: r.to_dict() for m, r in reports.items()} for fam, reports in self.by_family.items()
            },
            "fits_agreement": self.fits.fraction if self.fits else None,
            "fits": (
                {
                    "n": self.fits.n,
                    "agree": self.fits.agree,
                    "unknown_part": self.fits.unknown_part,
                    "disagree": self.fits.disagree,
                }
                if self.fits
                else None
            ),
            "extrapolated": self.extrapolated,
            "designs": self.designs,
        }


def predict_row(row: CostRow, params: CostParams) -> dict[str, Any]:
    """The estimate of a measured row, in the row's metric names (and which layer sets the II)."""
    if not row.include_io and len(row.layers) == 1:
        le = estimate_layer(row.layers[0], params, target=row.target, in_beats=row.in_beats)
        synth = row.level == "synth"
        from hil.cost._estimate import strategy_of

        strategy = strategy_of(row.layers)

        def scale(metric: str) -> float:
            return params.synth_ratio(row.target.hls.value, strategy, metric)["ratio"] if synth else 1.0

        out: dict[str, Any] = {
            "lut": round(le.lut * scale("lut")),
            "ff": round(le.ff * scale("ff")),
            "dsp": round(le.dsp * scale("dsp")),
            "bram_18k": round(le.bram_18k * scale("bram_18k")),
            "latency": le.latency_cycles,
            "latency_min": le.latency_min_cycles,
            "ii": le.ii_cycles,
            "uram": 0.0,
            "ii_layer": le.name,
            "ii_reason": le.ii_reason,
        }
        # A layer measured alone is a design in the band's residual pool: it gets the design band.
        from hil.cost._estimate import design_bands, layer_kind

        totals = {
            k: float(out[_BAND_NAME.get(k, k)]) for k in ("lut", "ff", "dsp", "bram_18k", "latency_cycles")
        }
        out["bands"] = {
            _BAND_NAME.get(k, k): v
            for k, v in design_bands(totals, params, layer_kind(row.layers[0])).items()
        }
        for variant in params.rule_variants():  # as ``estimate``: the DSP band spans undetermined rules
            dsp = estimate_layer(row.layers[0], variant, target=row.target, in_beats=row.in_beats).dsp
            low, high = design_bands(dict(totals, dsp=float(round(dsp * scale("dsp")))), params)["dsp"]
            old_low, old_high = out["bands"]["dsp"]
            out["bands"]["dsp"] = (min(old_low, low), max(old_high, high))
        return out
    est = estimate(row.layers, params=params, include_io=row.include_io, target=row.target, level=row.level)
    t = est.totals
    return {
        "lut": t["lut"],
        "ff": t["ff"],
        "dsp": t["dsp"],
        "bram_18k": t["bram_18k"],
        "latency": t["latency_cycles"],
        "latency_min": est.latency_min_cycles,
        "ii": t["ii_cycles"],
        "uram": t["uram"],
        "ii_layer": est.ii_layer,
        "ii_reason": est.ii_reason,
        "bands": {_BAND_NAME.get(k, k): v for k, v in est.bands.items()},
    }


_BAND_NAME = {"latency_cycles": "latency"}


def layer_bands(spec: Any, pred: dict[str, Any], params: CostParams) -> dict[str, tuple[float, float]]:
    """80 % bands of one layer's estimate: the band of its class (``layer:<class>/<metric>``),
    else the whole-design band."""
    from hil.cost._estimate import count_band, layer_kind

    kind = layer_kind(spec)
    out = {}
    for metric in CHECK_METRICS:
        lo, hi = params.class_bands[kind][metric]
        value = pred[metric]
        if metric in ("dsp", "bram_18k"):
            design = params.band(metric) if metric == "dsp" else None
            own = f"layer:{kind}/{metric}"
            slack = params.slack(own if own in params.bands else metric)
            out[metric] = count_band(value, value * lo, value * hi, design, slack)
        else:
            out[metric] = (value * lo, value * hi)
    return out


def _is_extrapolated(row: CostRow, params: CostParams) -> bool:
    from hil.cost._estimate import domain_key

    return any(not params.in_domain(domain_key(s)) for s in row.layers)


def ratio_inside(true: float, pred: float, lo: float, hi: float) -> bool:
    """Is ``pred`` within [lo, hi] x ``true``? A true zero is inside when predicted as at most 2."""
    if true <= 0:
        return pred <= 2
    return lo * true <= pred <= hi * true


def _band_stats(
    pairs: list[Pair], bands: list[tuple[float, float]] | None
) -> tuple[float | None, float | None]:
    if not bands or len(bands) != len(pairs):
        return None, None
    inside = [
        lo - 1e-9 <= t <= hi + 1e-9 or (t <= 0 and p <= 2)
        for (_, t, p), (lo, hi) in zip(pairs, bands, strict=True)
    ]
    widths = sorted((hi - lo) / 2 / p for (_, _, p), (lo, hi) in zip(pairs, bands, strict=True) if p > 0)
    median = None
    if widths:
        mid = len(widths) // 2
        median = widths[mid] if len(widths) % 2 else (widths[mid - 1] + widths[mid]) / 2
    return sum(inside) / len(inside), median


def _metric_report(
    metric: str, pairs: list[Pair], n_worst: int, bands: list[tuple[float, float]] | None = None
) -> MetricReport:
    from scipy.stats import kendalltau, spearmanr

    used = [(src, t, p) for src, t, p in pairs if t > 0]
    apes = sorted(((abs(p - t) / t, src, t, p) for src, t, p in used), reverse=True)
    tau: float | None = None
    if len(pairs) >= 2:
        value = kendalltau([t for _, t, _ in pairs], [p for _, _, p in pairs]).statistic
        tau = None if value is None or math.isnan(value) else float(value)
    rho: float | None = None
    if len(pairs) >= 3:
        with warnings.catch_warnings():  # all-equal truths (e.g. zero DSPs): undefined, reported None
            warnings.simplefilter("ignore")
            value = spearmanr([t for _, t, _ in pairs], [p for _, _, p in pairs]).statistic
        rho = None if value is None or math.isnan(value) else float(value)
    within = outside = None
    if pairs:
        within = sum(ratio_inside(t, p, 0.67, 1.5) for _, t, p in pairs) / len(pairs)
        outside = sum(not ratio_inside(t, p, 0.25, 4.0) for _, t, p in pairs) / len(pairs)
    coverage, half_width = _band_stats(pairs, bands)
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
        rank_correlation=rho,
        within_1_5x=within,
        outside_4x=outside,
        coverage=coverage,
        median_half_width=half_width,
    )


Bands = dict[str, list[tuple[float, float]]]


def _reports(
    pairs: dict[str, list[Pair]], metrics: Sequence[str], n_worst: int, bands: Bands | None = None
) -> dict[str, MetricReport]:
    return {m: _metric_report(m, pairs[m], n_worst, (bands or {}).get(m)) for m in metrics if pairs.get(m)}


def _collect(rows: Sequence[CostRow], predictions: Sequence[dict[str, Any]]) -> dict[str, list[Pair]]:
    return _collect_banded(rows, predictions)[0]


def _collect_banded(
    rows: Sequence[CostRow], predictions: Sequence[dict[str, Any]]
) -> tuple[dict[str, list[Pair]], Bands]:
    pairs: dict[str, list[Pair]] = {m: [] for m in (*CHECK_METRICS, *_BESIDE)}
    bands: Bands = {m: [] for m in CHECK_METRICS}
    for row, pred in zip(rows, predictions, strict=True):
        for metric in pairs:
            if metric in row.truth:
                pairs[metric].append((row.name, row.truth[metric], pred[metric]))
                if metric in bands:
                    bands[metric].append(pred.get("bands", {}).get(metric, (pred[metric], pred[metric])))
    return pairs, bands


def _fits_agreement(rows: Sequence[CostRow], predictions: Sequence[dict[str, Any]]) -> FitsAgreement | None:
    n = agree = unknown = 0
    disagree: list[str] = []
    for row, pred in zip(rows, predictions, strict=True):
        if not row.include_io:
            continue
        if not row.part_resources:
            unknown += 1
            continue
        truth = {k: row.truth.get(k, 0.0) for k in ("lut", "ff", "dsp", "bram_18k", "uram")}
        if not all(k in row.truth for k in ("lut", "ff", "dsp", "bram_18k")):
            continue
        used = {k: pred[k] for k in ("lut", "ff", "dsp", "bram_18k", "uram")}
        real, model = fits(row.part_resources, truth).ok, fits(row.part_resources, used).ok
        n += 1
        if real == model:
            agree += 1
        else:
            disagree.append(
                f"{row.name} (real {'fits' if real else 'over'}, model {'fits' if model else 'over'})"
            )
    if not n and not unknown:
        return None
    return FitsAgreement(n=n, agree=agree, unknown_part=unknown, disagree=disagree)


def _designs(
    rows: Sequence[CostRow],
    predictions: Sequence[dict[str, Any]],
    params_of: Callable[[CostRow], CostParams],
) -> tuple[list[dict[str, Any]], list[str]]:
    designs, extrapolated = [], []
    for row, pred in zip(rows, predictions, strict=True):
        flag = _is_extrapolated(row, params_of(row))
        if flag:
            extrapolated.append(row.name)
        designs.append(
            {
                "id": row.name,
                "family": row.family,
                "truth": {k: row.truth.get(k) for k in _DESIGN_KEYS},
                "predicted": {k: pred.get(k) for k in _DESIGN_KEYS},
                "band_80": {k: list(v) for k, v in pred.get("bands", {}).items() if k in _DESIGN_KEYS},
                "ii_layer": pred.get("ii_layer", ""),
                "ii_reason": pred.get("ii_reason", ""),
                "extrapolated": flag,
            }
        )
    return designs, extrapolated


def _report(
    rows: Sequence[CostRow],
    predictions: Sequence[dict[str, Any]],
    layer_pairs: dict[str, list[Pair]],
    params_of: Callable[[CostRow], CostParams],
    n_worst: int,
    title: str,
    layer_bands_of: Bands | None = None,
) -> CheckReport:
    pairs, bands = _collect_banded(rows, predictions)
    families: dict[str, dict[str, MetricReport]] = {}
    for family in sorted({r.family for r in rows}):
        chosen = [(r, p) for r, p in zip(rows, predictions, strict=True) if r.family == family]
        fam_pairs, fam_bands = _collect_banded([r for r, _ in chosen], [p for _, p in chosen])
        families[family] = _reports(fam_pairs, CHECK_METRICS, n_worst, fam_bands)
    designs, extrapolated = _designs(rows, predictions, params_of)
    return CheckReport(
        rows=len(rows),
        metrics=_reports(pairs, CHECK_METRICS, n_worst, bands),
        beside=_reports(pairs, _BESIDE, n_worst),
        pairs=pairs,
        layers=_reports(layer_pairs, CHECK_METRICS, n_worst, layer_bands_of),
        layer_pairs=layer_pairs,
        by_family=families,
        fits=_fits_agreement(rows, predictions),
        designs=designs,
        extrapolated=extrapolated,
        title=title,
    )


def _layer_pairs(
    rows: Sequence[CostRow], params_of: Callable[[CostRow], CostParams]
) -> tuple[dict[str, list[Pair]], Bands]:
    pairs: dict[str, list[Pair]] = {m: [] for m in CHECK_METRICS}
    bands: Bands = {m: [] for m in CHECK_METRICS}
    for row in rows:
        params = params_of(row)
        for layer_row in layer_rows(row):
            pred = predict_row(layer_row, params)
            # a layer inside a design: the band of its layer class (the design band is a design's)
            own = layer_bands(layer_row.layers[0], pred, params)
            for metric in pairs:
                if metric in layer_row.truth:
                    pairs[metric].append((layer_row.name, layer_row.truth[metric], pred[metric]))
                    bands[metric].append(own[metric])
    return pairs, bands


def check(rows: Sequence[CostRow], params: CostParams, *, n_worst: int = 3) -> CheckReport:
    """Predict every row (and every layer with its own figures) with ``params`` and report errors."""
    predictions = [predict_row(r, params) for r in rows]
    layer_pairs, layer_bands_of = _layer_pairs(rows, lambda _row: params)
    return _report(
        rows, predictions, layer_pairs, lambda _row: params, n_worst, "cost model check", layer_bands_of
    )


def cross_validate(
    rows: Sequence[CostRow],
    *,
    by: str = "shape",
    prior: CostParams | None = None,
    n_worst: int = 3,
    bands: bool = True,
    synth_pairs: Sequence[Any] = (),
) -> CheckReport:
    """Refit without each group (a layer stack, or a whole family) and predict that group.

    Args:
        rows: measured rows.
        by: ``shape`` (leave one layer stack out) or ``family`` (leave one source family out).
        prior: the fit's prior (default: the physics priors).
        bands: derive each fold's bands inside the fold (an inner leave-one-family-out), so the
            report's band coverage is out of sample too.
        synth_pairs: csynth/Vivado report pairs beyond those the rows carry.
    """
    if by not in CV_MODES:
        raise InputError(f"cross-validation by {by!r}: expected one of {', '.join(CV_MODES)}")
    key = CV_MODES[by]
    groups = sorted({key(r) for r in rows})
    if len(groups) < 2:
        raise InputError(f"cross-validation by {by} needs at least two groups; only {groups[0]!r} given")
    fitted: dict[str, CostParams] = {}
    for group in groups:
        train = [r for r in rows if key(r) != group]
        fitted[group] = calibrate(train, prior=prior, bands=bands, synth_pairs=synth_pairs)
        _log.info("cv by %s: held out %s", by, group)
    predictions = [predict_row(r, fitted[key(r)]) for r in rows]
    layer_pairs, layer_bands_of = _layer_pairs(rows, lambda row: fitted[key(row)])
    title = f"leave-one-{by}-out cross-validation"
    return _report(
        rows, predictions, layer_pairs, lambda row: fitted[key(row)], n_worst, title, layer_bands_of
    )


def cv_summary(
    rows: Sequence[CostRow], *, prior: CostParams | None = None, synth_pairs: Sequence[Any] = ()
) -> dict[str, Any]:
    """Both cross-validations, condensed to MAPE / median APE / Kendall tau per family and metric.

    This is what the shipped parameters record in their notes: the honest expectation of the model's
    error on designs it was not fitted on (per family, and on families it has never seen).
    """

    def condensed(reports: dict[str, MetricReport]) -> dict[str, Any]:
        return {
            m: {
                "n": r.n,
                "mape": r.mape,
                "median_ape": r.median_ape,
                "kendall_tau": r.kendall_tau,
                "rank_correlation": r.rank_correlation,
                "within_1_5x": r.within_1_5x,
                "band_coverage": r.coverage,
                "band_median_half_width": r.median_half_width,
            }
            for m, r in reports.items()
        }

    out: dict[str, Any] = {}
    for by in CV_MODES:
        report = cross_validate(rows, by=by, prior=prior, synth_pairs=synth_pairs)
        out[f"leave_one_{by}_out"] = {
            "all": condensed(report.metrics),
            "layers": condensed(report.layers),
            "by_family": {fam: condensed(reports) for fam, reports in report.by_family.items()},
            "fits_agreement": report.fits.fraction if report.fits else None,
        }
    return out
