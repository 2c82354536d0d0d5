"""Does a design fit a board? Every limited resource must fit, and the binding one is named.

Why spell this out: a published co-search cost model accepted a design when *any* resource fit
(an any-instead-of-all bug), so a design over its LUT budget could win on accuracy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from hil.cost._estimate import Estimate
from hil.errors import InputError
from hil.inventory import Board, Resources

__all__ = ["EDGES", "RESOURCE_KEYS", "FitReport", "fits"]

#: How an estimate is judged: its band's upper edge, or the point estimate.
EDGES = ("upper", "point")

_log = logging.getLogger(__name__)

RESOURCE_KEYS: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "uram")


@dataclass(frozen=True)
class FitReport:
    """Outcome of a fit check.

    Attributes:
        ok: True when every resource is within its limit.
        binding: the resource with the highest utilisation (the one that binds, or would first).
        utilisation: used / available per resource (inf when the part has none but some is used).
        over: resources above their limit, worst first.
    """

    ok: bool
    binding: str
    utilisation: dict[str, float]
    over: tuple[str, ...]

    def __bool__(self) -> bool:
        return self.ok


def fits(
    board: Board | Resources | Mapping[str, float],
    budget: Mapping[str, float] | Estimate,
    *,
    shell: Mapping[str, float] | None = None,
    margin: float = 1.0,
    edge: str = "upper",
) -> FitReport:
    """Check a design's resource use against a board.

    An ``Estimate`` is judged at its 80 % band's upper edge by default (``edge="upper"``): an
    estimate is a guess with a known spread, and a design that fits only if the guess is right is
    not a design that fits. A mapping (measured values, or totals an estimate's caller chose) is
    judged as given: a measured figure is judged as measured.

    Args:
        board: a Board, its Resources, or a mapping of available resources.
        budget: an Estimate, or the resources the network IP uses (keys of RESOURCE_KEYS; absent
            keys count as 0).
        shell: resources the platform shell (DMA, interconnect) takes from the part, reported apart
            from the network and subtracted from what is available.
        margin: fraction of each resource the design may use (e.g. 0.8 to leave room for routing).
        edge: for an Estimate: ``upper`` (its band's upper edge) or ``point`` (the estimate itself).
    """
    if edge not in EDGES:
        raise InputError(f"fits: edge must be one of {', '.join(EDGES)}, got {edge!r}")
    if isinstance(budget, Estimate):
        budget = budget.upper if edge == "upper" else budget.totals
    if isinstance(board, Board):
        avail: Mapping[str, float] = board.resources.as_dict()
    elif isinstance(board, Resources):
        avail = board.as_dict()
    else:
        avail = board
    util: dict[str, float] = {}
    for key in RESOURCE_KEYS:
        used = float(budget.get(key, 0.0) or 0.0)
        if used < 0:
            raise InputError(f"fits: {key} use must be >= 0, got {used}")
        cap = (float(avail.get(key, 0.0)) - float((shell or {}).get(key, 0.0))) * margin
        util[key] = used / cap if cap > 0 else (0.0 if used == 0 else float("inf"))
    over = tuple(sorted((k for k, u in util.items() if u > 1.0), key=lambda k: -util[k]))
    binding = max(RESOURCE_KEYS, key=lambda k: util[k])
    return FitReport(ok=not over, binding=binding, utilisation=util, over=over)
