"""Vivado reports: ``report_utilization`` (vivado_synth.rpt, *utilization*.rpt) and
``report_timing_summary``.

Why rows by their "Site Type" label and values by the "Used" header: Vivado renamed rows
between device families (7-series "Slice LUTs", UltraScale "CLB LUTs") and added columns between
releases ("Prohibited" in 2022), so neither the row order nor the column position is stable.
A required row that is missing raises: a synthesis with no LUT row is a broken report, not a
free design.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from hil.errors import ReportParseError
from hil.farm.reports._model import SynthReport, TimingReport
from hil.farm.reports._text import norm, parse_ascii_tables, parse_count, parse_float, read_report_text

__all__ = ["parse_utilization", "parse_timing_summary"]

logger = logging.getLogger(__name__)

_LUT_ROWS = ("Slice LUTs", "CLB LUTs")
_REG_ROWS = ("Slice Registers", "CLB Registers")
_DSP_ROWS = ("DSPs",)
_BRAM_ROWS = ("Block RAM Tile",)
_URAM_ROWS = ("URAM",)

_MET = "All user specified timing constraints are met."
_NOT_MET = "Timing constraints are not met."


def _header(text: str, name: str, path: Path, *, required: bool = True) -> str | None:
    """A ``| Name : value`` line of the report banner."""
    match = re.search(rf"^\|\s*{re.escape(name)}\s*:\s*(.*?)\s*$", text, re.MULTILINE)
    if match is None or not match.group(1):
        if required:
            raise ReportParseError(f"{path}: report banner lacks its '{name}' line")
        return None
    return match.group(1)


def _tool_version(text: str, path: Path) -> str:
    banner = _header(text, "Tool Version", path) or ""
    match = re.search(r"v\.?(\d{4}\.\d+(?:\.\d+)?)", banner)
    if match is None:
        raise ReportParseError(f"{path}: cannot read a Vivado release from 'Tool Version : {banner}'")
    return match.group(1)


def parse_utilization(path: str | Path) -> SynthReport:
    """Parse a Vivado ``report_utilization`` text report (post-synthesis or post-route).

    LUT, register, DSP and block-RAM rows are required; the URAM row is optional (parts without
    UltraRAM print none) and gives ``uram=None`` when absent.

    Raises:
        ReportParseError: the file is empty, foreign, cut off, or lacks a required row.
    """
    path = Path(path)
    text = read_report_text(path)
    if "report_utilization" not in text and "Utilization Design Information" not in text:
        raise ReportParseError(
            f"{path}: not a Vivado utilization report (no 'Utilization Design Information')"
        )
    used: dict[str, str] = {}
    for table in parse_ascii_tables(text, path=path):
        site, value = table.column("Site Type"), table.column("Used")
        if site is None or value is None:
            continue
        for row in table.rows:
            used.setdefault(norm(row[site]), row[value])

    def lookup(rows: tuple[str, ...]) -> str | None:
        for name in rows:
            if norm(name) in used:
                return used[norm(name)]
        return None

    def need(rows: tuple[str, ...]) -> float:
        raw = lookup(rows)
        if raw is None:
            raise ReportParseError(
                f"{path}: utilization report lacks the '{rows[0]}' row (truncated or not a full report?)"
            )
        number = parse_float(raw, path=path, what=f"'{rows[0]}' Used")
        if number is None:
            raise ReportParseError(f"{path}: utilization report gives no value for '{rows[0]}'")
        return number

    def whole(rows: tuple[str, ...]) -> int:
        number = need(rows)
        if number != int(number):
            raise ReportParseError(f"{path}: '{rows[0]}' Used is {number}, not a whole number")
        return int(number)

    uram_raw = lookup(_URAM_ROWS)
    report = SynthReport(
        path=path,
        top=_header(text, "Design", path) or "",
        part=_header(text, "Device", path) or "",
        tool_version=_tool_version(text, path),
        design_state=_header(text, "Design State", path, required=False),
        lut=whole(_LUT_ROWS),
        ff=whole(_REG_ROWS),
        dsp=whole(_DSP_ROWS),
        bram_tile=need(_BRAM_ROWS),
        uram=None if uram_raw is None else parse_count(uram_raw, path=path, what="'URAM' Used"),
    )
    logger.debug("%s: synth %s on %s, %d LUT", path, report.top, report.part, report.lut)
    return report


def parse_timing_summary(path: str | Path) -> TimingReport:
    """Parse the Design Timing Summary of a Vivado ``report_timing_summary`` text report.

    The summary is a whitespace-aligned table: column names come from the header line (split at
    runs of two or more spaces, checked against the dashed underline), values are matched to
    names, never to fixed positions. NA becomes None. See ``TimingReport`` for the ``met`` rule.

    Raises:
        ReportParseError: the file is empty, foreign, cut off before the summary, or its
            summary lacks WNS/TNS/WHS.
    """
    path = Path(path)
    text = read_report_text(path)
    if "report_timing_summary" not in text and "Timing Summary Report" not in text:
        raise ReportParseError(f"{path}: not a Vivado timing summary report (no 'Timing Summary Report')")
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if line.strip("| ").strip() == "Design Timing Summary"), None
    )
    if start is None:
        raise ReportParseError(f"{path}: timing report lacks its 'Design Timing Summary' (truncated?)")
    head = next((i for i in range(start, len(lines)) if "WNS(ns)" in lines[i]), None)
    if head is None or head + 1 >= len(lines):
        raise ReportParseError(
            f"{path}: timing report's Design Timing Summary has no WNS(ns) header (truncated?)"
        )
    names = re.split(r"\s{2,}", lines[head].strip())
    dashes = re.findall(r"-+", lines[head + 1])
    if len(dashes) != len(names):
        raise ReportParseError(f"{path}: Design Timing Summary header at line {head + 1} is malformed")
    values_line = next((line for line in lines[head + 2 :] if line.strip()), None)
    values = values_line.split() if values_line is not None else []
    if len(values) != len(names):
        raise ReportParseError(
            f"{path}: Design Timing Summary has {len(values)} values for {len(names)} columns (truncated?)"
        )
    summary = dict(zip((norm(name) for name in names), values, strict=True))

    def ns(column: str, *, required: bool = True) -> float | None:
        raw = summary.get(norm(column))
        if raw is None:
            if required:
                raise ReportParseError(f"{path}: Design Timing Summary lacks the {column} column")
            return None
        return parse_float(raw, path=path, what=column)

    wns, tns, whs = ns("WNS(ns)"), ns("TNS(ns)"), ns("WHS(ns)")
    met: bool | None
    if wns is None or whs is None:
        met = None
    elif _MET in text:
        met = True
    elif _NOT_MET in text:
        met = False
    else:
        met = wns >= 0 and whs >= 0
    report = TimingReport(
        path=path,
        top=_header(text, "Design", path) or "",
        part=_header(text, "Device", path) or "",
        tool_version=_tool_version(text, path),
        wns_ns=wns,
        tns_ns=tns,
        whs_ns=whs,
        ths_ns=ns("THS(ns)", required=False),
        wpws_ns=ns("WPWS(ns)", required=False),
        met=met,
    )
    logger.debug("%s: timing of %s, WNS %s ns, met %s", path, report.top, wns, met)
    return report
