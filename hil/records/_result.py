"""MeasureResult: one measurement of one design, with a provenance on every number.

After TVM autotvm's MeasureResult and FINN's throughput test: a failure is a result (an
error code and a message), not an exception, so an overnight batch keeps going.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hil.records._vocabulary import METRIC_KEYS, ErrorCode, Provenance

__all__ = ["READABLE_SCHEMA_VERSIONS", "SCHEMA_VERSION", "Metric", "MeasureResult"]

#: Bumped whenever a field changes meaning or is removed. Readers refuse versions they do not know.
#: Version 2: ``Metric.basis``; provenance ``standin`` (version 1 labelled stand-in runs ``board``);
#: ``lut`` ... ``uram`` are the kernel's, a block design's totals are ``design_*``; error code
#: DESIGN_FAULT. Version-1 records are still read (their numbers keep the labels they had).
SCHEMA_VERSION = 2
READABLE_SCHEMA_VERSIONS = (1, 2)


class Metric(BaseModel):
    """One number and where it came from.

    ``source`` names the provenance of the number a derived figure was computed from: always for
    an emulated figure (e.g. an emulated throughput computed from the HLS II), so a search can
    rank it no higher than that source, and for an estimate derived from a measurement (the
    throughput ``clock / II`` of an HLS report is an ``estimate`` whose source is ``hls``).
    ``basis`` says in words what the figure rests on (the model and its constants' sources).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    value: float | None
    provenance: Provenance
    source: Provenance | None = None
    basis: str | None = None

    @model_validator(mode="after")
    def _emulated_names_source(self) -> Metric:
        if self.provenance is Provenance.EMULATED and self.source is None:
            raise ValueError("an emulated metric must name the provenance of its source")
        return self


class MeasureResult(BaseModel):
    """The outcome of measuring one design on one target (cost model, C-sim, farm or board)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    design_key: str
    board: str | None = None
    metrics: dict[str, Metric] = Field(default_factory=dict)
    error_code: ErrorCode = ErrorCode.OK
    message: str = ""
    stage_seconds: dict[str, float] = Field(default_factory=dict)
    tool_versions: dict[str, str] = Field(default_factory=dict)
    candidate: dict[str, Any] | None = None
    created_at: str = Field(
        default_factory=lambda: _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    )

    @field_validator("metrics")
    @classmethod
    def _canonical_keys(cls, metrics: dict[str, Metric]) -> dict[str, Metric]:
        unknown = sorted(set(metrics) - set(METRIC_KEYS))
        if unknown:
            raise ValueError(f"unknown metric key(s) {unknown}; canonical keys: {list(METRIC_KEYS)}")
        return metrics

    @property
    def ok(self) -> bool:
        return self.error_code is ErrorCode.OK

    def value(self, key: str) -> float | None:
        """The metric's value, or None when the record does not carry it."""
        metric = self.metrics.get(key)
        return None if metric is None else metric.value
