"""Synthesis-level ratios: what Vivado synthesis makes of csynth's resource estimate.

Why ratios with their own evidence: csynth over-counts fabric (about twice the LUTs Vivado synthesis
keeps on the SVHN tutorial CNN), and a board's budget is a budget of real LUTs. The ratio is a
property of the tool flow, not of this model, so it is measured on pairs of real reports of the same
kernel (csynth and Vivado synthesis), per resource, per HLS tool (Vivado HLS, Vitis HLS) and per
strategy (Latency, Resource): ``ratio`` is the median over the pairs, the band their range widened
by a margin for the few pairs there are. Where no pair exists (Vitis HLS, Resource strategy in
../shared today), the ratio is 1.0 (the csynth figure itself, which over-states fabric) with the
widest band the pairs of any kind show: a documented default, not a measurement.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hil.cost._params import DEFAULT_SYNTH

__all__ = ["SynthPair", "synth_table"]

_log = logging.getLogger(__name__)

_METRICS = ("lut", "ff", "dsp", "bram_18k")
#: Relative margin added on both sides of the observed range (few pairs: the range understates it).
_MARGIN = 0.1


@dataclass(frozen=True)
class SynthPair:
    """csynth and Vivado-synthesis figures of one kernel.

    Attributes:
        source: where the pair comes from (design id or report folder).
        tool: ``vivado`` (Vivado HLS) or ``vitis`` (Vitis HLS).
        strategy: ``latency`` or ``resource`` (any MAC layer with its weights in a ROM).
        hls: csynth figures (lut, ff, dsp, bram_18k).
        synth: Vivado synthesis figures of the same kernel.
    """

    source: str
    tool: str
    strategy: str
    hls: Mapping[str, float]
    synth: Mapping[str, float]


def synth_table(pairs: Sequence[SynthPair]) -> dict[str, dict[str, dict[str, float]]]:
    """``tool/strategy`` -> metric -> ratio, band and the number of pairs it rests on.

    Every combination of tool and strategy is listed; those without a pair carry the default
    (ratio 1.0) with ``pairs`` 0 and a band spanning every ratio seen in any pair.
    """
    seen: dict[str, list[float]] = {m: [] for m in _METRICS}
    groups: dict[str, dict[str, list[float]]] = {}
    for pair in pairs:
        key = f"{pair.tool}/{pair.strategy}"
        for metric in _METRICS:
            hls, syn = pair.hls.get(metric), pair.synth.get(metric)
            if hls and syn is not None and hls > 0:
                groups.setdefault(key, {m: [] for m in _METRICS})[metric].append(syn / hls)
                seen[metric].append(syn / hls)
    out: dict[str, dict[str, dict[str, float]]] = {}
    for tool in ("vivado", "vitis"):
        for strategy in ("latency", "resource"):
            key = f"{tool}/{strategy}"
            out[key] = {}
            for metric in _METRICS:
                ratios = groups.get(key, {}).get(metric, [])
                if ratios:
                    out[key][metric] = {
                        "ratio": round(statistics.median(ratios), 4),
                        "lo": round(min(ratios) * (1 - _MARGIN), 4),
                        "hi": round(max(ratios) * (1 + _MARGIN), 4),
                        "pairs": len(ratios),
                    }
                else:
                    default = dict(DEFAULT_SYNTH[metric])
                    if seen[metric]:
                        default["lo"] = round(min(default["lo"], min(seen[metric]) * (1 - _MARGIN)), 4)
                    out[key][metric] = default
    return out
