"""The build farm: build jobs, builders, report parsers, ledger, artifact store and executors.

A build is a ``BuildJob`` keyed by ``job_key`` (design key + builder + the expected tool
versions). The SQLite ``Ledger`` and the content-addressed ``ArtifactStore`` are the source of
truth, shared by many processes at once (each a ``FarmSession``: heartbeat, claims, and for one
of them the ledger's maintenance); dask (``open_client``: a local cluster or a farm's TLS
scheduler) only runs the work (``FarmRunner``).
Builders live in ``hil.farm.builders``; hil's zcu104 accelerator board in ``hil.convert.accelerator_boards``;
the report parsers (``hil.farm.reports``) are re-exported here.
"""

from hil.farm._api import artifacts_root, build_one, open_farm
from hil.farm._certs import CertificateSet, make_certificates
from hil.farm._executor import TlsFiles, is_loopback, open_client, scheduler_security, tls_files
from hil.farm._export import build_records, export_measured, export_records
from hil.farm._job import BuildJob, job_key
from hil.farm._jobsfile import JobsFile, expand_jobs, load_jobs_file
from hil.farm._keys import make_job
from hil.farm._ledger import JOB_STATES, Ledger, LedgerEntry, LedgerEvent
from hil.farm._liveness import OwnerInfo, ProcessInfo
from hil.farm._runner import FarmRunner, ProgressEvent, RunCounts, RunSummary
from hil.farm._session import DEFAULT_HEARTBEAT_LIMIT_S, FarmSession
from hil.farm._store import ArtifactStore
from hil.farm._toolset import expected_tools, host_tools
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
