"""A build job and its key: what is built (model, options, board, builder) and its content address.

Why the key holds the tool versions the job *expects* (``BuildJob.tools``): the same design built
by the cost model and by Vivado 2020.1 or 2023.2 gives different numbers, so each must have its
own artifact folder, while a re-run with identical inputs must find the finished one. The
versions are the ones the farm declares (inventory ``farm.tools``), else those of the host that
made the job; the worker that runs it checks its own tools against them and refuses the job on a
mismatch, so a key never names a build that other tools made.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["BuildJob", "job_key"]

_log = logging.getLogger(__name__)


class BuildJob(BaseModel):
    """One build, as the coordinator submits it and a worker runs it (JSON-serializable).

    Attributes:
        model: the model file (absolute path; on a farm it must be readable from the workers).
        options: every conversion option (``ConversionOptions.as_dict()``).
        board: board name in the inventory.
        part: the FPGA part.
        clock_mhz: target clock.
        resources: the board's resources in canonical keys (a build over them is RESOURCE_OVERFLOW).
        builder: builder name (estimate, vivado, sleep).
        builder_params: builder-specific settings, hashed into the key (e.g. sleep_s).
        tools: the tool versions the build must be made with (name -> version), in the key; a
            worker whose own versions differ refuses the job.
        timeout_s: wall-clock limit of the whole build, enforced on the worker.
        csim_n: test inputs written to the board bundle (their C-sim outputs are the expectation).
        keep_failed: keep the working folder (tool projects, logs) of a failed build.
        key: the content address (``job_key``), filled in by the coordinator.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str
    options: dict[str, Any] = Field(default_factory=dict)
    board: str
    part: str
    clock_mhz: float = Field(gt=0)
    resources: dict[str, int] = Field(default_factory=dict)
    builder: str = "estimate"
    builder_params: dict[str, Any] = Field(default_factory=dict)
    tools: dict[str, str] = Field(default_factory=dict)
    timeout_s: float = Field(default=6 * 3600.0, gt=0)
    csim_n: int = Field(default=16, ge=1, le=10_000)
    keep_failed: bool = False
    key: str = ""

    def describe(self) -> str:
        """Short human label: model stem, board, builder and key prefix."""
        return f"{Path(self.model).name} -> {self.board} [{self.builder}] {self.key[:12]}"


def job_key(
    model_bytes: bytes,
    options: Mapping[str, Any],
    *,
    part: str,
    clock_mhz: float,
    builder: str,
    tools: Mapping[str, str],
    builder_params: Mapping[str, Any] | None = None,
) -> str:
    """The build's key: ``design_key()`` of the design with the expected tools, plus builder and params.

    ``design_key`` with the host's own versions stays the C-sim cache key; the build key uses the
    versions the build must be made with (``BuildJob.tools``), which may be a farm's, not this host's.
    """
    from hil.records import design_key

    base = design_key(model_bytes, options, part=part, clock_mhz=clock_mhz, versions=dict(tools))
    payload = {
        "design": base,
        "builder": builder,
        "builder_params": dict(builder_params or {}),
    }
    blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()
