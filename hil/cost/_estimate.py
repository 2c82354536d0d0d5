"""Whole-network estimate: layers, the streams between them, the dataflow schedule, provenance.

Why these numbers predict the HLS (csynth) report: that is what the calibration data are, so each
metric is stamped ``estimate`` and the estimate says it ``predicts`` ``hls``; post-synthesis LUT
counts are usually lower than csynth's (about half on the SVHN tutorial CNN). The LUT budget of a
search counts the network IP only; the platform shell (DMA, interconnect) is not in these numbers
(see ``fits``'s ``shell`` argument).

The schedule. io_stream: every layer is a dataflow process connected by FIFOs, so a new image enters
every ``max(layer II)`` cycles and ``throughput_fps = clock / II``; the layers overlap, so the network
latency is the slowest layer's plus about a cycle per stage downstream of it (csynth: 225,290 =
225,281 + 9 on a Vitis design with 9 stages after its first convolution; 1,044 = 1,027 + 17 on the
SVHN CNN, 15 stages after its first), not the sum. io_parallel: the top
function is one pipeline; its latency is the sum of the layers' and its II the slowest layer's.
Which layer sets the II, and why (reuse, line buffer, stream width), is reported.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

from hil.cost._mac import mac_dsp
from hil.cost._memory import fifo_cost
from hil.cost._params import CostParams, default_params
from hil.cost._reuse import closest_reuse_factor
from hil.cost._spec import MAC_KINDS, ROUTING_KINDS, IOType, LayerKind, LayerSpec, Strategy
from hil.cost._target import Target
from hil.cost._term import LayerTerms, Term
from hil.cost._terms import layer_terms
from hil.errors import InputError
from hil.records import Metric, Provenance

__all__ = [
    "CALIBRATED",
    "EXTRAPOLATED",
    "Estimate",
    "LayerEstimate",
    "domain_key",
    "estimate",
    "estimate_layer",
    "io_terms",
    "count_band",
    "design_bands",
    "layer_kind",
    "network_stages",
    "strategy_of",
]

_log = logging.getLogger(__name__)

CALIBRATED = "calibrated"
EXTRAPOLATED = "extrapolated"
_FLAG_METRICS = ("lut", "ff", "dsp", "bram_18k", "latency")


@dataclass(frozen=True, slots=True)
class LayerEstimate:
    """One layer's estimate. ``terms`` says, per metric, whether it is calibrated or extrapolated;
    ``explain`` (when asked for) lists every priced piece as (metric, what, value)."""

    name: str
    kind: str
    lut: float
    ff: float
    dsp: float
    bram_18k: float
    latency_cycles: float
    latency_min_cycles: float
    ii_cycles: float
    reuse_factor: int
    ii_why: tuple[Any, ...] = ()
    explain: tuple[tuple[str, str, float], ...] = ()
    spec: LayerSpec | None = field(default=None, repr=False, compare=False)
    params: CostParams | None = field(default=None, repr=False, compare=False)

    @property
    def ii_reason(self) -> str:
        """What sets this layer's II: reuse, the line buffer's pixels, or the stream width."""
        return str(self.ii_why[0]).format(*self.ii_why[1:]) if self.ii_why else ""

    @property
    def terms(self) -> dict[str, str]:
        """Per metric: ``calibrated`` when the fitting data held layers like this one, else
        ``extrapolated`` (computed on demand: a search never asks)."""
        if self.spec is None or self.params is None or self.spec.kind in ROUTING_KINDS:
            return dict.fromkeys(_FLAG_METRICS, CALIBRATED)
        flag = CALIBRATED if self.params.in_domain(domain_key(self.spec)) else EXTRAPOLATED
        return dict.fromkeys(_FLAG_METRICS, flag)


@dataclass(frozen=True)
class Estimate:
    """A network's estimate: per layer, the stream FIFOs/I-O, and totals in canonical metric keys.

    Attributes:
        ii_layer: the layer that sets the network's II; ``ii_reason`` says why.
        extrapolated: layers whose kind/strategy/io_type/precision range the calibration data lack.
    """

    layers: tuple[LayerEstimate, ...]
    io: LayerEstimate
    totals: dict[str, float]
    clock_mhz: float | None
    provenance: Provenance = Provenance.ESTIMATE
    predicts: Provenance = Provenance.HLS
    notes: list[str] = field(default_factory=list)
    ii_layer: str = ""
    ii_reason: str = ""
    latency_min_cycles: float = 0.0
    #: totals key -> (low, high): the 80 % prediction interval of each resource and the latency
    #: (from leave-one-family-out residuals, and at synthesis level the synthesis ratio's own band).
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)

    @property
    def upper(self) -> dict[str, float]:
        """The totals with every banded metric at its interval's upper edge (what ``fits`` judges)."""
        out = dict(self.totals)
        for key, (_, hi) in self.bands.items():
            out[key] = hi
        return out

    @property
    def extrapolated(self) -> tuple[str, ...]:
        """Layers whose kind/strategy/io_type/precision range the calibration data lack."""
        return tuple(le.name or le.kind for le in self.layers if EXTRAPOLATED in le.terms.values())

    @property
    def calibrated(self) -> bool:
        """True when every layer lies inside the calibration data's domain."""
        return not self.extrapolated

    def metrics(self) -> dict[str, Metric]:
        """Totals as record metrics (provenance ``estimate``)."""
        return {k: Metric(value=v, provenance=Provenance.ESTIMATE) for k, v in self.totals.items()}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for ``--json`` and report files)."""
        return {
            "provenance": self.provenance.value,
            "predicts": self.predicts.value,
            "clock_mhz": self.clock_mhz,
            "totals": self.totals,
            "calibrated": self.calibrated,
            "extrapolated": list(self.extrapolated),
            "ii_layer": self.ii_layer,
            "ii_reason": self.ii_reason,
            "latency_min_cycles": self.latency_min_cycles,
            "bands": {k: [lo, hi] for k, (lo, hi) in self.bands.items()},
            "band_level": "80 % prediction interval",
            "layers": [_layer_dict(le) for le in (*self.layers, self.io)],
            "notes": self.notes,
        }


_LAYER_FIELDS = (
    "name", "kind", "lut", "ff", "dsp", "bram_18k", "latency_cycles", "latency_min_cycles",
    "ii_cycles", "reuse_factor", "ii_reason",
)  # fmt: skip


def _layer_dict(le: LayerEstimate) -> dict[str, Any]:
    out: dict[str, Any] = {name: getattr(le, name) for name in _LAYER_FIELDS}
    out["terms"] = le.terms
    out["explain"] = [list(item) for item in le.explain]
    return out


def _bucket(bits: int) -> str:
    return "2-4b" if bits <= 4 else "5-8b" if bits <= 8 else "9-16b" if bits <= 16 else ">16b"


def domain_key(s: LayerSpec) -> str:
    """What kind of layer this is for calibration: class, strategy, io_type and precision range.

    A layer is ``calibrated`` when the parameters were fitted on layers with the same key.
    """
    io = s.io_type.value
    if s.kind in MAC_KINDS:
        constant = s.strategy is Strategy.LATENCY or s.reuse_factor == 1
        strategy = "latency" if constant else "resource"
        return f"{s.kind.value}/{strategy}/{io}/{_bucket(max(s.weight_bits, s.act_bits))}"
    if s.kind is LayerKind.ACTIVATION:
        act = s.activation.lower()
        return f"activation:{act}/{io}/{_bucket(max(s.act_bits, s.result_bits))}"
    if s.kind in (LayerKind.POOLING1D, LayerKind.POOLING2D):
        return f"{s.kind.value}:{s.activation.lower()}/{io}/{_bucket(s.act_bits)}"
    return f"{s.kind.value}/{io}"


def estimate_layer(
    s: LayerSpec,
    params: CostParams | None = None,
    *,
    target: Target | None = None,
    in_beats: int = 0,
    explain: bool = False,
) -> LayerEstimate:
    """Estimate one layer alone (no FIFOs): what an hls4ml per-layer csynth report shows."""
    params = params or default_params()
    lt = layer_terms(s, params.coefficients, target or _DEFAULT_TARGET, in_beats, record=explain)
    return _layer_estimate(s, lt, params)


def _layer_estimate(s: LayerSpec, lt: LayerTerms, params: CostParams) -> LayerEstimate:
    v = lt.values
    ii = v["ii"]
    return LayerEstimate(
        s.name,
        s.kind.value,
        round(v["lut"]),
        round(v["ff"]),
        float(math.ceil(v["dsp"] - 1e-9)),
        float(math.ceil(v["bram_18k"] - 1e-9)),
        round(v["latency"]),
        round(v["latency_min"]),
        (max(1, round(ii)) if ii else 0),
        lt.reuse_factor,
        lt.ii_reason,
        _explain(lt.terms, params.coefficients) if lt.terms is not None else (),
        s,
        params,
    )


def _explain(terms: list[Term], p: dict[str, float]) -> tuple[tuple[str, str, float], ...]:
    return tuple(
        (
            t.metric,
            t.label if t.coef is None else f"{t.label} [{t.coef}]",
            t.x if t.coef is None else p[t.coef] * t.x,
        )
        for t in terms
    )


_DEFAULT_TARGET = Target()


class Stage(NamedTuple):
    """One dataflow process of the network: a layer with its input beats (routing layers are no stage).

    A named tuple: a search builds ~15 of them per candidate, tens of thousands per second."""

    spec: LayerSpec
    in_beats: int


def network_stages(layers: Sequence[LayerSpec]) -> list[Stage]:
    """The layers that become HLS functions, in order, with what each one reads.

    hls4ml inserts a ZeroPadding stage before an io_stream convolution with ``same`` padding; a
    Flatten/Reshape moves no data, so a Dense after it reads the previous layer's stream one pixel
    per beat.
    """
    stages: list[Stage] = []
    beats = 1
    for s in layers:
        kind = s.kind
        if kind in ROUTING_KINDS:
            continue
        if s.padding == "same" and s.io_type is _STREAM and kind in _CONV_KINDS:
            stages.append(Stage(_pad_stage(s.in_shape, s.padded_shape, s.act_bits, s.name), beats))
            # The convolution itself reads the padded stream: its terms use ``padded_shape``.
        stages.append(Stage(s, beats if kind is _DENSE else 0))
        beats = s.out_pixels
    return stages


_STREAM, _DENSE = IOType.IO_STREAM, LayerKind.DENSE
_FLATTEN, _RESHAPE = LayerKind.FLATTEN, LayerKind.RESHAPE
_CONV1, _CONV2 = LayerKind.CONV1D, LayerKind.CONV2D
_CONV_KINDS = frozenset({LayerKind.CONV1D, LayerKind.CONV2D})


@lru_cache(maxsize=4096)
def _pad_stage(in_shape: tuple[int, ...], padded: tuple[int, ...], bits: int, name: str) -> LayerSpec:
    """The ZeroPadding stage hls4ml puts before an io_stream ``same`` convolution (built once per shape)."""
    return LayerSpec(
        LayerKind.ZEROPADDING,
        in_shape,
        padded,
        act_bits=bits,
        result_bits=bits,
        acc_bits=bits,
        io_type=IOType.IO_STREAM,
        name=f"{name}_pad",
    )


#: Per-layer estimates kept per parameter set, keyed by (spec, input beats, HLS tool, family): a
#: search proposes distinct networks built from a finite menu of layers, so most layers of a new
#: network were priced before. Bounded: cleared when it grows past this many entries.
_MEMO_MAX = 200_000


class _Entry(NamedTuple):
    """A stage's estimate with what the network sum needs, computed once per distinct layer: its
    band class, whether it became a function, the FIFO after it (block RAM, flip-flops as csynth
    counts them) and its DSPs under each narrow-product rule variant (``CostParams.rule_variants``)."""

    le: LayerEstimate
    kind: str
    built: bool
    fifo_bram: int
    fifo_ff: int
    variant_dsp: tuple[float, ...] = ()


def _stage_entry(st: Stage, params: CostParams, target: Target, explain: bool) -> _Entry:
    """A stage's entry, memoised per parameter set unless ``explain`` asks for the terms."""
    if explain:
        le = _layer_estimate(
            st.spec, layer_terms(st.spec, params.coefficients, target, st.in_beats, record=True), params
        )
        return _make_entry(le, params, target)
    memo: dict[Any, _Entry] = params._memo  # type: ignore[attr-defined]
    key = (st.spec, st.in_beats, target.key)
    entry = memo.get(key)
    if entry is None:
        if len(memo) > _MEMO_MAX:
            memo.clear()
        le = _layer_estimate(st.spec, layer_terms(st.spec, params.coefficients, target, st.in_beats), params)
        entry = memo[key] = _make_entry(le, params, target)
    return entry


