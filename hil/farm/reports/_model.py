"""What a parsed report holds: frozen dataclasses with units in their field names.

Why separate from the parsers: the build farm stores these, the cost model learns from them,
and the CLI prints them; none of those should care whether a number came from XML or text.
A field that the report gives as NA / undefined is ``None``; a field the report lacks raises
while parsing, so a number here is always one the tool wrote.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hil.errors import ReportParseError

__all__ = [
    "HlsModule",
    "HlsReport",
    "SynthReport",
    "ClockInfo",
    "TimingReport",
    "UtilizationRow",
    "HierarchicalUtilization",
    "ReportSet",
]


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
    #: Hierarchical path of the cell these figures are for, when they come from one row of a
    #: ``report_utilization -hierarchical`` report (``design_1_i/hier_0/myproject_axis_0``); None
    #: for a flat report, whose figures are the whole ``top``'s.
    instance: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The ``"synth"`` section of ``hil reports --json`` (the same keys for both sources)."""
        return {
            "lut": self.lut,
            "ff": self.ff,
            "dsp": self.dsp,
            "bram_tile": self.bram_tile,
            "uram": self.uram,
        }


@dataclass(frozen=True)
class ClockInfo:
    """One row of a timing summary's "Clock Summary", with its "Intra Clock Table" slacks.

    Why kept per clock: a block design has the PS clock plus generated ones (clock wizard, MMCM
    feedback); the achieved clock of the network is the period of *its* clock minus *its* slack.
    """

    name: str
    period_ns: float
    frequency_mhz: float | None
    #: Waveform as written, e.g. ``{0.000 5.000}``.
    waveform: str
    #: A generated clock (Vivado indents it below its master clock).
    generated: bool
    #: Setup WNS / hold WHS of paths within this clock; None when the table lacks the clock or NA.
    wns_ns: float | None = None
    whs_ns: float | None = None


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
    #: Every clock of the "Clock Summary" (empty when the design has none, e.g. no constraint).
    clocks: tuple[ClockInfo, ...] = ()
    #: The main clock (see ``parse_timing_summary`` for how it is chosen); None when there is no
    #: clock or no rule picks one.
    clock: ClockInfo | None = None

    @property
    def clock_period_ns(self) -> float | None:
        """Period of the main clock, as constrained."""
        return None if self.clock is None else self.clock.period_ns

    @property
    def achieved_clock_mhz(self) -> float | None:
        """Fastest clock the routed design would meet: 1000 / (period - WNS).

        The main clock's own setup WNS is used when the Intra Clock Table gives it, else the
        design's WNS. None when either is unknown (no clock, NA slack).
        """
        if self.clock is None:
            return None
        wns = self.clock.wns_ns if self.clock.wns_ns is not None else self.wns_ns
        if wns is None or self.clock.period_ns - wns <= 0:
            return None
        return 1000.0 / (self.clock.period_ns - wns)

    def to_dict(self) -> dict[str, Any]:
        """The ``"timing"`` section of ``hil reports --json`` (kept stable; clocks are attributes)."""
        return {"wns_ns": self.wns_ns, "tns_ns": self.tns_ns, "whs_ns": self.whs_ns, "met": self.met}


