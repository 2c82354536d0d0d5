"""Cost-model parameters: named, physically meaningful coefficients, loaded from one JSON file.

Why named coefficients with priors: each one prices one piece of hardware (an input register bit,
an adder bit of a multiplier lane, a cycle per reuse step), so a fitted value can be checked
against intuition, and a coefficient that the calibration data cannot pin down (e.g. the Latency
strategy when the only such row is held out) falls back to its prior instead of to zero.
"""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from hil.errors import ConfigError

__all__ = ["COEFFICIENTS", "CostParams", "default_params", "load_params", "save_params"]

_log = logging.getLogger(__name__)

#: name -> (prior, what it prices). Fitted by ``calibrate``; the prior is a physics guess made
#: before looking at data (used when the data cannot identify the coefficient).
COEFFICIENTS: dict[str, tuple[float, str]] = {
    "lut.layer": (300.0, "LUTs of a layer's control logic and FSM"),
    "lut.input_bit": (2.0, "LUTs per bit of the kernel's input vector (input select/fan-out)"),
    "lut.lane_adder_bit": (
        8.0,
        "LUTs per effective bit (terms.lane_bits) of a multiplier lane when rf < n_in "
        "(several lanes add into one output per cycle: adder tree and index muxes in fabric)",
    ),
    "lut.output_tree_bit": (1.0, "LUTs per accumulator bit of an output, times log2(fan-in)"),
    "lut.latency_mac_bit": (
        8.0,
        "Latency strategy: LUTs per effective bit (terms.lane_bits) of each multiply "
        "(constant multiplies in shift-add logic plus the adder tree)",
    ),
    "ff.layer": (300.0, "FFs of a layer's control logic"),
    "ff.input_bit_dense": (2.0, "FFs per bit of a Dense layer's input vector (pipeline copies)"),
    "ff.window_bit_conv": (1.0, "FFs per bit of a convolution's window (line-buffer shift registers)"),
    "ff.lane_bit": (1.0, "FFs per product bit (weight + activation) of a multiplier lane"),
    "ff.lane_adder_bit": (1.0, "FFs per accumulator bit of a lane when rf < n_in"),
    "ff.output_acc_bit": (1.0, "FFs per full-precision accumulator bit of an output"),
    "ff.latency_mac_bit": (2.0, "Latency strategy: FFs per accumulator bit of each multiply"),
    "dsp.latency_const_fraction": (
        0.5,
        "Latency strategy: fraction of constant multiplies HLS keeps in DSPs",
    ),
    "latency.layer": (3.0, "pipeline depth of a layer, cycles"),
    "latency.reuse": (1.0, "cycles per reuse step of one kernel call"),
    "latency.fanin_log2": (1.0, "cycles per doubling of the kernel's fan-in (adder tree depth)"),
    "latency.pixel": (1.0, "cycles per input pixel of a streaming convolution"),
    "latency.pixel_reuse": (1.0, "cycles per reuse step per output pixel of a streaming convolution"),
    "latency.latency_pixel": (1.0, "Latency strategy: cycles per input pixel of a streaming convolution"),
    "latency_min.layer": (3.0, "best-case pipeline depth, cycles"),
    "latency_min.reuse": (1.0, "best-case cycles per reuse step (Dense)"),
    "latency_min.fanin_log2": (1.0, "best-case cycles per doubling of fan-in"),
    "latency_min.pixel": (1.0, "best-case cycles per input pixel of a streaming convolution"),
    "latency_min.latency_pixel": (1.0, "Latency strategy: best-case cycles per input pixel"),
}

#: Structural constants: read from the data and hls4ml's code, not least-squares fitted.
STRUCTURAL: dict[str, tuple[float, str]] = {
    "bram.min_rom_bits": (2048.0, "weight ROMs below this many bits go to LUTRAM, not BRAM"),
    "bram.lutram_remainder_bits": (9.0, "a reshaped weight word's last <= this many bits go to LUTRAM"),
    "bram.acc_outputs_per_lane": (
        8.0,
        "rf > n_in with this many outputs per lane puts accumulators in a BRAM",
    ),
    "mult.lut_max_bits": (10.0, "products with both operands at most this wide go to LUTs"),
    "mult.lut_min_bits": (4.0, "products with an operand at most this wide go to LUTs"),
    "lut.lut_mult_bit2": (0.6, "LUTs per weight-bit x activation-bit of a multiply in fabric"),
    "fifo.srl_max_depth": (64.0, "stream FIFOs at most this deep are SRL shift registers (LUTs)"),
}


