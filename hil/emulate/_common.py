"""What every emulated layer shares: tensors, a layer's types and weights as the C simulation holds them.

A tensor is int64 mantissas (batch first, hls4ml's channels-last layout) with its FixedType; an op
maps input tensors to one output tensor and ends in the cast to its layer's ``result_t``, as the
C++ assignment into the result array does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from hil.emulate._fixed import FixedType, fixed_type
from hil.errors import UnsupportedModelError

Tensor = tuple[np.ndarray, FixedType]
Op = Callable[[list[Tensor]], Tensor]

__all__ = ["Op", "Tensor", "layer_type", "product_mapping", "result_type", "tree_sum", "weights"]

_log = logging.getLogger(__name__)


def layer_type(layer: Any, name: str) -> FixedType:
    """A layer's named type (``result_t``, ``accum_t``, ...), from its attribute or its weight variable."""
    attr = layer.get_attr(name)
    if attr is None:
        raise UnsupportedModelError(f"emulator: layer {layer.name} ({layer.class_name}) has no {name}")
    if isinstance(attr, str):
        attr = layer.model.config.backend.convert_precision_string(attr)
    precision = getattr(attr, "precision", attr)
    return fixed_type(precision, f"{layer.name}.{name}")


def result_type(layer: Any) -> FixedType:
    return fixed_type(layer.get_output_variable().type.precision, f"{layer.name} result")


def weights(layer: Any, name: str) -> tuple[np.ndarray, FixedType]:
    """Mantissas of a weight array as the C simulation holds it.

    Why through text: hls4ml writes each value with as many decimals as the type has fraction bits
    (``'{:.Nf}'``) and the C++ parses that text into the type (its rounding mode applies), so an
    off-grid float weight is rounded twice; doing the same gives the same values.
    """
    var = layer.weights[name]
    t = fixed_type(var.type.precision, f"{layer.name}.{name}")
    data = np.asarray(var.data, dtype=np.float64)
    if data.size:
        fmt = var.precision_fmt or "{:.16f}"
        data = np.array([float(fmt.format(v)) for v in data.ravel()], dtype=np.float64).reshape(data.shape)
    return t.from_float(data), t


def product_mapping(layer: Any, w: np.ndarray, weight_precision: Any, x_type: FixedType) -> np.ndarray:
    """Weights as hls4ml's product classes use them (``FPGABackend.product_type``, ``nnet_mult.h``)."""
    from hls4ml.model.types import ExponentPrecisionType, IntegerPrecisionType, XnorPrecisionType

    if isinstance(weight_precision, ExponentPrecisionType):
        raise UnsupportedModelError(
            f"emulator: layer {layer.name}: power-of-two (exponent) weights not modelled"
        )
    if isinstance(weight_precision, XnorPrecisionType):  # weight_binary: w == 0 -> -a, else a
        return np.where(w == 0, -1, 1).astype(np.int64)
    if (
        isinstance(weight_precision, IntegerPrecisionType)
        and weight_precision.width == 2
        and weight_precision.signed
    ):
        return np.where(w == 0, 0, np.where(w == -1, -1, 1)).astype(np.int64)  # weight_ternary
    source = layer.get_input_variable().type.precision
    if isinstance(source, XnorPrecisionType):  # data_binary / both_binary products
        raise UnsupportedModelError(f"emulator: layer {layer.name}: binary (xnor) inputs not modelled")
    return w


def tree_sum(vals: np.ndarray, t: FixedType) -> np.ndarray:
    """``nnet::reduce`` with ``Op_add``: a balanced tree (left part a power of two), cast at each add."""
    n = vals.shape[-1]
    if n == 1:
        return vals[..., 0]
    if n == 2:
        return t.cast(vals[..., 0] + vals[..., 1], t.frac)
    left = 1 << int(np.floor(np.log2(n - 1)))
    return t.cast(tree_sum(vals[..., :left], t) + tree_sum(vals[..., left:], t), t.frac)
