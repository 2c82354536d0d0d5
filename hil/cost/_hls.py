"""Build the light layer spec from a converted hls4ml ``ModelGraph``.

Why read the converted model and not the config: hls4ml has by then corrected reuse factors,
inferred ``auto`` precisions and folded BatchNorm into the preceding layer, so the spec describes
what HLS will actually build. Folded BatchNorm does not appear (it costs nothing); a standalone one
does. Layers the model does not know are skipped with a warning and cost nothing.
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
}
_SKIP = frozenset({"Input"})


def _width(precision: Any, default: int = 16) -> int:
    width = getattr(precision, "width", None)
    return int(width) if width else default


def _type_width(obj: Any, default: int = 16) -> int:
    return _width(getattr(getattr(obj, "type", None), "precision", None), default)


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
    ``reuse_factor``, ``strategy``, and the weight, input, result and accumulator precision widths.
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
        act_bits = _type_width(layer.get_input_variable())
        result_bits = _type_width(layer.get_output_variable())
        weight = layer.weights.get("weight") if hasattr(layer, "weights") else None
        weight_bits = _type_width(weight, default=result_bits) if weight is not None else 16
        accum = layer.get_attr("accum_t")
        acc_bits = _width(getattr(accum, "precision", None), default=result_bits)
        strategy_raw = str(layer.get_attr("strategy") or "latency").lower()
        strategy = (
            Strategy.LATENCY if strategy_raw in ("latency", "distributed_arithmetic") else Strategy.RESOURCE
        )
        activation = str(layer.get_attr("activation") or layer.get_attr("pool_op") or "linear").lower()
        specs.append(
            LayerSpec(
                kind=kind,
                in_shape=in_shape,
                out_shape=out_shape,
                kernel=_kernel(layer, kind, in_shape),
                weight_bits=weight_bits,
                act_bits=act_bits,
                result_bits=result_bits,
                acc_bits=acc_bits,
                reuse_factor=int(layer.get_attr("reuse_factor") or 1),
                strategy=strategy,
                io_type=io,
                activation=activation,
                name=str(layer.name),
            )
        )
    return specs
