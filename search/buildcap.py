"""The build cap: how many hardware variants of one network climb to the build (``--builds-per-network``).

Why a cap: a network is trained once per phase and every hardware variant of it (other reuse
factors, strategies, io_type, clock) shares its validation accuracy, so the variants of a top
network tie and, uncapped, each one climbs to a bitstream build that costs hours on a real farm;
``--trials`` bounds trainings, not builds. With a cap of N, at most N variants of one network are
built (and measured on the board) per phase; 0 lifts the cap.

Which variant climbs: the build runs inside its trial (its measured figures are that trial's
reward), so the search cannot wait for variants not yet proposed. The first variant of a network
that reaches the build climbs; a later one climbs only while the network has fewer than N builds
*and* it has more estimated LUT margin than every variant of it already built (its LUT estimate,
judged as feasibility judges it, is below each of theirs: estimate against estimate, the same cost
model, even after a build measured its own). Every variant that reaches the build meets the
estimated throughput, so the LUT budget is the margin that matters; a variant with no more margin
than one already built would not measure better. Every build attempt counts, whatever its outcome:
one that measured over the spec (or failed) still cost its farm hours, and with N >= 2 the next
variant to climb is a leaner one, the one likelier to fit.

A held-back variant keeps its lower-fidelity figures (estimates, provenance unchanged), is labelled
(stage ``build cap``, ``Evaluation.build_capped_by``), ranks after an equally accurate design that
was not held back, and is never presented as built. The cap counts the phase's finished trials: two
searches sharing one study may each build a variant of a network at the same time.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from search.evaluation import Evaluation
from search.space import Candidate

__all__ = ["CAPPED_STAGE", "built_variants", "held_back_by"]

_log = logging.getLogger(__name__)

#: The stage of a variant the cap held back.
CAPPED_STAGE = "build cap"


def built_variants(
    evaluations: Mapping[int, Evaluation], candidate: Candidate
) -> list[tuple[int, Evaluation]]:
    """The variants of ``candidate``'s network that climbed to the build earlier in the phase, in
    trial order (any outcome: a failed or over-spec build counts)."""
    key = candidate.network_key()
    return [
        (number, ev)
        for number, ev in sorted(evaluations.items())
        if "build" in ev.rungs and ev.candidate.network_key() == key
    ]


def held_back_by(lut_estimate: float, built: Sequence[tuple[int, float]], cap: int) -> list[int]:
    """The built variants that hold a variant back from the build (empty: it climbs).

    Args:
        lut_estimate: the variant's LUT estimate, as feasibility judges it.
        built: (trial, LUT estimate) of its network's variants already built in the phase.
        cap: builds per network (0: no cap).

    Returns:
        Every built trial when the cap is spent; else those with no more LUTs than this variant
        (a tie goes to the one built first); empty when it may climb.
    """
    if cap == 0:
        return []
    if len(built) >= cap:
        return [number for number, _ in built]
    return [number for number, lut in built if lut <= lut_estimate]