def _make_entry(le: LayerEstimate, params: CostParams, target: Target) -> _Entry:
    spec = le.spec
    kind = layer_kind(spec) if spec is not None else "other"
    built = bool(le.lut or le.ff or le.dsp or le.ii_cycles)
    fifo_bram = fifo_ff = 0
    if built and spec is not None and spec.io_type is _STREAM:
        fifo = fifo_cost(spec.out_shape[-1], spec.result_bits, spec.out_pixels, target.hls)
        fifo_bram, fifo_ff = fifo.bram_18k, fifo.ff
    variants = params.rule_variants()
    if variants and spec is not None and spec.kind in _RULED:
        # a layer's DSPs do not depend on the beats it reads: price it with the variant's rule alone
        if spec.kind in MAC_KINDS:
            variant_dsp = tuple(
                float(math.ceil(mac_dsp(spec, v.coefficients, target) - 1e-9)) for v in variants
            )
        else:
            variant_dsp = tuple(
                _layer_estimate(spec, layer_terms(spec, v.coefficients, target, 0), v).dsp for v in variants
            )
    else:
        variant_dsp = (le.dsp,) * len(variants)
    return _Entry(le, kind, built, fifo_bram, fifo_ff, variant_dsp)


def _fast_entries(layers: Sequence[LayerSpec], params: CostParams, target: Target) -> list[_Entry]:
    """``network_stages`` and ``_stage_entry`` fused for the search's path (no Stage objects, one
    hash per layer)."""
    memo: dict[Any, _Entry] = params._memo  # type: ignore[attr-defined]
    if len(memo) > _MEMO_MAX:
        memo.clear()
    tkey = target.key
    p = params.coefficients
    entries: list[_Entry] = []
    append = entries.append
    beats = 1
    for s in layers:
        kind = s.kind
        if kind is _FLATTEN or kind is _RESHAPE:
            continue
        if s.padding == "same" and s.io_type is _STREAM and (kind is _CONV1 or kind is _CONV2):
            pad = _pad_stage(s.in_shape, s.padded_shape, s.act_bits, s.name)
            key = (pad, beats, tkey)
            entry = memo.get(key)
            if entry is None:
                le = _layer_estimate(pad, layer_terms(pad, p, target, beats), params)
                entry = memo[key] = _make_entry(le, params, target)
            append(entry)
        in_beats = beats if kind is _DENSE else 0
        key = (s, in_beats, tkey)
        entry = memo.get(key)
        if entry is None:
            le = _layer_estimate(s, layer_terms(s, p, target, in_beats), params)
            entry = memo[key] = _make_entry(le, params, target)
        append(entry)
        beats = s.out_pixels
    return entries


