"""Search strategies: ``joint`` (the co-search) and ``separate`` (the paper's baseline).

Why the baseline lives here, built from the same parts: the comparison is only fair if both get the
same controller, the same hardware space and the same budget. A budget is two numbers: trained
candidates and training compute in sample-epochs (images x epochs, every training the strategy
runs). ``separate`` first searches the architecture for float accuracy alone (half the
candidates), then keeps the best architecture and searches only quantization and hardware
settings to fit the spec (the other half); when nothing it tries fits, it reports "no valid design".
Its phase-2 candidates warm-start from the float weights phase 1 trained (that is what "compress a
trained network" means): those weights were paid for once, in phase 1's sample-epochs, so both
strategies spend trials x epochs x images in total; each warm-started record carries its
``inherited_sample_epochs``. The final retrain (``--final-epochs``) then trains each strategy's
chosen design from scratch with the same recipe, so the reported test accuracies compare designs,
not warm starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hil.errors import InputError

__all__ = ["STRATEGIES", "PhasePlan", "plan_phases"]

_log = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = ("joint", "separate")


@dataclass(frozen=True)
class PhasePlan:
    """One phase of a strategy.

    Attributes:
        name: "joint", "architecture" (float, accuracy only) or "hardware" (fixed architecture).
        trials: trained candidates this phase may use (pruned proposals do not count).
        hardware: whether the quantization/hardware decisions are searched (and the spec applies).
        arch_from: phase whose best architecture this phase keeps fixed (and warm-starts from).
    """

    name: str
    trials: int
    hardware: bool
    arch_from: str | None = None


def plan_phases(strategy: str, trials: int) -> list[PhasePlan]:
    """The phases of ``strategy`` for a budget of ``trials`` trained candidates in total."""
    if trials < 1:
        raise InputError(f"--trials must be >= 1, got {trials}")
    if strategy == "joint":
        return [PhasePlan("joint", trials, hardware=True)]
    if strategy == "separate":
        if trials < 2:
            raise InputError("--strategy separate needs --trials >= 2 (one per phase at least)")
        first = (trials + 1) // 2
        return [
            PhasePlan("architecture", first, hardware=False),
            PhasePlan("hardware", trials - first, hardware=True, arch_from="architecture"),
        ]
    raise InputError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
