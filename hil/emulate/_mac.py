"""Multiply-accumulate of Dense and Conv layers as hls4ml's dense kernels compute it, batched.

hls4ml's ``dense_latency``/``dense_resource`` (and the conv kernels built on them) do, per output:
``acc = (accum_t) bias; acc += (accum_t) (x_i * w_ij)`` for every input, then ``res = (res_t) acc``.
Every product is exact (``decltype(a * w)``) and then cast to ``accum_t``; every sum is cast back to
``accum_t``. Why the fast path is exact: when ``accum_t`` keeps all the product's fraction bits no
product is rounded, and with AP_WRAP the running sum is arithmetic modulo 2**width, so wrapping the
exact sum once equals wrapping at every step, in any order; with a saturating ``accum_t`` the same
holds when a bound on every partial sum proves saturation can never trigger (and then no wrap is
needed either). The exact sum itself is a float32 (float64) matrix product when the bound
``max|x| * sum|w|`` stays below 2**24 (2**53): every partial sum of integers is then exact in any
BLAS order; else an int64 one. Anything else runs the
products one input at a time in the Latency kernel's order, or is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hil.emulate._fixed import FixedType
from hil.errors import UnsupportedModelError

__all__ = ["MacKernel"]

_log = logging.getLogger(__name__)
_FLOAT32_EXACT = 1 << 24
_FLOAT_EXACT = 1 << 53
_INT_EXACT = 1 << 62


@dataclass
class MacKernel:
    """``x @ w + b`` into ``accum_t`` for inputs of type ``x_type``; precomputed once per layer.

    Attributes:
        name: the hls4ml layer's name (for refusals).
        x_type: the input's type.
        w: weight mantissas (n_in, n_out), already mapped for hls4ml's binary/ternary products.
        w_frac: fraction bits of the weights (the product's grid is x frac + w frac).
        b: bias mantissas already cast to ``acc`` (n_out,).
        acc: ``accum_t``.
        sequential_ok: whether the layer's kernel adds inputs in index order (Latency), needed
            when a saturating accumulator may saturate.
    """

    name: str
    x_type: FixedType
    w: np.ndarray
    w_frac: int
    b: np.ndarray
    acc: FixedType
    sequential_ok: bool

    def __post_init__(self) -> None:
        x_max = max(abs(self.x_type.min_int), self.x_type.max_int)
        col = np.abs(self.w).sum(axis=0).astype(np.float64)
        self._bound = float(x_max * (col.max(initial=0.0)))
        self._shift = self.acc.frac - (self.x_type.frac + self.w_frac)  # < 0: products are rounded
        #: dtype of the exact matrix product: float32/float64 hold every partial sum exactly below
        #: 2**24/2**53 (integers, any summation order), int64 below 2**62
        self.dtype: type = np.int64
        if self._bound < _FLOAT32_EXACT:
            self.dtype = np.float32
        elif self._bound < _FLOAT_EXACT:
            self.dtype = np.float64
        elif self._bound >= _INT_EXACT and self._shift >= 0:
            raise UnsupportedModelError(
                f"emulator: layer {self.name}: its sums need more than 62 bits (bound {self._bound:.3g})"
            )
        self._wf = self.w.astype(self.dtype)
        self._saturating = self.acc.saturation != "WRAP"
        # no partial sum can leave accum_t's range: no wrap or saturation ever happens
        reach = x_max * col * 2.0 ** max(self._shift, 0) + np.abs(self.b)
        self._in_range = bool(np.all(reach <= min(-self.acc.min_int, self.acc.max_int)))
        self._safe = self._in_range or not self._saturating
        if self._shift < 0 or (self._saturating and not self._safe):
            if self._saturating and not self._safe and not self.sequential_ok:
                raise UnsupportedModelError(
                    f"emulator: layer {self.name}: a saturating accumulator {self.acc} may saturate and its "
                    f"kernel's summation order (Resource strategy) is not modelled"
                )
            _log.info("layer %s: per-product accumulation (shift %d, %s)", self.name, self._shift, self.acc)

    @property
    def fast(self) -> bool:
        """True when the whole sum is one matrix product (see the module docstring)."""
        return self._shift >= 0 and self._safe

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Accumulator mantissas (B, n_out) of input mantissas ``x`` (B, n_in; integers, possibly
        already in ``self.dtype`` so that a caller can build large operands without a second copy)."""
        if self.fast:
            return self._matmul(x)
        return self._sequential(x)

    def _matmul(self, x: np.ndarray) -> np.ndarray:
        s = (x.astype(self.dtype, copy=False) @ self._wf).astype(np.int64)
        k, width = self._shift, self.acc.width
        if self._in_range:  # proven never to wrap or saturate: the exact value
            return self.b + (s << np.int64(k)) if k else self.b + s
        if k >= width:
            s = np.zeros_like(s)
        else:
            s = (s & ((np.int64(1) << np.int64(width - k)) - 1)) << np.int64(k)
        return self.acc.cast(self.b + s, self.acc.frac)

    def _sequential(self, x: np.ndarray) -> np.ndarray:
        """The Latency kernel's order: bias, then input 0, 1, ... each product cast to accum_t."""
        pf = self.x_type.frac + self.w_frac
        acc = np.broadcast_to(self.b, (len(x), len(self.b))).astype(np.int64)
        x = x.astype(np.int64, copy=False)
        for i in range(self.w.shape[0]):
            product = self.acc.cast(x[:, i, None] * self.w[i][None, :], pf)
            acc = self.acc.cast(acc + product, self.acc.frac)
        return acc
