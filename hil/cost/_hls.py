"""Build the light layer spec from a converted hls4ml ``ModelGraph``.

Why read the converted model and not the config: hls4ml has by then corrected reuse factors,
inferred ``auto`` precisions and folded BatchNorm into the preceding layer, so the spec describes
what HLS will actually build. Folded BatchNorm does not appear (it costs nothing); a standalone one
does. Layers the model does not know are skipped with a warning and cost nothing. Zero weights are
counted from the real weights (``n_zeros``): with the Latency strategy HLS drops their multiplies.
"""

from __future__ import annotations

import logging
from typing import Any

from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy

__all__ = ["spec_from_hls_model"]

_log = logging.getLogger(__name__)

_KINDS: dict[str, LayerKind] = {
    "Dense": LayerKind.DENSE,
    "Conv1D": LayerKind.CONV1D,
    "Conv2D": LayerKind.CONV2D,
    "Pooling1D": LayerKind.POOLING1D,
    "Pooling2D": LayerKind.POOLING2D,
    "GlobalPooling1D": LayerKind.POOLING1D,
    "GlobalPooling2D": LayerKind.POOLING2D,
    "Activation": LayerKind.ACTIVATION,
    "ParametrizedActivation": LayerKind.ACTIVATION,
    "PReLU": LayerKind.ACTIVATION,
    "Softmax": LayerKind.SOFTMAX,
    "BatchNormalization": LayerKind.BATCHNORM,
    "Reshape": LayerKind.RESHAPE,
    "Transpose": LayerKind.RESHAPE,
    "ZeroPadding1D": LayerKind.ZEROPADDING,
    "ZeroPadding2D": LayerKind.ZEROPADDING,
}
_SKIP = frozenset({"Input"})


def _precision(obj: Any) -> Any:
    """The hls4ml precision type of a variable, weight or type attribute (or None)."""
    if obj is None:
        return None
    precision = getattr(obj, "precision", None)
    if precision is None:
        precision = getattr(getattr(obj, "type", None), "precision", None)
    return precision


def _fields(precision: Any, prefix: str, default_bits: int = 16) -> dict[str, Any]:
    """Width, integer bits and sign of an hls4ml precision as LayerSpec fields ``{prefix}_*``."""
    width = getattr(precision, "width", None)
    out: dict[str, Any] = {f"{prefix}_bits": int(width) if width else default_bits}
    integer = getattr(precision, "integer", None)
    if integer is not None and prefix != "result":
        out[f"{prefix}_int_bits"] = int(integer)
    if prefix == "act":
        out["act_signed"] = bool(getattr(precision, "signed", True))
    return out


def _result_fields(precision: Any) -> dict[str, Any]:
    out = _fields(precision, "result")
    integer = getattr(precision, "integer", None)
    if integer is not None:
        out["result_int_bits"] = int(integer)
    out["result_signed"] = bool(getattr(precision, "signed", True))
    out["result_rounding"] = str(getattr(precision, "rounding_mode", "TRN")).upper().startswith("RND")
    out["result_saturation"] = str(getattr(precision, "saturation_mode", "WRAP")).upper().startswith("SAT")
    return out


def _zeros(weight: Any) -> int:
    data = getattr(weight, "data", None)
    if data is None:
        return 0
    try:
        import numpy as np

        return int(np.count_nonzero(np.asarray(data) == 0))
    except (TypeError, ValueError):
        return 0


def _kernel(layer: Any, kind: LayerKind, in_shape: tuple[int, ...]) -> tuple[int, ...]:
    if kind is LayerKind.CONV1D:
        return (int(layer.get_attr("filt_width")),)
    if kind is LayerKind.CONV2D:
        return int(layer.get_attr("filt_height")), int(layer.get_attr("filt_width"))
    if kind is LayerKind.POOLING1D:
        return (int(layer.get_attr("pool_width") or in_shape[0]),)
    if kind is LayerKind.POOLING2D:
        return (
            int(layer.get_attr("pool_height") or in_shape[0]),
            int(layer.get_attr("pool_width") or in_shape[1]),
        )
    return ()


