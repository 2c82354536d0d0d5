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

__all__ = [
    "COEFFICIENTS",
    "RETIRED",
    "STRUCTURAL",
    "CostParams",
    "default_params",
    "load_params",
    "save_params",
]

_log = logging.getLogger(__name__)

#: name -> (prior, what it prices). Fitted by ``calibrate``; the prior is a physics guess made
#: before looking at data (used when the data cannot identify the coefficient).
_FITTED: dict[str, tuple[float, str]] = {
    # Multiply-accumulate layers, Resource strategy (nnet_dense_resource.h)
    "lut.mac_layer": (300.0, "LUTs of a MAC layer's control logic and FSM"),
    "lut.conv1d_control": (500.0, "LUTs a streaming Conv1D adds: pixel counters, stride logic, window shift"),
    "lut.conv2d_control": (500.0, "LUTs a streaming Conv2D adds: pixel counters, stride logic, window shift"),
    "lut.conv1d_window_bit": (3.0, "LUTs per window bit of a Conv1D: the select that feeds the lanes"),
    "lut.conv2d_window_bit": (3.0, "LUTs per window bit of a Conv2D: the select that feeds the lanes"),
    "lut.input_bit": (3.0, "LUTs per input (or conv window) bit: the select that feeds the lanes"),
    "lut.beat_demux_bit": (
        0.05,
        "LUTs per input bit x log2(beats) of a streaming Dense collecting its input",
    ),
    "lut.mult_bit2": (0.6, "LUTs per weight-bit x input-bit of a multiplier built in fabric"),
    "lut.lane": (10.0, "LUTs per multiplier lane (control)"),
    "lut.lane_bit2": (
        0.8,
        "LUTs per weight-bit x input-bit of a multiplier lane (operand and ROM-word logic)",
    ),
    "lut.conv_tree_window_bit": (
        0.1,
        "LUTs per output x window bit of a convolution whose outputs sum several products per step",
    ),
    "lut.conv_tree_bit": (3.0, "LUTs per accumulator bit of a convolution lane adding into an adder tree"),
    "lut.tree_bit": (3.0, "LUTs per accumulator bit of a lane that adds into an adder tree (multscale > 1)"),
    "lut.acc_bit": (
        3.0,
        "LUTs per accumulator bit of an output accumulated through the index table (rf > n_in)",
    ),
    # Constant weights: Latency strategy, or Resource at reuse 1 (nnet_dense_latency.h)
    "lut.const_layer": (50.0, "LUTs of a constant-weight layer's control"),
    "lut.const_output_bit": (
        1.0,
        "LUTs per accumulator bit of a constant-weight layer's output (bias add, register)",
    ),
    "lut.const_mult_bit2": (0.4, "LUTs per weight-bit x input-bit of a constant multiply in shift-add logic"),
    "lut.const_adder_bit": (1.0, "LUTs per accumulator bit of each nonzero product's adder"),
    # Casts (every layer's output, activations, quantizers)
    "lut.round_bit": (1.0, "LUTs per result bit of a rounding cast (incrementer)"),
    "lut.sat_bit": (1.0, "LUTs per compared/clamped bit of a saturating cast"),
    "lut.narrow_bit": (0.5, "LUTs per bit a cast drops (HLS's estimate of the narrowing logic)"),
    # Element-wise layers
    "lut.act_layer": (50.0, "LUTs of an element-wise layer's loop control"),
    "lut.act_bit": (1.0, "LUTs per input bit of a compare-and-select activation (ReLU)"),
    "lut.bn_bit": (1.0, "LUTs per result bit of batch norm's bias add"),
    "lut.pool_layer": (100.0, "LUTs of a pooling layer's control and window logic"),
    "lut.pool_bit": (1.0, "LUTs per input bit of the pooling compare/add tree"),
    "lut.softmax_layer": (300.0, "LUTs of softmax control and the sum"),
    "lut.softmax_value": (200.0, "LUTs per softmax value (table index, compare, select)"),
    # Streams and the top level
    "lut.fifo": (20.0, "LUTs of one stream FIFO's control"),
    "lut.design": (100.0, "LUTs of the top-level glue"),
    "ff.mac_layer": (300.0, "FFs of a MAC layer's control"),
    "ff.input_bit": (1.0, "FFs per input bit of a Dense layer: input registers"),
    "ff.conv1d_window_bit": (1.0, "FFs per window bit of a Conv1D"),
    "ff.conv2d_window_bit": (1.0, "FFs per window bit of a Conv2D"),
    "ff.lane_bit": (1.0, "FFs per product bit (weight + input) of a lane's pipeline"),
    "ff.acc_bit": (
        1.0,
        "FFs per accumulator bit of an output accumulated through the index table (rf > n_in)",
    ),
    "ff.const_output_bit": (1.0, "FFs per accumulator bit of a constant-weight layer's output"),
    "ff.conv_tree_window_bit": (
        0.05,
        "FFs per output x window bit of a convolution whose outputs sum several products per step",
    ),
    "ff.tree_bit": (1.0, "FFs per accumulator bit of a lane that adds into an adder tree"),
    "ff.const_layer": (50.0, "FFs of a constant-weight layer's control"),
    "ff.const_adder_bit": (0.5, "FFs per accumulator bit of each nonzero product (adder-tree pipeline)"),
    "ff.const_conv_bit": (
        0.5,
        "FFs per accumulator bit of each nonzero product of a pipelined streaming convolution",
    ),
    "ff.act_layer": (10.0, "FFs of an element-wise layer's control"),
    "ff.act_bit": (0.1, "FFs per result bit of an element-wise layer"),
    "ff.bn_bit": (1.0, "FFs per result bit of batch norm"),
    "ff.pool_layer": (50.0, "FFs of a pooling layer's control"),
    "ff.pool_bit": (1.0, "FFs per window bit of pooling"),
    "ff.softmax_value": (80.0, "FFs per softmax value"),
    "ff.fifo": (10.0, "FFs of one stream FIFO's control"),
    "ff.fifo_bit": (1.0, "FFs per data bit of a stream FIFO (registered output)"),
    "ff.tight_lane_bit": (2.0, "tight clock: extra FFs per accumulator bit of a lane"),
    "ff.tight_input_bit": (1.0, "tight clock: extra FFs per input (window) bit"),
    "lut.tight_lane_bit": (0.5, "tight clock: extra LUTs per accumulator bit of a lane"),
    "ff.design": (50.0, "FFs of the top-level glue"),
    "dsp.const_fraction_wide": (0.7, "constant multiplies (both operands >= 10 bits) HLS keeps in DSPs"),
    "dsp.const_fraction_wide_weight": (
        0.1,
        "constant multiplies of a >= 10-bit weight by a < 10-bit input kept in DSPs",
    ),
    "dsp.const_fraction_narrow_weight": (
        0.03,
        "constant multiplies of a < 10-bit weight by a >= 10-bit input kept in DSPs",
    ),
    "dsp.const_fraction_narrow": (0.0, "constant multiplies with both operands < 10 bits kept in DSPs"),
    "dsp.batchnorm_fraction": (1.0, "batch-norm scale multiplies kept in DSPs"),
}
_LATENCY: dict[str, tuple[float, str]] = {
    "reuse": (1.0, "cycles per output pixel x reuse step of an io_parallel convolution"),
    "mac_depth": (5.0, "pipeline depth of a Resource-strategy kernel call, cycles"),
    "fanin_log2": (1.0, "cycles per doubling of the products summed per output"),
    "beat": (1.0, "cycles per input stream beat a Dense layer reads"),
    "const_depth": (2.0, "pipeline depth of a constant-weight kernel, cycles"),
    "const_fanin_log2": (0.5, "cycles per doubling of a constant-weight kernel's fan-in"),
    "const_conv_pixel": (1.0, "cycles per input pixel x reuse of a pipelined (Latency) convolution"),
    "conv_pixel.vitis": (
        5.0,
        "Vitis HLS: cycles per input pixel (shift, window, call) of a streaming convolution",
    ),
    "conv_out_reuse.vitis": (
        0.0,
        "Vitis HLS: cycles per output pixel x reuse step of a streaming convolution",
    ),
    "conv_pixel_reuse.vivado": (
        0.5,
        "Vivado HLS: cycles per input pixel x reuse step of a streaming convolution",
    ),
    "conv_pixel.vivado": (3.0, "Vivado HLS: cycles per input pixel of a streaming convolution"),
    "conv_out_reuse.vivado": (
        0.5,
        "Vivado HLS: cycles per output pixel x reuse step of a streaming convolution",
    ),
    "elementwise_depth": (1.0, "pipeline depth of an element-wise layer, cycles"),
    "pool_depth": (3.0, "pipeline depth of a pooling layer, cycles"),
    "softmax_log2": (2.0, "softmax cycles per doubling of its inputs"),
    "stage": (1.0, "cycles each further dataflow stage adds to the slowest one (io_stream)"),
    "tight_conv_pixel": (10.0, "tight clock: extra cycles per input pixel of a streaming convolution"),
}
for _metric in ("latency", "latency_min"):
    for _name, (_prior, _text) in _LATENCY.items():
        _FITTED[f"{_metric}.{_name}"] = (_prior, ("best case: " if _metric == "latency_min" else "") + _text)