@dataclass(frozen=True)
class UtilizationRow:
    """One row of Vivado's "Utilization by Hierarchy" table.

    Why the full path: instance names repeat across a block design (every IP has an ``inst`` or
    ``U0``), so a cell is only identified by its path from the top.
    """

    #: Path from the top, ``/``-joined, top included (``design_1_wrapper/design_1_i/hier_0/k_0``).
    #: A parenthesised "own logic" row keeps its parentheses: ``top/u_a/(u_a)``.
    path: str
    #: The row's instance name as written (no indentation).
    instance: str
    #: 0 for the top; each level is indented two spaces in the report.
    depth: int
    #: The "Module" cell (``(top)`` for the top); None when the report has no Module column.
    module: str | None
    total_luts: int
    logic_luts: int | None
    lutrams: int | None
    srls: int | None
    ffs: int
    ramb36: int
    ramb18: int
    #: None when the report has no URAM column (parts without UltraRAM).
    uram: int | None
    dsp: int

    @property
    def own_logic(self) -> bool:
        """A "(name)" row: the logic of ``name`` itself, without its sub-instances."""
        return self.instance.startswith("(") and self.instance.endswith(")")

    @property
    def bram_18k(self) -> int:
        """Block RAM in 18 Kb blocks, as HLS counts it: 2 per RAMB36, 1 per RAMB18."""
        return 2 * self.ramb36 + self.ramb18

    @property
    def bram_tile(self) -> float:
        """Block RAM in 36 Kb tiles, as the flat report's "Block RAM Tile" counts it."""
        return self.ramb36 + self.ramb18 / 2


@dataclass(frozen=True)
class HierarchicalUtilization:
    """A parsed ``report_utilization -hierarchical`` report (see ``parse_utilization_hierarchical``)."""

    path: Path
    #: The report's "Design" line (the top module, e.g. ``design_1_wrapper``).
    top: str
    part: str
    tool_version: str
    design_state: str | None
    #: The rows in report order; ``rows[0]`` is the top.
    rows: tuple[UtilizationRow, ...]

    @property
    def top_row(self) -> UtilizationRow:
        """The whole design's row (depth 0)."""
        return self.rows[0]

    def row_for_instance(self, name: str) -> UtilizationRow:
        """The one row whose path is ``name`` or ends with ``/name`` (``name`` may be a path suffix).

        "Own logic" rows ("(name)") match only when asked for with their parentheses.

        Raises:
            ReportParseError: no row matches (listing rows with a similar name), or several do
                (listing them: pass a longer path suffix).
        """
        wanted = name.strip().strip("/")
        if not wanted:
            raise ReportParseError(f"{self.path}: empty instance name")
        hits = [row for row in self.rows if row.path == wanted or row.path.endswith("/" + wanted)]
        if len(hits) == 1:
            return hits[0]
        if len(hits) > 1:
            paths = ", ".join(row.path for row in hits[:8])
            raise ReportParseError(
                f"{self.path}: instance '{name}' matches {len(hits)} cells ({paths}); give a longer path"
            )
        leaf = wanted.rsplit("/", 1)[-1].lower()
        close = set(
            difflib.get_close_matches(leaf, [row.instance.lower() for row in self.rows], n=8, cutoff=0.6)
        )
        similar = [
            row.path for row in self.rows if row.instance.lower() in close or leaf in row.instance.lower()
        ]
        similar = similar[:8]
        hint = f"; similar: {', '.join(similar)}" if similar else ""
        deepest = max(row.depth for row in self.rows)
        raise ReportParseError(
            f"{self.path}: no cell '{name}' in the hierarchy ({len(self.rows)} rows, "
            f"{deepest} levels deep; was -hierarchical_depth too small?){hint}"
        )

    def synth_report(self, row: UtilizationRow | str | None = None) -> SynthReport:
        """One row as a ``SynthReport``: the top row (whole design) when ``row`` is None.

        Why a conversion: the ledger, the cost model and ``hil reports`` already speak
        ``SynthReport``; a kernel's cell and a flat kernel report then give the same keys.
        ``top`` stays the report's Design (whose netlist this is) and ``instance`` names the cell.
        """
        if row is None:
            chosen = self.top_row
        elif isinstance(row, str):
            chosen = self.row_for_instance(row)
        else:
            chosen = row
        return SynthReport(
            path=self.path,
            top=self.top,
            part=self.part,
            tool_version=self.tool_version,
            design_state=self.design_state,
            lut=chosen.total_luts,
            ff=chosen.ffs,
            dsp=chosen.dsp,
            bram_tile=chosen.bram_tile,
            uram=chosen.uram,
            instance=chosen.path,
        )


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
