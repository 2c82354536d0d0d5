"""What a parsed report holds: frozen dataclasses with units in their field names.

Why separate from the parsers: the build farm stores these, the cost model learns from them,
and the CLI prints them; none of those should care whether a number came from XML or text.
A field that the report gives as NA / undefined is ``None``; a field the report lacks raises
while parsing, so a number here is always one the tool wrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["HlsModule", "HlsReport", "SynthReport", "TimingReport", "ReportSet"]


@dataclass(frozen=True)
class HlsModule:
    """One sub-module instance of an HLS design (for hls4ml: usually one layer)."""

    #: Instance name in the RTL (e.g. ``dense_..._U0``); unique within the report.
    instance: str
    #: Module (function) name the instance implements.
    module: str
    lut: int | None
    ff: int | None
    dsp: int | None
    #: Block RAM in 18 Kb blocks.
    bram_18k: int | None
    uram: int | None
    latency_best_cycles: int | None
    latency_worst_cycles: int | None
    ii_min_cycles: int | None
    ii_max_cycles: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with the same short keys as the HLS summary (``latency_best`` ...)."""
        return {
            "instance": self.instance,
            "module": self.module,
            "lut": self.lut,
            "ff": self.ff,
            "dsp": self.dsp,
            "bram_18k": self.bram_18k,
            "uram": self.uram,
            "latency_best": self.latency_best_cycles,
            "latency_worst": self.latency_worst_cycles,
            "ii_min": self.ii_min_cycles,
            "ii_max": self.ii_max_cycles,
        }


@dataclass(frozen=True)
class HlsReport:
    """Vivado/Vitis HLS csynth estimates for the top function (provenance ``hls``)."""

    #: The report file the totals were read from (csynth.xml when there is one).
    path: Path
    #: Top function name, as the report names it.
    top: str
    #: Target part, as the report writes it (e.g. ``xczu9eg-ffvb1156-2-e``).
    part: str
    #: HLS tool release, e.g. ``2020.1``.
    tool_version: str
    lut: int
    ff: int
    dsp: int
    #: Block RAM in 18 Kb blocks.
    bram_18k: int
    #: None when the report has no URAM figure (older releases).
    uram: int | None
    #: None when HLS cannot bound the latency ("undef", "?").
    latency_best_cycles: int | None
    latency_worst_cycles: int | None
    ii_min_cycles: int | None
    ii_max_cycles: int | None
    clock_target_ns: float
    clock_estimated_ns: float | None
    #: Per-instance rows where the report lists them (empty otherwise).
    modules: tuple[HlsModule, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The ``"hls"`` section of ``hil reports --json``."""
        return {
            "lut": self.lut,
            "ff": self.ff,
            "dsp": self.dsp,
            "bram_18k": self.bram_18k,
            "uram": self.uram,
            "latency_best": self.latency_best_cycles,
            "latency_worst": self.latency_worst_cycles,
            "ii_min": self.ii_min_cycles,
            "ii_max": self.ii_max_cycles,
            "clock_target_ns": self.clock_target_ns,
            "clock_estimated_ns": self.clock_estimated_ns,
            "part": self.part,
            "tool_version": self.tool_version,
            "modules": [module.to_dict() for module in self.modules],
        }


@dataclass(frozen=True)
class SynthReport:
    """Vivado ``report_utilization`` figures (provenance ``synth``, or ``impl`` when routed)."""

    path: Path
    #: The report's "Design" line: the synthesized top module.
    top: str
    #: The report's "Device" line, as written (Vivado drops hyphens there: ``7z020clg400-1``).
    part: str
    tool_version: str
    #: The report's "Design State" (``Synthesized``, ``Routed`` ...); None when absent.
    design_state: str | None
    #: "Slice LUTs" / "CLB LUTs".
    lut: int
    #: "Slice Registers" / "CLB Registers": all register sites, flip-flops and latches, as
    #: hls4ml counts them.
    ff: int
    dsp: int
    #: Block RAM tiles (36 Kb each); halves occur when a RAMB18 is used alone.
    bram_tile: float
    #: None when the report has no URAM row (the part has no UltraRAM).
    uram: int | None

    def to_dict(self) -> dict[str, Any]:
        """The ``"synth"`` section of ``hil reports --json``."""
        return {
            "lut": self.lut,
            "ff": self.ff,
            "dsp": self.dsp,
            "bram_tile": self.bram_tile,
            "uram": self.uram,
        }


@dataclass(frozen=True)
class TimingReport:
    """Vivado ``report_timing_summary``: the Design Timing Summary line.

    ``met`` rule: None when WNS or WHS is NA (nothing was checked, e.g. no clock constraint);
    otherwise the report's own verdict sentence when present ("All user specified timing
    constraints are met." / "Timing constraints are not met.", which also cover pulse width);
    otherwise WNS >= 0 and WHS >= 0.
    """

    path: Path
    top: str
    #: The report's "Device" line, as written (e.g. ``7a100t-csg324``, no speed grade).
    part: str
    tool_version: str
    wns_ns: float | None
    tns_ns: float | None
    whs_ns: float | None
    ths_ns: float | None
    wpws_ns: float | None
    met: bool | None

    def to_dict(self) -> dict[str, Any]:
        """The ``"timing"`` section of ``hil reports --json``."""
        return {"wns_ns": self.wns_ns, "tns_ns": self.tns_ns, "whs_ns": self.whs_ns, "met": self.met}


@dataclass(frozen=True)
class ReportSet:
    """The reports of one build (any of them may be absent).

    ``synth`` is the network kernel's utilization; ``design`` a whole block design's (PS wrapper,
    DMA, interconnect and the kernel), kept apart so it is never read as the network's cost.
    """

    hls: HlsReport | None = None
    synth: SynthReport | None = None
    timing: TimingReport | None = None
    design: SynthReport | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form: a section only for each report that was found."""
        out: dict[str, Any] = {}
        if self.hls is not None:
            out["hls"] = self.hls.to_dict()
        if self.synth is not None:
            out["synth"] = self.synth.to_dict()
        if self.timing is not None:
            out["timing"] = self.timing.to_dict()
        if self.design is not None:
            out["design"] = {"top": self.design.top, **self.design.to_dict()}
        return out
