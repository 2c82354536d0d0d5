"""Layers with weights: Dense, Conv1D/Conv2D (im2col onto the dense kernel) and BatchNormalization.

hls4ml 1.3.0's ``nnet_dense_latency.h``/``nnet_dense_resource.h`` compute every one of them (the conv
line buffers of ``nnet_conv_stream.h`` feed each output pixel's window to the same dense kernel);
``MacKernel`` holds the arithmetic.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hil.emulate._common import Tensor, layer_type, product_mapping, result_type, weights
from hil.emulate._fixed import FixedType
from hil.emulate._mac import MacKernel
from hil.errors import UnsupportedModelError

__all__ = ["BatchNorm", "Conv", "Dense"]

_log = logging.getLogger(__name__)


def _mac(layer: Any, x_type: FixedType, w_flat: np.ndarray, w_t: FixedType) -> MacKernel:
    b, b_t = weights(layer, "bias")
    acc = layer_type(layer, "accum_t")
    w_map = product_mapping(layer, w_flat, layer.weights["weight"].type.precision, x_type)
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
        w, w_t = weights(layer, "weight")
        n_in, n_out = int(layer.get_attr("n_in")), int(layer.get_attr("n_out"))
        if layer.get_attr("_weights_transposed", False):
            w = w.T
        self.kernel = _mac(layer, x_type, w.reshape(n_in, n_out), w_t)
        self.result = result_type(layer)
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
        w, w_t = weights(layer, "weight")
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
        self.result = result_type(layer)

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


class BatchNorm:
    """``normalize`` (``nnet_batchnorm.h``, also ApplyAlpha): ``data * scale + bias``, then result_t."""

    def __init__(self, layer: Any, x_type: FixedType) -> None:
        self.scale, self.scale_t = weights(layer, "scale")
        self.bias, self.bias_t = weights(layer, "bias")
        self.result = result_type(layer)
        self.scale = product_mapping(layer, self.scale, layer.weights["scale"].type.precision, x_type)
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
