"""Reader of the design-description format of ``../shared/costdata/lowbit`` (``format_version`` 1).

One JSON object per line describes one hls4ml design as synthesized: its layers (hls4ml layer classes
with precision strings, shapes, reuse, strategy, pruning), its part, clock and tools, and its HLS
(csynth) figures for the whole design and, where the project had them, per layer. The reader takes
the whole format (every class and key of the format's README), not only what one file holds, and
names the line, the layer and the key of anything it cannot read.

Example (one layer, abridged)::

    {"format_version": 1, "id": "d1", "family": "f", "part": "xc7a35tcpg236-1", "clock_target_ns": 10,
     "io_type": "io_stream", "backend": "Vitis", "tool": {"hls": "Vitis HLS 2024.2"},
     "layers": [{"class": "Input", "in_shape": [8], "out_shape": [8], "result_t": "ap_fixed<8,3>"},
                {"class": "Dense", "in_shape": [8], "out_shape": [4], "strategy": "Resource",
                 "reuse_factor": 8, "reuse_factor_effective": 8, "input_t": "ap_fixed<8,3>",
                 "weight_t": "ap_fixed<6,2>", "bias_t": "ap_fixed<6,2>", "accum_t": "ap_fixed<18,8>",
                 "result_t": "ap_fixed<18,8>", "n_zeros": 3, "truth": null}],
     "truth": {"level": "hls", "lut": 900, "ff": 700, "dsp": 4, "bram_18k": 1, "uram": 0,
               "latency_min": 20, "latency_max": 21, "ii_min": 8, "ii_max": 9}}
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hil.cost._parts import part_resources
from hil.cost._precision import Precision, parse_precision
from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy
from hil.cost._target import Target, target_for
from hil.errors import InputError

__all__ = ["DesignRow", "LayerTruth", "TRUTH_KEYS", "is_design_file", "read_designs"]

_log = logging.getLogger(__name__)

#: truth key of the format -> metric name of the cost model's checks.
TRUTH_KEYS: dict[str, str] = {
    "lut": "lut",
    "ff": "ff",
    "dsp": "dsp",
    "bram_18k": "bram_18k",
    "uram": "uram",
    "latency_max": "latency",
    "latency_min": "latency_min",
    "ii_max": "ii",
}
_CONFIDENCE_WEIGHT = {"high": 1.0, "medium": 0.5, "low": 0.1}


@dataclass(frozen=True)
class LayerTruth:
    """One layer's own csynth figures: ``index`` into the design's ``layers``."""

    index: int
    name: str
    truth: dict[str, float]


@dataclass(frozen=True)
class DesignRow:
    """One design of the file, read into cost-model terms."""

    design_id: str
    family: str
    layers: tuple[LayerSpec, ...]
    truth: dict[str, float]
    layer_truth: tuple[LayerTruth, ...]
    target: Target
    part: str
    part_resources: dict[str, float] | None
    confidence: str
    line: int
    truth_synth: dict[str, float] | None = None


def is_design_file(path: Path) -> bool:
    """True when the first JSON object of a JSON-lines file is a design description (format_version)."""
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    first = json.loads(line)
                    return isinstance(first, dict) and "format_version" in first
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return False


def read_designs(path: Path) -> list[DesignRow]:
    """Read every design of a design-description file.

    Raises:
        InputError: a line is not JSON, lacks a key, has an unknown layer class, or a precision,
            shape or number it cannot read; the message names the file, line, layer and key.
    """
    rows: list[DesignRow] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict):
            raise InputError(f"{where}: expected a JSON object")
        rows.append(_design(raw, where, number))
    if not rows:
        raise InputError(f"{path}: no designs")
    return rows


def _need(raw: dict[str, Any], key: str, where: str) -> Any:
    if key not in raw:
        raise InputError(f"{where}: missing key '{key}'")
    return raw[key]


def _design(raw: dict[str, Any], where: str, number: int) -> DesignRow:
    version = _need(raw, "format_version", where)
    if version != 1:
        raise InputError(f"{where}: format_version {version!r} not supported (this reader knows 1)")
    design_id = str(_need(raw, "id", where))
    where = f"{where} ({design_id})"
    io_raw = str(_need(raw, "io_type", where)).lower()
    if io_raw not in ("io_stream", "io_parallel"):
        raise InputError(f"{where}, key 'io_type': {io_raw!r} is not io_stream or io_parallel")
    io = IOType(io_raw)
    tool = raw.get("tool") or {}
    if not isinstance(tool, dict):
        raise InputError(f"{where}, key 'tool': expected an object")
    clock_ns = _number(_need(raw, "clock_target_ns", where), f"{where}, key 'clock_target_ns'")
    uncertainty = raw.get("clock_uncertainty_ns")
    target = target_for(
        part=str(_need(raw, "part", where)),
        hls=tool.get("hls"),
        backend=raw.get("backend"),
        clock_ns=clock_ns,
        uncertainty_ns=None
        if uncertainty is None
        else _number(uncertainty, f"{where}, key 'clock_uncertainty_ns'"),
    )
    layers_raw = _need(raw, "layers", where)
    if not isinstance(layers_raw, list) or not layers_raw:
        raise InputError(f"{where}, key 'layers': expected a non-empty list")
    specs: list[LayerSpec] = []
    layer_truth: list[LayerTruth] = []
    for i, layer in enumerate(layers_raw):
        lwhere = f"{where}, layers[{i}]"
        if not isinstance(layer, dict):
            raise InputError(f"{lwhere}: expected an object")
        spec = _layer(layer, lwhere, io)
        if spec is None:
            continue
        truth = _truth(layer.get("truth"), f"{lwhere}, key 'truth'")
        if truth:
            layer_truth.append(LayerTruth(len(specs), spec.name, truth))
        specs.append(spec)
    if not specs:
        raise InputError(f"{where}: no layers besides Input")
    truth = _truth(_need(raw, "truth", where), f"{where}, key 'truth'")
    resources = raw.get("part_resources")
    if resources is not None and not isinstance(resources, dict):
        raise InputError(f"{where}, key 'part_resources': expected an object or null")
    part = str(raw["part"])
    return DesignRow(
        truth_synth=_synth_truth(raw.get("truth_vivado"), f"{where}, key 'truth_vivado'"),
        design_id=design_id,
        family=str(raw.get("family") or "unknown"),
        layers=tuple(specs),
        truth=truth,
        layer_truth=tuple(layer_truth),
        target=target,
        part=part,
        part_resources=(
            {k: float(v) for k, v in resources.items() if isinstance(v, (int, float))}
            if resources
            else part_resources(part)
        ),
        confidence=str(raw.get("confidence") or "high"),
        line=number,
    )


def _synth_truth(raw: Any, where: str) -> dict[str, float] | None:
    """Post-synthesis figures of the hls4ml kernel alone (``truth_vivado`` with scope kernel).

    A whole block design (DMA, processor system) is not comparable with the kernel's csynth report,
    and neither is a routed one with a synthesized one: only ``level`` synth, ``scope`` kernel counts.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object or null")
    if raw.get("scope") != "kernel" or raw.get("level") != "synth":
        return None
    return _truth(raw, where) or None


