"""The unit of the cost model: one priced piece of hardware, and the terms of one layer.

Why a named tuple: a term must say what it prices (``label``, for ``explain``), which fitted
coefficient scales it (``coef``; None for a structural count read off the templates) and the count
itself (``x``), and millions of them are made per second during a search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["METRICS", "LayerTerms", "Term"]

#: Metrics a layer's terms cover. ``latency`` is the worst case (csynth's latency max).
METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "latency", "latency_min", "ii")


class Term(NamedTuple):
    """One priced piece of hardware: ``value = coefficient * x`` (``coefficient`` 1 when structural)."""

    metric: str
    label: str
    coef: str | None
    x: float


@dataclass(slots=True)
class LayerTerms:
    """The terms of one layer, the reuse factor hls4ml really uses, and what sets the layer's II."""

    terms: list[Term] = field(default_factory=list)
    reuse_factor: int = 1
    ii_reason: str = ""

    def add(self, metric: str, label: str, coef: str | None, x: float) -> None:
        """Append a term (zero features are kept out, so explain shows only what is built)."""
        if x:
            self.terms.append(Term(metric, label, coef, x))
