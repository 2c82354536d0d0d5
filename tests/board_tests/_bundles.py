"""Small bundles for the board tests and benchmark, without hls4ml: a g++-built stand-in C-sim.

Why: most board tests are about transport, leases and faults, not about the network; a 64->10
fixed-point dense layer compiled in ~0.3 s keeps them fast. The end-to-end ``hil measure`` test
uses a real trained model and hls4ml instead. A bundle for the agent's real path carries a real
Vivado ``.hwh`` from ../shared/hwh and a bitstream for the stand-in PYNQ device
(``pynq_device/``) that the real pynq drives.
"""

from __future__ import annotations

import ctypes
import dataclasses
import shutil
import subprocess
from dataclasses import dataclass
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


#: The real hardware handoffs in ../shared/hwh, by the board they were built for.
HWH = {
    "zcu104": ("hwh/zcu104_pynq-helloworld-resizer_viv2019.1_resizer.hwh", "xczu7ev-ffvc1156-2-e"),
    "pynq-z2": ("hwh/pynqz2_hls4ml-va_viv2020.1_spehic_design_1.hwh", "xc7z020clg400-1"),
}


@dataclass(frozen=True)
class OverlaySpec:
    """How the stand-in device behind a real .hwh behaves (see pynq_device/hil_standin_device.py)."""

    seconds_per_transfer: float = 0.01
    seconds_per_image: float = 0.0
    hwh: str = "zcu104"
    corrupt_batch_transfer: int = 0
    corrupt_image: int = 0
    hang: bool = False
    idle_w: float = 7.5
    busy_w: float = 9.25


def make_bundle(
    folder: Path,
    library: Path,
    *,
    n: int = 32,
    overlay: OverlaySpec | None = None,
    clock_mhz: float = 200.0,
    timing: BundleTiming | None = None,
    reference: np.ndarray | None = None,
) -> BoardBundle:
    """A bundle; with ``overlay`` it also has a real .hwh and a stand-in-device bitstream.

    ``reference`` defaults to the library's own outputs (a design that agrees with its reference).
    """
    inputs = np.random.default_rng(0).integers(0, 16, (n, 1, 8, 8)).astype(np.float32) / 16.0
    expected = run_library(library, inputs)
    extra: dict[str, Path] = {}
    if overlay is not None:
        from tests._shared import require_shared
        from tests.board_tests.pynq_device.standin_bitstream import write_bitstream

        relative, part = HWH[overlay.hwh]
        scratch = folder.parent / f"{folder.name}-overlay"
        scratch.mkdir(parents=True, exist_ok=True)
        design = {"n_in": N_IN, "n_out": N_OUT, "library": "csim.so", "top": "myproject_float"}
        design.update(dataclasses.asdict(overlay))
        bit = write_bitstream(scratch / "design.bit", design, part=part)
        hwh = scratch / "design.hwh"
        shutil.copyfile(require_shared(relative), hwh)
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
        reference=expected if reference is None else reference,
        **extra,
    )
