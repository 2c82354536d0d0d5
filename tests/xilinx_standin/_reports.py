"""Report files in the real tools' formats.

Formats copied from real reports (kept in ../shared/reports and ../shared/costdata/lowbit for hil):
Vivado HLS 2020.1 ``<top>_csynth.rpt``/``.xml``; Vitis HLS 2024.2 ``csynth.rpt`` ("Synthesis Summary
Report"), ``csynth.xml`` and ``<top>_csynth.rpt``; Vivado 2020.1/2022.2 ``report_utilization`` (7-series
"Slice Logic", UltraScale+ "CLB Logic") and ``report_timing_summary``. Numbers are the templates' own,
with this run's top, part, clock and tool version substituted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from xml.sax.saxutils import escape

from tests.xilinx_standin._catalog import device, family_of, short_part
from tests.xilinx_standin._cpp import TopPorts

BUILDS = {"2020.1": "2897737 on Wed May 27 20:21:37 MDT 2020", "2024.2": "5238294 on Nov  8 2024"}
VIVADO_BUILDS = {
    "2020.1": "2902540 Wed May 27 19:54:35 MDT 2020",
    "2022.2": "3671981 Fri Oct 14 05:00:03 MDT 2022",
}


def hls_build(release: str) -> str:
    return BUILDS.get(release, "0000000 (hil stand-in build)")


def vivado_build(release: str) -> str:
    return VIVADO_BUILDS.get(release, "0000000 (hil stand-in build)")


@dataclass(frozen=True)
class HlsFigures:
    """csynth figures of the design (the 2020.1 template's, see myproject_csynth.rpt)."""

    lut: int = 2532
    ff: int = 7969
    dsp: int = 73
    bram_18k: int = 0
    uram: int = 0
    latency: int = 10
    interval: int = 8
    estimated_ns: float = 4.049


def _now() -> str:
    return time.strftime("%a %b %d %H:%M:%S %Y")


def _pct(used: float, avail: int) -> str:
    return f"{100.0 * used / avail:.2f}" if avail else "0.00"


def _table(
    headers: list[str],
    rows: list[list[str]],
    left: int = 1,
    pad: bool = True,
    min_widths: list[int] | None = None,
) -> list[str]:
    """A +---+ table: Vivado pads cells with a space (``pad``), the HLS reports do not."""
    sp = " " if pad else ""
    extra = 2 if pad else 1
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    if min_widths is not None:
        widths = [max(w, m) for w, m in zip(widths, min_widths, strict=True)]
    widths = [w + (0 if pad else 1) for w in widths]
    sep = "+" + "+".join("-" * (w + extra - (0 if pad else 1)) for w in widths) + "+"
    out = [
        sep,
        "|" + "|".join(f"{sp}{h.center(w)}{sp}" for h, w in zip(headers, widths, strict=True)) + "|",
        sep,
    ]
    for r in rows:
        cells = [
            f"{sp}{c.ljust(w)}{sp}" if i < left else f"{sp}{c.rjust(w)}{sp}"
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("|" + "|".join(cells) + "|")
    out.append(sep)
    return out


def _htable(headers: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    return _table(headers, rows, left, pad=False)


def _grouped(
    headers: list[str], rows: list[list[str]], groups: list[tuple[str, int]], left: int = 1
) -> list[str]:
    """An HLS table with the grouped header line the real reports print above min/max columns.

    ``groups`` spans the columns left to right (``("Latency (cycles)", 2)``); a label "" leaves
    its columns' header cells blank (the Instance/Module columns of the detail tables). Columns
    are widened until every label fits its span, as the real reports are.
    """
    minimum = [0] * len(headers)
    while True:
        table = _table(headers, rows, left, pad=False, min_widths=minimum)
        cuts = [i for i, ch in enumerate(table[0]) if ch == "+"]
        line, column, short = "|", 0, False
        for label, span in groups:
            width = cuts[column + span] - cuts[column] - 1
            if len(label) + 2 > width and label:
                minimum[column] = cuts[column + 1] - cuts[column] - 1 + (len(label) + 2 - width)
                short = True
                break
            line += label.center(width) + "|"
            column += span
        if not short:
            return [table[0], line, *table[1:]]


# ---------------------------------------------------------------------------------------------
# HLS
# ---------------------------------------------------------------------------------------------
def _hls_family(part: str) -> str:
    fam = family_of(part)
    return {"zynquplus": "zynquplus", "zynq": "zynq", "artix7": "artix7"}.get(fam, fam)


def _hls_part(part: str) -> str:
    """``xc7z020clg400-1`` -> ``xc7z020-clg400-1`` as HLS reports print it."""
    import re

    m = re.match(r"^(x[a-z]*\d*[a-z]*\d+[a-z]*?)(-?)([a-z]+\d+)(-.*)$", part)
    if m and not m.group(2):
        return f"{m.group(1)}-{m.group(3)}{m.group(4)}"
    return part


def csynth_rpt(
    *,
    top: str,
    project: str,
    solution: str,
    part: str,
    period: float,
    uncertainty: float,
    release: str,
    vitis: bool,
    ports: TopPorts,
    subs: list[str],
    fig: HlsFigures,
) -> str:
    """``<top>_csynth.rpt`` (UG1399/UG902 "Synthesis report"), in the 2020.1 or 2024.2 layout."""
    tool = "Vitis HLS" if vitis else "Vivado HLS"
    dev = device(part)
    dsp_name = "DSP" if vitis else "DSP48E"
    sol = f"{solution} (Vivado IP Flow Target)" if vitis else solution
    lines = [
        "",
        "",
        "=" * 64,
        f"== {tool} Report for '{top}'",
        "=" * 64,
        f"* Date:           {_now()}",
        "",
        f"* Version:        {release} (Build {hls_build(release)})",
        f"* Project:        {project}",
        f"* Solution:       {sol}",
        f"* Product family: {_hls_family(part)}",
        f"* Target device:  {_hls_part(part)}",
        "",
        "",
        "=" * 64,
        "== Performance Estimates",
        "=" * 64,
        "+ Timing: ",
        "    * Summary: ",
    ]
    lines += [
        "    " + x
        for x in _htable(
            ["Clock", "Target", "Estimated", "Uncertainty"],
            [["ap_clk", f"{period:.2f} ns", f"{fig.estimated_ns:.3f} ns", f"{uncertainty:.2f} ns"]],
        )
    ]
    lat_ns = fig.latency * period
    lines += ["", "+ Latency: ", "    * Summary: "]
    latency_groups = [("Latency (cycles)", 2), ("Latency (absolute)", 2), ("Interval", 2), ("Pipeline", 1)]
    lines += [
        "    " + x
        for x in _grouped(
            ["min", "max", "min", "max", "min", "max", "Type"],
            [
                [
                    str(fig.latency),
                    str(fig.latency),
                    f"{lat_ns:.3f} ns",
                    f"{lat_ns:.3f} ns",
                    str(fig.interval),
                    str(fig.interval),
                    "dataflow",
                ]
            ],
            latency_groups,
        )
    ]
    lines += ["", "    + Detail: ", "        * Instance: "]
    inst_rows = [
        [f"{s.removesuffix('_s')}_U0", s, "1", "1", f"{period:.3f} ns", f"{period:.3f} ns", "1", "1", "no"]
        for s in subs
    ]
    lines += [
        "        " + x
        for x in _grouped(
            ["Instance", "Module", "min", "max", "min", "max", "min", "max", "Type"],
            inst_rows,
            [("", 1), ("", 1), *latency_groups],
        )
    ]
    lines += [
        "",
        "        * Loop: ",
        "        N/A",
        "",
        "",
        "",
        "=" * 64,
        "== Utilization Estimates",
        "=" * 64,
        "* Summary: ",
    ]
    avail = [str(dev.bram36 * 2), str(dev.dsp), str(dev.ff), str(dev.lut), str(dev.uram)]
    rows = [
        ["DSP", "-", "-", "-", "-", "-"],
        ["Expression", "-", "-", "0", "2", "-"],
        ["FIFO", "0", "-", "25", "140", "-"],
        ["Instance", str(fig.bram_18k), str(fig.dsp), str(fig.ff - 25), str(fig.lut - 142), "-"],
        ["Memory", "-", "-", "-", "-", "-"],
        ["Multiplexer", "-", "-", "-", "-", "-"],
        ["Register", "-", "-", "-", "-", "-"],
    ]
    total = ["Total", str(fig.bram_18k), str(fig.dsp), str(fig.ff), str(fig.lut), str(fig.uram)]
    util = ["Utilization (%)"] + [
        str(int(100 * int(t) / int(a))) if int(a) else "0" for t, a in zip(total[1:], avail, strict=True)
    ]
    tab = _htable(
        ["Name", "BRAM_18K", dsp_name, "FF", "LUT", "URAM"], [*rows, total, ["Available", *avail], util]
    )
    # the real report separates Total / Available / Utilization rows with rules
    body = tab[:3] + tab[3:10] + [tab[0], tab[10], tab[0], tab[11], tab[0], tab[12], tab[0]]
    lines += body
    lines += ["", "+ Detail: ", "    * Instance: "]
    inst = [
        [
            f"{s.removesuffix('_s')}_U0",
            s,
            "0",
            str(fig.dsp // max(1, len(subs))),
            str(fig.ff // max(1, len(subs))),
            str(fig.lut // max(1, len(subs))),
            "0",
        ]
        for s in subs
    ]
    lines += [
        "    " + x for x in _htable(["Instance", "Module", "BRAM_18K", dsp_name, "FF", "LUT", "URAM"], inst)
    ]
    lines += ["", "", "", "=" * 64, "== Interface", "=" * 64, "* Summary: "]
    prow = [[p.name, p.dir, str(p.bits), p.protocol, p.obj, p.ctype] for p in ports.ports]
    lines += _htable(["RTL Ports", "Dir", "Bits", "Protocol", "Source Object", "C Type"], prow)
    lines += ["", ""]
    return "\n".join(lines)


def csynth_xml(
    *,
    top: str,
    part: str,
    period: float,
    uncertainty: float,
    release: str,
    vitis: bool,
    ports: TopPorts,
    fig: HlsFigures,
    module: str | None = None,
) -> str:
    """``<top>_csynth.xml`` / ``csynth.xml``: the tags hls4ml's and hil's parsers read."""
    dev = device(part)
    dsp = "DSP" if vitis else "DSP48E"
    name = module or top
    out = [
        "<profile>",
        "",
        "<ReportVersion>",
        f"<Version>{release}</Version>",
        "</ReportVersion>",
        "",
        "<UserAssignments>",
        "<unit>ns</unit>",
        f"<ProductFamily>{_hls_family(part)}</ProductFamily>",
        f"<Part>{_hls_part(part)}</Part>",
        f"<TopModelName>{name}</TopModelName>",
        f"<TargetClockPeriod>{period:.2f}</TargetClockPeriod>",
        f"<ClockUncertainty>{uncertainty:.2f}</ClockUncertainty>",
    ]
    if vitis:
        out.append("<FlowTarget>vivado</FlowTarget>")
    lat_ns = fig.latency * period
    out += [
        "</UserAssignments>",
        "",
        "<PerformanceEstimates>",
        "<PipelineType>dataflow</PipelineType>",
        "<SummaryOfTimingAnalysis>",
        "<unit>ns</unit>",
        f"<EstimatedClockPeriod>{fig.estimated_ns:.3f}</EstimatedClockPeriod>",
        "</SummaryOfTimingAnalysis>",
        "<SummaryOfOverallLatency>",
        "<unit>clock cycles</unit>",
    ]
    for k in ("Best", "Average", "Worst"):
        out.append(f"<{k}-caseLatency>{fig.latency}</{k}-caseLatency>")
    for k in ("Best", "Average", "Worst"):
        out.append(f"<{k}-caseRealTimeLatency>{lat_ns:.3f} ns</{k}-caseRealTimeLatency>")
    out += [
        f"<DataflowPipelineThroughput>{fig.interval}</DataflowPipelineThroughput>",
        f"<Interval-min>{fig.interval}</Interval-min>",
        f"<Interval-max>{fig.interval}</Interval-max>",
        "</SummaryOfOverallLatency>",
        "</PerformanceEstimates>",
        "",
        "<AreaEstimates>",
        "<Resources>",
        f"<BRAM_18K>{fig.bram_18k}</BRAM_18K>",
        f"<{dsp}>{fig.dsp}</{dsp}>",
        f"<FF>{fig.ff}</FF>",
        f"<LUT>{fig.lut}</LUT>",
        f"<URAM>{fig.uram}</URAM>",
        "</Resources>",
        "<AvailableResources>",
        f"<BRAM_18K>{dev.bram36 * 2}</BRAM_18K>",
        f"<{dsp}>{dev.dsp}</{dsp}>",
        f"<FF>{dev.ff}</FF>",
        f"<LUT>{dev.lut}</LUT>",
        f"<URAM>{dev.uram}</URAM>",
        "</AvailableResources>",
        "</AreaEstimates>",
        "",
        "<InterfaceSummary>",
    ]
    for p in ports.ports:
        out += [
            "<RtlPorts>",
            f"<name>{p.name}</name>",
            f"<Object>{p.obj}</Object>",
            f"<Type>{p.ctype}</Type>",
            "<Scope></Scope>",
            f"<IOProtocol>{p.protocol}</IOProtocol>",
            f"<IOConfig>{'register, both mode' if p.protocol == 'axis' else ''}</IOConfig>",
            f"<Dir>{p.dir}</Dir>",
            f"<Bits>{p.bits}</Bits>",
            f"<Attribute>{'data' if p.name.endswith('TDATA') else 'control'}</Attribute>",
            "<CType>int</CType>",
            "</RtlPorts>",
        ]
    out += ["</InterfaceSummary>", "</profile>", ""]
    return "\n".join(out)


def synthesis_summary_rpt(
    *,
    top: str,
    project: str,
    solution: str,
    part: str,
    period: float,
    release: str,
    ports: TopPorts,
    subs: list[str],
    fig: HlsFigures,
) -> str:
    """Vitis HLS's generic ``csynth.rpt`` ("Synthesis Summary Report", 2020.2+ layout, 2024.2 template)."""
    dev = device(part)
    slack = period - fig.estimated_ns
    lat_ns = fig.latency * period

    def pct(v: int, a: int) -> str:
        return f"{v} ({int(100 * v / a) if a else 0}%)" if v else "-"

    rows = [
        [
            f"+ {top}*",
            "-",
            f"{slack:.2f}",
            str(fig.latency),
            f"{lat_ns:.3f}",
            "-",
            str(fig.interval),
            "-",
            "dataflow",
            pct(fig.bram_18k, dev.bram36 * 2),
            pct(fig.dsp, dev.dsp),
            pct(fig.ff, dev.ff),
            pct(fig.lut, dev.lut),
            "-",
        ]
    ]
    n = max(1, len(subs))
    for s in subs:
        rows.append(
            [
                f" + {s}",
                "-",
                f"{slack:.2f}",
                "1",
                f"{period:.3f}",
                "-",
                "1",
                "-",
                "no",
                "-",
                pct(fig.dsp // n, dev.dsp),
                pct(fig.ff // n, dev.ff),
                pct(fig.lut // n, dev.lut),
                "-",
            ]
        )
    lines = [
        "",
        "",
        "=" * 64,
        f"== Synthesis Summary Report of '{top}'",
        "=" * 64,
        "+ General Information: ",
        f"    * Date:           {_now()}",
        f"    * Version:        {release} (Build {hls_build(release)})",
        f"    * Project:        {project}",
        f"    * Solution:       {solution} (Vivado IP Flow Target)",
        f"    * Product family: {_hls_family(part)}",
        f"    * Target device:  {_hls_part(part)}",
        "    ",
        "",
        "+ Performance & Resource Estimates: ",
        "    ",
        "    PS: '+' for module; 'o' for loop; '*' for dataflow",
    ]
    lines += [
        "    " + x
        for x in _htable(
            [
                "Modules & Loops",
                "Issue Type",
                "Slack",
                "Latency (cycles)",
                "Latency (ns)",
                "Iteration Latency",
                "Interval",
                "Trip Count",
                "Pipelined",
                "BRAM",
                "DSP",
                "FF",
                "LUT",
                "URAM",
            ],
            rows,
        )
    ]
    lines += ["", "", "=" * 64, "== HW Interfaces", "=" * 64, "* AXIS"]
    axis = [i for i in ports.interfaces if i.kind == "axis"]
    arows = [[i.name, "both", "", "", "", "", str(i.tdata_bits), "", "", ""] for i in axis]
    lines += _htable(
        [
            "Interface",
            "Register Mode",
            "TDATA",
            "TDEST",
            "TID",
            "TKEEP",
            "TDATA bits",
            "TSTRB",
            "TUSER",
            "TLAST",
        ],
        arows,
    )
    lines += ["", "* TOP LEVEL CONTROL"]
    lines += _htable(
        ["Interface", "Type", "Ports"],
        [["ap_clk", "clock", "ap_clk"], ["ap_rst_n", "reset", "ap_rst_n"]]
        + (
            [["ap_ctrl", ports.ctrl, "ap_done ap_idle ap_ready ap_start"]]
            if ports.ctrl != "ap_ctrl_none"
            else []
        ),
    )
    lines += ["", ""]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Vivado
# ---------------------------------------------------------------------------------------------
@dataclass
class Util:
    """Post-synthesis/implementation figures of one design or one hierarchy row."""

    lut_logic: int = 0
    lutram: int = 0
    srl: int = 0
    ff: int = 0
    ramb36: int = 0
    ramb18: int = 0
    uram: int = 0
    dsp: int = 0

    @property
    def lut(self) -> int:
        return self.lut_logic + self.lutram + self.srl

    def __add__(self, o: Util) -> Util:
        return Util(
            self.lut_logic + o.lut_logic,
            self.lutram + o.lutram,
            self.srl + o.srl,
            self.ff + o.ff,
            self.ramb36 + o.ramb36,
            self.ramb18 + o.ramb18,
            self.uram + o.uram,
            self.dsp + o.dsp,
        )

    def scaled(self, f: float, extra: int = 0) -> Util:
        return Util(
            int(self.lut_logic * f) + extra,
            int(self.lutram * f),
            int(self.srl * f),
            int(self.ff * f) + extra,
            self.ramb36,
            self.ramb18,
            self.uram,
            self.dsp,
        )


def _banner(release: str, command: str, top: str, part: str, extra: list[str]) -> list[str]:
    year = release.split(".")[0]
    rows = [
        f"| Tool Version : Vivado v.{release} (lin64) Build {vivado_build(release)}",
        f"| Date         : {_now()}",
        "| Host         : hil-standin running 64-bit (stand-in, not Vivado)",
        f"| Command      : {command}",
        f"| Design       : {top}",
        f"| Device       : {short_part(part)}",
        *extra,
    ]
    width = max(len(r) for r in rows) + 1
    rule = "-" * width
    return [f"Copyright 1986-{year} Xilinx, Inc. All Rights Reserved.", rule, *rows, rule, ""]


def utilization_rpt(
    *,
    release: str,
    command: str,
    top: str,
    part: str,
    state: str,
    util: Util,
    hierarchy: list[tuple[int, str, str, Util]] | None = None,
    percentages: bool = False,
) -> str:
    """``report_utilization`` (UG835): flat report, or with ``hierarchy`` the "Utilization by Hierarchy"."""
    dev = device(part)
    us = dev.ultrascale
    lines = _banner(release, command, top, part, [f"| Design State : {state}"])
    if hierarchy is not None:
        lines += [
            "Utilization Design Information",
            "",
            "Table of Contents",
            "-----------------",
            "1. Utilization by Hierarchy",
            "",
            "1. Utilization by Hierarchy",
            "---------------------------",
            "",
        ]
        headers = [
            "Instance",
            "Module",
            "Total LUTs",
            "Logic LUTs",
            "LUTRAMs",
            "SRLs",
            "FFs",
            "RAMB36",
            "RAMB18",
        ]
        if us:
            headers.append("URAM")
        headers.append("DSP Blocks" if us else "DSP48 Blocks")
        rows = []
        for depth, inst, module, u in hierarchy:
            vals = [
                (u.lut, dev.lut),
                (u.lut_logic, dev.lut),
                (u.lutram, dev.lut),
                (u.srl, dev.lut),
                (u.ff, dev.ff),
                (u.ramb36, dev.bram36),
                (u.ramb18, dev.bram36 * 2),
            ]
            if us:
                vals.append((u.uram, dev.uram))
            vals.append((u.dsp, dev.dsp))
            cells = [f"{v}({_pct(v, a)}%)" if percentages else str(v) for v, a in vals]
            rows.append(["  " * depth + inst, f"({module})" if depth and module else module, *cells])
        lines += _table(headers, rows, left=2)
        lines += [
            "* Note: The sum of lower-level cells may be larger than their parent cells total, due to "
            "cross-hierarchy LUT combining",
            "",
            "",
        ]
        return "\n".join(lines) + "\n"
    logic = "CLB Logic" if us else "Slice Logic"
    luts = "CLB LUTs*" if us else "Slice LUTs*"
    regs = "CLB Registers" if us else "Slice Registers"
    toc = (
        [
            "1. CLB Logic",
            "1.1 Summary of Registers by Type",
            "2. BLOCKRAM",
            "3. ARITHMETIC",
            "4. I/O",
            "5. CLOCK",
            "6. ADVANCED",
            "7. CONFIGURATION",
            "8. Primitives",
            "9. Black Boxes",
            "10. Instantiated Netlists",
        ]
        if us
        else [
            "1. Slice Logic",
            "1.1 Summary of Registers by Type",
            "2. Memory",
            "3. DSP",
            "4. IO and GT Specific",
            "5. Clocking",
            "6. Specific Feature",
            "7. Primitives",
            "8. Black Boxes",
            "9. Instantiated Netlists",
        ]
    )
    lines += [
        "Utilization Design Information",
        "",
        "Table of Contents",
        "-----------------",
        *toc,
        "",
        f"1. {logic}",
        "-" * (len(logic) + 3),
        "",
    ]
    lutmem_avail = dev.lut * 17400 // 53200 if not us else dev.lut * 144000 // 274080
    rows = [
        [luts, str(util.lut), "0", str(dev.lut), _pct(util.lut, dev.lut)],
        ["  LUT as Logic", str(util.lut_logic), "0", str(dev.lut), _pct(util.lut_logic, dev.lut)],
        [
            "  LUT as Memory",
            str(util.lutram + util.srl),
            "0",
            str(lutmem_avail),
            _pct(util.lutram + util.srl, lutmem_avail),
        ],
        ["    LUT as Distributed RAM", str(util.lutram), "0", "", ""],
        ["    LUT as Shift Register", str(util.srl), "0", "", ""],
        [regs, str(util.ff), "0", str(dev.ff), _pct(util.ff, dev.ff)],
        ["  Register as Flip Flop", str(util.ff), "0", str(dev.ff), _pct(util.ff, dev.ff)],
        ["  Register as Latch", "0", "0", str(dev.ff), "0.00"],
    ]
    lines += _table(["Site Type", "Used", "Fixed", "Available", "Util%"], rows)
    lines += [
        "* Warning! The Final LUT count, after physical optimizations and full implementation, is typically "
        "lower. Run opt_design after synthesis, if not already completed, for a more realistic count.",
        "",
        "",
    ]
    tiles = util.ramb36 + util.ramb18 / 2
    mem = "2. BLOCKRAM" if us else "2. Memory"
    lines += [mem, "-" * len(mem), ""]
    lines += _table(
        ["Site Type", "Used", "Fixed", "Available", "Util%"],
        [
            ["Block RAM Tile", f"{tiles:g}", "0", str(dev.bram36), _pct(tiles, dev.bram36)],
            ["  RAMB36/FIFO*", str(util.ramb36), "0", str(dev.bram36), _pct(util.ramb36, dev.bram36)],
            ["  RAMB18", str(util.ramb18), "0", str(dev.bram36 * 2), _pct(util.ramb18, dev.bram36 * 2)],
        ]
        + ([["URAM", str(util.uram), "0", str(dev.uram), _pct(util.uram, dev.uram)]] if us else []),
    )
    dsp = "3. ARITHMETIC" if us else "3. DSP"
    lines += ["", "", dsp, "-" * len(dsp), ""]
    lines += _table(
        ["Site Type", "Used", "Fixed", "Available", "Util%"],
        [
            ["DSPs", str(util.dsp), "0", str(dev.dsp), _pct(util.dsp, dev.dsp)],
            ["  DSP48E2 only" if us else "  DSP48E1 only", str(util.dsp), "", "", ""],
        ],
    )
    lines += ["", ""]
    return "\n".join(lines) + "\n"


def timing_summary_rpt(
    *,
    release: str,
    command: str,
    top: str,
    part: str,
    clocks: list[tuple[str, float]],
    wns: float,
    routed: bool,
) -> str:
    """``report_timing_summary`` (UG835) with one row per clock and the met/not-met verdict."""
    lines = _banner(
        release,
        command,
        top,
        part,
        [
            "| Speed File   : -1  PRODUCTION (stand-in)",
            f"| Design State : {'Routed' if routed else 'Synthesized'}",
        ],
    )
    lines += [
        "Timing Summary Report",
        "",
        "------------------------------------------------------------------------------------------------",
        "| Timer Settings",
        "| --------------",
        "------------------------------------------------------------------------------------------------",
        "",
        "  Enable Multi Corner Analysis               :  Yes",
        "  Enable Pessimism Removal                   :  Yes",
        "",
        "",
    ]
    tns = 0.0 if wns >= 0 else round(wns * 17, 3)
    failing = 0 if wns >= 0 else 17
    whs = 0.021
    lines += [
        "------------------------------------------------------------------------------------------------",
        "| Design Timing Summary",
        "| ---------------------",
        "------------------------------------------------------------------------------------------------",
        "",
        "    WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)      THS(ns)  "
        "THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing Endpoints  "
        "TPWS Total Endpoints  ",
        "    -------      -------  ---------------------  -------------------      -------      -------  "
        "---------------------  -------------------     --------     --------  ----------------------  "
        "--------------------  ",
        f"{wns:11.3f}  {tns:11.3f}  {failing:21d}  {20211:19d}  {whs:11.3f}  {0.0:11.3f}  {0:21d}  "
        f"{20211:19d}  {2.0:11.3f}  {0.0:11.3f}  {0:22d}  {9876:20d}  ",
        "",
        "",
    ]
    if not clocks:
        lines += ["There are no user specified timing constraints.", "", ""]
    elif wns >= 0:
        lines += ["All user specified timing constraints are met.", "", ""]
    else:
        lines += ["Timing constraints are not met.", "", ""]
    lines += [
        "------------------------------------------------------------------------------------------------",
        "| Clock Summary",
        "| -------------",
        "------------------------------------------------------------------------------------------------",
        "",
        "Clock       Waveform(ns)         Period(ns)      Frequency(MHz)",
        "-----       ------------         ----------      --------------",
    ]
    for name, period in clocks:
        lines.append(
            f"{name:<12}{{0.000 {period / 2:.3f}}}".ljust(33) + f"{period:<16.3f}{1000.0 / period:.3f}"
        )
    lines += [
        "",
        "",
        "------------------------------------------------------------------------------------------------",
        "| Intra Clock Table",
        "| -----------------",
        "------------------------------------------------------------------------------------------------",
        "",
        "Clock             WNS(ns)      TNS(ns)  TNS Failing Endpoints  TNS Total Endpoints      WHS(ns)  "
        "    THS(ns)  THS Failing Endpoints  THS Total Endpoints     WPWS(ns)     TPWS(ns)  TPWS Failing "
        "Endpoints  TPWS Total Endpoints  ",
        "-----             -------      -------  ---------------------  -------------------      -------  "
        "    -------  ---------------------  -------------------     --------     --------  -------------"
        "---------  --------------------  ",
    ]
    for name, period in clocks:
        lines.append(
            f"{name:<16}{wns:9.3f}  {tns:11.3f}  {failing:21d}  {20211:19d}  {whs:11.3f}  {0.0:11.3f}  "
            f"{0:21d}  {20211:19d}  {period / 2 - 0.5:11.3f}  {0.0:11.3f}  {0:22d}  {9876:20d}  "
        )
    lines += ["", ""]
    return "\n".join(lines) + "\n"


def power_rpt(*, release: str, command: str, top: str, part: str, total_w: float) -> str:
    lines = _banner(release, command, top, part, ["| Design State : routed"])
    lines += ["Power Report", "", "1. Summary", "----------", ""]
    lines += _table(
        ["Total On-Chip Power (W)", f"{total_w:.3f}"],
        [
            ["Design Power Budget (W)", "Unspecified*"],
            ["Dynamic (W)", f"{total_w - 0.15:.3f}"],
            ["Device Static (W)", "0.150"],
            ["Confidence Level", "Low"],
        ],
    )
    return "\n".join(lines) + "\n"


def xml_text(s: str) -> str:
    return escape(s, {'"': "&quot;"})
