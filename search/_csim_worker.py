"""One C-simulation worker process: load the compiled hls4ml library and run a chunk of inputs.

Why a module of its own, importing only numpy and ctypes: workers are *spawned* (not forked from a
process holding torch's OpenMP pool and a heartbeat thread), so each must start fast and light.
Each process loads its own copy of the library, so the design's static line buffers are private.
The call is hls4ml's C bridge for one input and one output, ``<project>_float(in, out)``, exactly
as ``ModelGraph.predict`` calls it, one image at a time.
"""

from __future__ import annotations

import ctypes

import numpy as np

__all__ = ["run_chunk"]


def run_chunk(library: str, function: str, n_out: int, x: np.ndarray) -> np.ndarray:
    """Outputs (len(x), n_out) float32 of the compiled design for float32 inputs ``x``."""
    lib = ctypes.cdll.LoadLibrary(library)
    top = getattr(lib, function)
    pointer = np.ctypeslib.ndpointer(ctypes.c_float, flags="C_CONTIGUOUS")
    top.argtypes = [pointer, pointer]
    top.restype = None
    out = np.zeros((len(x), n_out), dtype=np.float32)
    for i in range(len(x)):
        row = np.zeros(n_out, dtype=np.float32)
        top(np.ascontiguousarray(x[i], dtype=np.float32).reshape(-1), row)
        out[i] = row
    return out