_RULED = frozenset({*MAC_KINDS, LayerKind.BATCHNORM})  # kinds whose DSPs the narrow-product rule sets


@lru_cache(maxsize=256)
def _target_at(clock_mhz: float) -> Target:
    return Target(clock_ns=1000.0 / clock_mhz)


def estimate(
    layers: Sequence[LayerSpec],
    *,
    clock_mhz: float | None = None,
    params: CostParams | None = None,
    include_io: bool = True,
    target: Target | None = None,
    explain: bool = False,
    level: str = "hls",
) -> Estimate:
    """Estimate a network given as layer specs, in hls4ml order.

    Args:
        layers: the network, input to output.
        clock_mhz: the design clock; needed for ``throughput_fps`` (default: the target's clock).
        params: coefficients (default: the shipped ones).
        include_io: add the FIFOs between layers (io_stream) or intermediate arrays (io_parallel).
        target: HLS tool, device family, clock target (default: Vitis HLS, UltraScale+, ``clock_mhz``).
        explain: keep every priced piece per layer (slower; for reports and ``explain`` output).
        level: ``hls`` predicts the csynth report (what the model is fitted on); ``synth`` scales its
            resources by the measured post-synthesis / csynth ratios (``synth.*_ratio``): what a
            resource budget on real hardware should be compared with. Cycles are csynth's either way.

    Returns:
        An Estimate whose ``totals`` use the canonical record keys lut, ff, dsp, bram_18k, uram,
        ii_cycles, latency_cycles and, with a clock, clock_mhz and throughput_fps (best-case latency
        is ``latency_min_cycles``).
    """
    params = params or default_params()
    if target is None:
        target = _target_at(float(clock_mhz)) if clock_mhz else _DEFAULT_TARGET
    p = params.coefficients
    if explain:
        stages = network_stages(layers)
        entries = [_stage_entry(st, params, target, True) for st in stages]
    else:
        entries = _fast_entries(layers, params, target)
    per_layer = [e.le for e in entries]
    functions = [e.le for e in entries if e.built]
    if explain:
        built = [e.built for e in entries]
        io = _io_estimate(io_terms(stages, built, target, include_io, p, record=True), params)
    else:
        io = _io_fast(entries, include_io, p)
    last = per_layer[-1].spec if per_layer else None
    stream = last is not None and last.io_type is _STREAM
    slowest = max(functions, key=_ii_of, default=None)
    ii = (slowest.ii_cycles if slowest else 0) + (1 if stream and slowest else 0)
    lut = ff = dsp = bram = 0.0
    for e in entries:
        le = e.le
        lut += le.lut
        ff += le.ff
        dsp += le.dsp
        bram += le.bram_18k
    totals: dict[str, float] = {
        "lut": lut + io.lut,
        "ff": ff + io.ff,
        "dsp": dsp,
        "bram_18k": bram + io.bram_18k,
        "uram": 0.0,
        "ii_cycles": float(ii),
        "latency_cycles": _schedule([le.latency_cycles for le in functions], stream, p["latency.stage"]),
    }
    latency_min = _schedule([le.latency_min_cycles for le in functions], stream, p["latency.stage"])
    if stream and slowest is not None:
        # A dataflow region finishes no image faster than its slowest process runs its loop once:
        # csynth's best case of a streaming design is its slowest stage's interval (225,244 for a
        # stage with II 225,281 and best case 16,385, tsopeter), not that stage's best case.
        latency_min = max(latency_min, float(slowest.ii_cycles))
    slow_kind = layer_kind(slowest.spec) if slowest is not None and slowest.spec is not None else "other"
    bands = design_bands(totals, params, slow_kind)
    for k, variant in enumerate(params.rule_variants()):  # rule values the data cannot tell apart
        total = 0.0
        for e in entries:
            total += e.variant_dsp[k]
        low, high = design_bands({**totals, "dsp": total}, variant)["dsp"]
        bands["dsp"] = (min(bands["dsp"][0], low), max(bands["dsp"][1], high))
    if level == "synth":
        strategy = strategy_of([le.spec for le in per_layer if le.spec is not None])
        for metric in _RESOURCES:
            ratio = params.synth_ratio(target.hls.value, strategy, metric)
            low, high = bands[metric]
            bands[metric] = (low * ratio["lo"], high * ratio["hi"])
            totals[metric] = float(round(totals[metric] * ratio["ratio"]))
    elif level != "hls":
        raise InputError(f"estimate level must be hls or synth, got {level!r}")
    clock = (
        clock_mhz if clock_mhz is not None else (target.clock_mhz if target is not _DEFAULT_TARGET else None)
    )
    if clock is not None:
        totals["clock_mhz"] = float(clock)
        if ii > 0:
            totals["throughput_fps"] = clock * 1e6 / ii
    return Estimate(
        layers=tuple(per_layer),
        io=io,
        totals=totals,
        clock_mhz=clock,
        latency_min_cycles=latency_min,
        ii_layer=(slowest.name or slowest.kind) if slowest else "",
        ii_reason=slowest.ii_reason if slowest else "",
        predicts=Provenance.SYNTH if level == "synth" else Provenance.HLS,
        bands=bands,
    )