COEFFICIENTS: dict[str, tuple[float, str]] = _FITTED

#: Structural constants: read from hls4ml's templates, the tools' documented rules and the data,
#: not least-squares fitted.
STRUCTURAL: dict[str, tuple[float, str]] = {
    # Post-synthesis / csynth, per metric: set by ``calibrate`` from kernel-scope Vivado syntheses
    # (median over the designs that have one); priors from the hls4ml community's rule of thumb.
    "synth.lut_ratio": (0.5, "Vivado synthesis LUTs per csynth-estimated LUT (same kernel)"),
    "synth.ff_ratio": (0.75, "Vivado synthesis FFs per csynth-estimated FF"),
    "synth.dsp_ratio": (1.0, "Vivado synthesis DSPs per csynth-estimated DSP"),
    "synth.bram_18k_ratio": (0.75, "Vivado synthesis BRAM18 per csynth-estimated BRAM18"),
    "mult.lut_max_narrow_bits": (2.0, "products with an operand at most this wide are built in fabric"),
    "mult.tree_narrow_bits": (10.0, "a tree of products at most this wide keeps only part of it in DSPs"),
    "mult.const_narrow_bits": (9.0, "constant-multiply operands at most this wide count as narrow"),
    "dsp.resource_tree_fraction": (
        0.6,
        "share of a narrow product tree's multiplies in DSPs "
        "(csynth: 1/1/3/5/8 DSPs for 1/2/5/9/13 products)",
    ),
}


