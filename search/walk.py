"""The separate baseline's second phase: walk the float architectures best-first, fit each that can fit.

Why a walk and not the single best architecture: the most accurate float network is often the
widest, which cannot fit a tight LUT budget at any quantization; a baseline that keeps only it
trains nothing and "finds no valid design" by construction. A fair "network first, hardware
second" flow tries the next architecture when one cannot fit, as an engineer would.

Why the cost model decides "cannot fit": it answers in microseconds. An architecture is kept when
any of a fixed probe of its settings fits by estimate (judged as the search judges): each reuse
factor x strategy at the narrowest widths and the fastest clock (the cheapest corners), plus
``PROBES`` settings drawn at random. The first fitting setting is remembered: when the controller
has proposed ``WALK_PROPOSALS`` settings of an architecture without one that trains, that setting
is proposed instead, so each fitting architecture costs at most ``WALK_PROPOSALS`` + 1 proposals a
round. Every decision is recomputed from the phase's trials, so a resumed walk continues where it
stopped.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from search.evaluation import Evaluation
from search.space import Architecture, Candidate, SearchSpace

__all__ = ["PROBES", "WALK_PROPOSALS", "ArchitectureWalk", "Step", "WalkEntry", "fitting_setting"]

_log = logging.getLogger(__name__)

#: Random settings probed per architecture (besides the cheapest corners).
PROBES = 256
#: Controller proposals an architecture gets per round before its known fitting setting is used.
WALK_PROPOSALS = 40


@dataclass(frozen=True)
class WalkEntry:
    """One architecture of the walk: its phase-1 rank, weights and a setting known to fit."""

    arch: Architecture
    rank: int
    model_path: str | None
    sample_epochs: int
    fitting: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """What the next proposal is: an architecture, its warm start, and params to force (or None)."""

    entry: WalkEntry
    forced: dict[str, Any] | None = None


def _recorder(answer: Callable[[str, Sequence[Any]], Any], params: dict[str, Any]) -> Any:
    def choose(name: str, choices: Sequence[Any]) -> Any:
        params[name] = answer(name, choices)
        return params[name]

    return choose


def _corner(reuse: int, strategy: str) -> Callable[[str, Sequence[Any]], Any]:
    """The narrowest widths, one reuse factor and strategy everywhere, the fastest clock."""

    def answer(name: str, choices: Sequence[Any]) -> Any:
        if name.endswith(("_wbits", "_abits")):
            return min(choices)
        if name.endswith("_reuse"):
            return reuse
        if name.endswith("_strategy"):
            return strategy
        if name == "clock_mhz":
            return max(choices)
        return choices[0]

    return answer


def fitting_setting(
    arch: Architecture,
    space: SearchSpace,
    estimate: Callable[[Candidate], Evaluation],
    seed: int = 0,
) -> dict[str, Any] | None:
    """The params of a setting of ``arch`` that fits by estimate, or None when the probe finds none."""
    rng = random.Random(seed)
    answers = [_corner(r, s) for r in space.reuse_factors for s in space.strategies]
    answers += [lambda _name, choices: rng.choice(list(choices))] * PROBES
    for answer in answers:
        params: dict[str, Any] = {}
        if estimate(space.sample_hardware(_recorder(answer, params), arch)).feasible:
            return params
    return None


class ArchitectureWalk:
    """The architectures that can fit, best first, and which one the next proposal is for."""

    def __init__(self, entries: Sequence[WalkEntry], proposals: int = WALK_PROPOSALS) -> None:
        self.entries = list(entries)
        self.proposals = proposals

    @classmethod
    def build(
        cls,
        ranked: Sequence[tuple[int, Evaluation]],
        space: SearchSpace,
        estimate: Callable[[Candidate], Evaluation],
        seed: int = 0,
    ) -> ArchitectureWalk:
        """From phase 1's trained float designs, best first; those that cannot fit are skipped."""
        entries: list[WalkEntry] = []
        seen: set[Architecture] = set()
        for rank, (number, ev) in enumerate(ranked):
            arch = ev.candidate.arch
            if arch in seen:
                continue
            seen.add(arch)
            fitting = fitting_setting(arch, space, estimate, seed + rank)
            if fitting is None:
                _log.info("separate: the architecture of trial %d fits at no setting probed", number)
                continue
            entries.append(WalkEntry(arch, rank, ev.model_path, ev.sample_epochs, fitting))
        _log.info("separate: %d of %d architectures can fit the spec", len(entries), len(seen))
        return cls(entries)

    def next(self, evaluations: Mapping[int, Evaluation]) -> Step | None:
        """The next proposal's architecture: the one with the fewest trained designs (best first on
        a tie); its known fitting setting once the controller has had ``proposals`` tries in this
        round; None when no architecture is left (each fitting one failed even its known setting)."""
        best: tuple[int, int, Step] | None = None
        for entry in self.entries:
            mine = sorted((n, ev) for n, ev in evaluations.items() if ev.candidate.arch == entry.arch)
            trained = [n for n, ev in mine if ev.trained]
            last = trained[-1] if trained else -1
            since = sum(1 for n, ev in mine if n > last and not ev.trained)
            if since > self.proposals:  # even its fitting setting did not train: give it up
                continue
            step = Step(entry, dict(entry.fitting) if since >= self.proposals else None)
            key = (len(trained), entry.rank)
            if best is None or key < best[:2]:
                best = (*key, step)
        return None if best is None else best[2]
