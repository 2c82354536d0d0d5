"""The emulator's ap_fixed casts against g++ running hls4ml's ap_types: every rounding and overflow mode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hil.emulate._fixed import ROUNDING_MODES, SATURATION_MODES, FixedType
from tests.emulate_tests._cpp import run_cpp

#: Source values: every mantissa of ap_fixed<16,6> in a range that overflows the targets both ways.
_SOURCE = np.arange(-6000, 6001, dtype=np.int64)
_SOURCE_FRAC = 10
_TARGETS = [(5, 2, True), (5, 2, False), (4, -1, True), (6, 7, True)]


def _cpp_casts(tmp_path: Path) -> dict[str, np.ndarray]:
    """Raw bits of each source value cast (from ap_fixed and from double) to each target type."""
    lines = ['#include "ap_fixed.h"', "#include <cstdio>", "template <class T> void run(const char* n) {"]
    lines += [
        "  for (int i = -6000; i <= 6000; i++) {",
        "    ap_fixed<16, 6> s = ap_fixed<16, 6>(i / 1024.0);",
        "    T a = s; T b = (i / 1024.0) * 1.0000001;",
        '    printf("%s %llu %llu\\n", n, (unsigned long long)a.range(T::width - 1, 0).to_uint64(),',
        "           (unsigned long long)b.range(T::width - 1, 0).to_uint64());",
        "  }",
        "}",
        "int main() {",
    ]
    for w, i, signed in _TARGETS:
        for q in ROUNDING_MODES:
            for o in SATURATION_MODES:
                name = f"{'' if signed else 'u'}{w}_{i}_{q}_{o}"
                lines.append(f'  run<ap_{"" if signed else "u"}fixed<{w}, {i}, AP_{q}, AP_{o}>>("{name}");')
    lines += ["  return 0;", "}"]
    out: dict[str, list[tuple[int, int]]] = {}
    for row in run_cpp("\n".join(lines), tmp_path).splitlines():
        name, a, b = row.split()
        out.setdefault(name, []).append((int(a), int(b)))
    return {k: np.array(v, dtype=np.int64) for k, v in out.items()}


@pytest.mark.slow
def test_every_rounding_and_overflow_mode_matches_ap_fixed(tmp_path: Path) -> None:
    expected = _cpp_casts(tmp_path)
    assert len(expected) == len(_TARGETS) * len(ROUNDING_MODES) * len(SATURATION_MODES)
    doubles = _SOURCE / 1024.0 * 1.0000001
    mismatches = []
    for w, i, signed in _TARGETS:
        for q in ROUNDING_MODES:
            for o in SATURATION_MODES:
                t = FixedType(w, i, signed, q, o)
                name = f"{'' if signed else 'u'}{w}_{i}_{q}_{o}"
                from_fixed = t.raw_bits(t.cast(_SOURCE, _SOURCE_FRAC))
                from_double = t.raw_bits(t.from_float(doubles))
                if not np.array_equal(from_fixed, expected[name][:, 0]):
                    mismatches.append(f"{name} from ap_fixed")
                if not np.array_equal(from_double, expected[name][:, 1]):
                    mismatches.append(f"{name} from double")
    assert mismatches == []


def test_cast_rounds_half_to_even_and_saturates_symmetrically() -> None:
    t = FixedType(4, 2, True, "RND_CONV", "SAT_SYM")  # step 0.25, range [-2, 1.75]
    m = np.array([1, 3, 5, -1, -3, 100, -100, -32])  # values in 1/8: 0.125 0.375 0.625 ...
    assert t.to_float(t.cast(m, 3)).tolist() == [0.0, 0.5, 0.5, 0.0, -0.5, 1.75, -1.75, -1.75]
    assert t.to_float(t.cast(np.array([-16]), 3)).tolist() == [-1.75]  # ap_fixed: the minimum too


def test_a_cast_that_cannot_change_a_value_is_skipped_only_when_the_source_fits() -> None:
    rng = np.random.default_rng(0)
    narrow, wide = FixedType(6, 2, False, "RND_CONV", "SAT"), FixedType(10, 4, True, "TRN", "WRAP")
    m = rng.integers(narrow.min_int, narrow.max_int + 1, 1000)
    assert wide.contains(narrow, 0) and not narrow.contains(wide, 0)
    assert np.array_equal(wide.cast(m, narrow.frac, narrow), wide.cast(m, narrow.frac))
    w = rng.integers(wide.min_int, wide.max_int + 1, 1000)
    assert np.array_equal(narrow.cast(w, wide.frac, wide), narrow.cast(w, wide.frac))
    sym = FixedType(6, 2, True, "TRN", "SAT_SYM")
    assert not sym.contains(FixedType(6, 2, True)) and sym.cast(np.array([-32]), 4, FixedType(6, 2))[0] == -31


def test_softmax_table_slices_wider_than_the_type_follow_ap_fixed() -> None:
    """hls4ml slices a table address out of the input's top bits; a 16-entry table on a 3-bit type
    gives ap_fixed a negative low bound. The values below were printed by g++ on hls4ml's ap_types."""
    from hil.emulate._tables import slice_index, slice_values

    u3 = FixedType(3, 0, False)
    assert slice_index(u3, np.arange(8), 32).tolist() == [0, 4, 0, 4, 0, 4, 0, 4]
    assert slice_index(FixedType(3, 1), np.array([0, 1, 2, 3, -4, -3, -2, -1]), 16).tolist() == [
        0, 2, 4, 6, 0, 2, 4, 6,
    ]  # fmt: skip
    assert (slice_values(u3, 16) * 8).tolist() == list(range(8)) * 2
    assert slice_index(u3, np.arange(8), 4).tolist() == [0, 0, 1, 1, 2, 2, 3, 3]
