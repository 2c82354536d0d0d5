"""The search's only door to the build farm and the boards (``--fidelity build|board``).

Why an adapter: ``hil.farm`` (build jobs) and ``hil.board`` (measurement) are being written beside
the search, and the ladder must not depend on their internals. A hardware adapter turns a trained
candidate's folder (QONNX, hls4ml config) into measured metrics with provenance (``hls``/``synth``/
``impl`` from a build, ``board`` or ``emulated`` from a board); the ladder folds them in, so a
measured LUT count or throughput replaces the estimate in feasibility and reward.

Until those APIs are published (a ``build`` call in ``hil.farm``'s ``__all__`` returning a
MeasureResult), asking for these rungs fails up front with exit code 2, before any training.
"""

from __future__ import annotations

import importlib
import logging
from pathlib import Path
from typing import Any, Protocol

from hil.errors import InputError
from hil.inventory import Board
from search.ladder import Measured
from search.space import Candidate

__all__ = ["HardwareAdapter", "hardware_adapter", "metrics_from_result"]

_log = logging.getLogger(__name__)


class HardwareAdapter(Protocol):
    """Builds and/or measures one candidate; returns metrics with provenance."""

    def measure(self, folder: Path, candidate: Candidate, board: Board, fidelity: str) -> dict[str, Measured]:
        """Metrics of the design in ``folder`` (model.onnx, hls4ml_prj) at ``fidelity``."""


def metrics_from_result(result: Any) -> dict[str, Measured]:
    """A ``hil.records.MeasureResult``'s metrics as ladder figures (emulated ones keep their source)."""
    out: dict[str, Measured] = {}
    for key, metric in getattr(result, "metrics", {}).items():
        provenance = getattr(metric.provenance, "value", str(metric.provenance))
        source = getattr(metric, "source", None)
        out[key] = Measured(float(metric.value), provenance, getattr(source, "value", source))
    return out


def _api(module: str, name: str) -> Any | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return getattr(mod, name, None) if name in getattr(mod, "__all__", ()) else None


def hardware_adapter(fidelity: str) -> HardwareAdapter | None:
    """The adapter a fidelity needs: None for estimate/csim; raises InputError when unavailable."""
    if fidelity in ("estimate", "csim"):
        return None
    if _api("hil.farm", "build") is None:
        raise InputError(
            f"--fidelity {fidelity} is not available yet: the build farm (hil.farm) publishes no "
            "build API in this checkout; use --fidelity estimate or csim"
        )
    raise InputError(
        f"--fidelity {fidelity} is not available yet: the search's farm/board adapter is not "
        "wired to hil.farm/hil.board; use --fidelity estimate or csim"
    )
