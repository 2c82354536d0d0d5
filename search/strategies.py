"""Search strategies: ``joint`` (the co-search) and its baselines ``separate``, ``hw-nas`` and ``random``.

Why the baselines live here, built from the same parts: the comparison is only fair if every
strategy gets the same hardware space, the same spec and the same budget. A budget is two
numbers: trained candidates and training compute in sample-epochs (images x epochs, every training
the strategy runs); every candidate trains the same recipe, so equal trained candidates are equal
sample-epochs, and each strategy reports what it spent.

- ``joint``: one controller searches architecture, per-layer quantization and implementation.
- ``separate`` (network first, then fit it): phase 1 searches float architectures for accuracy
  alone (half the candidates); phase 2 walks phase 1's architectures best-first, skips those the
  cost model says cannot fit the spec at any quantization/implementation it can find, and for each
  one that can, searches its quantization and implementation (the controller, with the
  architecture fixed) until one design trains, then moves on to the next, round after round,
  until the budget is spent. When no architecture is left that can fit, one training moves from
  phase 2 to phase 1 (one more float architecture, the designer's "design another network") and
  the walk resumes, until the budget is spent: equal compute even when nothing fits. Its
  candidates warm-start from the float weights phase 1 trained (that is what "compress a trained
  network" means): those were paid for once, in phase 1's
  sample-epochs; each warm-started record carries its ``inherited_sample_epochs``.
- ``hw-nas`` (hardware-aware but quantization-unaware, FNAS-style): searches architecture and
  implementation under the same spec with quantization fixed at 8-bit weights and activations.
- ``random``: the joint space, sampled uniformly (Optuna's random sampler), whatever ``--controller``.

The final retrain (``--final-epochs``) trains each strategy's chosen design from scratch with the
same recipe, so the reported test accuracies compare designs, not warm starts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hil.errors import InputError

__all__ = ["HW_NAS_BITS", "STRATEGIES", "PhasePlan", "plan_phases"]

_log = logging.getLogger(__name__)

STRATEGIES: tuple[str, ...] = ("joint", "separate", "hw-nas", "random")

#: The fixed weight and activation width of ``hw-nas`` (8 bits: what a quantization-unaware flow
#: deploys by default, and hls4ml's smallest "safe" post-training width).
HW_NAS_BITS = 8


@dataclass(frozen=True)
class PhasePlan:
    """One phase of a strategy.

    Attributes:
        name: "joint", "architecture" (float, accuracy only) or "hardware" (architectures fixed).
        trials: trained candidates this phase may use (pruned proposals do not count).
        hardware: whether the quantization/hardware decisions are searched (and the spec applies).
        arch_from: phase whose architectures this phase walks, best first (and warm-starts from).
        controller: the controller of this phase when the strategy fixes it (``random``), else None
            (``--controller``).
        fixed_bits: weight and activation width every layer is fixed at (``hw-nas``), else None.
        proposal_trials: the trained candidates the proposal cap (``--max-proposals-factor``) is
            counted on, when not ``trials`` (``separate`` moves trainings between its phases, and
            its second phase's cap stays that of its first plan).
    """

    name: str
    trials: int
    hardware: bool
    arch_from: str | None = None
    controller: str | None = None
    fixed_bits: int | None = None
    proposal_trials: int | None = None


def plan_phases(strategy: str, trials: int) -> list[PhasePlan]:
    """The phases of ``strategy`` for a budget of ``trials`` trained candidates in total."""
    if trials < 1:
        raise InputError(f"--trials must be >= 1, got {trials}")
    if strategy == "joint":
        return [PhasePlan("joint", trials, hardware=True)]
    if strategy == "hw-nas":
        return [PhasePlan("joint", trials, hardware=True, fixed_bits=HW_NAS_BITS)]
    if strategy == "random":
        return [PhasePlan("joint", trials, hardware=True, controller="random")]
    if strategy == "separate":
        if trials < 2:
            raise InputError("--strategy separate needs --trials >= 2 (one per phase at least)")
        first = (trials + 1) // 2
        return [
            PhasePlan("architecture", first, hardware=False),
            PhasePlan("hardware", trials - first, hardware=True, arch_from="architecture"),
        ]
    raise InputError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
