"""csynth / Vivado-synthesis report pairs of one kernel: the evidence of the synthesis-level ratios.

Why here: the cost model (``hil.cost._synth``) turns pairs into ratios, but reading report files is
the farm's job (``parse_reports``), and ``hil.cost`` sits below ``hil.farm`` in the import graph.
"""

from __future__ import annotations

import logging
from pathlib import Path

from hil.cost import SynthPair
from hil.errors import InputError
from hil.farm.reports._discover import parse_reports

__all__ = ["synth_pair_from_reports"]

_log = logging.getLogger(__name__)


def _tool(version: str | None) -> str:
    """Vivado HLS up to 2020.1, Vitis HLS from 2020.2 on (the csynth report states the release)."""
    try:
        year, _, minor = str(version or "").partition(".")
        return "vivado" if (int(year), int(minor or 0)) <= (2020, 1) else "vitis"
    except ValueError:
        return "vitis"


def synth_pair_from_reports(folder: str | Path) -> SynthPair:
    """The pair of a folder holding a csynth report and a Vivado synthesis report of the same kernel.

    Raises:
        InputError: the folder lacks one of the two reports.
    """
    parsed = parse_reports(folder)
    hls, synth = parsed.get("hls"), parsed.get("synth")
    if not hls or not synth:
        raise InputError(f"{folder}: needs a csynth report and a Vivado synthesis report of one kernel")
    modules = " ".join(str(m.get("module", "")) for m in hls.get("modules", []) or [])
    strategy = "resource" if "resource" in modules.lower() else "latency"
    bram = synth.get("bram_18k")
    if bram is None and synth.get("bram_tile") is not None:
        bram = 2 * float(synth["bram_tile"])  # a 36 Kb tile is two 18 Kb blocks
    synth_fig = {"lut": synth.get("lut"), "ff": synth.get("ff"), "dsp": synth.get("dsp"), "bram_18k": bram}
    hls_fig = {k: hls.get(k) for k in ("lut", "ff", "dsp", "bram_18k")}
    return SynthPair(
        source=str(folder),
        tool=_tool(hls.get("tool_version")),
        strategy=strategy,
        hls={k: float(v) for k, v in hls_fig.items() if v is not None},
        synth={k: float(v) for k, v in synth_fig.items() if v is not None},
    )
