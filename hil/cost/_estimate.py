"""Whole-network estimate: sum of layer terms, stream FIFOs, throughput, provenance.

Why these numbers predict the HLS (csynth) report: that is what the calibration data are, so
each metric is stamped ``estimate`` and the estimate says it ``predicts`` ``hls``; post-synthesis
LUT counts are usually lower than csynth's. The LUT budget of a search counts the network IP only;
the platform shell (DMA, interconnect) is not in these numbers (see ``fits``'s ``shell`` argument).

Throughput: in io_stream every layer is a dataflow process connected by FIFOs, so a new image
enters every ``max(layer II)`` cycles and ``throughput_fps = clock / max II``. io_parallel with
the Resource strategy is also a DATAFLOW of layers, but layers exchange whole tensors (ping-pong
buffers) instead of pixels, so the same formula holds while the latency becomes the plain sum of
layer latencies; with the Latency strategy the top function is one pipeline whose II is that of
its slowest stage, which is again ``max(layer II)``. The reported latency is the sum of layer
latencies in both cases, an upper bound for io_stream, where layers overlap.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hil.cost._params import CostParams, default_params
from hil.cost._spec import MAC_KINDS, IOType, LayerKind, LayerSpec, Strategy
from hil.cost._terms import METRICS, fifo_terms, layer_terms
from hil.records import Metric, Provenance

__all__ = ["CALIBRATED", "EXTRAPOLATED", "Estimate", "LayerEstimate", "estimate", "estimate_layer"]

_log = logging.getLogger(__name__)

CALIBRATED = "calibrated"
EXTRAPOLATED = "extrapolated"
_ROUTING = frozenset({LayerKind.FLATTEN, LayerKind.RESHAPE})


@dataclass(frozen=True, slots=True)
class LayerEstimate:
    """One layer's estimate. ``terms`` says, per metric, whether it is calibrated or extrapolated."""

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
    terms: dict[str, str]


@dataclass(frozen=True)
class Estimate:
    """A network's estimate: per layer, the stream FIFOs/I-O, and totals in canonical metric keys."""

    layers: tuple[LayerEstimate, ...]
    io: LayerEstimate
    totals: dict[str, float]
    clock_mhz: float | None
    provenance: Provenance = Provenance.ESTIMATE
    predicts: Provenance = Provenance.HLS
    notes: list[str] = field(default_factory=list)

    @property
    def calibrated(self) -> bool:
        """True when every term of every layer was fitted on data of its kind."""
        return all(v == CALIBRATED for le in (*self.layers, self.io) for v in le.terms.values())

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
            "layers": [_layer_dict(le) for le in (*self.layers, self.io)],
            "notes": self.notes,
        }


def _layer_dict(le: LayerEstimate) -> dict[str, Any]:
    return {name: getattr(le, name) for name in LayerEstimate.__slots__}


def _flags(s: LayerSpec, params: CostParams) -> dict[str, str]:
    if s.kind not in MAC_KINDS:
        return dict.fromkeys(("lut", "ff", "dsp", "bram_18k", "latency"), EXTRAPOLATED)
    bits_ok = all(b in params.calibrated_bits for b in (s.weight_bits, s.act_bits, s.result_bits, s.acc_bits))
    kind_ok = s.kind.value in params.calibrated_kinds
    stream = s.io_type is IOType.IO_STREAM
    latency_rf = s.strategy is Strategy.LATENCY and s.reuse_factor > 1
    base = CALIBRATED if (bits_ok and kind_ok and not latency_rf) else EXTRAPOLATED
    fabric = base if stream else EXTRAPOLATED
    return {"lut": fabric, "ff": fabric, "dsp": base, "bram_18k": base, "latency": fabric}


def estimate_layer(s: LayerSpec, params: CostParams | None = None) -> LayerEstimate:
    """Estimate one layer alone (no FIFOs): what an hls4ml per-layer csynth report shows."""
    p = (params or default_params()).coefficients
    terms, rf = layer_terms(s, p)
    v = [0.0] * len(METRICS)
    for i, lst in enumerate(terms):
        total = 0.0
        for name, x in lst:
            total += x if name is None else p[name] * x
        v[i] = total
    return LayerEstimate(
        name=s.name,
        kind=s.kind.value,
        lut=round(v[0]),
        ff=round(v[1]),
        dsp=float(math.ceil(v[2] - 1e-9)),
        bram_18k=float(math.ceil(v[3] - 1e-9)),
        latency_cycles=round(v[4]),
        latency_min_cycles=round(v[5]),
        ii_cycles=max(1, round(v[6])) if terms[6] else 0,
        reuse_factor=rf,
        terms=_flags(s, params or default_params()),
    )


def estimate(
    layers: Sequence[LayerSpec],
    *,
    clock_mhz: float | None = None,
    params: CostParams | None = None,
    include_io: bool = True,
) -> Estimate:
    """Estimate a network given as layer specs, in hls4ml order.

    Args:
        layers: the network, input to output.
        clock_mhz: the design clock; needed for ``throughput_fps``.
        params: coefficients (default: the shipped ones).
        include_io: add the FIFOs between layers (io_stream) or intermediate arrays (io_parallel).

    Returns:
        An Estimate whose ``totals`` use the canonical keys lut, ff, dsp, bram_18k, uram,
        ii_cycles, latency_cycles and, with a clock, clock_mhz and throughput_fps.
    """
    params = params or default_params()
    per_layer = [estimate_layer(s, params) for s in layers]
    io_lut = io_ff = io_bram = 0.0
    if include_io:
        for s in layers[:-1]:
            if s.kind not in _ROUTING:
                lut, ff, bram = fifo_terms(s.out_shape, s.result_bits, s.io_type, params.coefficients)
                io_lut, io_ff, io_bram = io_lut + lut, io_ff + ff, io_bram + bram
    io = LayerEstimate(
        "fifos_and_io",
        "io",
        round(io_lut),
        round(io_ff),
        0.0,
        io_bram,
        0,
        0,
        0,
        0,
        dict.fromkeys(("lut", "ff", "bram_18k"), EXTRAPOLATED),
    )
    ii = max((le.ii_cycles for le in per_layer), default=0)
    totals: dict[str, float] = {
        "lut": float(sum(le.lut for le in per_layer) + io.lut),
        "ff": float(sum(le.ff for le in per_layer) + io.ff),
        "dsp": float(sum(le.dsp for le in per_layer)),
        "bram_18k": float(sum(le.bram_18k for le in per_layer) + io.bram_18k),
        "uram": 0.0,
        "ii_cycles": float(ii),
        "latency_cycles": float(sum(le.latency_cycles for le in per_layer)),
    }
    if clock_mhz is not None:
        totals["clock_mhz"] = float(clock_mhz)
        if ii > 0:
            totals["throughput_fps"] = clock_mhz * 1e6 / ii
    return Estimate(layers=tuple(per_layer), io=io, totals=totals, clock_mhz=clock_mhz)
