"""Does a controller learn where the feasible designs are? A probe on the cost model alone.

Why on the cost model alone: whether a proposal fits the spec is known in microseconds from the
estimate, so a controller's feasible-proposal rate can be measured over hundreds of proposals with
no training at all. A feasible proposal earns a fixed stand-in accuracy (``feasible_reward``, the
probe's one assumption: every feasible design is equally good), a pruned one earns what the search
gives it (``Evaluation.reward``: minus how far it missed the spec), or 0 with ``shaped=False`` (the
paper's reward, for comparison). Random proposals are drawn uniformly from the same space.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from hil.errors import InputError
from search.controllers._rl import RlController
from search.evaluation import Target
from search.space import SearchSpace, replay

__all__ = ["ProbeResult", "probe_feasibility"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeResult:
    """Which of ``n`` proposals were feasible, in order, and their misses (``Target.miss``)."""

    controller: str
    seed: int
    feasible: tuple[bool, ...]
    miss: tuple[float, ...]

    def rate(self, start: int = 0) -> float:
        """Feasible share of the proposals from ``start`` on (``len // 2``: the second half)."""
        tail = self.feasible[start:]
        return sum(tail) / len(tail) if tail else 0.0

    @property
    def second_half_rate(self) -> float:
        return self.rate(len(self.feasible) // 2)


def _estimator(target: Target, input_shape: tuple[int, int, int], n_classes: int) -> Any:
    """The search's own estimate rung (``Ladder.estimate``) without a dataset or any training."""
    from search.ladder import Ladder
    from search.training import TrainRecipe

    data = SimpleNamespace(input_shape=input_shape, n_classes=n_classes)
    ladder = Ladder(
        data,  # type: ignore[arg-type]  # the estimate reads only the shapes
        target,
        TrainRecipe(epochs=1),
        fidelity="estimate",
        artifacts=Path("unused"),
    )
    return ladder.estimate


def probe_feasibility(
    controller: str,
    space: SearchSpace,
    target: Target,
    input_shape: tuple[int, int, int],
    n_classes: int,
    *,
    n: int = 400,
    seed: int = 0,
    shaped: bool = True,
    feasible_reward: float = 0.5,
) -> ProbeResult:
    """Propose ``n`` candidates with ``controller`` (``rl`` or ``random``), telling the RL controller
    each proposal's reward; returns which were feasible by the estimate."""
    estimate = _estimator(target, input_shape, n_classes)
    feasible: list[bool] = []
    miss: list[float] = []
    if controller == "random":
        rng = random.Random(seed)
        for _ in range(n):
            ev = estimate(space.sample(lambda _name, c: rng.choice(list(c)), input_shape))
            feasible.append(ev.feasible)
            miss.append(ev.miss)
        return ProbeResult(controller, seed, tuple(feasible), tuple(miss))
    if controller != "rl":
        raise InputError(f"probe_feasibility: controller must be rl or random, got {controller!r}")
    rl = RlController(space, input_shape, seed)
    for number in range(n):
        params = rl.propose()
        ev = estimate(space.sample(replay(params), input_shape))
        feasible.append(ev.feasible)
        miss.append(ev.miss)
        reward = feasible_reward if ev.feasible else (ev.reward if shaped else 0.0)
        rl.tell(number, params, reward)
    _log.info("rl seed %d: %d of %d proposals feasible", seed, sum(feasible), n)
    return ProbeResult(controller, seed, tuple(feasible), tuple(miss))