_RESOURCES = ("lut", "ff", "dsp", "bram_18k")
#: Estimate totals key -> the metric name its band is stored under.
_BAND_KEYS = {"lut": "lut", "ff": "ff", "dsp": "dsp", "bram_18k": "bram_18k", "latency_cycles": "latency"}


def design_bands(
    totals: dict[str, float], params: CostParams, slow_class: str = "other"
) -> dict[str, tuple[float, float]]:
    """The 80 % band of each total of a whole design: for a resource, the design-level band of its
    metric (the shortest interval holding 80 % of the leave-one-family-out design residuals,
    ``params.band``) times the estimate, DSP and BRAM counts with the band's slack in whole units
    each way (``count_band``, ``params.slack``); for the latency, the band of the class of the layer
    that sets it (``slow_class``: one layer's latency is the design's, so its class's residuals
    apply, not a sum).

    Why the design band and not the sum of the layers' class bands: errors of a family the fit never
    saw are shared by its layers, but not to their 90th percentiles at once; summing every layer's
    band edge assumed exactly that, and gave bands three times the design-level error (median half-
    width 0.67 of the LUT estimate against a 19 % leave-one-family-out MAPE). The class bands remain
    the bands of single layers (``hil.cost._check.layer_bands``: layers with their own figures).
    """
    out: dict[str, tuple[float, float]] = {}
    for key, metric in _BAND_KEYS.items():
        value = float(totals[key])
        if metric == "latency":
            low_f, high_f = params.class_bands[slow_class]["latency"]
            out[key] = (value * low_f, value * high_f)
            continue
        band = params.band(metric)
        low, high = value * band["lo"], value * band["hi"]
        if metric in ("dsp", "bram_18k"):
            out[key] = count_band(value, low, high, slack=params.slack(metric))
        else:
            out[key] = (low, high)
    return out


