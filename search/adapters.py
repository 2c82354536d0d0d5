"""The search's only door to the build farm and the boards (``--fidelity build|board``).

Why an adapter: the ladder must not depend on the internals of ``hil.farm`` (build jobs, ledger,
artifact store) or ``hil.board`` (leases, deployment, the agent). The adapter goes through the
same path as ``hil measure``: ``hil.board.build_for_measure`` (the farm's cached build: ``make_job``
+ ``build_one``, one ledger and artifact store) then ``hil.board.measure_bundle`` (lease, deploy,
run the agent, check the outputs against the C-sim). It turns each rung into a ``Rung``: the
build's report metrics with their provenance (``estimate`` from the cost-model builder,
``hls``/``synth``/``impl`` from Vivado) and the board's throughput/latency (``board``, or
``emulated`` naming its timing's source). A failed build or measurement is a failed rung, never an
exception out of the search.

Builder: ``builder`` when given, else the inventory's ``farm.builder`` (``estimate`` by default).
The artifact store is the ladder's ``farm_root`` (under the search's output folder).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Protocol

from hil.errors import InputError
from hil.inventory import Board, Inventory
from hil.records import Provenance
from search.ladder import Measured, Rung
from search.space import Candidate

__all__ = ["FarmAdapter", "HardwareAdapter", "hardware_adapter", "metrics_from_report", "metrics_from_result"]

_log = logging.getLogger(__name__)
_PROVENANCES = {p.value for p in Provenance}


class HardwareAdapter(Protocol):
    """Builds and measures one candidate; each call returns one rung's outcome (never raises for it)."""

    def check(self, board: Board, fidelity: str) -> None:
        """Raise InputError when ``board`` cannot be climbed at ``fidelity`` (before any training)."""

    def build(
        self,
        model: Path,
        candidate: Candidate,
        board: Board,
        input_shape: tuple[int, int, int],
        n_classes: int,
        *,
        root: Path,
    ) -> Rung:
        """Build the candidate's QONNX ``model`` with its per-layer settings into the store at ``root``."""

    def board(self, build: Rung, candidate: Candidate, board: Board) -> Rung:
        """Measure the bundle of a successful ``build`` on ``board``."""


def metrics_from_result(result: Any) -> dict[str, Measured]:
    """A ``hil.records.MeasureResult``'s metrics as ladder figures (emulated ones keep their source)."""
    out: dict[str, Measured] = {}
    for key, metric in getattr(result, "metrics", {}).items():
        if metric.value is None:
            continue
        provenance = getattr(metric.provenance, "value", str(metric.provenance))
        source = getattr(metric, "source", None)
        out[key] = Measured(float(metric.value), provenance, getattr(source, "value", source))
    return out


def metrics_from_report(report: dict[str, Any]) -> dict[str, Measured]:
    """A farm ``report.json``'s metrics (``{key: {value, provenance}}``) as ladder figures."""
    out: dict[str, Measured] = {}
    for key, metric in (report.get("metrics") or {}).items():
        value, provenance = metric.get("value"), metric.get("provenance")
        if value is None or provenance not in _PROVENANCES:
            continue
        out[key] = Measured(float(value), str(provenance), metric.get("source"))
    return out


class FarmAdapter:
    """``build``: the farm's cached build (``hil.board.build_for_measure``); ``board``: ``measure_bundle``.

    Args:
        builder: ``estimate`` or ``vivado``; None = the inventory's ``farm.builder``.
        inventory: an inventory (or its path); None = the default one (./inventory.yaml or hil's).
        check_inputs: inputs written to each bundle; the board's outputs must match their C-sim.
        measure: ``hil.board.MeasureConfig`` of the board rung (None = its defaults).
    """

    def __init__(
        self,
        *,
        builder: str | None = None,
        inventory: Inventory | str | Path | None = None,
        check_inputs: int = 16,
        measure: Any = None,
    ) -> None:
        from hil.board import BUILDERS
        from hil.inventory import load_inventory

        self.inventory = inventory if isinstance(inventory, Inventory) else load_inventory(inventory)
        self.builder = builder or self.inventory.farm.builder
        if self.builder not in BUILDERS:
            raise InputError(f"--builder must be one of {', '.join(BUILDERS)}, got {self.builder!r}")
        if check_inputs < 1:
            raise InputError(f"the number of check inputs must be >= 1, got {check_inputs}")
        self.check_inputs, self.measure = check_inputs, measure

    def check(self, board: Board, fidelity: str) -> None:
        if fidelity == "board" and not board.emulated and self.builder == "estimate":
            raise InputError(
                f"board {board.name} is a real board ({board.host}) and the estimate builder makes no "
                "bitstream to load; set the inventory's farm.builder to vivado, or use --fidelity build"
            )

    def build(
        self,
        model: Path,
        candidate: Candidate,
        board: Board,
        input_shape: tuple[int, int, int],
        n_classes: int,
        *,
        root: Path,
    ) -> Rung:
        from hil.board import BuildFailure, build_for_measure
        from search.hls import candidate_options

        target = board.model_copy(update={"clock_mhz": candidate.clock_mhz})
        options = candidate_options(candidate, input_shape, n_classes).as_dict()
        stages: dict[str, float] = {}
        try:
            bundle = build_for_measure(
                model,
                target,
                options,
                self.builder,
                inventory=self.inventory,
                artifacts=root,
                n_inputs=self.check_inputs,
                stage_seconds=stages,
            )
        except BuildFailure as failure:
            return Rung("build", ok=False, error_code=failure.code.value, message=str(failure),
                        seconds=stages.get("build", 0.0))  # fmt: skip
        artifact = bundle.parent
        report = json.loads((artifact / "report.json").read_text())
        metrics = metrics_from_report(report)
        lut = f"{metrics['lut'].value:,.0f} LUT, " if "lut" in metrics else ""
        return Rung(
            "build",
            ok=True,
            message=f"{self.builder} build: {lut}provenance {report.get('provenance')}",
            metrics=metrics,
            artifact=str(artifact),
            key=str(report.get("design_key") or artifact.name),
            seconds=stages.get("build", 0.0),
        )

    def board(self, build: Rung, candidate: Candidate, board: Board) -> Rung:
        from hil.board import MeasureConfig, measure_bundle

        if build.artifact is None:
            return Rung("board", ok=False, error_code="DEPLOY", message="the build left no artifact")
        target = board.model_copy(update={"clock_mhz": candidate.clock_mhz})
        bundle = Path(build.artifact) / "board"
        record = {"candidate": candidate.to_dict(), "builder": self.builder, "build_key": build.key}
        stages: dict[str, float] = {}
        try:
            result = measure_bundle(
                target, bundle, self.measure or MeasureConfig(), candidate=record, stage_seconds=stages
            )
        except InputError as exc:  # a real board and a bundle without a bitstream (see ``check``)
            return Rung("board", ok=False, error_code="DEPLOY", message=str(exc), artifact=str(bundle))
        return Rung(
            "board",
            ok=result.ok,
            error_code=result.error_code.value,
            message=result.message,
            metrics=metrics_from_result(result),
            artifact=str(bundle),
            key=result.design_key,
            seconds=sum(result.stage_seconds.values()),
        )


def hardware_adapter(
    fidelity: str,
    *,
    builder: str | None = None,
    inventory: Inventory | str | Path | None = None,
) -> HardwareAdapter | None:
    """The adapter a fidelity needs: None for estimate/csim, else the farm/board adapter.

    Raises:
        InputError: an unknown builder (before any training).
    """
    if fidelity in ("estimate", "csim"):
        return None
    return FarmAdapter(builder=builder, inventory=inventory)
