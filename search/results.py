"""What a search returns: its phases' trials, what each spent (the budget unit) and progress snapshots.

Why apart from the loop: the report, the final retrain and the benchmarks read these without
running anything; a phase's results are re-read from its study, so they are the same after a resume.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from hil.records import Provenance
from search.config import SearchConfig
from search.evaluation import Evaluation, Target
from search.strategies import PhasePlan

__all__ = ["Compute", "PhaseResult", "Progress", "ProgressHook", "SearchOutcome", "first_of_each"]

_log = logging.getLogger(__name__)


def _estimated_lut(ev: Evaluation) -> bool:
    """True when the design's LUT figure is the cost model's (it was never built)."""
    lut = ev.hardware.get("lut")
    return lut is None or lut.provenance == Provenance.ESTIMATE.value


@dataclass(frozen=True)
class Progress:
    """A snapshot for a live display."""

    phase: str
    trial: int
    trained: int
    trials: int
    proposed: int
    feasible: int
    best_accuracy: float | None
    stage: str


@dataclass(frozen=True)
class Compute:
    """What a search (or one phase) spent: the budget unit and the clock.

    Attributes:
        trained: candidates trained (halted ones included: they spent sample-epochs).
        sample_epochs: training images x epochs over every training run (the budget unit), counted
            as trained: a halted candidate's are the epochs it ran.
        cpu_seconds: CPU time of the search processes (all threads, all resumes).
        wall_seconds: wall time (all resumes).
        halted: of ``trained``, those a pruner (or the budget's end) stopped early (``--pruner``).
    """

    trained: int = 0
    sample_epochs: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    halted: int = 0

    def __add__(self, other: Compute) -> Compute:
        return Compute(
            self.trained + other.trained,
            self.sample_epochs + other.sample_epochs,
            self.cpu_seconds + other.cpu_seconds,
            self.wall_seconds + other.wall_seconds,
            self.halted + other.halted,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "trained": self.trained,
            "halted": self.halted,
            "sample_epochs": self.sample_epochs,
            "cpu_seconds": round(self.cpu_seconds, 1),
            "wall_seconds": round(self.wall_seconds, 1),
        }


def first_of_each(
    ranked: list[tuple[int, Evaluation]], key: Callable[[Evaluation], Hashable]
) -> list[tuple[int, Evaluation]]:
    """The first of ``ranked`` for each ``key`` value, in order (the best-ranked one of each)."""
    seen: set[Hashable] = set()
    out = []
    for number, ev in ranked:
        k = key(ev)
        if k not in seen:
            seen.add(k)
            out.append((number, ev))
    return out


@dataclass
class PhaseResult:
    """The trials of one phase, read back from its study."""

    plan: PhasePlan
    study_name: str
    evaluations: dict[int, Evaluation] = field(default_factory=dict)
    elapsed: dict[str, float] = field(default_factory=dict)

    @property
    def trained(self) -> list[tuple[int, Evaluation]]:
        return [(n, e) for n, e in sorted(self.evaluations.items()) if e.trained]

    def ranked(self) -> list[tuple[int, Evaluation]]:
        """Trained designs that may be chosen, best first: by validation accuracy (the one ranking
        metric), fewer LUTs breaking ties; a hardware phase keeps only feasible ones (a candidate
        that failed the C-sim gate is infeasible). A halted candidate (``--pruner``) is never among
        them: its accuracy is that of a shorter training than the others'. At equal accuracy a design
        whose LUTs were measured (built) ranks before one with estimates only (a variant of a built
        network shares its accuracy, and one that never climbed would otherwise outrank the built one
        on an estimate), and a design the build cap held back (``search.buildcap``) after every
        equally accurate one it did not."""
        pool = [
            (n, e)
            for n, e in self.trained
            if e.complete and e.accuracy is not None and (e.feasible or not self.plan.hardware)
        ]
        ordered = sorted(
            pool,
            key=lambda ne: (
                -(ne[1].accuracy or 0.0),
                self.plan.hardware and _estimated_lut(ne[1]),
                ne[1].build_capped_by is not None,
                ne[1].value("lut") if self.plan.hardware else 0.0,
                ne[0],
            ),
        )
        return first_of_each(ordered, lambda e: e.candidate)  # a design proposed twice is one design

    def walk_order(self) -> list[tuple[int, Evaluation]]:
        """The architectures a later phase walks (``separate``), best first: the ranked ones, then
        those a pruner halted, furthest trained first, then by accuracy.

        Why the halted ones too: a halted float network is still a trained network an engineer could
        compress, and phase 2 trains and ranks its own candidates; its rung said it was less
        promising, so it comes after every fully trained one. Without them a phase 1 that halted
        most of its candidates would leave the walk too few architectures to be a fair baseline.
        """
        halted = [
            (n, e)
            for n, e in self.trained
            if e.halted and e.accuracy is not None and (e.feasible or not self.plan.hardware)
        ]
        halted.sort(key=lambda ne: (-ne[1].epochs, -(ne[1].accuracy or 0.0), ne[0]))
        return self.ranked() + halted

    def best(self) -> tuple[int, Evaluation] | None:
        """Most accurate design (feasible, for a hardware phase); fewer LUTs break ties."""
        ranked = self.ranked()
        return ranked[0] if ranked else None

    @property
    def trainings(self) -> list[tuple[int, Evaluation]]:
        """Trials that trained a network themselves (not sharing another's): the budget's count."""
        return [(n, e) for n, e in self.trained if e.trains]

    def compute(self) -> Compute:
        return Compute(
            trained=len(self.trainings),
            sample_epochs=sum(e.sample_epochs for _, e in self.trainings),
            cpu_seconds=self.elapsed.get("cpu_seconds", 0.0),
            wall_seconds=self.elapsed.get("wall_seconds", 0.0),
            halted=sum(e.halted for _, e in self.trainings),
        )


@dataclass
class SearchOutcome:
    """What ``run_search`` returns: the resolved config and every phase's results."""

    config: SearchConfig
    target: Target
    phases: list[PhaseResult]
    train_samples: int = 0

    @property
    def final(self) -> PhaseResult:
        return self.phases[-1]

    def budget(self) -> dict[str, int]:
        """The budget every strategy is given: trained candidates and sample-epochs.

        Without a pruner both bind (every candidate trains the same recipe); with ``--pruner`` the
        sample-epochs bind and a search trains as many candidates as they pay for.
        """
        trials = int(self.config.trials or 0)
        return {
            "trained_candidates": trials,
            "sample_epochs": trials * int(self.config.epochs or 0) * self.train_samples,
        }

    def compute(self) -> Compute:
        """The whole search's compute (every phase, every resume)."""
        total = Compute()
        for p in self.phases:
            total = total + p.compute()
        return total

    @property
    def wall_seconds(self) -> float:
        """Wall time of the search over all its runs (resumes included)."""
        return self.compute().wall_seconds


ProgressHook = Callable[[Progress], None]
