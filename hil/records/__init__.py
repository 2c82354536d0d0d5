"""The vocabulary every part of hil writes and reads: metrics, provenance, error codes, results."""

from hil.records._design_key import design_key, tool_versions
from hil.records._jsonl import append_results, iter_results, read_results
from hil.records._result import READABLE_SCHEMA_VERSIONS, SCHEMA_VERSION, MeasureResult, Metric
from hil.records._vocabulary import FIDELITY_RANK, METRIC_KEYS, METRIC_UNITS, ErrorCode, Provenance

__all__ = [
    "SCHEMA_VERSION",
    "READABLE_SCHEMA_VERSIONS",
    "METRIC_KEYS",
    "METRIC_UNITS",
    "FIDELITY_RANK",
    "ErrorCode",
    "Provenance",
    "Metric",
    "MeasureResult",
    "append_results",
    "iter_results",
    "read_results",
    "design_key",
    "tool_versions",
]