@dataclass(frozen=True)
class CostParams:
    """A complete parameter set.

    Attributes:
        coefficients: every name of COEFFICIENTS and STRUCTURAL with its value.
        fitted_on: the data files (or labels) the coefficients were fitted on.
        calibrated_kinds: layer kinds that the fitting data contained.
        calibrated_bits: precisions (total bits) that the fitting data contained.
    """

    coefficients: dict[str, float]
    fitted_on: tuple[str, ...] = ()
    calibrated_kinds: tuple[str, ...] = ("dense", "conv1d")
    calibrated_bits: tuple[int, ...] = (16,)
    notes: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        missing = sorted((set(COEFFICIENTS) | set(STRUCTURAL)) - set(self.coefficients))
        if missing:
            raise ConfigError(f"cost-model params lack coefficient(s) {missing}")
        for name, value in self.coefficients.items():
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not math.isfinite(value)
                or value < 0
            ):
                raise ConfigError(f"cost-model coefficient {name}={value!r} must be a finite number >= 0")

    @classmethod
    def priors(cls) -> CostParams:
        """Parameters before any calibration (the physics guesses)."""
        values = {k: v for k, (v, _) in COEFFICIENTS.items()}
        values.update({k: v for k, (v, _) in STRUCTURAL.items()})
        return cls(coefficients=values, fitted_on=(), notes={"origin": "priors"})

    def to_dict(self) -> dict[str, Any]:
        """JSON form, the layout of params files."""
        return {
            "format": "hil.cost.params/1",
            "coefficients": dict(sorted(self.coefficients.items())),
            "fitted_on": list(self.fitted_on),
            "calibrated_kinds": list(self.calibrated_kinds),
            "calibrated_bits": list(self.calibrated_bits),
            "notes": self.notes,
        }


def _from_dict(raw: Any, where: str) -> CostParams:
    if not isinstance(raw, dict) or raw.get("format") != "hil.cost.params/1":
        raise ConfigError(
            f'{where}: not a hil cost-model params file (expected "format": "hil.cost.params/1")'
        )
    coeffs = raw.get("coefficients")
    if not isinstance(coeffs, dict):
        raise ConfigError(f'{where}: "coefficients" must be an object of name: number')
    unknown = sorted(set(coeffs) - set(COEFFICIENTS) - set(STRUCTURAL))
    if unknown:
        raise ConfigError(f"{where}: unknown coefficient(s) {unknown}")
    try:
        return CostParams(
            coefficients={str(k): v for k, v in coeffs.items()},
            fitted_on=tuple(str(s) for s in raw.get("fitted_on", [])),
            calibrated_kinds=tuple(str(s) for s in raw.get("calibrated_kinds", [])),
            calibrated_bits=tuple(int(b) for b in raw.get("calibrated_bits", [])),
            notes=dict(raw.get("notes", {})),
        )
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None


def load_params(path: str | os.PathLike[str]) -> CostParams:
    """Read a params file written by ``save_params`` / ``hil costmodel calibrate``."""
    source = Path(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such params file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{source}: cannot read params file ({exc})") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}:{exc.lineno}: not JSON ({exc.msg})") from None
    return _from_dict(raw, str(source))


def save_params(params: CostParams, path: str | os.PathLike[str]) -> None:
    """Write a params file (sorted keys, so diffs between calibrations stay readable)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(params.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")


_DEFAULT: CostParams | None = None


def default_params() -> CostParams:
    """The parameters shipped with hil (fitted on the N-TORC data), cached after the first read."""
    global _DEFAULT
    if _DEFAULT is None:
        text = resources.files("hil.cost").joinpath("default_params.json").read_text(encoding="utf-8")
        _DEFAULT = _from_dict(json.loads(text), "hil/cost/default_params.json")
    return _DEFAULT