def confidence_weight(confidence: str) -> float:
    """Calibration weight of a design by its ``confidence``."""
    return _CONFIDENCE_WEIGHT.get(confidence, 0.5)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"{where}: {value!r} is not a number")
    return float(value)


def _truth(raw: Any, where: str) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{where}: expected an object or null")
    out: dict[str, float] = {}
    for key, metric in TRUTH_KEYS.items():
        value = raw.get(key)
        if value is not None:
            number = _number(value, f"{where}.{key}")
            if number < 0:
                raise InputError(f"{where}.{key}: {number} must be >= 0")
            out[metric] = number
    return out


def _shape(layer: dict[str, Any], key: str, where: str) -> tuple[int, ...]:
    value = _need(layer, key, where)
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and v > 0 for v in value):
        raise InputError(f"{where}, key '{key}': expected a list of positive integers, got {value!r}")
    return tuple(value)


def _precision(layer: dict[str, Any], key: str, where: str, default: Precision | None = None) -> Precision:
    value = layer.get(key)
    if value is None:
        if default is not None:
            return default
        raise InputError(f"{where}: missing key '{key}'")
    try:
        return parse_precision(str(value))
    except InputError as exc:
        raise InputError(f"{where}, key '{key}': {exc}") from None


def _ints(layer: dict[str, Any], key: str, where: str, default: tuple[int, ...] = ()) -> tuple[int, ...]:
    value = layer.get(key)
    if value is None:
        return default
    if isinstance(value, int):
        return (value,)
    if not isinstance(value, list) or not all(isinstance(v, int) and v > 0 for v in value):
        raise InputError(f"{where}, key '{key}': expected positive integers, got {value!r}")
    return tuple(value)


