"""The evaluation ladder: estimate -> prune -> QAT train -> best K to C-sim -> (build, board).

Why a ladder: each rung costs ~100x the one below (microseconds, seconds, a minute, hours), so a
candidate climbs only while it is still promising. A candidate the cost model says cannot fit the
budget or meet the throughput is never trained and earns reward 0, as in the paper's controller.
Why metrics carry provenance: a measured number (HLS report, synthesis, board) replaces the
estimate in the feasibility test and the reward, and an emulated figure ranks just below the
source its timing came from, so it can never outrank it.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from hil.cost import estimate, fits
from hil.errors import HilError, InputError
from hil.inventory import Board
from hil.records import FIDELITY_RANK, Provenance
from search.datasets import Dataset
from search.space import Candidate

__all__ = [
    "FIDELITIES",
    "HARDWARE_RUNGS",
    "Evaluation",
    "Ladder",
    "Measured",
    "Rung",
    "Target",
    "TrainSettings",
    "best_metric",
    "should_climb",
]

_log = logging.getLogger(__name__)

#: Rungs a search may climb to, lowest first.
FIDELITIES: tuple[str, ...] = ("estimate", "csim", "build", "board")
#: The rungs a hardware adapter climbs, in order (``--fidelity board`` climbs both).
HARDWARE_RUNGS: tuple[str, ...] = ("build", "board")
#: Failure codes that are a verdict on the design itself (it does not fit, close timing or compute
#: the right answer): the candidate becomes infeasible and earns reward 0. Any other failure (a
#: missing tool, an unreachable board) only marks the rung failed; the lower rungs' numbers stand.
_VERDICTS = ("RESOURCE_OVERFLOW", "TIMING", "WRONG_ANSWER")
#: Hardware metrics that enter feasibility.
_HW_KEYS = (
    "lut",
    "ff",
    "dsp",
    "bram_18k",
    "uram",
    "ii_cycles",
    "latency_cycles",
    "clock_mhz",
    "throughput_fps",
)


@dataclass(frozen=True)
class Measured:
    """One number and where it came from; ``source`` names what an emulated figure was derived from."""

    value: float
    provenance: str
    source: str | None = None

    def rank(self) -> float:
        """Fidelity rank; an emulated figure sits half a step below its source."""
        if self.provenance == Provenance.EMULATED.value:
            return FIDELITY_RANK[Provenance(self.source or "estimate")] - 0.5
        return float(FIDELITY_RANK[Provenance(self.provenance)])

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "provenance": self.provenance, "source": self.source}


@dataclass
class Rung:
    """One hardware rung's outcome for one candidate (``build`` or ``board``); a failure is a result.

    ``metrics`` are folded into the candidate's hardware figures only when ``ok``; ``artifact`` is
    the farm's artifact folder (build) or the bundle measured (board), ``key`` the build key.
    """

    name: str
    ok: bool
    error_code: str = "OK"
    message: str = ""
    metrics: dict[str, Measured] = field(default_factory=dict)
    artifact: str | None = None
    key: str | None = None
    seconds: float = 0.0

    @property
    def verdict(self) -> bool:
        """True when the failure condemns the design (reward 0), not the infrastructure."""
        return not self.ok and self.error_code in _VERDICTS

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ok": self.ok,
            "error_code": self.error_code,
            "message": self.message,
            "metrics": {k: m.to_dict() for k, m in self.metrics.items()},
            "artifact": self.artifact,
            "key": self.key,
            "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Rung:
        return cls(
            **{k: v for k, v in d.items() if k != "metrics"},
            metrics={k: Measured(**v) for k, v in (d.get("metrics") or {}).items()},
        )


def best_metric(current: Measured | None, new: Measured) -> Measured:
    """The higher-fidelity of two figures of one metric (the newer one on a tie)."""
    return new if current is None or new.rank() >= current.rank() else current


@dataclass(frozen=True)
class Target:
    """The spec: a board, a LUT budget for the network IP, a minimum throughput."""

    board: Board
    lut_budget: float
    fps_min: float = 0.0

    def __post_init__(self) -> None:
        if self.lut_budget <= 0:
            raise InputError(f"--luts must be > 0, got {self.lut_budget:g}")
        if self.fps_min < 0:
            raise InputError(f"--fps must be >= 0, got {self.fps_min:g}")

    #: Names of the constraint values, in order.
    CONSTRAINTS: ClassVar[tuple[str, ...]] = ("lut", "throughput_fps", "ff", "dsp", "bram_18k", "uram")

    def constraints(self, values: Mapping[str, float]) -> list[float]:
        """Resource - budget per constraint (<= 0 means satisfied), Optuna's ``constraints_func`` form.

        The throughput entry is ``fps_min - throughput`` (a shortfall); the board's other resources
        are limited by the part itself.
        """
        avail = self.board.resources.as_dict()
        out = [
            values.get("lut", 0.0) - min(self.lut_budget, avail["lut"]),
            self.fps_min - values.get("throughput_fps", 0.0),
        ]
        out += [values.get(k, 0.0) - avail.get(k, 0.0) for k in ("ff", "dsp", "bram_18k", "uram")]
        return [float(v) for v in out]

    def check(self, values: Mapping[str, float]) -> tuple[bool, str]:
        """(feasible, binding): every resource must fit (``hil.cost.fits``), the budget and the fps too."""
        report = fits(self.board, {k: values.get(k, 0.0) for k in ("lut", "ff", "dsp", "bram_18k", "uram")})
        violated = [name for name, v in zip(self.CONSTRAINTS, self.constraints(values), strict=True) if v > 0]
        binding = violated[0] if violated else report.binding
        return report.ok and not violated, binding


@dataclass(frozen=True)
class TrainSettings:
    """Training of one candidate: the fixed epoch budget and the proxy data."""

    epochs: int = 3
    batch_size: int = 16
    lr: float = 1e-2
    seed: int = 0


@dataclass
class Evaluation:
    """Everything one trial learned; stored in the trial's user attributes."""

    candidate: Candidate
    phase: str = "joint"
    stage: str = "estimated"
    hardware: dict[str, Measured] = field(default_factory=dict)
    feasible: bool = False
    binding: str = ""
    constraints: list[float] = field(default_factory=list)
    accuracy: float | None = None
    accuracy_provenance: str | None = None
    torch_val_accuracy: float | None = None
    epochs: int = 0
    model_path: str | None = None
    csim: dict[str, Any] | None = None
    rungs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def trained(self) -> bool:
        return self.epochs > 0

    @property
    def reward(self) -> float:
        """Validation accuracy when feasible, else 0 (the paper's reward, unshaped).

        A float architecture (the separate baseline's phase 1) has no hardware: its reward is its
        accuracy alone, which is what that phase optimises.
        """
        if self.accuracy is None:
            return 0.0
        if not self.candidate.quantized:
            return self.accuracy
        return self.accuracy if self.feasible else 0.0

    def value(self, key: str) -> float:
        """Best-fidelity value of a hardware metric (nan when unknown)."""
        m = self.hardware.get(key)
        return m.value if m is not None else math.nan

    def values(self) -> dict[str, float]:
        return {k: m.value for k, m in self.hardware.items()}

    def provenance(self) -> dict[str, str]:
        return {k: m.provenance for k, m in self.hardware.items()}

    def merge(self, metrics: Mapping[str, Measured], target: Target) -> None:
        """Fold in new hardware figures (higher fidelity wins) and redo the feasibility test."""
        for key, m in metrics.items():
            self.hardware[key] = best_metric(self.hardware.get(key), m)
        self.constraints = target.constraints(self.values())
        self.feasible, self.binding = target.check(self.values())

    def to_attrs(self) -> dict[str, Any]:
        """JSON-ready user attributes of an Optuna trial."""
        return {
            "candidate": self.candidate.to_dict(),
            "phase": self.phase,
            "stage": self.stage,
            "hardware": {k: m.to_dict() for k, m in self.hardware.items()},
            "feasible": self.feasible,
            "binding": self.binding,
            "constraints": self.constraints,
            "accuracy": self.accuracy,
            "accuracy_provenance": self.accuracy_provenance,
            "torch_val_accuracy": self.torch_val_accuracy,
            "epochs": self.epochs,
            "model_path": self.model_path,
            "csim": self.csim,
            "rungs": self.rungs,
            "error": self.error,
            "seconds": self.seconds,
            "reward": self.reward,
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> Evaluation:
        """Inverse of ``to_attrs`` (for trials read back from the study)."""
        ev = cls(Candidate.from_dict(attrs["candidate"]))
        for name in (
            "phase",
            "stage",
            "feasible",
            "binding",
            "constraints",
            "accuracy",
            "accuracy_provenance",
            "torch_val_accuracy",
            "epochs",
            "model_path",
            "csim",
            "rungs",
            "error",
            "seconds",
        ):
            if name in attrs:
                setattr(ev, name, attrs[name])
        ev.hardware = {k: Measured(**v) for k, v in attrs.get("hardware", {}).items()}
        return ev


def should_climb(accuracy: float, others: Sequence[float], top_k: int) -> bool:
    """True when ``accuracy`` is among the best ``top_k`` feasible accuracies seen so far."""
    return top_k > 0 and sum(1 for a in others if a > accuracy) < top_k


#: A stage callback: ``on_stage(name)`` before each rung starts.
StageHook = Callable[[str], None]


class Ladder:
    """Evaluates candidates rung by rung for one dataset and spec."""

    def __init__(
        self,
        data: Dataset,
        target: Target,
        settings: TrainSettings,
        *,
        fidelity: str = "csim",
        top_k: int = 3,
        csim_n: int = 1000,
        artifacts: Path,
        hardware: Any = None,
        farm_root: Path | None = None,
    ) -> None:
        """``artifacts``: the trials' folder; ``hardware``: the adapter of the build/board rungs
        (``search.adapters``); ``farm_root``: the build farm's artifact store those rungs use
        (default ``<artifacts>/farm``, so a search's builds stay under its own output folder).
        """
        if fidelity not in FIDELITIES:
            raise InputError(f"--fidelity must be one of {', '.join(FIDELITIES)}, got {fidelity!r}")
        self.data, self.target, self.settings = data, target, settings
        self.fidelity, self.top_k, self.csim_n = fidelity, top_k, csim_n
        self.artifacts, self.hardware = artifacts, hardware
        self.farm_root = Path(farm_root) if farm_root is not None else Path(artifacts) / "farm"
        if hardware is not None and fidelity in HARDWARE_RUNGS:
            hardware.check(target.board, fidelity)  # e.g. a real board with no bitstream: exit 2 now

    def estimate(self, candidate: Candidate, phase: str = "joint") -> Evaluation:
        """The cost-model rung alone (microseconds): metrics with provenance ``estimate``, feasibility."""
        ev = Evaluation(candidate, phase=phase)
        if not candidate.quantized:
            return ev
        started = time.perf_counter()
        specs = candidate.layer_specs(self.data.input_shape, self.data.n_classes)
        totals = estimate(specs, clock_mhz=candidate.clock_mhz).totals
        ev.merge(
            {k: Measured(float(totals[k]), Provenance.ESTIMATE.value) for k in _HW_KEYS if k in totals},
            self.target,
        )
        ev.stage = "estimated" if ev.feasible else "pruned"
        ev.seconds["estimate"] = time.perf_counter() - started
        return ev

    def evaluate(
        self,
        candidate: Candidate,
        trial_number: int,
        *,
        phase: str = "joint",
        feasible_accuracies: Sequence[float] = (),
        init_state: str | None = None,
        on_stage: StageHook | None = None,
    ) -> Evaluation:
        """Climb as far as the candidate deserves; never raises for a bad candidate (failures are results)."""
        hook = on_stage or (lambda _name: None)
        hook("estimate")
        ev = self.estimate(candidate, phase)
        if candidate.quantized and not ev.feasible:
            _log.info("trial %d pruned by the estimate (%s over budget)", trial_number, ev.binding)
            return ev
        hook("train")
        folder = self.artifacts / f"trial_{trial_number:05d}"
        model = self._train(ev, folder, init_state)
        if not candidate.quantized or self.fidelity == "estimate":
            return ev
        if not should_climb(ev.accuracy or 0.0, feasible_accuracies, self.top_k):
            return ev
        hook("csim")
        self._csim(ev, model, folder)
        if self.fidelity in HARDWARE_RUNGS and self.hardware is not None and ev.csim is not None:
            self._hardware(ev, folder, trial_number, hook)
        return ev

    def _hardware(self, ev: Evaluation, folder: Path, trial_number: int, hook: StageHook) -> None:
        """Climb the build (and board) rung while the candidate stays feasible; failures are results."""
        previous: Rung | None = None
        for name in HARDWARE_RUNGS[: HARDWARE_RUNGS.index(self.fidelity) + 1]:
            if not ev.feasible or (previous is not None and not previous.ok):
                break
            hook(name)
            started = time.perf_counter()
            try:
                if name == "build":
                    rung = self.hardware.build(
                        folder / "model.onnx",
                        ev.candidate,
                        self.target.board,
                        self.data.input_shape,
                        self.data.n_classes,
                        root=self.farm_root,
                    )
                else:
                    assert previous is not None
                    rung = self.hardware.board(previous, ev.candidate, self.target.board)
            except HilError as exc:  # an adapter's own failure is this rung's failure, not the search's
                rung = Rung(name, ok=False, error_code=getattr(exc, "code", "ERROR"), message=str(exc))
                rung.error_code = getattr(rung.error_code, "value", str(rung.error_code))
            ev.seconds[name] = time.perf_counter() - started
            rung.seconds = rung.seconds or ev.seconds[name]
            ev.rungs[name] = rung.to_dict()
            if rung.ok:
                ev.merge(rung.metrics, self.target)
                ev.stage = name
            else:
                ev.error = f"{name} failed ({rung.error_code}): {rung.message}"
                ev.stage = f"{name} failed"
                _log.warning("trial %d: %s", trial_number, ev.error)
                if rung.verdict:  # the design itself is wrong or does not fit: reward 0
                    ev.feasible, ev.binding = False, rung.error_code.lower()
            previous = rung

    def _train(self, ev: Evaluation, folder: Path, init_state: str | None) -> Any:
        import torch

        from search.qat import QatCnnSpec, build_float_cnn, build_qat_cnn, evaluate, train_classifier

        started = time.perf_counter()
        cand, data, s = ev.candidate, self.data, self.settings
        spec = QatCnnSpec(input_shape=data.input_shape, n_classes=data.n_classes, **cand.qat_kwargs())
        torch.manual_seed(s.seed)  # same initial weights for the same architecture: a fair comparison
        model = build_qat_cnn(spec) if cand.quantized else build_float_cnn(spec)
        if init_state is not None:
            state = torch.load(init_state, map_location="cpu", weights_only=True)
            missing = model.load_state_dict(state, strict=False)
            _log.info(
                "warm start from %s (%d quantizer tensors not in it)", init_state, len(missing.missing_keys)
            )
        train_classifier(
            model, data.x_train, data.y_train, epochs=s.epochs, batch_size=s.batch_size, lr=s.lr, seed=s.seed
        )
        ev.torch_val_accuracy = evaluate(model, data.x_val, data.y_val)
        ev.accuracy, ev.accuracy_provenance = ev.torch_val_accuracy, "torch"
        ev.epochs, ev.stage = s.epochs, "trained"
        folder.mkdir(parents=True, exist_ok=True)
        ev.model_path = str(folder / "model.pt")
        torch.save(model.state_dict(), ev.model_path)
        ev.seconds["train"] = time.perf_counter() - started
        return model

    def _csim(self, ev: Evaluation, model: Any, folder: Path) -> None:
        from search.hls import convert_candidate, csim_candidate
        from search.qat import export_qonnx

        started = time.perf_counter()
        n = min(self.csim_n, len(self.data.x_val))
        try:
            path = export_qonnx(model, self.data.input_shape, folder / "model.onnx")
            design = convert_candidate(
                path,
                ev.candidate,
                self.target.board,
                folder / "hls4ml_prj",
                self.data.input_shape,
                self.data.n_classes,
            )
            result = csim_candidate(design, self.data.x_val[:n], self.data.y_val[:n])
        except HilError as exc:  # a design hls4ml cannot build or simulate is a result, not a crash
            ev.error = f"csim: {exc}"
            _log.warning("trial C-sim failed: %s", exc)
            return
        finally:
            ev.seconds["csim"] = time.perf_counter() - started
        ev.csim = result.as_dict()
        ev.accuracy, ev.accuracy_provenance, ev.stage = result.hls_accuracy, "csim", "csim"
