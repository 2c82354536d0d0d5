"""One emulated operation per hls4ml layer kind, built once from the layer (types, weights, attributes).

Each op maps input tensors to one output tensor; a tensor is int64 mantissas (batch first, hls4ml's
channels-last layout) with its FixedType. Every op ends in the cast to its layer's ``result_t``, as
the C++ assignment into the result array does. The operation order follows hls4ml 1.3.0's
``nnet_utils`` templates (named in each docstring); where io_stream and io_parallel differ
(pooling, softmax packing) the op follows the model's io_type.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from hil.emulate import _tables
from hil.emulate._fixed import FixedType, fixed_type
from hil.emulate._mac import MacKernel
from hil.errors import UnsupportedModelError

__all__ = ["Op", "Tensor", "build_op", "KINDS"]

_log = logging.getLogger(__name__)

Tensor = tuple[np.ndarray, FixedType]
Op = Callable[[list[Tensor]], Tensor]


def _type(layer: Any, name: str) -> FixedType:
    """A layer's named type (``result_t``, ``accum_t``, ...), from its attribute or its weight variable."""
    attr = layer.get_attr(name)
    if attr is None:
        raise UnsupportedModelError(f"emulator: layer {layer.name} ({layer.class_name}) has no {name}")
    if isinstance(attr, str):
        attr = layer.model.config.backend.convert_precision_string(attr)
    precision = getattr(attr, "precision", attr)
    return fixed_type(precision, f"{layer.name}.{name}")


def _result(layer: Any) -> FixedType:
    return fixed_type(layer.get_output_variable().type.precision, f"{layer.name} result")


def _weights(layer: Any, name: str) -> tuple[np.ndarray, FixedType]:
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


def _product_mapping(layer: Any, w: np.ndarray, weight_precision: Any, x_type: FixedType) -> np.ndarray:
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


def _mac(layer: Any, x_type: FixedType, w_flat: np.ndarray, w_t: FixedType) -> MacKernel:
    b, b_t = _weights(layer, "bias")
    acc = _type(layer, "accum_t")
    w_map = _product_mapping(layer, w_flat, layer.weights["weight"].type.precision, x_type)
    strategy = str(layer.get_attr("strategy", "latency")).lower()
    return MacKernel(
        layer.name,
        x_type,
        w_map,
        w_t.frac,
        acc.cast(b.reshape(-1), b_t.frac),
        acc,
        sequential_ok=strategy == "latency",
    )


class Dense:
    """``nnet_dense_latency.h`` / ``nnet_dense_resource.h`` (weights transposed by the Resource pass)."""

    def __init__(self, layer: Any, x_type: FixedType) -> None:
        w, w_t = _weights(layer, "weight")
        n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
        if layer.get_attr("_weights_transposed", False):
            w = w.T
        self.kernel = _mac(layer, x_type, w.reshape(n_in, n_out), w_t)
        self.result = _result(layer)
        self.n_in = n_in

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, _ = inputs[0]
        lead = m.shape[:-1]
        acc = self.kernel(m.reshape(-1, self.n_in))
        out = self.result.cast(acc, self.kernel.acc.frac, self.kernel.acc)
        return out.reshape(*lead, -1), self.result


class Conv:
    """Conv1D/Conv2D: im2col in (filter rows, filter columns, channels) order, then the dense kernel.

    hls4ml's io_stream line buffer (``nnet_conv_stream.h``) and io_parallel kernels feed each output
    pixel's window in that order to the same dense kernel; padding is its own ZeroPadding layer in
    io_stream and the layer's pad attributes in io_parallel (zeros either way).
    """

    def __init__(self, layer: Any, x_type: FixedType, dims: int) -> None:
        self.dims = dims
        w, w_t = _weights(layer, "weight")
        self.n_chan, self.n_filt = int(layer.get_attr("n_chan")), int(layer.get_attr("n_filt"))
        if dims == 2:
            self.kernel_hw = (int(layer.get_attr("filt_height")), int(layer.get_attr("filt_width")))
            self.stride = (int(layer.get_attr("stride_height")), int(layer.get_attr("stride_width")))
            self.pad = (
                (int(layer.get_attr("pad_top", 0)), int(layer.get_attr("pad_bottom", 0))),
                (int(layer.get_attr("pad_left", 0)), int(layer.get_attr("pad_right", 0))),
            )
        else:
            self.kernel_hw = (1, int(layer.get_attr("filt_width")))
            self.stride = (1, int(layer.get_attr("stride_width")))
            self.pad = ((0, 0), (int(layer.get_attr("pad_left", 0)), int(layer.get_attr("pad_right", 0))))
        for key in ("dilation_height", "dilation_width", "dilation"):
            if int(layer.get_attr(key, 1) or 1) != 1:
                raise UnsupportedModelError(f"emulator: layer {layer.name}: dilated convolution not modelled")
        n_in = self.kernel_hw[0] * self.kernel_hw[1] * self.n_chan
        if layer.get_attr("_weights_transposed", False):  # (F, [H,] W, C) -> ([H,] W, C, F)
            w = np.moveaxis(w, 0, -1)
        self.kernel = _mac(layer, x_type, w.reshape(n_in, self.n_filt), w_t)
        self.result = _result(layer)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, _ = inputs[0]
        x = m if self.dims == 2 else m[:, None, :, :]
        x = x.astype(self.kernel.dtype)  # before im2col: the kh*kw-fold copy is made once, in that dtype
        if any(p for pair in self.pad for p in pair):
            x = np.pad(x, ((0, 0), *self.pad, (0, 0)))
        kh, kw = self.kernel_hw
        sh, sw = self.stride
        win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::sh, ::sw]
        b, oh, ow = win.shape[:3]
        cols = np.ascontiguousarray(win.transpose(0, 1, 2, 4, 5, 3)).reshape(
            b * oh * ow, kh * kw * self.n_chan
        )
        acc = self.kernel(cols)
        out = self.result.cast(acc, self.kernel.acc.frac, self.kernel.acc).reshape(b, oh, ow, self.n_filt)
        return (out if self.dims == 2 else out[:, 0]), self.result


