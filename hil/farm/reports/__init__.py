"""Parsers for Vivado / Vivado HLS / Vitis HLS reports: the ``hls``, ``synth`` and timing figures.

Why hil parses reports itself: the search ranks designs by these numbers, so a number must be
one the tool wrote. Files are read by tag (csynth.xml) or by table header text (text reports),
never by position; NA becomes None; a truncated, empty or foreign file raises
``hil.errors.ReportParseError`` instead of yielding zeros, which a search would read as "free".
"""

from hil.farm.reports._csynth import parse_csynth_rpt, parse_csynth_xml
from hil.farm.reports._discover import (
    ReportFiles,
    check_report_matches,
    find_report_files,
    parse_reports,
    parts_match,
    read_build_reports,
    read_reports,
)
from hil.farm.reports._model import (
    ClockInfo,
    HierarchicalUtilization,
    HlsModule,
    HlsReport,
    ReportSet,
    SynthReport,
    TimingReport,
    UtilizationRow,
)
from hil.farm.reports._pairs import synth_pair_from_reports
from hil.farm.reports._vivado import parse_timing_summary, parse_utilization, parse_utilization_hierarchical

__all__ = [
    "synth_pair_from_reports",
    "HlsModule",
    "HlsReport",
    "SynthReport",
    "TimingReport",
    "ClockInfo",
    "UtilizationRow",
    "HierarchicalUtilization",
    "ReportSet",
    "ReportFiles",
    "parse_csynth_xml",
    "parse_csynth_rpt",
    "parse_utilization",
    "parse_utilization_hierarchical",
    "parse_timing_summary",
    "find_report_files",
    "read_reports",
    "read_build_reports",
    "parse_reports",
    "parts_match",
    "check_report_matches",
]
