"""Search strategies: ``joint`` (the co-search) and ``separate`` (the paper's baseline).

Why the baseline lives here, built from the same parts: the comparison is only fair if both get the
same controller, the same hardware space, the same number of trained candidates and the same epochs
per candidate. ``separate`` first searches the architecture for float accuracy alone, then keeps
the best architecture (warm-started from its float weights) and searches only quantization and
hardware settings to fit the spec; when nothing it tries fits, it reports "no valid design".
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
