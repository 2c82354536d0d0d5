"""Fixed-point types as Xilinx ``ap_fixed`` implements them, on int64 mantissas.

Why mantissas: an ``ap_fixed<W,I>`` value is an integer ``m`` times ``2**-(W-I)``. Keeping ``m`` as
int64 (and the type's fraction bits beside it) makes every cast an integer shift plus a rounding
and an overflow rule, so the emulator reproduces the C simulation bit for bit instead of
approximating it with floats. The rules below were checked value by value against g++ running
hls4ml's own ``ap_types`` headers (``tests/emulate_tests/test_fixed.py``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from hil.errors import UnsupportedModelError

__all__ = ["FixedType", "ROUNDING_MODES", "SATURATION_MODES", "fixed_type"]

_log = logging.getLogger(__name__)

#: Quantization modes of ap_fixed (hls4ml's RoundingMode names).
ROUNDING_MODES = ("TRN", "TRN_ZERO", "RND", "RND_ZERO", "RND_INF", "RND_MIN_INF", "RND_CONV")
#: Overflow modes of ap_fixed (hls4ml's SaturationMode names).
SATURATION_MODES = ("WRAP", "SAT", "SAT_ZERO", "SAT_SYM")
#: Widest type whose mantissa arithmetic stays inside int64 with headroom for one product.
_MAX_WIDTH = 62


@dataclass(frozen=True)
class FixedType:
    """``ap_[u]fixed<width, integer, rounding, saturation>`` (an ``ap_[u]int<W>`` has integer == width).

    Attributes:
        width: total bits.
        integer: integer bits (may be negative or exceed width, as in ap_fixed).
        signed: two's complement when True.
        rounding: one of ROUNDING_MODES.
        saturation: one of SATURATION_MODES.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: str = "TRN"
    saturation: str = "WRAP"

    def __post_init__(self) -> None:
        if not 1 <= self.width <= _MAX_WIDTH:
            raise UnsupportedModelError(
                f"emulator: fixed-point width {self.width} is outside 1..{_MAX_WIDTH}"
            )
        if self.rounding not in ROUNDING_MODES or self.saturation not in SATURATION_MODES:
            raise UnsupportedModelError(
                f"emulator: unknown fixed-point mode {self.rounding}/{self.saturation}"
            )

    @property
    def frac(self) -> int:
        """Fraction bits: the value is mantissa * 2**-frac."""
        return self.width - self.integer

    @property
    def min_int(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    def __str__(self) -> str:
        sign = "" if self.signed else "u"
        return f"ap_{sign}fixed<{self.width},{self.integer},AP_{self.rounding},AP_{self.saturation}>"

    # ------------------------------------------------------------------ casts
    def cast(self, m: np.ndarray, frac: int, src: FixedType | None = None) -> np.ndarray:
        """Mantissas ``m`` (value m * 2**-frac) converted to this type, as the C++ assignment does.

        Quantization first (the dropped bits decide the rounding), then overflow on the result.
        ``src``, the type ``m`` is known to hold, lets a cast that cannot change a value (same grid or
        finer, range inside this one) return at once: most casts between a layer and the next.
        """
        m = np.asarray(m, dtype=np.int64)
        shift = frac - self.frac
        if src is not None and shift <= 0 and self.contains(src, -shift):
            return m if shift == 0 else m << np.int64(-shift)
        if shift > 0:
            m = _round_shift(m, shift, self.rounding)
        elif shift < 0:
            m = m << np.int64(-shift)
        return self._overflow(m)

    def contains(self, src: FixedType, shift: int = 0) -> bool:
        """True when every value of ``src`` (mantissas shifted left by ``shift``) is a value of this type."""
        low = -self.max_int if (self.saturation == "SAT_SYM" and self.signed) else self.min_int
        return (src.min_int << shift) >= low and (src.max_int << shift) <= self.max_int

    def from_float(self, x: np.ndarray) -> np.ndarray:
        """Mantissas of float values converted to this type (ap_fixed's constructor from double).

        Exact: scaling a float64 by a power of two is exact, and floor/remainder of a float64 are
        exact, so the rounding decision sees the value's every bit, as ap_fixed does.
        """
        v = np.ldexp(np.asarray(x, dtype=np.float64), self.frac)
        if not np.all(np.isfinite(v)):
            raise UnsupportedModelError("emulator: input holds NaN or infinity")
        low = np.floor(v)
        rem = v - low  # exact, in [0, 1)
        low = low + _round_up(rem, 0.5, low, self.rounding)
        # wrap/saturate before int64 conversion (a huge float must not overflow the cast)
        span = float(1 << self.width)
        if self.saturation == "WRAP":
            low = np.mod(low, span)  # exact for integers in float64
            if self.signed:
                low = np.where(low > self.max_int, low - span, low)
            return low.astype(np.int64)
        bound = float(1 << (self.width + 1))
        return self._overflow(np.clip(low, -bound, bound).astype(np.int64))

    def to_float(self, m: np.ndarray) -> np.ndarray:
        """Float64 values of mantissas (exact: width <= 62 and a power-of-two scale)."""
        return np.ldexp(np.asarray(m, dtype=np.float64), -self.frac)

    def _overflow(self, m: np.ndarray) -> np.ndarray:
        lo, hi = self.min_int, self.max_int
        mode = self.saturation
        if mode == "WRAP":
            span = np.int64(1) << np.int64(self.width)
            if self.signed:
                return ((m - lo) & (span - 1)) + lo
            return m & (span - 1)
        if mode == "SAT":
            return np.clip(m, lo, hi)
        if mode == "SAT_ZERO":
            return np.where((m < lo) | (m > hi), 0, m)
        # SAT_SYM: symmetric range; ap_fixed maps the most negative value itself to -max too
        return np.clip(m, -hi if self.signed else lo, hi)

    # ------------------------------------------------------------- slicing
    def raw_bits(self, m: np.ndarray) -> np.ndarray:
        """The two's complement bit pattern of mantissas in this type (unsigned, ``width`` bits)."""
        return np.asarray(m, dtype=np.int64) & ((np.int64(1) << np.int64(self.width)) - 1)


def _round_up(rem: Any, half: Any, low: Any, mode: str) -> Any:
    """1 where a value ``low + rem`` (``rem`` the dropped part, ``half`` half an LSB) rounds up."""
    negative = low < 0  # the value low + rem (rem in [0, 1) LSB) is negative exactly when low is
    if mode == "TRN":
        up = np.zeros_like(rem, dtype=bool)
    elif mode == "TRN_ZERO":  # toward zero: a negative value with dropped bits goes up
        up = (rem != 0) & negative
    elif mode == "RND":  # half up (toward +inf)
        up = rem >= half
    elif mode == "RND_ZERO":  # half toward zero
        up = (rem > half) | ((rem == half) & negative)
    elif mode == "RND_INF":  # half away from zero
        up = (rem > half) | ((rem == half) & ~negative)
    elif mode == "RND_MIN_INF":  # half down (toward -inf)
        up = rem > half
    else:  # RND_CONV: half to even
        odd = (low % 2) != 0
        up = (rem > half) | ((rem == half) & odd)
    return up.astype(low.dtype) if hasattr(low, "dtype") else up


def _round_shift(m: np.ndarray, shift: int, mode: str) -> np.ndarray:
    """``m / 2**shift`` rounded by ``mode``, in one add and one arithmetic shift.

    With m = q * 2**shift + r (0 <= r < 2**shift, q the floor), adding ``bias`` before the floor
    shift rounds up exactly when r + bias >= 2**shift: ``half`` rounds halves up, ``half - 1`` rounds
    them down, ``half - 1 + (q & 1)`` rounds them to even, and a sign-dependent bias moves negative
    values toward or away from zero (checked against ap_fixed in ``tests/emulate_tests/test_fixed.py``).
    """
    if shift > 62:  # |m| < 2**62: the value lies in (-1/2, 1/2), so it rounds to 0 (or floors to -1)
        return np.where(m < 0, -1, 0).astype(np.int64) if mode == "TRN" else np.zeros_like(m)
    s = np.int64(shift)
    if mode == "TRN":
        return m >> s
    one, half = np.int64(1), np.int64(1) << (s - 1)
    if mode == "RND":
        return (m + half) >> s
    if mode == "RND_MIN_INF":
        return (m + (half - one)) >> s
    if mode == "RND_CONV":
        return (m + (half - one) + ((m >> s) & one)) >> s
    negative = (m < 0).astype(np.int64)
    if mode == "TRN_ZERO":
        return (m + negative * ((one << s) - one)) >> s
    if mode == "RND_ZERO":
        return (m + (half - one) + negative) >> s
    return (m + half - negative) >> s  # RND_INF


def fixed_type(precision: Any, what: str = "type") -> FixedType:
    """The FixedType of an hls4ml precision object (FixedPrecisionType, IntegerPrecisionType, ...).

    Raises UnsupportedModelError (one line) for types the emulator does not model: exponent
    (power-of-two weight) types, floating point, and WRAP with saturation bits (AP_WRAP_SM).
    """
    from hls4ml.model.types import (
        FixedPrecisionType,
        IntegerPrecisionType,
        XnorPrecisionType,
    )

    if isinstance(precision, XnorPrecisionType):
        return FixedType(1, 1, False)
    if isinstance(precision, IntegerPrecisionType):
        return FixedType(int(precision.width), int(precision.width), bool(precision.signed))
    if isinstance(precision, FixedPrecisionType):
        if precision.saturation_bits:
            raise UnsupportedModelError(
                f"emulator: {what} {precision} uses saturation bits (AP_WRAP_SM-like), not modelled"
            )
        return FixedType(
            int(precision.width),
            int(precision.integer),
            bool(precision.signed),
            precision.rounding_mode.name,
            precision.saturation_mode.name,
        )
    raise UnsupportedModelError(f"emulator: {what} {precision} ({type(precision).__name__}) is not modelled")
