"""Valid reuse factors, corrected the way hls4ml 1.3 corrects them.

Why model the correction: hls4ml silently replaces an invalid ReuseFactor by the closest valid
one (``FPGABackend.set_closest_reuse_factor``), so a cost model that used the requested value would
predict a design hls4ml never builds.
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from functools import lru_cache

__all__ = ["closest_reuse_factor", "valid_reuse_factors"]

_log = logging.getLogger(__name__)


def _is_valid(n_in: int, n_out: int, rf: int) -> bool:
    # Same three conditions as hls4ml FPGABackend._validate_reuse_factor.
    multfactor = min(n_in, rf)
    multiplier_limit = -(-(n_in * n_out) // multfactor)
    ok = (multiplier_limit % n_out == 0) or rf >= n_in
    ok = ok and (rf % n_in == 0 or rf < n_in)
    return ok and (n_in * n_out) % rf == 0


@lru_cache(maxsize=4096)
def valid_reuse_factors(n_in: int, n_out: int) -> tuple[int, ...]:
    """Sorted valid reuse factors of an n_in x n_out dense kernel (only divisors can be valid)."""
    n = n_in * n_out
    divisors: set[int] = set()
    d = 1
    while d * d <= n:
        if n % d == 0:
            divisors.update((d, n // d))
        d += 1
    return tuple(rf for rf in sorted(divisors) if _is_valid(n_in, n_out, rf))


@lru_cache(maxsize=16384)
def closest_reuse_factor(n_in: int, n_out: int, rf: int) -> int:
    """The reuse factor hls4ml uses for a requested ``rf`` (ties go to the smaller, as in hls4ml)."""
    valid = valid_reuse_factors(n_in, n_out)
    pos = bisect_left(valid, rf)
    if pos < len(valid) and valid[pos] == rf:
        return rf
    if pos == 0:
        return valid[0]
    if pos == len(valid):
        return valid[-1]
    before, after = valid[pos - 1], valid[pos]
    return after if after - rf < rf - before else before
