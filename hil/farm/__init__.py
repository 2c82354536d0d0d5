"""The build farm: build jobs, builders, report parsers, ledger, artifact store and executors.

A build is a ``BuildJob`` keyed by ``job_key`` (design key + builder + the expected tool
versions). The SQLite ``Ledger`` and the content-addressed ``ArtifactStore`` are the source of
truth, shared by many processes at once (each a ``FarmSession``: heartbeat, claims, and for one
of them the ledger's maintenance); dask (``open_client``: a local cluster or a farm's TLS
scheduler) only runs the work (``FarmRunner``).
Builders live in ``hil.farm.builders``; hil's zcu104 accelerator board in ``hil.convert.accelerator_boards``;
the report parsers (``hil.farm.reports``) are re-exported here.

Why the names load lazily: a build child process imports ``hil.farm._build_task`` and with it
this package; loading the runner, the cluster client, the jobs file, the report parsers and
their dependencies there would add a noticeable start-up to every isolated build.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hil.farm._api import artifacts_root, build_one, open_farm
    from hil.farm._certs import CertificateSet, make_certificates, rotate_certificates
    from hil.farm._cluster import TlsFiles, is_loopback, open_client, scheduler_security, tls_files
    from hil.farm._export import build_records, export_measured, export_records
    from hil.farm._job import BuildJob, job_key
    from hil.farm._jobsfile import JobsFile, expand_jobs, load_jobs_file
    from hil.farm._keys import make_job
    from hil.farm._ledger import JOB_STATES, Ledger, LedgerEntry, LedgerEvent
    from hil.farm._liveness import OwnerInfo, ProcessInfo
    from hil.farm._runner import FarmRunner, ProgressEvent, RunCounts, RunSummary
    from hil.farm._session import DEFAULT_HEARTBEAT_LIMIT_S, FarmSession
    from hil.farm._store import ArtifactStore
    from hil.farm._tool_versions import expected_tools, host_tools
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

_EXPORTS = {
    "artifacts_root": "hil.farm._api",
    "build_one": "hil.farm._api",
    "open_farm": "hil.farm._api",
    "CertificateSet": "hil.farm._certs",
    "make_certificates": "hil.farm._certs",
    "rotate_certificates": "hil.farm._certs",
    "TlsFiles": "hil.farm._cluster",
    "is_loopback": "hil.farm._cluster",
    "open_client": "hil.farm._cluster",
    "scheduler_security": "hil.farm._cluster",
    "tls_files": "hil.farm._cluster",
    "build_records": "hil.farm._export",
    "export_records": "hil.farm._export",
    "export_measured": "hil.farm._export",
    "BuildJob": "hil.farm._job",
    "job_key": "hil.farm._job",
    "JobsFile": "hil.farm._jobsfile",
    "expand_jobs": "hil.farm._jobsfile",
    "load_jobs_file": "hil.farm._jobsfile",
    "make_job": "hil.farm._keys",
    "JOB_STATES": "hil.farm._ledger",
    "Ledger": "hil.farm._ledger",
    "LedgerEntry": "hil.farm._ledger",
    "LedgerEvent": "hil.farm._ledger",
    "OwnerInfo": "hil.farm._liveness",
    "ProcessInfo": "hil.farm._liveness",
    "FarmRunner": "hil.farm._runner",
    "ProgressEvent": "hil.farm._runner",
    "RunCounts": "hil.farm._runner",
    "RunSummary": "hil.farm._runner",
    "DEFAULT_HEARTBEAT_LIMIT_S": "hil.farm._session",
    "FarmSession": "hil.farm._session",
    "ArtifactStore": "hil.farm._store",
    "expected_tools": "hil.farm._tool_versions",
    "host_tools": "hil.farm._tool_versions",
    "HlsModule": "hil.farm.reports",
    "HlsReport": "hil.farm.reports",
    "ReportSet": "hil.farm.reports",
    "SynthReport": "hil.farm.reports",
    "TimingReport": "hil.farm.reports",
    "check_report_matches": "hil.farm.reports",
    "parse_csynth_rpt": "hil.farm.reports",
    "parse_csynth_xml": "hil.farm.reports",
    "parse_reports": "hil.farm.reports",
    "parse_timing_summary": "hil.farm.reports",
    "parse_utilization": "hil.farm.reports",
    "parts_match": "hil.farm.reports",
    "read_reports": "hil.farm.reports",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "BuildJob",
    "job_key",
    "make_job",
    "Ledger",
    "LedgerEntry",
    "LedgerEvent",
    "JOB_STATES",
    "ProcessInfo",
    "OwnerInfo",
    "FarmSession",
    "DEFAULT_HEARTBEAT_LIMIT_S",
    "ArtifactStore",
    "FarmRunner",
    "ProgressEvent",
    "RunCounts",
    "RunSummary",
    "expected_tools",
    "host_tools",
    "make_certificates",
    "rotate_certificates",
    "CertificateSet",
    "TlsFiles",
    "tls_files",
    "scheduler_security",
    "is_loopback",
    "JobsFile",
    "load_jobs_file",
    "expand_jobs",
    "open_client",
    "export_records",
    "export_measured",
    "build_records",
    "artifacts_root",
    "open_farm",
    "build_one",
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
