"""What one trial learned: hardware figures with provenance, rungs, accuracy, training compute.

Why one ranking metric: every trained candidate is ranked on the same number, its torch
validation accuracy on the full validation split (``accuracy``). The C simulation of the best
candidates is a *gate* (the fixed-point design must agree with the trained model) and a check that
is reported beside it, never a replacement measured on a different subset of images; a candidate
that fails the gate is infeasible (reward 0), like a wrong answer on the board.
Why compute is recorded per trial: the joint-vs-separate comparison is only fair at equal budgets,
so every trial carries the sample-epochs it trained, those its weights inherited from a warm start,
and its CPU and wall seconds, and a strategy's compute is their sum.
"""

from __future__ import annotations

import logging
import math
import resource
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from hil.cost import fits
from hil.errors import InputError
from hil.inventory import Board
from hil.records import FIDELITY_RANK, Provenance
from search.space import Candidate

__all__ = [
    "MAX_MISS",
    "VERDICTS",
    "Evaluation",
    "Measured",
    "Rung",
    "Target",
    "best_metric",
    "cpu_seconds",
]

_log = logging.getLogger(__name__)

#: Failure codes that are a verdict on the design itself (it does not fit, close timing or compute
#: the right answer): the candidate becomes infeasible and earns reward 0. Any other failure (a
#: missing tool, an unreachable board) only marks the rung failed; the lower rungs' numbers stand.
VERDICTS = ("RESOURCE_OVERFLOW", "TIMING", "WRONG_ANSWER")


#: The largest miss a pruned proposal is charged (``Target.miss``): e^10, 22,000x over a limit. Why a
#: cap: a proposal 10^6 x over the budget says no more about the direction than one 10^4 x over, and
#: an uncapped outlier would swamp the controller's moving-average baseline.
MAX_MISS = 10.0


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children (g++ compiling a C simulation, C-sim
    workers): what a search costs the machine, all threads and processes together."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _rank(provenance: str) -> float:
    try:
        return float(FIDELITY_RANK[Provenance(provenance)])
    except (KeyError, ValueError):
        return -1.0


@dataclass(frozen=True)
class Measured:
    """One number and where it came from; ``source`` names what an emulated figure was derived from."""

    value: float
    provenance: str
    source: str | None = None
    #: an estimate's 80 % band upper edge (None for measured figures): what feasibility judges
    upper: float | None = None

    def rank(self) -> float:
        """Fidelity rank; an emulated figure sits half a step below its source.

        A provenance this search does not rank (one added to ``hil.records`` later) ranks below
        ``estimate``: an unknown label never outranks a known one.
        """
        if self.provenance == Provenance.EMULATED.value:
            return _rank(self.source or Provenance.ESTIMATE.value) - 0.5
        return _rank(self.provenance)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"value": self.value, "provenance": self.provenance, "source": self.source}
        if self.upper is not None:
            out["upper"] = self.upper
        return out


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
        return not self.ok and self.error_code in VERDICTS

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
    #: how a cost-model estimate is judged: ``upper`` (its 80 % band's upper edge) or ``point``;
    #: measured figures are always judged as measured.
    estimate_edge: str = "upper"

    def __post_init__(self) -> None:
        if self.estimate_edge not in ("upper", "point"):
            raise InputError(f"--estimate-edge must be upper or point, got {self.estimate_edge!r}")
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

    def miss(self, values: Mapping[str, float]) -> float:
        """How far ``values`` miss the spec: the sum, over the violated constraints, of
        log(value / limit) (for throughput, log(fps_min / throughput)); 0 when every one is met.

        Why a log ratio: 2x over the LUT budget and 2x short of the throughput are the same distance
        from feasible whatever the budget's size, and the sum grows with each constraint missed, so a
        controller told ``-miss`` for a pruned proposal learns which way feasible lies. Capped at
        ``MAX_MISS``.
        """
        avail = self.board.resources.as_dict()
        pairs = [(values.get("lut", 0.0), min(self.lut_budget, avail["lut"]))]
        pairs += [(values.get(k, 0.0), avail.get(k, 0.0)) for k in ("ff", "dsp", "bram_18k", "uram")]
        if self.fps_min > 0:
            pairs.append((self.fps_min, values.get("throughput_fps", 0.0)))
        total = 0.0
        for value, limit in pairs:
            if value > limit:
                total += math.log(value / limit) if limit > 0 else MAX_MISS
        return float(min(total, MAX_MISS))

    def check(self, values: Mapping[str, float]) -> tuple[bool, str]:
        """(feasible, binding): every resource must fit (``hil.cost.fits``), the budget and the fps too."""
        report = fits(self.board, {k: values.get(k, 0.0) for k in ("lut", "ff", "dsp", "bram_18k", "uram")})
        violated = [name for name, v in zip(self.CONSTRAINTS, self.constraints(values), strict=True) if v > 0]
        binding = violated[0] if violated else report.binding
        return report.ok and not violated, binding


