"""Xilinx arbitrary-precision types as the cost model needs them: width, integer bits, sign, modes.

Why the cost model parses them itself: what a cast costs depends on more than the width. Rounding
(``AP_RND*``) adds an incrementer, saturation (``AP_SAT*``) a range compare and a clamp, and an
unsigned ReLU output (``ap_ufixed``) drops the sign; hls4ml writes all of that into the precision
string (``ap_ufixed<6,0,AP_RND_CONV,AP_SAT>``), and so does the design-description format of the
calibration data.

Grammar (Vivado/Vitis HLS ``ap_fixed.h``): ``ap_[u]fixed<W, I[, Q[, O[, N]]]>`` with ``W`` total bits,
``I`` integer bits (including the sign bit of a signed type; may be negative or exceed ``W``), ``Q``
a quantization mode (default ``AP_TRN``), ``O`` an overflow mode (default ``AP_WRAP``) and ``N``
saturation bits; ``ap_[u]int<W>`` is a fixed type with ``I = W``. The ``ap_`` prefix is optional, as
in hls4ml configs.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from hil.errors import InputError

__all__ = ["Precision", "parse_precision"]

_log = logging.getLogger(__name__)

_QUANT = ("AP_RND", "AP_RND_ZERO", "AP_RND_MIN_INF", "AP_RND_INF", "AP_RND_CONV", "AP_TRN", "AP_TRN_ZERO")
_OVERFLOW = ("AP_SAT", "AP_SAT_ZERO", "AP_SAT_SYM", "AP_WRAP", "AP_WRAP_SM")
_FIXED = re.compile(r"^(?:ap_)?(u?)fixed\s*<(.*)>$")
_INT = re.compile(r"^(?:ap_)?(u?)int\s*<\s*(\d+)\s*>$")


@dataclass(frozen=True, slots=True)
class Precision:
    """One fixed-point type.

    Attributes:
        width: total bits W.
        integer: integer bits I (sign bit included for signed types).
        signed: ap_fixed / ap_int (True) or ap_ufixed / ap_uint (False).
        rounding: the quantization mode rounds (any ``AP_RND*``) rather than truncates.
        saturation: the overflow mode saturates (any ``AP_SAT*``) rather than wraps.
    """

    width: int
    integer: int
    signed: bool = True
    rounding: bool = False
    saturation: bool = False

    @property
    def fraction(self) -> int:
        """Fractional bits (W - I); negative when the type's LSB weighs more than 1."""
        return self.width - self.integer

    def __str__(self) -> str:
        modes = ""
        if self.rounding or self.saturation:
            modes = f",{'AP_RND' if self.rounding else 'AP_TRN'}"
            if self.saturation:
                modes += ",AP_SAT"
        return f"ap_{'' if self.signed else 'u'}fixed<{self.width},{self.integer}{modes}>"


@lru_cache(maxsize=1024)
def parse_precision(text: str) -> Precision:
    """Parse ``ap_fixed<W,I,...>``, ``ap_ufixed<...>``, ``ap_int<W>`` or ``ap_uint<W>``.

    Raises:
        InputError: the string is not one of these types; the message quotes it.
    """
    cleaned = text.strip().replace(" ", "")
    match = _INT.match(cleaned)
    if match:
        width = int(match[2])
        return _checked(text, Precision(width, width, signed=match[1] != "u"))
    match = _FIXED.match(cleaned)
    if not match:
        raise InputError(
            f"invalid precision {text!r}: expected e.g. ap_fixed<16,6>, ap_ufixed<6,0,AP_RND,AP_SAT>"
        )
    args = match[2].split(",")
    if len(args) < 2 or len(args) > 5:
        raise InputError(f"invalid precision {text!r}: ap_fixed takes 2 to 5 arguments (W, I, Q, O, N)")
    try:
        width, integer = int(args[0]), int(args[1])
        if len(args) == 5:
            int(args[4])
    except ValueError:
        raise InputError(f"invalid precision {text!r}: W, I and N must be integers") from None
    quant = args[2].upper() if len(args) > 2 else "AP_TRN"
    overflow = args[3].upper() if len(args) > 3 else "AP_WRAP"
    if quant not in _QUANT:
        raise InputError(f"invalid precision {text!r}: unknown quantization mode {quant!r}")
    if overflow not in _OVERFLOW:
        raise InputError(f"invalid precision {text!r}: unknown overflow mode {overflow!r}")
    return _checked(
        text,
        Precision(
            width,
            integer,
            signed=match[1] != "u",
            rounding=quant.startswith("AP_RND"),
            saturation=overflow.startswith("AP_SAT"),
        ),
    )


def _checked(text: str, precision: Precision) -> Precision:
    if not 1 <= precision.width <= 1024:
        raise InputError(f"invalid precision {text!r}: total width must be 1..1024 bits")
    return precision
