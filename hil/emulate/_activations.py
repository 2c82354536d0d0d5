"""Activations: ReLU, the table-based Sigmoid/TanH and Softmax (``nnet_activation[_stream].h``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from hil.emulate import _tables
from hil.emulate._common import Tensor, layer_type, result_type, tree_sum
from hil.emulate._fixed import FixedType
from hil.errors import UnsupportedModelError

__all__ = ["Relu", "Softmax", "TableActivation"]

_log = logging.getLogger(__name__)


class Relu:
    """``relu``: ``data > 0 ? data : 0``, assigned to ``result_t``."""

    def __init__(self, layer: Any) -> None:
        self.result = result_type(layer)

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
        self.result = result_type(layer)
        self.size = int(layer.get_attr("table_size", 1024))
        table_t = layer_type(layer, "table_t")
        if function == "sigmoid":
            self.table, self.span, self.half = _tables.sigmoid_table(self.size, table_t), 16, 8
        else:
            self.table, self.span, self.half = _tables.tanh_table(self.size, table_t), 8, 4
        self.table_t = table_t

    def __call__(self, inputs: list[Tensor]) -> Tensor:
        m, t = inputs[0]
        index = _table_index(m, t, self.size, self.span, self.half)
        return self.result.cast(self.table[index], self.table_t.frac), self.result


class Softmax:
    """Softmax 'stable', 'latency', 'legacy', 'argmax' (``nnet_activation[_stream].h``), last axis."""

    def __init__(self, layer: Any, x_type: FixedType, stream: bool) -> None:
        self.impl = str(layer.get_attr("implementation", "stable")).lower()
        self.result = result_type(layer)
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
        self.exp_t = layer_type(layer, "exp_table_t")
        self.inv_t = layer_type(layer, "inv_table_t")
        self.accum = layer_type(layer, "accum_t")
        inv_inp = layer.get_attr("inv_inp_t")
        self.inv_inp = layer_type(layer, "inv_inp_t") if inv_inp is not None else self.exp_t
        scale = float(layer.get_attr("exp_scale", 1.0) or 1.0)
        if self.impl == "stable":
            if layer.get_attr("inp_norm_t") is not None:
                self.norm = layer_type(layer, "inp_norm_t")
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
        total = tree_sum(exp_res, self.accum)
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
