"""The emulated op of each hls4ml layer kind (the ops live in _weighted, _activations, _shape).

Each op maps input tensors to one output tensor; a tensor is int64 mantissas (batch first, hls4ml's
channels-last layout) with its FixedType. Every op ends in the cast to its layer's ``result_t``, as
the C++ assignment into the result array does. The operation order follows hls4ml 1.3.0's
``nnet_utils`` templates (named in each docstring); where io_stream and io_parallel differ
(pooling, softmax packing) the op follows the model's io_type.
"""

from __future__ import annotations

import logging
from typing import Any

from hil.emulate._activations import Relu, Softmax, TableActivation
from hil.emulate._common import Op
from hil.emulate._fixed import FixedType
from hil.emulate._shape import Cast, Concatenate, Merge, Pooling
from hil.emulate._weighted import BatchNorm, Conv, Dense
from hil.errors import UnsupportedModelError

__all__ = ["KINDS", "build_op"]

_log = logging.getLogger(__name__)


#: hls4ml layer classes the emulator implements (anything else is refused with its name).
KINDS = (
    "Input",
    "Transpose",
    "Reshape",
    "ZeroPadding1D",
    "ZeroPadding2D",
    "Dense",
    "Conv1D",
    "Conv2D",
    "Activation (ReLU, Linear, Sigmoid, TanH)",
    "Pooling1D",
    "Pooling2D",
    "BatchNormalization",
    "Softmax (stable, latency, legacy, argmax)",
    "Merge (add, subtract, multiply, average, maximum, minimum)",
    "Concatenate",
)


def build_op(layer: Any, x_types: list[FixedType], stream: bool) -> Op:
    """The emulated op of one hls4ml layer; UnsupportedModelError naming any kind not modelled."""
    kind = layer.class_name
    if kind == "Merge":
        return Merge(layer, x_types)
    if kind == "Concatenate":
        return Concatenate(layer)
    if len(x_types) != 1:
        raise UnsupportedModelError(
            f"emulator: layer {layer.name}: {kind} with {len(x_types)} inputs not modelled"
        )
    x_type = x_types[0]
    if kind in ("Transpose", "Reshape", "ZeroPadding1D", "ZeroPadding2D"):
        return Cast(layer, kind)
    if kind == "Dense":
        return Dense(layer, x_type)
    if kind in ("Conv1D", "Conv2D", "PointwiseConv1D", "PointwiseConv2D"):
        return Conv(layer, x_type, 2 if kind.endswith("2D") else 1)
    if kind in ("Pooling1D", "Pooling2D"):
        return Pooling(layer, 2 if kind.endswith("2D") else 1, stream)
    if kind in ("BatchNormalization", "ApplyAlpha"):
        return BatchNorm(layer, x_type)
    if kind == "Softmax":
        return Softmax(layer, x_type, stream)
    if kind in ("Activation", "ReLU", "Sigmoid", "TanH"):
        function = str(layer.get_attr("activation", kind)).lower()
        if function == "relu":
            return Relu(layer)
        if function == "linear":
            return Cast(layer, "Linear")
        if function in ("sigmoid", "tanh"):
            return TableActivation(layer, function)
        if function == "softmax":
            return Softmax(layer, x_type, stream)
        raise UnsupportedModelError(f"emulator: layer {layer.name}: activation {function} is not modelled")
    function = layer.get_attr("activation")
    named = f"{kind} ({function})" if function and str(function) != kind else kind
    raise UnsupportedModelError(f"emulator: layer {layer.name}: layer kind {named} is not modelled")
