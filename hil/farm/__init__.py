"""The build farm: build jobs, builders, report parsers, ledger and executors.

For now it holds the report parsers (``hil.farm.reports``), re-exported here because the
builders and the cost model read their numbers through them.
"""

from hil.farm.reports import (
    HlsModule,
    HlsReport,
    ReportSet,
    SynthReport,
    TimingReport,
    check_report_matches,
    parse_csynth_rpt,
    parse_csynth_xml,
    parse_reports,
    parse_timing_summary,
    parse_utilization,
    parts_match,
    read_reports,
)

__all__ = [
    "HlsModule",
    "HlsReport",
    "SynthReport",
    "TimingReport",
    "ReportSet",
    "parse_csynth_xml",
    "parse_csynth_rpt",
    "parse_utilization",
    "parse_timing_summary",
    "read_reports",
    "parse_reports",
    "parts_match",
    "check_report_matches",
]
