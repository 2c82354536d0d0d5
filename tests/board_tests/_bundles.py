"""Small bundles for the board tests and benchmark, without hls4ml: a g++-built stand-in C-sim.

Why: most board tests are about transport, leases and faults, not about the network; a 64->10
fixed-point dense layer compiled in ~0.3 s keeps them fast. The end-to-end ``hil measure`` test
uses a real trained model and hls4ml instead.
"""

from __future__ import annotations

import ctypes
import json
import subprocess
from pathlib import Path

import numpy as np

from hil.bundle import BoardBundle, BundleTiming, write_bundle

N_IN, N_OUT = 64, 10
_SOURCE = r"""
#include <math.h>
/* out = round_to_1/256(W x + b): a fixed-point dense layer with the hls4ml C-sim signature. */
void myproject_float(const float *in, float *out) {
    for (int j = 0; j < %(n_out)d; ++j) {
        float acc = 0.125f * (float)(j %% 3);
        for (int i = 0; i < %(n_in)d; ++i) {
            acc += (float)(((i * 7 + j * 13) %% 17) - 8) / 16.0f * in[i];
        }
        out[j] = floorf(acc * 256.0f) / 256.0f;
    }
}
"""


def build_library(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "dense.c"
    source.write_text(_SOURCE % {"n_in": N_IN, "n_out": N_OUT})
    library = folder / "libdense.so"
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", "-o", str(library), str(source), "-lm"], check=True, timeout=60
    )
    return library


def run_library(library: Path, inputs: np.ndarray) -> np.ndarray:
    top = ctypes.CDLL(str(library)).myproject_float
    pointer = ctypes.POINTER(ctypes.c_float)
    top.argtypes, top.restype = [pointer, pointer], None
    out = np.zeros((len(inputs), N_OUT), dtype=np.float32)
    for i, sample in enumerate(inputs):
        x = np.ascontiguousarray(sample, dtype=np.float32)
        top(x.ctypes.data_as(pointer), out[i].ctypes.data_as(pointer))
    return out


def make_bundle(
    folder: Path,
    library: Path,
    *,
    n: int = 32,
    standin_seconds_per_transfer: float | None = None,
    corrupt_outputs: bool = False,
    clock_mhz: float = 200.0,
    timing: BundleTiming | None = None,
) -> BoardBundle:
    """A bundle; with ``standin_seconds_per_transfer`` it also has a stand-in bitstream + hwh."""
    inputs = np.random.default_rng(0).integers(0, 16, (n, 1, 8, 8)).astype(np.float32) / 16.0
    expected = run_library(library, inputs)
    extra: dict[str, Path] = {}
    if standin_seconds_per_transfer is not None:
        scratch = folder.parent / f"{folder.name}-standin"
        scratch.mkdir(parents=True, exist_ok=True)
        bit = scratch / "design.bit"
        bit.write_text(
            json.dumps(
                {
                    "hil_standin_bitstream": 1,
                    "seconds_per_transfer": standin_seconds_per_transfer,
                    "library": "csim.so",
                    "project": "myproject",
                    "clock_mhz": clock_mhz,
                    "corrupt_outputs": corrupt_outputs,
                }
            )
        )
        hwh = scratch / "design.hwh"
        hwh.write_text("<!-- STAND-IN hardware handoff for the pynq stand-in -->\n")
        extra = {"bitstream": bit, "hwh": hwh}
    return write_bundle(
        folder,
        design_key="f" * 64,
        board="loop",
        part="xczu7ev-ffvc1156-2-e",
        inputs=inputs,
        expected=expected,
        clock_mhz=clock_mhz,
        timing=timing or BundleTiming(ii_cycles=100, latency_cycles=250, provenance="hls"),
        csim_library=library,
        **extra,
    )
