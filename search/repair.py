"""Implementation repair (``--repair``): a proposal that misses the spec gets the implementation of its
network that misses it least, before the ladder prices it.

Why: the controller proposes the network (architecture and bits) and its implementation (each
layer's reuse factor and hls4ml strategy, the clock) together, and on a tight spec almost every
proposal misses, often only because of the implementation. On CIFAR-10 at 15,000 LUT / 2,500 img/s
the RL controller (commit b21d655, seed 0) converged after ~3,000 proposals on a 16-16-16 network
1,611 LUTs over the budget with the throughput ~2.5x above the spec, and kept proposing it: one
larger reuse factor would have fit it (cost model, point estimates). An FPGA engineer given that
network raises the reuse until the throughput is just met; so does this, by the cost model
(microseconds an estimate), for every strategy alike, so the comparison stays fair.

How: coordinate descent from the proposed setting. For each weight layer in turn, every
(reuse factor, strategy) of the space is priced with the others fixed, then each clock, and the
setting with the smallest miss (``Target.miss``: the summed log ratio over the violated constraints)
is kept, ties kept as proposed. Sweeps repeat until the candidate fits or a sweep changes nothing
(at most ``MAX_SWEEPS``). The bits, the architecture and io_type are never touched: those are the
network, which is what the controller is learning. A proposal that already fits is left alone, so the
controller's implementation choices still matter there. The repaired candidate is what is trained,
priced and recorded (``Evaluation.repaired_from`` keeps the proposal); the controller is told the
repaired design's reward for its proposal, so repair is part of the objective it learns.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from search.evaluation import Evaluation
from search.space import Candidate

__all__ = ["MAX_SWEEPS", "Repair"]

_log = logging.getLogger(__name__)

#: Sweeps over the layers before repair gives up (each sweep tries every layer's settings once).
MAX_SWEEPS = 3


@dataclass(frozen=True)
class Repair:
    """The implementation choices repair may take (the search space's) and the estimate it prices with.

    Attributes:
        estimate: the ladder's cost-model rung (``Ladder.estimate``): feasibility and miss.
        reuse_factors: reuse factors a layer may take.
        strategies: hls4ml strategies a layer may take.
        clocks_mhz: clocks the design may take.
    """

    estimate: Callable[[Candidate], Evaluation]
    reuse_factors: Sequence[int]
    strategies: Sequence[str]
    clocks_mhz: Sequence[float]

    def __call__(self, proposed: Candidate) -> tuple[Candidate, Evaluation]:
        """The candidate to evaluate and its estimate: ``proposed`` itself when it fits (or is a
        float network), else the setting of its network that misses the spec least."""
        best, ev = proposed, self.estimate(proposed)
        if not proposed.quantized or ev.feasible:
            return best, ev
        missed = ev.miss
        for _ in range(MAX_SWEEPS):
            before = ev.miss
            for layer in range(len(best.hw)):
                best, ev = self._best_layer(best, ev, layer)
                if ev.feasible:
                    break
            if not ev.feasible:
                best, ev = self._best_clock(best, ev)
            if ev.feasible or ev.miss >= before:
                break
        if best != proposed:
            _log.info(
                "repair: miss %.3f -> %.3f (%s)", missed, ev.miss, ev.binding or "fits"
            )
        return best, ev

    def _best_layer(self, cand: Candidate, ev: Evaluation, layer: int) -> tuple[Candidate, Evaluation]:
        best, best_ev = cand, ev
        for reuse in self.reuse_factors:
            for strategy in self.strategies:
                hw = replace(cand.hw[layer], reuse_factor=reuse, strategy=strategy)
                if hw == cand.hw[layer]:
                    continue
                other = replace(cand, hw=(*cand.hw[:layer], hw, *cand.hw[layer + 1 :]))
                other_ev = self.estimate(other)
                if other_ev.miss < best_ev.miss:
                    best, best_ev = other, other_ev
        return best, best_ev

    def _best_clock(self, cand: Candidate, ev: Evaluation) -> tuple[Candidate, Evaluation]:
        best, best_ev = cand, ev
        for clock in self.clocks_mhz:
            if clock == cand.clock_mhz:
                continue
            other = replace(cand, clock_mhz=clock)
            other_ev = self.estimate(other)
            if other_ev.miss < best_ev.miss:
                best, best_ev = other, other_ev
        return best, best_ev
