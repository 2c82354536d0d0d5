"""Lookup tables of hls4ml's table-based activations, computed as the C simulation computes them.

Why float32 and the C library's ``expf``: hls4ml fills its tables at run time in C++ with ``float``
arithmetic and ``std::exp(float)`` (glibc's ``expf``), then rounds each entry to the table type. A
table entry one float ulp away can round to a different fixed-point value, so the tables are built
with the same libm function (through ctypes) and the same float/double steps, in the same order.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import lru_cache

import numpy as np

from hil.emulate._fixed import FixedType

__all__ = ["softmax_exp_table", "softmax_inv_table", "legacy_exp_table", "legacy_inv_table", "sigmoid_table"]

_log = logging.getLogger(__name__)


@lru_cache(maxsize=1)
def _libm() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("m") or "libm.so.6")
    lib.expf.restype = ctypes.c_float
    lib.expf.argtypes = [ctypes.c_float]
    lib.tanhf.restype = ctypes.c_float
    lib.tanhf.argtypes = [ctypes.c_float]
    return lib


def _expf(values: np.ndarray) -> np.ndarray:
    expf = _libm().expf
    return np.array([expf(float(v)) for v in np.asarray(values, dtype=np.float32)], dtype=np.float32)


def to_table(values: np.ndarray, t: FixedType) -> np.ndarray:
    """Mantissas of float values assigned to a table type; infinity as ap_fixed takes it (max or 0)."""
    v = np.asarray(values, dtype=np.float64)
    inf = ~np.isfinite(v)
    out = t.from_float(np.where(inf, 0.0, v))
    if inf.any():
        big = t.max_int if t.saturation in ("SAT", "SAT_SYM") else 0
        out = np.where(inf, big, out)
    return out


def _index_grid(n: int) -> np.ndarray:
    """``float in_val = 2 * 8.0 * (ii - float(N) / 2.0) / float(N)``: a double rounded to float."""
    ii = np.arange(n, dtype=np.float64)
    return (2 * 8.0 * (ii - np.float64(np.float32(n)) / 2.0) / np.float64(np.float32(n))).astype(np.float32)


def sigmoid_table(n: int, t: FixedType) -> np.ndarray:
    """``init_sigmoid_table``: ``1.0 / (1 + std::exp(-in_val))`` (float exp, float sum, double divide)."""
    x = _index_grid(n)
    e = _expf(-x)
    denominator = (np.float32(1) + e).astype(np.float32)
    value = (1.0 / denominator.astype(np.float64)).astype(np.float32)
    return to_table(value, t)


def tanh_table(n: int, t: FixedType) -> np.ndarray:
    """``init_tanh_table``: in_val over [-4, 4) (float), ``tanh(in_val)``."""
    ii = np.arange(n, dtype=np.float64)
    x = (2 * 4.0 * (ii - np.float64(np.float32(n)) / 2.0) / np.float64(np.float32(n))).astype(np.float32)
    return to_table(np.tanh(x.astype(np.float64)), t)


def legacy_exp_table(n: int, t: FixedType) -> np.ndarray:
    """``init_exp_table_legacy``: ``std::exp(in_val)`` over [-8, 8) (float)."""
    return to_table(_expf(_index_grid(n)), t)


def legacy_inv_table(n: int, t: FixedType) -> np.ndarray:
    """``init_invert_table_legacy``: ``in_val = 64.0 * ii / float(N)`` (float), ``1.0 / in_val`` (double)."""
    ii = np.arange(n, dtype=np.float64)
    x = (64.0 * ii / np.float64(np.float32(n))).astype(np.float32).astype(np.float64)
    with np.errstate(divide="ignore"):
        value = np.where(x > 0.0, 1.0 / np.where(x > 0, x, 1.0), 0.0)
    return to_table(value, t)


def slice_values(t: FixedType, n: int) -> np.ndarray:
    """``softmax_real_val_from_idx``: the float value of ``t`` whose top log2(n) bits are the index.

    A table with more address bits than the type (the slice's low bound negative) is what ap_fixed
    makes of it (measured with g++): the index's low ``width`` bits land in the type unshifted.
    """
    bits = int(np.ceil(np.log2(n))) if n > 1 else 0
    index = np.arange(n, dtype=np.int64)
    if bits <= t.width:
        raw = index << np.int64(t.width - bits)
    else:
        raw = index & ((np.int64(1) << np.int64(t.width)) - 1)
    if t.signed:
        raw = np.where(raw >= (1 << (t.width - 1)), raw - (1 << t.width), raw)
    return t.to_float(raw).astype(np.float32)


def slice_index(t: FixedType, m: np.ndarray, n: int) -> np.ndarray:
    """``softmax_idx_from_real_val``: the top log2(n) bits of a value's bit pattern.

    With more address bits than the type has, ap_fixed's slice (negative low bound) yields the bit
    pattern shifted up by the difference, cut to the type's width (measured with g++).
    """
    bits = int(np.ceil(np.log2(n))) if n > 1 else 0
    if bits <= t.width:
        return t.raw_bits(m) >> np.int64(t.width - bits)
    return t.raw_bits(t.raw_bits(m) << np.int64(bits - t.width))


def softmax_exp_table(
    data_t: FixedType, n: int, table_t: FixedType, exp_scale: float, negative: bool
) -> np.ndarray:
    """``init_exp_table``: exp of each index's value (times exp_scale, negated for 'stable')."""
    x = (slice_values(data_t, n) * np.float32(exp_scale)).astype(np.float32)
    if negative:
        x = -x
    return to_table(_expf(x), table_t)


def softmax_inv_table(inp_t: FixedType, n: int, table_t: FixedType) -> np.ndarray:
    """``init_invert_table``: ``1 / x`` in float for each index's value (1/0 is infinity)."""
    x = slice_values(inp_t, n)
    with np.errstate(divide="ignore"):
        value = (np.float32(1) / x).astype(np.float32)
    return to_table(value, table_t)
