"""Can the space reach the spec at all? A warning before a hardware phase spends its proposals.

Why: on CIFAR-10 at 15,000 LUT / 2,500 img/s the ``hw-nas`` space (8-bit weights and activations)
has no design that fits by the cost model: its smallest network (three 16-channel conv blocks, each
pooled, no dense layer) needs ~26,600 LUTs at the best implementation found. The search would still
draw its full proposal cap (thousands of proposals, tens of minutes) before saying "no valid
design". The user should hear it first, with the figure.

How: the space's smallest network (fewest blocks, fewest channels, smallest kernels, every block
pooled, no hidden dense layer, the lowest bits the space allows) is priced at the implementation
``search.repair`` finds for it (coordinate descent over each layer's reuse and strategy, then the
clock). That is a probe, not a proof: LUTs and throughput are not monotone in every decision, so a
larger network could fit where the smallest does not. So it only warns; the search goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from search.evaluation import Evaluation, Target
from search.repair import Repair
from search.space import Candidate, SearchSpace

__all__ = ["Reach", "probe_reach"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reach:
    """The smallest network's best implementation found, and whether it fits."""

    candidate: Candidate
    evaluation: Evaluation

    @property
    def fits(self) -> bool:
        return self.evaluation.feasible

    def message(self, target: Target) -> str:
        """One line for the user: the smallest network, and its figures as feasibility judges them
        (cost-model estimates, at the band's upper edge unless ``--estimate-edge point``)."""
        arch = self.candidate.arch
        bits = "/".join(map(str, sorted({h.weight_bits for h in self.candidate.hw})))
        shape = "-".join(map(str, arch.conv_channels)) or "dense"
        judged = self.evaluation.judged(target.estimate_edge)
        lut, fps = judged.get("lut", float("nan")), judged.get("throughput_fps", float("nan"))
        return (
            f"the space's smallest network ({shape}, {bits}-bit weights) misses the spec at the best "
            f"implementation the cost model found: {lut:,.0f} LUT, {fps:,.0f} img/s (estimates at the "
            f"{target.estimate_edge} edge; spec <= {target.lut_budget:,.0f} LUT, >= {target.fps_min:,.0f} "
            "img/s); likely no design of this space fits, the search goes on"
        )


def _smallest(name: str, choices: Sequence[Any]) -> Any:
    """The answer that makes the network smallest and its implementation leanest to start from."""
    if name.endswith("_pool"):
        return True if True in choices else choices[0]
    if name.endswith("_reuse"):
        return max(choices)
    if name.endswith(("_strategy",)) or name in ("io_type", "batch_norm"):
        return choices[0]
    if name == "clock_mhz":
        return max(choices)
    return min(choices)  # blocks, channels, kernels, dense units, bits


def probe_reach(
    space: SearchSpace,
    input_shape: tuple[int, int, int],
    estimate: Callable[[Candidate], Evaluation],
) -> Reach:
    """Price the space's smallest network at its best implementation found (``search.repair``)."""
    smallest = space.sample(_smallest, input_shape)
    repair = Repair(estimate, space.reuse_factors, space.strategies, space.clocks_mhz)
    candidate, ev = repair(smallest)
    return Reach(candidate, ev)
