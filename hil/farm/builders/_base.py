"""BaseBuilder: the one extension point of the farm (a new builder is a short file).

A builder turns a ``BuildJob`` into an artifact folder: ``build()`` writes whatever it produces
under ``out`` and returns its metrics; the farm (``hil.farm._build_task``) wraps every call so that
any failure becomes a result (an ``ErrorCode`` name, a message, the log tail), never a crash of
the run, writes ``report.json`` and ``manifest.json``, and enforces the job's timeout.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hil.errors import BuildError
from hil.farm._job import BuildJob
from hil.records import ErrorCode

__all__ = ["BaseBuilder", "BuildFailure", "FarmFault", "BuildOutput", "Stage"]

_log = logging.getLogger(__name__)


class BuildFailure(BuildError):
    """A build failed for a known reason; ``code`` is what the ledger records."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code


class FarmFault(BuildFailure):
    """The build host failed, not the design: no license, a full disk. The farm re-queues the job.

    Why apart from ``BuildFailure``: a design that fails is recorded and not built again until
    asked; a license server that is down for an hour must not mark a night's designs failed.
    ``reason`` (``license``, ``disk``) is what the ledger's ``requeued`` event records.
    """

    def __init__(self, reason: str, message: str, code: ErrorCode = ErrorCode.CONVERT) -> None:
        super().__init__(code, message)
        self.reason = reason


@dataclass
class Stage:
    """The stage a build is in, so an unexpected exception is blamed on the right ErrorCode."""

    code: ErrorCode = ErrorCode.CONVERT
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class BuildOutput:
    """What a successful ``build()`` returns.

    Attributes:
        metrics: canonical metric key -> {"value": float | None, "provenance": str}.
        layers: per-layer rows (``name``, ``spec`` as ``hil.cost.layer_to_dict``, ``metrics``).
        candidate: the design description stored with exported records (``{"layers": [...]}``).
        report: extra JSON kept in report.json (raw parsed reports, the estimate breakdown).
        provenance: the highest fidelity the metrics reach (estimate, hls, synth, impl).
    """

    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    layers: list[dict[str, Any]] = field(default_factory=list)
    candidate: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    provenance: str = "estimate"


class BaseBuilder(abc.ABC):
    """A way of building a design: the cost model, the real Vivado tools, or a stand-in.

    Class attributes:
        name: the name jobs and the CLI use.
        resources: dask worker resources each job needs (``{"vivado": 1}``: one license).
        isolate: run ``build()`` in a child process (true for anything that loads hls4ml or runs
            tools: a crash or hang there must not take the dask worker down, and the timeout
            must be able to kill the whole process group).
        design_tools: the builder converts the model with hls4ml and compiles the C simulation,
            so ``hil.records.tool_versions()`` (hls4ml, g++, hil) shape its output too.
    """

    name: ClassVar[str]
    resources: ClassVar[dict[str, float]] = {}
    isolate: ClassVar[bool] = True
    design_tools: ClassVar[bool] = True

    def tool_versions(self, options: Mapping[str, Any] | None = None) -> dict[str, str]:
        """Versions of this host's tools that a build with ``options`` would use, beyond the design tools.

        Called on the host that makes the job (expected versions, unless the inventory declares
        them) and on the worker that runs it (actual versions, checked before the build starts).
        """
        return {}

    def disk_needed_bytes(self, options: Mapping[str, Any] | None = None) -> int:
        """Free space the build folder's disk must have before a build with ``options`` starts.

        ``options`` holds the job's conversion options and its builder params (``stop_after``).

        Why ask before: a flow that fills the disk hours in fails as a farm fault anyway, after
        holding a license all that time. 0 (the default) skips the check.
        """
        return 0

    def complete_params(self, board: Any, params: Mapping[str, Any]) -> dict[str, Any]:
        """The job's ``builder_params`` with this builder's defaults filled in (they enter the key).

        Called where the job is made, with the inventory ``Board``: a builder that needs board
        data on the worker (which may have no inventory) puts it here.
        """
        return dict(params)

    @abc.abstractmethod
    def build(self, job: BuildJob, workdir: Path, out: Path, stage: Stage) -> BuildOutput:
        """Build ``job``; write artifacts under ``out`` (a fresh folder); use ``workdir`` for scratch.

        Raises:
            BuildFailure: a known failure, with its error code. Any other exception is recorded
                with ``stage.code``.
        """