def count_band(
    value: float, lo: float, hi: float, design: dict[str, float] | None = None, slack: float = 1.0
) -> tuple[float, float]:
    """The band of a count (DSP slices, BRAM blocks): the layers' band, widened to the whole-design
    band where given (which DSP a product binds to is a rule; when the rule is wrong the design
    residuals show it, the per-layer ones of other families may not), and by ``slack`` whole units
    each way: HLS can add or drop a block or a DSP for index arithmetic and packing, which no share
    models; how often it does is what the residuals say (``_bands.count_slack``: 0 for BRAM, whose
    count is exact on most designs of every family)."""
    if design is not None:
        lo, hi = min(lo, value * design["lo"]), max(hi, value * design["hi"])
    return max(0.0, lo - slack), hi + slack


def strategy_of(layers: Sequence[LayerSpec]) -> str:
    """``resource`` when any MAC layer keeps its weights in a ROM (Resource strategy at an effective
    reuse factor > 1), else ``latency``: what decides which synthesis ratio applies."""
    for spec in layers:
        if spec.kind in MAC_KINDS and spec.strategy is Strategy.RESOURCE:
            if closest_reuse_factor(*spec.mult_size(), spec.reuse_factor) > 1:
                return "resource"
    return "latency"


def layer_kind(spec: LayerSpec) -> str:
    """The band class of a layer: ``mac_resource`` (ROM weights), ``mac_constant`` or ``other``."""
    if spec.kind not in MAC_KINDS:
        return "other"
    if spec.strategy is Strategy.RESOURCE and closest_reuse_factor(*spec.mult_size(), spec.reuse_factor) > 1:
        return "mac_resource"
    return "mac_constant"