def _types(layer: dict[str, Any], where: str) -> dict[str, Any]:
    """The spec fields that the input and result precisions set."""
    result = _precision(layer, "result_t", where)
    source = _precision(layer, "input_t", where, default=result)
    return {
        "act_bits": source.width,
        "act_signed": source.signed,
        "act_int_bits": source.integer,
        "result_bits": result.width,
        "result_signed": result.signed,
        "result_int_bits": result.integer,
        "result_rounding": result.rounding,
        "result_saturation": result.saturation,
    }


def _mac(layer: dict[str, Any], where: str, kind: LayerKind, common: dict[str, Any]) -> LayerSpec:
    weight = _precision(layer, "weight_t", where)
    accum = _precision(layer, "accum_t", where, default=_precision(layer, "result_t", where))
    strategy_raw = str(layer.get("strategy") or "Latency").lower()
    strategy = Strategy.RESOURCE if strategy_raw.startswith("resource") else Strategy.LATENCY
    effective = layer.get("reuse_factor_effective")
    requested = layer.get("reuse_factor")
    reuse = effective if isinstance(effective, int) and effective > 0 else requested
    if not isinstance(reuse, int) or reuse < 1:
        raise InputError(f"{where}, key 'reuse_factor': expected an integer >= 1, got {reuse!r}")
    n_zeros = layer.get("n_zeros")
    fields: dict[str, Any] = {
        **common,
        "weight_bits": weight.width,
        "weight_int_bits": weight.integer,
        "acc_bits": accum.width,
        "acc_int_bits": accum.integer,
        "reuse_factor": reuse,
        "strategy": strategy,
        "n_zeros": int(n_zeros) if isinstance(n_zeros, int) and n_zeros > 0 else 0,
        "use_bias": bool(layer.get("use_bias", True)),
    }
    if kind is not LayerKind.DENSE:
        dims = len(common["in_shape"]) - 1
        fields["kernel"] = _ints(layer, "kernel", where)
        if len(fields["kernel"]) != dims:
            raise InputError(
                f"{where}, key 'kernel': {list(fields['kernel'])} does not match a {dims}-d input"
            )
        fields["stride"] = _ints(layer, "stride", where, (1,) * dims)
        fields["padding"] = _padding(layer, where)
        fields["implementation"] = str(layer.get("conv_implementation") or "").lower()
    return LayerSpec(kind, **fields)


def _padding(layer: dict[str, Any], where: str) -> str:
    padding = str(layer.get("padding") or "valid").lower()
    if padding not in ("valid", "same"):
        raise InputError(f"{where}, key 'padding': {padding!r} is not valid or same")
    return padding


def _pooling(
    layer: dict[str, Any], where: str, kind: LayerKind, common: dict[str, Any], glob: bool
) -> LayerSpec:
    op = str(layer.get("pool_op") or "Max").lower()
    in_shape = common["in_shape"]
    kernel = tuple(in_shape[:-1]) if glob else _ints(layer, "kernel", where)
    accum = layer.get("accum_t")
    return LayerSpec(
        kind,
        kernel=kernel,
        stride=_ints(layer, "stride", where, kernel),
        padding=_padding(layer, where),
        activation="average" if op.startswith("av") else "max",
        acc_bits=parse_precision(str(accum)).width if accum else common["result_bits"],
        **common,
    )