def spec_from_hls_model(model: Any) -> list[LayerSpec]:
    """The layer specs of an hls4ml ModelGraph (after ``convert_from_*``; no compile needed).

    Reads each layer's input/output shapes, ``n_chan``/``n_filt``/``filt_height``/``filt_width``,
    strides and padding, ``reuse_factor``, ``strategy``, the weight, input, result and accumulator
    precisions (width, integer bits, sign, rounding, saturation), and the zero weights.
    """
    io = IOType(str(model.config.get_config_value("IOType") or "io_parallel").lower())
    specs: list[LayerSpec] = []
    for layer in model.get_layers():
        cls = layer.class_name
        if cls in _SKIP:
            continue
        kind = _KINDS.get(cls)
        if kind is None:
            _log.warning("layer %s (%s) is not modelled; it is estimated to cost nothing", layer.name, cls)
            continue
        in_shape = tuple(int(d) for d in layer.get_input_variable().shape)
        out_shape = tuple(int(d) for d in layer.get_output_variable().shape)
        source = _precision(layer.get_input_variable())
        result = _precision(layer.get_output_variable())
        weight = layer.weights.get("weight") if hasattr(layer, "weights") else None
        accum = _precision(layer.get_attr("accum_t"))
        fields: dict[str, Any] = {
            **_fields(source, "act"),
            **_result_fields(result),
        }
        result_bits = fields["result_bits"]
        if weight is not None:
            fields.update(_fields(_precision(weight), "weight", default_bits=result_bits))
            fields["n_zeros"] = (
                _zeros(weight) if kind in (LayerKind.DENSE, LayerKind.CONV1D, LayerKind.CONV2D) else 0
            )
        elif kind is LayerKind.BATCHNORM:
            fields.update(_fields(_precision(layer.weights.get("scale")), "weight"))
        fields.update(_fields(accum, "acc", default_bits=result_bits))
        strategy_raw = str(layer.get_attr("strategy") or "latency").lower()
        strategy = (
            Strategy.LATENCY if strategy_raw in ("latency", "distributed_arithmetic") else Strategy.RESOURCE
        )
        activation = str(layer.get_attr("activation") or layer.get_attr("pool_op") or "linear").lower()
        kernel = _kernel(layer, kind, in_shape)
        specs.append(
            LayerSpec(
                kind=kind,
                in_shape=in_shape,
                out_shape=out_shape,
                kernel=kernel,
                reuse_factor=int(layer.get_attr("reuse_factor") or 1),
                strategy=strategy,
                io_type=io,
                activation=activation,
                name=str(layer.name),
                stride=_stride(layer, kind, kernel),
                padding=_padding(layer, kind),
                implementation=str(
                    layer.get_attr("implementation") or layer.get_attr("conv_implementation") or ""
                ).lower(),
                table_size=int(layer.get_attr("table_size") or 1024),
                **fields,
            )
        )
    return specs


def _stride(layer: Any, kind: LayerKind, kernel: tuple[int, ...]) -> tuple[int, ...]:
    if kind in (LayerKind.CONV1D, LayerKind.POOLING1D):
        return (int(layer.get_attr("stride_width") or (kernel[0] if kind is LayerKind.POOLING1D else 1)),)
    if kind in (LayerKind.CONV2D, LayerKind.POOLING2D):
        pool = kind is LayerKind.POOLING2D
        return (
            int(layer.get_attr("stride_height") or (kernel[0] if pool else 1)),
            int(layer.get_attr("stride_width") or (kernel[1] if pool else 1)),
        )
    return ()


def _padding(layer: Any, kind: LayerKind) -> str:
    """``same`` when hls4ml pads inside the layer (io_parallel); io_stream pads in a ZeroPadding layer."""
    if kind not in (LayerKind.CONV1D, LayerKind.CONV2D, LayerKind.POOLING1D, LayerKind.POOLING2D):
        return "valid"
    pads = [layer.get_attr(name) or 0 for name in ("pad_top", "pad_bottom", "pad_left", "pad_right")]
    return "same" if any(int(v) for v in pads) else "valid"