def _ii_of(le: LayerEstimate) -> float:
    return le.ii_cycles


def _schedule(latencies: list[float], stream: bool, per_stage: float) -> float:
    if not latencies:
        return 0.0
    if stream:
        slowest = max(range(len(latencies)), key=latencies.__getitem__)
        return round(latencies[slowest] + per_stage * (len(latencies) - 1 - slowest))
    return float(sum(latencies))


def io_terms(
    stages: Sequence[Stage],
    built: Sequence[bool],
    target: Target,
    include_io: bool,
    p: dict[str, float],
    *,
    record: bool = False,
) -> LayerTerms:
    """What lies between the layers: stream FIFOs (io_stream; io_parallel arrays between inlined
    layers are wires, priced with the layers) and the top-level glue. The FIFOs are priced as
    csynth counts them (``_memory.FIFO_FF``): block RAM, flip-flops per FIFO, no LUTs.

    Args:
        stages: the network's stages (``network_stages``).
        built: per stage, whether it became a function (a no-op cast builds nothing, and has no FIFO).
        target: the HLS tool decides FIFO layout and binding.
        include_io: False for a layer measured alone.
        p: coefficients.
        record: keep the terms (calibration, explain).
    """
    lt = LayerTerms(p, record=record)
    if not include_io or not stages:
        return lt
    fifo_ff = 0
    for stage, is_built in zip(stages[:-1], built[:-1], strict=True):
        spec = stage.spec
        if not is_built or spec.io_type is IOType.IO_PARALLEL:
            continue
        fifo = fifo_cost(spec.out_shape[-1], spec.result_bits, spec.out_pixels, target.hls)
        label = f"{spec.name} output FIFO {fifo.depth}x{fifo.width_bits}b" if record else ""
        # csynth counts no LUTs for a FIFO (its shift registers or block RAM are FIFO cells)
        lt.add("bram_18k", label, None, fifo.bram_18k)
        fifo_ff += fifo.ff
    lt.add("ff", "FIFO pointers and flags (csynth's per-FIFO count)", None, fifo_ff)
    lt.add("lut", "top-level glue", "lut.function", 1.0)
    lt.add("ff", "top-level glue", "ff.function", 1.0)
    return lt


def _io_fast(entries: Sequence[_Entry], include_io: bool, p: dict[str, float]) -> LayerEstimate:
    """``io_terms`` summed from the stages' memoised FIFO figures (the search's path; same numbers):
    every built io_stream stage but the last writes a FIFO."""
    if not include_io or not entries:
        return LayerEstimate("fifos_and_io", "io", 0, 0, 0.0, 0.0, 0, 0, 0, 0)
    bram = fifo_ff = 0
    for e in entries[:-1]:
        bram += e.fifo_bram
        fifo_ff += e.fifo_ff
    lut = p["lut.function"]
    ff = fifo_ff + p["ff.function"]
    return LayerEstimate("fifos_and_io", "io", round(lut), round(ff), 0.0, float(bram), 0, 0, 0, 0)


def _io_estimate(lt: LayerTerms, params: CostParams) -> LayerEstimate:
    v = lt.values
    return LayerEstimate(
        "fifos_and_io",
        "io",
        round(v["lut"]),
        round(v["ff"]),
        0.0,
        v["bram_18k"],
        0,
        0,
        0,
        0,
        explain=_explain(lt.terms, params.coefficients) if lt.terms is not None else (),
    )
