"""The unit of the cost model: one priced piece of hardware, and the terms of one layer.

Why a named tuple: a term must say what it prices (``label``, for ``explain``), which fitted
coefficient scales it (``coef``; None for a structural count read off the templates) and the count
itself (``x``), and millions of them are made per second during a search.
"""

from __future__ import annotations

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


class LayerTerms:
    """The terms of one layer, the reuse factor hls4ml really uses, and what sets the layer's II.

    Why it sums as it goes: an estimate needs only the sums, and a search makes tens of thousands of
    them per second, so the terms themselves are kept only when asked for (``record``: calibration
    features, ``explain``).
    """

    __slots__ = ("ii_reason", "p", "reuse_factor", "terms", "values")

    def __init__(self, p: dict[str, float], *, record: bool = False, reuse_factor: int = 1) -> None:
        self.p = p
        self.values = dict.fromkeys(METRICS, 0.0)
        self.terms: list[Term] | None = [] if record else None
        self.reuse_factor = reuse_factor
        #: what sets the II, as (format, *arguments): formatted only for the layer that wins
        self.ii_reason: tuple[object, ...] = ()

    def add(self, metric: str, label: str, coef: str | None, x: float) -> None:
        """Price one piece (zero features are left out, so explain shows only what is built)."""
        if x:
            self.values[metric] += x if coef is None else self.p[coef] * x
            if self.terms is not None:
                self.terms.append(Term(metric, label, coef, x))
