"""Vivado/Vitis HLS csynth reports: ``<top>_csynth.xml`` (preferred) and ``<top>_csynth.rpt``.

Why both: the XML is the machine-readable file and is read by tag (DSP48E and DSP both map to
``dsp``, so the keys stay stable across releases), but some build folders keep only the .rpt,
and only the .rpt lists per-instance (per-layer) rows, which the cost model learns from. The
.rpt is read through its tables' header text, never by field position.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from hil.errors import ReportParseError
from hil.farm.reports._model import HlsModule, HlsReport
from hil.farm.reports._text import AsciiTable, parse_ascii_tables, parse_count, parse_float, read_report_text

__all__ = [
    "parse_csynth_xml",
    "parse_csynth_rpt",
    "is_top_csynth_rpt",
    "csynth_summary_top",
    "csynth_xml_top",
]

logger = logging.getLogger(__name__)

_BRAM = ("BRAM_18K", "BRAM")
_DSP = ("DSP48E", "DSP", "DSP48")
_LAT_MIN = ("Latency (cycles) min",)
_LAT_MAX = ("Latency (cycles) max",)
_II_MIN = ("Interval min",)
_II_MAX = ("Interval max",)


_TOP_RPT = re.compile(r"^==\s+(?:Vivado|Vitis)\s+HLS\s+Report\s+for\s+'([^']+)'", re.MULTILINE)
#: Vitis HLS (2020.2+) csynth.rpt: "== Synthesis Summary Report of 'myproject'".
_SUMMARY_RPT = re.compile(r"^==\s+Synthesis\s+Summary\s+Report\s+of\s+'([^']+)'", re.MULTILINE)


def _head(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            return handle.read(4096).decode("utf-8", errors="replace")
    except OSError as exc:
        raise ReportParseError(f"{path}: cannot read report ({exc.strerror or exc})") from exc


def is_top_csynth_rpt(path: Path) -> bool:
    """Whether a .rpt is a per-function csynth report ("== Vivado/Vitis HLS Report for 'f'")."""
    return _TOP_RPT.search(_head(path)) is not None


def csynth_summary_top(path: Path) -> str | None:
    """The top named by a Vitis HLS "Synthesis Summary Report" (csynth.rpt), else None.

    Why: that report is never a top's csynth report (its tables differ), but it names the top, so a
    folder handed over without a top still says which ``<top>_csynth.*`` is the design's.
    """
    match = _SUMMARY_RPT.search(_head(path))
    return match.group(1) if match else None


def csynth_xml_top(path: Path) -> str | None:
    """The ``<TopModelName>`` of a csynth.xml (the top's or Vitis HLS's generic one), else None.

    Read from the first few KB by pattern: the generic csynth.xml is large (every module's
    numbers) and only its ``UserAssignments`` block, at the start, is needed to name the top.
    """
    match = re.search(r"<TopModelName>\s*([^<\s]+)\s*</TopModelName>", _head(path))
    return match.group(1) if match else None


def parse_csynth_xml(path: str | Path, *, with_modules: bool = True) -> HlsReport:
    """Parse a csynth.xml report by tag.

    Args:
        path: the ``*_csynth.xml`` file.
        with_modules: also read the per-instance rows from the sibling ``.rpt`` of the same
            name when it exists (the XML of the top does not list them).

    Returns:
        The HLS totals; ``modules`` is empty when there is no sibling .rpt.

    Raises:
        ReportParseError: the file is empty, not well-formed (e.g. cut off), not a csynth
            report, or lacks a required element.
    """
    path = Path(path)
    text = read_report_text(path)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise ReportParseError(f"{path}: not well-formed XML (truncated?): {exc}") from exc
    if root.tag != "profile" or root.find("UserAssignments") is None:
        raise ReportParseError(f"{path}: not a csynth.xml report (no <profile>/<UserAssignments>)")

    def text_of(*paths: str) -> str:
        for xpath in paths:
            node = root.find(xpath)
            if node is not None and node.text is not None and node.text.strip():
                return node.text.strip()
        raise ReportParseError(f"{path}: csynth.xml lacks <{paths[0]}>")

    def count(*paths: str) -> int | None:
        return parse_count(text_of(*paths), path=path, what=paths[0].rsplit("/", 1)[-1])

    def required(value: int | None, what: str) -> int:
        if value is None:
            raise ReportParseError(f"{path}: csynth.xml gives no value for {what}")
        return value

    res = "AreaEstimates/Resources/"
    lat = "PerformanceEstimates/SummaryOfOverallLatency/"
    uram_node = root.find(res + "URAM")
    target = parse_float(text_of("UserAssignments/TargetClockPeriod"), path=path, what="TargetClockPeriod")
    if target is None:
        raise ReportParseError(f"{path}: csynth.xml gives no target clock period")
    modules: tuple[HlsModule, ...] = ()
    sibling = path.with_suffix(".rpt")
    # Vitis HLS's generic csynth.xml sits beside the "Synthesis Summary Report" csynth.rpt, a
    # different document whose tables are not per-instance rows: only a per-top .rpt is read.
    if with_modules and sibling.is_file() and is_top_csynth_rpt(sibling):
        modules = _modules(parse_ascii_tables(read_report_text(sibling), path=sibling), sibling)
    report = HlsReport(
        path=path,
        top=text_of("UserAssignments/TopModelName"),
        part=text_of("UserAssignments/Part"),
        tool_version=text_of("ReportVersion/Version"),
        lut=required(count(res + "LUT"), "LUT"),
        ff=required(count(res + "FF"), "FF"),
        dsp=required(count(*(res + name for name in _DSP)), "DSP"),
        bram_18k=required(count(*(res + name for name in _BRAM)), "BRAM_18K"),
        uram=count(res + "URAM") if uram_node is not None else None,
        latency_best_cycles=count(lat + "Best-caseLatency"),
        latency_worst_cycles=count(lat + "Worst-caseLatency"),
        ii_min_cycles=count(lat + "Interval-min"),
        ii_max_cycles=count(lat + "Interval-max"),
        clock_target_ns=target,
        clock_estimated_ns=parse_float(
            text_of("PerformanceEstimates/SummaryOfTimingAnalysis/EstimatedClockPeriod"),
            path=path,
            what="EstimatedClockPeriod",
        ),
        modules=modules,
    )
    logger.debug("%s: HLS %s on %s, %d LUT", path, report.top, report.part, report.lut)
    return report


def parse_csynth_rpt(path: str | Path) -> HlsReport:
    """Parse a csynth.rpt text report through its tables' header names.

    Raises:
        ReportParseError: the file is empty, foreign, cut off, or lacks the timing, latency or
            utilization summary.
    """
    path = Path(path)
    text = read_report_text(path)
    top_match = _TOP_RPT.search(text)
    if top_match is None:
        summary = _SUMMARY_RPT.search(text)
        if summary is not None:
            raise ReportParseError(
                f"{path}: is Vitis HLS's 'Synthesis Summary Report' of '{summary.group(1)}', not a "
                f"top's csynth report; read {summary.group(1)}_csynth.rpt/.xml beside it"
            )
        raise ReportParseError(
            f"{path}: not a csynth report (no \"== Vivado/Vitis HLS Report for '...'\" line)"
        )
    tables = parse_ascii_tables(text, path=path)

    def header_field(name: str) -> str:
        match = re.search(rf"^\*\s*{name}:\s*(\S+)", text, re.MULTILINE)
        if match is None:
            raise ReportParseError(f"{path}: csynth report lacks its '* {name}:' line")
        return match.group(1)

    def table(section: str, *columns: str, without: str | None = None) -> AsciiTable:
        for candidate in tables:
            if candidate.section != section or not candidate.has(*columns):
                continue
            if without is not None and candidate.column(without) is not None:
                continue
            return candidate
        raise ReportParseError(
            f"{path}: csynth report lacks the '{section}' table "
            f"with columns {', '.join(columns)} (truncated?)"
        )

    timing = table("performance estimates", "Clock", "Target", "Estimated")
    clk_row = _row(timing, "Clock", "ap_clk") or (timing.rows[0] if timing.rows else None)
    if clk_row is None:
        raise ReportParseError(f"{path}: csynth report's clock table has no rows")
    target = parse_float(_cell(timing, clk_row, "Target"), path=path, what="clock target")
    if target is None:
        raise ReportParseError(f"{path}: csynth report gives no clock target")
    estimated = parse_float(_cell(timing, clk_row, "Estimated"), path=path, what="estimated clock")

    latency = table("performance estimates", *_LAT_MIN, *_II_MIN, without="Instance")
    if not latency.rows:
        raise ReportParseError(f"{path}: csynth report's latency summary has no rows")
    lat_row = latency.rows[0]

    util = table("utilization estimates", "Name", "LUT", "FF")
    total = _row(util, "Name", "Total")
    if total is None:
        raise ReportParseError(f"{path}: csynth report's utilization summary has no 'Total' row (truncated?)")

    def need(columns: tuple[str, ...], what: str) -> int:
        value = parse_count(_cell(util, total, *columns), path=path, what=f"total {what}")
        if value is None:
            raise ReportParseError(f"{path}: csynth report gives no total {what}")
        return value

    def cycles(columns: tuple[str, ...]) -> int | None:
        return parse_count(_cell(latency, lat_row, *columns), path=path, what=columns[0])

    report = HlsReport(
        path=path,
        top=top_match.group(1),
        part=header_field("Target device"),
        tool_version=header_field("Version"),
        lut=need(("LUT",), "LUT"),
        ff=need(("FF",), "FF"),
        dsp=need(_DSP, "DSP"),
        bram_18k=need(_BRAM, "BRAM_18K"),
        uram=(
            parse_count(_cell(util, total, "URAM"), path=path, what="total URAM")
            if util.column("URAM") is not None
            else None
        ),
        latency_best_cycles=cycles(_LAT_MIN),
        latency_worst_cycles=cycles(_LAT_MAX),
        ii_min_cycles=cycles(_II_MIN),
        ii_max_cycles=cycles(_II_MAX),
        clock_target_ns=target,
        clock_estimated_ns=estimated,
        modules=_modules(tables, path),
    )
    logger.debug("%s: HLS %s on %s, %d LUT", path, report.top, report.part, report.lut)
    return report


def _row(table: AsciiTable, column: str, value: str) -> tuple[str, ...] | None:
    index = table.column(column)
    if index is None:
        return None
    for row in table.rows:
        if row[index] == value:
            return row
    return None


def _cell(table: AsciiTable, row: tuple[str, ...], *columns: str) -> str:
    index = table.column(*columns)
    if index is None:
        raise ReportParseError(f"{table.source}: table at line {table.line} has no column {columns[0]!r}")
    return row[index]


def _modules(tables: list[AsciiTable], path: Path) -> tuple[HlsModule, ...]:
    """Per-instance rows: resources from the utilization detail, cycles from the latency detail.

    Why join by instance name: the two tables are printed in separate sections, and either may
    be missing (e.g. a design without sub-functions prints "N/A").
    """
    util = next(
        (t for t in tables if t.section == "utilization estimates" and t.has("Instance", "LUT")), None
    )
    perf = next(
        (t for t in tables if t.section == "performance estimates" and t.has("Instance", *_LAT_MIN)), None
    )
    order: list[str] = []
    names: dict[str, str] = {}
    resources: dict[str, dict[str, int | None]] = {}
    cycles: dict[str, dict[str, int | None]] = {}
    for source, columns, sink in (
        (
            util,
            {"lut": ("LUT",), "ff": ("FF",), "dsp": _DSP, "bram_18k": _BRAM, "uram": ("URAM",)},
            resources,
        ),
        (perf, {"best": _LAT_MIN, "worst": _LAT_MAX, "ii_min": _II_MIN, "ii_max": _II_MAX}, cycles),
    ):
        if source is None:
            continue
        inst_col = source.column("Instance")
        mod_col = source.column("Module")
        assert inst_col is not None  # selected by has("Instance")
        for row in source.rows:
            instance = row[inst_col]
            if not instance or instance == "Total":
                continue
            if instance not in names:
                order.append(instance)
                names[instance] = row[mod_col] if mod_col is not None else instance
            sink[instance] = {
                key: (
                    parse_count(row[idx], path=path, what=f"{instance} {key}")
                    if (idx := source.column(*cols)) is not None
                    else None
                )
                for key, cols in columns.items()
            }
    rows = []
    for instance in order:
        res = resources.get(instance, {})
        cyc = cycles.get(instance, {})
        rows.append(
            HlsModule(
                instance=instance,
                module=names[instance],
                lut=res.get("lut"),
                ff=res.get("ff"),
                dsp=res.get("dsp"),
                bram_18k=res.get("bram_18k"),
                uram=res.get("uram"),
                latency_best_cycles=cyc.get("best"),
                latency_worst_cycles=cyc.get("worst"),
                ii_min_cycles=cyc.get("ii_min"),
                ii_max_cycles=cyc.get("ii_max"),
            )
        )
    return tuple(rows)
