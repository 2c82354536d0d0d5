"""Canonical metric keys, provenance and error codes: the words every part of hil shares.

Why enums of strings: records are stored as JSON lines and read back by other tools and
later versions, so the stored form is the enum's *value* (a plain lowercase or uppercase
word), never a Python repr.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["METRIC_KEYS", "METRIC_UNITS", "Provenance", "ErrorCode", "FIDELITY_RANK"]

#: Every metric a record may carry, with its unit. BRAM is always counted in 18 Kb blocks.
#: ``lut`` ... ``uram`` are the network kernel's resources (the HLS top function, or its
#: out-of-context synthesis): what a LUT budget counts and the cost model is calibrated on.
#: ``design_lut`` ... ``design_uram`` are a whole block design's (PS wrapper, DMA, interconnect
#: and the kernel), reported apart so they are never taken for the network's cost.
METRIC_UNITS: dict[str, str] = {
    "lut": "LUT",
    "ff": "FF",
    "dsp": "DSP slices",
    "bram_18k": "18 Kb BRAM blocks",
    "uram": "URAM blocks",
    "design_lut": "LUT",
    "design_ff": "FF",
    "design_dsp": "DSP slices",
    "design_bram_18k": "18 Kb BRAM blocks",
    "design_uram": "URAM blocks",
    "ii_cycles": "cycles",
    "latency_cycles": "cycles",
    "clock_mhz": "MHz",
    "throughput_fps": "images/s",
    "latency_ms_p50": "ms",
    "latency_ms_p99": "ms",
    "power_w": "W",
    "accuracy": "fraction",
}
METRIC_KEYS: tuple[str, ...] = tuple(METRIC_UNITS)


class Provenance(str, Enum):
    """Where a number came from, lowest to highest fidelity for hardware figures."""

    ESTIMATE = "estimate"  # analytic cost model
    HLS = "hls"  # HLS csynth report
    SYNTH = "synth"  # Vivado post-synthesis
    IMPL = "impl"  # Vivado post-route
    CSIM = "csim"  # bit-accurate C simulation (accuracy, outputs)
    BITEXACT = "bitexact"  # hil's bit-exact emulator of the C simulation (hil.emulate), checked against it
    BOARD = "board"  # measured on a real board by the agent with the real pynq and a real device
    EMULATED = "emulated"  # an emulated board; its record names the source of its timing
    STANDIN = "standin"  # the agent's real path on a stand-in pynq or pynq device (tests only)


#: Order used to pick the best available hardware number. An emulated figure is never ranked
#: above its source: callers resolve EMULATED to the rank of the provenance it was derived from.
#: A stand-in run ranks lowest of all: its timing is whatever the stand-in device was told to
#: take, so it says nothing about the design (its outputs are still checked).
FIDELITY_RANK: dict[Provenance, int] = {
    Provenance.STANDIN: -1,
    Provenance.ESTIMATE: 0,
    Provenance.HLS: 1,
    Provenance.SYNTH: 2,
    Provenance.IMPL: 3,
    Provenance.CSIM: 3,
    Provenance.BITEXACT: 3,  # the same outputs as csim, element for element (checked on a sample)
    Provenance.BOARD: 4,
}


class ErrorCode(str, Enum):
    """Why a measurement failed; OK when it did not. Stored by name."""

    OK = "OK"
    CONVERT = "CONVERT"
    CSIM = "CSIM"
    HLS = "HLS"
    SYNTH = "SYNTH"
    TIMING = "TIMING"
    RESOURCE_OVERFLOW = "RESOURCE_OVERFLOW"
    BUILD_TIMEOUT = "BUILD_TIMEOUT"
    DEPLOY = "DEPLOY"  # the bundle did not reach or could not start on the board (infrastructure)
    DESIGN_FAULT = "DESIGN_FAULT"  # the design misbehaved on a working board: no DMA, DMA error, hang
    RUN_TIMEOUT = "RUN_TIMEOUT"
    WRONG_ANSWER = "WRONG_ANSWER"  # the board's outputs differ from the bit-exact C simulation
    BOARD_UNREACHABLE = "BOARD_UNREACHABLE"
    BOARD_SETUP = "BOARD_SETUP"  # a missing prerequisite on the board (root, pynq, XRT): fix, --check
    LOW_AGREEMENT = "LOW_AGREEMENT"  # the design agrees with its float reference less than --min-agreement
