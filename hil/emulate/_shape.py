"""Layers that move, pick or combine values: Transpose/Reshape/ZeroPadding, pooling, Merge, Concatenate."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hil.emulate._activations import Relu
from hil.emulate._common import Tensor, layer_type, result_type, tree_sum
from hil.emulate._fixed import FixedType
from hil.errors import UnsupportedModelError

__all__ = ["Cast", "Concatenate", "Merge", "Pooling", "ReluMaxPool"]

_log = logging.getLogger(__name__)


class Cast:
    """Transpose, Reshape/Flatten, ZeroPadding, Linear activation: move values, then assign them."""

    def __init__(self, layer: Any, kind: str) -> None:
        self.result = result_type(layer)
        self.kind = kind
        self.perm = tuple(int(p) for p in (layer.get_attr("perm") or ()))
        self.shape = tuple(int(s) for s in layer.get_output_variable().shape)
        self.pad: tuple[tuple[int, int], ...] = ()
        if kind == "ZeroPadding2D":
            self.pad = (
                (int(layer.get_attr("pad_top")), int(layer.get_attr("pad_bottom"))),
                (int(layer.get_attr("pad_left")), int(layer.get_attr("pad_right"))),
            )
        elif kind == "ZeroPadding1D":
            self.pad = ((int(layer.get_attr("pad_left")), int(layer.get_attr("pad_right"))),)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        if self.kind == "Transpose":
            m = np.transpose(m, (0, *(p + 1 for p in self.perm)))
        elif self.kind.startswith("ZeroPadding"):
            m = np.pad(m, ((0, 0), *self.pad, (0, 0)))
        m = m.reshape(len(m), *self.shape)
        return self.result.cast(m, t.frac, t), self.result


class Pooling:
    """Max/Average pooling: ``nnet_pooling_stream.h`` (window cast to accum_t, tree reduce) for io_stream,
    ``nnet_pooling.h`` (max in the input type, sequential sum in accum_t) for io_parallel."""

    def __init__(self, layer: Any, dims: int, stream: bool) -> None:
        self.dims, self.stream = dims, stream
        self.op = str(layer.get_attr("pool_op", "Max")).lower()
        if self.op not in ("max", "average"):
            raise UnsupportedModelError(f"emulator: layer {layer.name}: pool_op {self.op} not modelled")
        if dims == 2:
            self.window = (int(layer.get_attr("pool_height")), int(layer.get_attr("pool_width")))
            self.stride = (int(layer.get_attr("stride_height")), int(layer.get_attr("stride_width")))
            pads = [layer.get_attr(k, 0) for k in ("pad_top", "pad_bottom", "pad_left", "pad_right")]
        else:
            self.window = (1, int(layer.get_attr("pool_width")))
            self.stride = (1, int(layer.get_attr("stride_width")))
            pads = [layer.get_attr(k, 0) for k in ("pad_left", "pad_right")]
        if any(int(p or 0) for p in pads):
            raise UnsupportedModelError(f"emulator: layer {layer.name}: padded pooling not modelled")
        self.accum = layer_type(layer, "accum_t")
        self.result = result_type(layer)
        self.shape = tuple(int(s) for s in layer.get_output_variable().shape)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        x = m if self.dims == 2 else m[:, None]
        (ph, pw), (sh, sw) = self.window, self.stride
        b, c = x.shape[0], x.shape[-1]
        oh, ow = (x.shape[1] - ph) // sh + 1, (x.shape[2] - pw) // sw + 1
        acc = self.accum
        if self.op == "max" and self.exact_max(t):
            out = np.left_shift(self.window_max(x), acc.frac - t.frac)
        else:
            win = np.lib.stride_tricks.sliding_window_view(x, self.window, axis=(1, 2))[:, ::sh, ::sw]
            flat = win.reshape(b, oh, ow, c, ph * pw)
            n = ph * pw
            if self.op == "max":
                if self.stream:
                    out = acc.cast(flat, t.frac, t).max(axis=-1)
                else:
                    out = acc.cast(flat.max(axis=-1), t.frac, t)
            else:
                vals = acc.cast(flat, t.frac, t)
                if acc.saturation == "WRAP":
                    total = acc.cast(vals.sum(axis=-1), acc.frac)
                elif self.stream:
                    total = tree_sum(vals, acc)
                else:
                    total = vals[..., 0]
                    for i in range(1, n):
                        total = acc.cast(total + vals[..., i], acc.frac)
                out = acc.cast(np.sign(total) * (np.abs(total) // n), acc.frac)
        res = self.result.cast(out, acc.frac, acc)
        return res.reshape(b, *self.shape), self.result

    def exact_max(self, t: FixedType) -> bool:
        """True when max pooling inputs of type ``t`` is their plain maximum: the cast into accum_t
        changes no value (so casting before or after the maximum is the same)."""
        acc = self.accum
        return self.op == "max" and acc.frac >= t.frac and acc.contains(t, acc.frac - t.frac)

    def window_max(self, x: np.ndarray) -> np.ndarray:
        """The maximum of each window (no casts); non-overlapping windows without copying them."""
        x = x if self.dims == 2 else x[:, None]
        (ph, pw), (sh, sw) = self.window, self.stride
        b, c = x.shape[0], x.shape[-1]
        oh, ow = (x.shape[1] - ph) // sh + 1, (x.shape[2] - pw) // sw + 1
        if (ph, pw) == (sh, sw):
            return x[:, : oh * ph, : ow * pw].reshape(b, oh, ph, ow, pw, c).max(axis=(2, 4))
        win = np.lib.stride_tricks.sliding_window_view(x, self.window, axis=(1, 2))[:, ::sh, ::sw]
        return win.max(axis=(-2, -1))


class ReluMaxPool:
    """A ReLU followed by a max pooling, computed as pooling first: the same values, 1/4 of the casts.

    Why exact: max pooling whose cast into accum_t changes no value is a plain maximum, and the ReLU
    with its cast to a saturating result_t is monotone non-decreasing (every ap_fixed rounding mode
    is; saturation is; wrap-around is not, so a wrapping ReLU is never fused): max(f(a), f(b)) =
    f(max(a, b)) for a monotone f.
    """

    def __init__(self, relu: Relu, pool: Pooling) -> None:
        self.relu, self.pool = relu, pool

    @staticmethod
    def fusable(relu: Any, pool: Any, relu_in: FixedType) -> bool:
        return (
            isinstance(relu, Relu)
            and isinstance(pool, Pooling)
            and relu.result.saturation in ("SAT", "SAT_SYM")
            and pool.exact_max(relu.result)
            and pool.result.contains(pool.accum)
            and pool.result.frac == pool.accum.frac
        )

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        pooled = self.pool.window_max(m)
        out, relu_t = self.relu([(pooled, t)])
        out = np.left_shift(out, self.pool.accum.frac - relu_t.frac)
        return out.reshape(len(m), *self.pool.shape), self.pool.result


class Merge:
    """Two-input ``nnet_merge[_stream].h`` ops: the exact sum/difference/product/mean/max/min, then result_t.

    ``average`` is ``(a + b) * ap_ufixed<1,0>(0.5)`` (exact); ``maximum``/``minimum`` cast the chosen
    input. Inputs of different sizes (hls4ml's io_parallel broadcast by index modulo) are refused.
    """

    OPS = ("add", "subtract", "multiply", "average", "maximum", "minimum")

    def __init__(self, layer: Any, x_types: list[FixedType]) -> None:
        self.op = str(layer.get_attr("op", "")).lower()
        if self.op not in self.OPS or len(x_types) != 2:
            raise UnsupportedModelError(f"emulator: layer {layer.name}: merge '{self.op}' is not modelled")
        shapes = [tuple(layer.get_input_variable(name).shape) for name in layer.inputs]
        if shapes[0] != shapes[1]:
            raise UnsupportedModelError(
                f"emulator: layer {layer.name}: broadcast merge {shapes} not modelled"
            )
        self.result = result_type(layer)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        (a, ta), (b, tb) = inputs
        frac = max(ta.frac, tb.frac)
        a2, b2 = a << np.int64(frac - ta.frac), b << np.int64(frac - tb.frac)
        if self.op == "add":
            return self.result.cast(a2 + b2, frac), self.result
        if self.op == "subtract":
            return self.result.cast(a2 - b2, frac), self.result
        if self.op == "average":
            return self.result.cast(a2 + b2, frac + 1), self.result
        if self.op == "multiply":
            return self.result.cast(a * b, ta.frac + tb.frac), self.result
        pick = (a2 > b2) if self.op == "maximum" else (a2 < b2)
        chosen = np.where(pick, self.result.cast(a, ta.frac, ta), self.result.cast(b, tb.frac, tb))
        return chosen, self.result


class Concatenate:
    """``concatenate{1,2,3}d``: the inputs, each assigned to result_t, joined along the layer's axis."""

    def __init__(self, layer: Any) -> None:
        self.result = result_type(layer)
        rank = len(layer.get_output_variable().shape)
        axis = int(layer.get_attr("axis", -1))
        # hls4ml's axis counts the batch (as Keras and ONNX do; its templates test axis == rank or -1)
        self.axis = -1 if rank == 1 else axis

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        parts = [self.result.cast(m, t.frac, t) for m, t in inputs]
        return np.concatenate(parts, axis=self.axis), self.result