def _layer(layer: dict[str, Any], where: str, io: IOType) -> LayerSpec | None:
    cls = str(_need(layer, "class", where))
    if cls == "Input":
        return None
    where = f"{where} ({cls} {layer.get('name', '')})".rstrip()
    builder = _BUILDERS.get(cls)
    if builder is None:
        known = ", ".join(sorted((*_BUILDERS, "Input")))
        raise InputError(f"{where}, key 'class': unknown layer class {cls!r} (the format knows {known})")
    reuse = layer.get("reuse_factor") or 1
    if not isinstance(reuse, int) or reuse < 1:
        raise InputError(f"{where}, key 'reuse_factor': expected an integer >= 1, got {reuse!r}")
    common: dict[str, Any] = {
        "in_shape": _shape(layer, "in_shape", where),
        "out_shape": _shape(layer, "out_shape", where),
        "io_type": io,
        "name": str(layer.get("name") or cls.lower()),
        "reuse_factor": reuse,
        **_types(layer, where),
    }
    try:
        return builder(layer, where, common)
    except InputError:
        raise
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None


def _activation(layer: dict[str, Any], where: str, common: dict[str, Any]) -> LayerSpec:
    return LayerSpec(
        LayerKind.ACTIVATION, activation=str(layer.get("activation") or "linear").lower(), **common
    )


def _hard_activation(layer: dict[str, Any], where: str, common: dict[str, Any]) -> LayerSpec:
    return LayerSpec(
        LayerKind.ACTIVATION, activation=str(layer.get("activation") or "hard_tanh").lower(), **common
    )


def _softmax(layer: dict[str, Any], where: str, common: dict[str, Any]) -> LayerSpec:
    return LayerSpec(
        LayerKind.SOFTMAX,
        activation="softmax",
        implementation=str(layer.get("implementation") or "stable").lower(),
        table_size=int(layer.get("table_size") or 1024),
        **common,
    )


def _batchnorm(layer: dict[str, Any], where: str, common: dict[str, Any]) -> LayerSpec:
    scale = _precision(layer, "scale_t", where, default=parse_precision("ap_fixed<16,6>"))
    return LayerSpec(LayerKind.BATCHNORM, weight_bits=scale.width, weight_int_bits=scale.integer, **common)


_BUILDERS: dict[str, Callable[[dict[str, Any], str, dict[str, Any]], LayerSpec]] = {
    "Activation": _activation,
    "HardActivation": _hard_activation,
    "Softmax": _softmax,
    "Reshape": lambda layer, where, common: LayerSpec(LayerKind.RESHAPE, **common),
    "Flatten": lambda layer, where, common: LayerSpec(LayerKind.FLATTEN, **common),
    "Dense": lambda layer, where, common: _mac(layer, where, LayerKind.DENSE, common),
    "Conv1D": lambda layer, where, common: _mac(layer, where, LayerKind.CONV1D, common),
    "Conv2D": lambda layer, where, common: _mac(layer, where, LayerKind.CONV2D, common),
    "Conv2DBatchnorm": lambda layer, where, common: _mac(layer, where, LayerKind.CONV2D, common),
    "Pooling1D": lambda layer, where, common: _pooling(layer, where, LayerKind.POOLING1D, common, False),
    "Pooling2D": lambda layer, where, common: _pooling(layer, where, LayerKind.POOLING2D, common, False),
    "GlobalPooling1D": lambda layer, where, common: _pooling(layer, where, LayerKind.POOLING1D, common, True),
    "GlobalPooling2D": lambda layer, where, common: _pooling(layer, where, LayerKind.POOLING2D, common, True),
    "BatchNormalization": _batchnorm,
    "ZeroPadding1D": lambda layer, where, common: LayerSpec(LayerKind.ZEROPADDING, **common),
    "ZeroPadding2D": lambda layer, where, common: LayerSpec(LayerKind.ZEROPADDING, **common),
}