#: Names used by params files of the first model (hil.cost.params/1 before the template-based
#: model); they still load, and are ignored, so an old file never fails to load.
RETIRED: frozenset[str] = frozenset(
    {
        "bram.acc_outputs_per_lane", "bram.lutram_remainder_bits", "bram.min_rom_bits",
        "dsp.latency_const_fraction", "ff.input_bit_dense", "ff.lane_adder_bit", "ff.latency_mac_bit",
        "ff.layer", "ff.output_acc_bit", "ff.window_bit_conv", "fifo.srl_max_depth",
        "latency.latency_pixel", "latency.layer", "latency.pixel", "latency.pixel_reuse",
        "latency_min.latency_pixel", "latency_min.layer", "latency_min.pixel", "lut.lane_adder_bit",
        "lut.latency_mac_bit", "lut.layer", "lut.lut_mult_bit2", "lut.output_tree_bit",
        "mult.lut_max_bits", "mult.lut_min_bits",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CostParams:
    """A complete parameter set.

    Attributes:
        coefficients: every name of COEFFICIENTS and STRUCTURAL with its value.
        fitted_on: the data files (or labels) the coefficients were fitted on.
        domain: the layer kinds (``domain_key``: class, strategy, io_type, precision range) the
            fitting data contained; a layer outside it is ``extrapolated``.
        notes: free-form provenance of the fit (rows, method, cross-validation figures).
    """

    coefficients: dict[str, float]
    fitted_on: tuple[str, ...] = ()
    domain: tuple[str, ...] = ()
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
        object.__setattr__(self, "_domain_set", frozenset(self.domain))

    def in_domain(self, key: str) -> bool:
        """True when the calibration data held layers of this ``domain_key``."""
        return key in self._domain_set  # type: ignore[attr-defined]

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
            "domain": list(self.domain),
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
    unknown = sorted(set(coeffs) - set(COEFFICIENTS) - set(STRUCTURAL) - RETIRED)
    if unknown:
        raise ConfigError(f"{where}: unknown coefficient(s) {unknown}")
    values = {k: v for k, (v, _) in COEFFICIENTS.items()}
    values.update({k: v for k, (v, _) in STRUCTURAL.items()})
    given = {str(k): v for k, v in coeffs.items() if k not in RETIRED}
    missing = sorted(set(values) - set(given))
    notes = dict(raw.get("notes", {})) if isinstance(raw.get("notes", {}), dict) else {}
    if missing:
        # An older file: what it lacks takes the prior, and the file says so.
        _log.warning("%s: %d coefficient(s) missing, using their priors (recalibrate)", where, len(missing))
        notes["priors_for_missing"] = missing
    values.update(given)
    try:
        return CostParams(
            coefficients=values,
            fitted_on=tuple(str(s) for s in raw.get("fitted_on", [])),
            domain=tuple(str(s) for s in raw.get("domain", [])),
            notes=notes,
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