class Cast:
    """Transpose, Reshape/Flatten, ZeroPadding, Linear activation: move values, then assign them."""

    def __init__(self, layer: Any, kind: str) -> None:
        self.result = _result(layer)
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


class Relu:
    """``relu``: ``data > 0 ? data : 0``, assigned to ``result_t``."""

    def __init__(self, layer: Any) -> None:
        self.result = _result(layer)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        return self.result.cast(np.maximum(m, 0), t.frac), self.result


def _table_index(m: np.ndarray, t: FixedType, size: int, span: int, half: int) -> np.ndarray:
    """``int(data * table_size / span) + half * table_size / span``, clipped to the table.

    ap_fixed divides the mantissa by the integer truncating toward zero, and the conversion to
    ``int`` truncates toward zero again: together one truncation of value * size / span.
    """
    num = m.astype(np.int64) * np.int64(size)
    if t.frac >= 0:
        den = np.int64(span) << np.int64(t.frac)
    else:
        num, den = num << np.int64(-t.frac), np.int64(span)
    q = np.sign(num) * (np.abs(num) // den)
    return np.clip(q + half * size // span, 0, size - 1)


class TableActivation:
    """Sigmoid and TanH (``nnet_activation.h``): an index from the input's value into a float-built table."""

    def __init__(self, layer: Any, function: str) -> None:
        self.result = _result(layer)
        self.size = int(layer.get_attr("table_size", 1024))
        table_t = _type(layer, "table_t")
        if function == "sigmoid":
            self.table, self.span, self.half = _tables.sigmoid_table(self.size, table_t), 16, 8
        else:
            self.table, self.span, self.half = _tables.tanh_table(self.size, table_t), 8, 4
        self.table_t = table_t

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        index = _table_index(m, t, self.size, self.span, self.half)
        return self.result.cast(self.table[index], self.table_t.frac), self.result


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
        self.accum = _type(layer, "accum_t")
        self.result = _result(layer)
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
                    total = _tree_sum(vals, acc)
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


def _tree_sum(vals: np.ndarray, t: FixedType) -> np.ndarray:
    """``nnet::reduce`` with ``Op_add``: a balanced tree (left part a power of two), cast at each add."""
    n = vals.shape[-1]
    if n == 1:
        return vals[..., 0]
    if n == 2:
        return t.cast(vals[..., 0] + vals[..., 1], t.frac)
    left = 1 << int(np.floor(np.log2(n - 1)))
    return t.cast(_tree_sum(vals[..., :left], t) + _tree_sum(vals[..., left:], t), t.frac)


class BatchNorm:
    """``normalize`` (``nnet_batchnorm.h``, also ApplyAlpha): ``data * scale + bias``, then result_t."""

    def __init__(self, layer: Any, x_type: FixedType) -> None:
        self.scale, self.scale_t = _weights(layer, "scale")
        self.bias, self.bias_t = _weights(layer, "bias")
        self.result = _result(layer)
        self.scale = _product_mapping(layer, self.scale, layer.weights["scale"].type.precision, x_type)
        self.scale = self.scale.reshape(-1)
        self.bias = self.bias.reshape(-1)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        flat = m.reshape(len(m), -1)
        n = flat.shape[1]
        reps = n // len(self.scale)
        scale, bias = np.tile(self.scale, reps), np.tile(self.bias, reps)  # norm_index = i % n_filt
        pf = t.frac + self.scale_t.frac
        frac = max(pf, self.bias_t.frac)
        total = (flat * scale << np.int64(frac - pf)) + (bias << np.int64(frac - self.bias_t.frac))
        return self.result.cast(total, frac).reshape(m.shape), self.result


class Softmax:
    """Softmax 'stable', 'latency', 'legacy', 'argmax' (``nnet_activation[_stream].h``), last axis."""

    def __init__(self, layer: Any, x_type: FixedType, stream: bool) -> None:
        self.impl = str(layer.get_attr("implementation", "stable")).lower()
        self.result = _result(layer)
        n_in = int(layer.get_attr("n_in"))
        if int(layer.get_attr("n_inner", 1) or 1) != 1 or int(layer.get_attr("n_outer", 1) or 1) != 1:
            raise UnsupportedModelError(f"emulator: layer {layer.name}: multi-axis Softmax not modelled")
        self.n = n_in
        table_size = int(layer.get_attr("table_size", 1024))
        self.exp_size = int(layer.get_attr("exp_table_size", table_size) or table_size)
        self.inv_size = int(layer.get_attr("inv_table_size", table_size) or table_size)
        if self.impl == "legacy":
            # hls4ml's softmax config declares no table_t or table_size of its own: legacy uses
            # nnet::activ_config's (ap_fixed<18,8>, 1024 entries); io_parallel sizes its tables by
            # exp_table_size/inv_table_size, io_stream by that inherited table_size.
            self.table_t = FixedType(18, 8)
            if stream:
                self.exp_size = self.inv_size = 1024
            self.exp_table = _tables.legacy_exp_table(self.exp_size, self.table_t)
            self.inv_table = _tables.legacy_inv_table(self.inv_size, self.table_t)
            return
        if self.impl == "argmax":
            return
        if self.impl not in ("stable", "latency"):
            raise UnsupportedModelError(f"emulator: layer {layer.name}: Softmax '{self.impl}' not modelled")
        self.exp_t = _type(layer, "exp_table_t")
        self.inv_t = _type(layer, "inv_table_t")
        self.accum = _type(layer, "accum_t")
        inv_inp = layer.get_attr("inv_inp_t")
        self.inv_inp = _type(layer, "inv_inp_t") if inv_inp is not None else self.exp_t
        scale = float(layer.get_attr("exp_scale", 1.0) or 1.0)
        if self.impl == "stable":
            if layer.get_attr("inp_norm_t") is not None:
                self.norm = _type(layer, "inp_norm_t")
            else:  # SoftmaxConfigTemplate: the input type without its sign bit
                s = int(x_type.signed)
                self.norm = FixedType(x_type.width - s, x_type.integer - s, False)
                if x_type.signed:
                    self.exp_size = min(self.inv_size, 2**self.norm.width)
            index_t = self.norm
        else:
            index_t = x_type
        self.index_t = index_t
        self.exp_table = _tables.softmax_exp_table(
            index_t, self.exp_size, self.exp_t, scale, self.impl == "stable"
        )
        self.inv_table = _tables.softmax_inv_table(self.inv_inp, self.inv_size, self.inv_t)

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        x = m.reshape(len(m), self.n)
        if self.impl == "argmax":
            out = np.zeros_like(x)
            one = self.result.cast(np.array([1]), 0)[0]
            out[np.arange(len(x)), x.argmax(axis=1)] = one  # first maximum, as the C++ loop keeps it
            return out.reshape(m.shape), self.result
        if self.impl == "legacy":
            return self._legacy(x, t).reshape(m.shape), self.result
        if self.impl == "stable":
            x_max = x.max(axis=1, keepdims=True)
            d = self.norm.cast(x_max - x, t.frac)
            idx = _tables.slice_index(self.norm, d, self.exp_size)
        else:
            idx = _tables.slice_index(t, x, self.exp_size)
        exp_res = self.accum.cast(self.exp_table[idx], self.exp_t.frac)
        total = _tree_sum(exp_res, self.accum)
        s = self.inv_inp.cast(total, self.accum.frac)
        inv = self.inv_table[_tables.slice_index(self.inv_inp, s, self.inv_size)]
        out = self.result.cast(exp_res * inv[:, None], self.accum.frac + self.inv_t.frac)
        return out.reshape(m.shape), self.result

    def _legacy(self, x: np.ndarray, t: FixedType) -> np.ndarray:
        tt, size = self.table_t, self.exp_size
        one = tt.cast(np.array([1]), 0)[0]
        exp_res = np.zeros_like(x)
        for i in range(self.n):
            for j in range(self.n):
                if i == j:
                    term = np.full(len(x), one)
                else:
                    index = _table_index(x[:, j] - x[:, i], t, size, 16, 8)
                    term = self.exp_table[index]
                exp_res[:, i] = tt.cast(exp_res[:, i] + term, tt.frac)
        index = _table_index(exp_res, tt, self.inv_size, 64, 0)
        return self.result.cast(self.inv_table[index], tt.frac)


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
        self.result = _result(layer)

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
        self.result = _result(layer)
        rank = len(layer.get_output_variable().shape)
        axis = int(layer.get_attr("axis", -1))
        # hls4ml's axis counts the batch (as Keras and ONNX do; its templates test axis == rank or -1)
        self.axis = -1 if rank == 1 else axis

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        parts = [self.result.cast(m, t.frac, t) for m, t in inputs]
        return np.concatenate(parts, axis=self.axis), self.result


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