@dataclass
class Evaluation:
    """Everything one trial learned; stored in the trial's user attributes.

    Attributes:
        accuracy: torch validation accuracy on the full validation split: the ranking metric.
        accuracy_provenance: always ``torch`` (kept in records so a reader need not assume it).
        csim: the C-sim check on the validation split (``hil.convert.CSimResult`` fields, compared
            with the trained torch model), when the candidate climbed to it.
        csim_gate: ``passed``/``failed`` once checked: failed when the fixed-point design disagrees
            with the torch model on more than ``1 - min_agreement`` of the images, or cannot be built.
        sample_epochs: training images x epochs this trial trained (its share of the budget).
        inherited_sample_epochs: what the weights it started from cost (a warm start), already
            counted where it was spent (the separate baseline's architecture phase).
        cpu_seconds: CPU time of the trial (training, C-sim, estimate), all threads.
        miss: how far its judged figures miss the spec (``Target.miss``; 0 when they fit).
        reused_from: the trial whose trained network this design shares (same architecture,
            quantization, warm start and recipe; it differs only in reuse factors, strategies or
            clock, which do not change training), or None when it trained its own. Such a design
            is ranked and gated like any other but spent no sample-epochs and is not a trained
            candidate of the budget (``trains``).
        duplicate_of: the earlier trial of the phase with exactly this candidate, when it has weights
            (this one then shares them): the design is ranked once, as that trial, and this proposal
            earns reward 0. Why: it brings nothing new, and without that the RL controller, once it
            finds a first feasible design on a tight spec, re-proposes it (hw-nas on CIFAR-10 at
            30,000 LUT: the same design for all 12 trainings, before designs could share weights).
        halted_at_epoch: the epoch after which a pruner (``--pruner``) stopped its training, None
            when it trained the full recipe; a halted candidate is never ranked (``search.pruning``).
        halted_by: what stopped it: ``pruner``, or ``budget`` (the phase's sample-epochs ran out).
        repaired_from: the controller's proposal (``Candidate.to_dict``) when ``--repair`` changed its
            implementation before pricing it (``search.repair``); None when evaluated as proposed.
        build_capped_by: when the build cap held this design back (``--builds-per-network``, stage
            ``build cap``, ``search.buildcap``), the trials that built its network's variants; its
            figures stay those of the rungs below (estimates), and it was never built.
    """

    candidate: Candidate
    phase: str = "joint"
    stage: str = "estimated"
    hardware: dict[str, Measured] = field(default_factory=dict)
    feasible: bool = False
    binding: str = ""
    constraints: list[float] = field(default_factory=list)
    accuracy: float | None = None
    accuracy_provenance: str | None = None
    epochs: int = 0
    model_path: str | None = None
    csim: dict[str, Any] | None = None
    csim_gate: str | None = None
    rungs: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    sample_epochs: int = 0
    inherited_sample_epochs: int = 0
    cpu_seconds: float = 0.0
    miss: float = 0.0
    reused_from: int | None = None
    duplicate_of: int | None = None
    halted_at_epoch: int | None = None
    halted_by: str | None = None
    build_capped_by: list[int] | None = None
    repaired_from: dict[str, Any] | None = None

    #: Fields stored as trial attributes, besides ``candidate`` and ``hardware``.
    STORED: ClassVar[tuple[str, ...]] = (
        "phase",
        "stage",
        "feasible",
        "binding",
        "constraints",
        "accuracy",
        "accuracy_provenance",
        "epochs",
        "model_path",
        "csim",
        "csim_gate",
        "rungs",
        "error",
        "seconds",
        "sample_epochs",
        "inherited_sample_epochs",
        "cpu_seconds",
        "miss",
        "reused_from",
        "duplicate_of",
        "halted_at_epoch",
        "halted_by",
        "build_capped_by",
        "repaired_from",
    )

    @property
    def trained(self) -> bool:
        """True when the design has trained weights and a validation accuracy (its own, shared, or
        a halted training's)."""
        return self.epochs > 0

    @property
    def trains(self) -> bool:
        """True when this trial trained a network itself (halted or not): it spent sample-epochs."""
        return self.trained and self.reused_from is None

    @property
    def halted(self) -> bool:
        """True when a pruner or the budget stopped it before the recipe's last epoch."""
        return self.halted_at_epoch is not None

    @property
    def complete(self) -> bool:
        """True when it has the full recipe's weights (trained or shared): the only designs ranked,
        gated and retrained."""
        return self.trained and not self.halted

    @property
    def reward(self) -> float:
        """Validation accuracy when feasible; ``-miss`` for a proposal pruned by the estimate; else 0.

        The paper's reward is the accuracy or 0. Why a pruned proposal earns ``-miss`` (minus the
        summed log ratio by which it misses the spec, ``Target.miss``) instead of 0: on a tight spec
        almost every proposal is pruned (35 of 3,000 random CIFAR-10 proposals fit 30,000 LUTs), so
        a reward of 0 gives REINFORCE no advantage and no direction; -log(estimate / limit) says how
        far, and which way, the proposal missed. It is below every trained design's reward (>= 0),
        so it can never make an over-budget proposal look better than a valid one. A trained design
        that fails later (the C-sim gate, a measured overflow) still earns 0.

        A float architecture (the separate baseline's phase 1) has no hardware: its reward is its
        accuracy alone, which is what that phase optimises.

        A candidate a pruner halted (``halted_at_epoch``) earns its partial validation accuracy on
        the same terms: a lower bound of what it would have reached, and below the candidates that
        went on from its rung, so the controller learns it was worse without being told it failed.
        """
        if self.accuracy is None:
            return -self.miss if self.stage == "pruned" else 0.0
        if self.duplicate_of is not None:  # nothing new learned (see ``duplicate_of``)
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
        judged = self.judged(target.estimate_edge)
        self.constraints = target.constraints(judged)
        self.feasible, self.binding = target.check(judged)
        self.miss = target.miss(judged)

    def judged(self, edge: str = "upper") -> dict[str, float]:
        """What feasibility compares with the spec: estimates at their band's upper edge (``edge``
        ``upper``) and measured figures as measured."""
        out = {}
        for key, m in self.hardware.items():
            use_upper = edge == "upper" and m.upper is not None and m.provenance == Provenance.ESTIMATE.value
            out[key] = float(m.upper) if use_upper and m.upper is not None else m.value
        return out

    def to_attrs(self) -> dict[str, Any]:
        """JSON-ready user attributes of an Optuna trial."""
        return {
            "candidate": self.candidate.to_dict(),
            "hardware": {k: m.to_dict() for k, m in self.hardware.items()},
            **{name: getattr(self, name) for name in self.STORED},
            "reward": self.reward,
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> Evaluation:
        """Inverse of ``to_attrs`` (for trials read back from the study)."""
        ev = cls(Candidate.from_dict(attrs["candidate"]))
        for name in cls.STORED:
            if name in attrs:
                setattr(ev, name, attrs[name])
        ev.hardware = {k: Measured(**v) for k, v in attrs.get("hardware", {}).items()}
        return ev
