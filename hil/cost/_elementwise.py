"""Layers without weights: activations and casts, pooling, batch norm, softmax, zero padding.

In io_stream every one of them is a pipelined loop over the pixels (II=1, ``#pragma HLS PIPELINE``)
that handles one pixel's channels per cycle (``nnet_activation_stream.h``, ``nnet_pooling_stream.h``),
so its II is the pixel count: the stream width, not reuse, sets it. In io_parallel they handle the
whole tensor at once. What they cost per value comes from the cast hls4ml writes into every one of
them: a ReLU from a 20-bit accumulator to ``ap_ufixed<6,0,AP_RND_CONV,AP_SAT>`` compares, rounds and
clamps; a ``linear`` activation whose types differ is a quantizer and costs the cast alone.
Softmax (``softmax_stable``) looks up exponentials and an inverse in two tables, each copied per
read port pair (BRAM), and multiplies once per output (DSP).
"""

from __future__ import annotations

import logging
import math

from hil.cost._mac import cast_bits, dsp_per_product
from hil.cost._spec import ROUTING_KINDS, IOType, LayerKind, LayerSpec
from hil.cost._target import Target
from hil.cost._term import LayerTerms

__all__ = ["elementwise_terms"]

_log = logging.getLogger(__name__)

_TABLE_ACTIVATIONS = frozenset({"sigmoid", "tanh", "softplus", "softsign", "elu", "selu"})
_COMPARE_ACTIVATIONS = frozenset({"relu", "relu6", "hard_sigmoid", "hard_tanh", "linear"})


_POOLING = frozenset({LayerKind.POOLING1D, LayerKind.POOLING2D})
_PADDING, _SOFTMAX, _BATCHNORM, _POOL2D = (
    LayerKind.ZEROPADDING,
    LayerKind.SOFTMAX,
    LayerKind.BATCHNORM,
    LayerKind.POOLING2D,
)
_STREAM = IOType.IO_STREAM


def elementwise_terms(s: LayerSpec, p: dict[str, float], t: Target, record: bool = False) -> LayerTerms:
    """Terms of a layer without weights (see the module docstring)."""
    lt = LayerTerms(p, record=record, reuse_factor=s.reuse_factor)
    kind = s.kind
    if kind in ROUTING_KINDS:
        return lt
    stream = s.io_type is _STREAM
    if kind in _POOLING:
        _pooling(lt, s, stream)
    elif kind is _PADDING:
        _padding(lt, s, stream)
    else:
        values = s.in_shape[-1] if stream else math.prod(s.in_shape)
        if kind is _SOFTMAX:
            _softmax(lt, s, values, t)
        elif kind is _BATCHNORM:
            _batchnorm(lt, s, values, t)
        else:
            act = s.activation.lower()
            if act == "linear" and not _changes_type(s):
                return lt
            _activation(lt, s, values, t, act)
        _elementwise_schedule(lt, s, stream, 1.0)
    return lt


def _changes_type(s: LayerSpec) -> bool:
    return (
        s.act_bits != s.result_bits
        or s.act_signed != s.result_signed
        or (
            s.act_int_bits is not None
            and s.result_int_bits is not None
            and s.act_int_bits != s.result_int_bits
        )
        or s.result_rounding
        or s.result_saturation
    )


def _cast(lt: LayerTerms, s: LayerSpec, values: int) -> None:
    if s.result_rounding or s.result_saturation:
        rounding, saturation = cast_bits(s, s.act_bits, s.act_int_bits)
        # rounding: an incrementer (1 LUT per bit); saturation: a compare and a clamp mux (2 per bit)
        lt.add("lut", "cast: rounding and saturation", "lut.adder_bit", values * (rounding + 2 * saturation))


def _activation(lt: LayerTerms, s: LayerSpec, values: int, t: Target, act: str) -> None:
    lt.add("lut", "loop control", "lut.loop", 1.0)
    if act in _COMPARE_ACTIVATIONS:
        if act != "linear":  # a compare (carry chain) and a select mux per bit
            lt.add("lut", "compare and select", "lut.adder_bit", 2 * values * s.act_bits)
        if act in ("hard_sigmoid", "hard_tanh"):
            lt.add("lut", "slope multiply (shift-add)", "lut.const_mult_bit2", values * s.act_bits * 2)
        _cast(lt, s, values)
    elif act in _TABLE_ACTIVATIONS:
        # One lookup table (table_size x result_bits) per two parallel reads (dual-port ROM).
        lt.add("lut", "table index", "lut.adder_bit", values * s.act_bits)
        lt.add(
            "bram_18k", "lookup tables", None, -(-values // 2) * -(-(s.table_size * s.result_bits) // 18432)
        )
    else:  # leaky_relu, prelu, elu...: a compare and a constant multiply per value
        lt.add("lut", "compare and select", "lut.adder_bit", values * s.act_bits)
        lt.add("lut", "constant multiply", "lut.const_mult_bit2", values * s.act_bits * 16)
        _cast(lt, s, values)


def _batchnorm(lt: LayerTerms, s: LayerSpec, values: int, t: Target) -> None:
    # y = scale * x + bias per channel: a multiply by a scale array (a DSP each unless narrow) and an add.
    wide, narrow = max(s.weight_bits, s.act_bits), min(s.weight_bits, s.act_bits)
    in_dsp = narrow > lt.p["mult.fabric_max_bits"]
    lt.add("dsp", "scale multiplies", None, values * dsp_per_product(wide, narrow, t) if in_dsp else 0)
    if not in_dsp:
        lt.add("lut", "scale multiplies in fabric", "lut.mult_bit2", values * wide * narrow)
    lt.add("lut", "loop control", "lut.loop", 1.0)
    lt.add("lut", "bias add", "lut.adder_bit", values * s.result_bits)
    lt.add("ff", "pipeline registers", "ff.acc_bit", values * s.result_bits)
    _cast(lt, s, values)


def _softmax(lt: LayerTerms, s: LayerSpec, values: int, t: Target) -> None:
    impl = (s.implementation or "stable").lower()
    if impl == "argmax":
        lt.add("lut", "argmax compare tree", "lut.adder_bit", values * s.act_bits)
        return
    table_blocks = -(-(s.table_size * 18) // 18432)
    lt.add("bram_18k", "exp and inverse tables (two copies each)", None, 4 * table_blocks)
    lt.add("dsp", "exp x inverse multiplies", None, values * dsp_per_product(18, 18, t))
    # softmax_stable per value: max compare, subtract, exp-table index, sum, inverse-table multiply:
    # four 18-bit adder-width operations, registered twice (table type ap_fixed<18,8>).
    lt.add("lut", "control", "lut.function", 1.0)
    lt.add("lut", "per value: max, subtract, index, sum", "lut.adder_bit", values * 4 * 18)
    lt.add("ff", "control", "ff.function", 1.0)
    lt.add("ff", "per value pipeline", "ff.acc_bit", values * 2 * 18)
    for metric in ("latency", "latency_min"):
        lt.add(metric, "exp lookup, inverse lookup, multiply", None, 3.0)
        lt.add(metric, "max and sum trees", "latency.const_adder_level", 2 * math.log2(max(values, 2)))


def _pooling(lt: LayerTerms, s: LayerSpec, stream: bool) -> None:
    k = math.prod(s.kernel) if s.kernel else 2
    channels = s.in_shape[-1]
    values = channels if stream else math.prod(s.out_shape)
    lt.add("lut", "loop control", "lut.loop", 1.0)
    # hls4ml pools in the wider of the input and result types (the result type for the casts)
    lt.add("lut", "compare/add tree", "lut.adder_bit", values * max(s.act_bits, s.result_bits) * (k - 1))
    lt.add("ff", "window registers", "ff.operand_bit", values * max(s.act_bits, s.result_bits) * k)
    if s.activation.lower().startswith("av"):
        lt.add("lut", "average: divide by a constant", "lut.const_mult_bit2", values * s.act_bits * 8)
    if stream and s.kind is _POOL2D and len(s.in_shape) == 3 and s.kernel:
        lt.add(
            "lut",
            "line buffer (shift registers)",
            None,
            (s.kernel[0] - 1) * channels * s.act_bits * -(-s.in_shape[1] // 32),
        )
    _cast(lt, s, values)
    # A compare tree over k values: log2(k) levels, one per cycle, after the read.
    _elementwise_schedule(lt, s, stream, 1.0 + math.log2(max(k, 2)))


def _padding(lt: LayerTerms, s: LayerSpec, stream: bool) -> None:
    lt.add("lut", "loop control", "lut.loop", 1.0)
    pixels = s.out_pixels if stream else 1
    for metric in ("latency", "latency_min"):
        lt.add(metric, "padded pixels", None, pixels)
    lt.add("ii", "padded pixels", None, pixels)
    lt.ii_reason = ("stream width: {} padded pixels, one per cycle", pixels)


def _elementwise_schedule(lt: LayerTerms, s: LayerSpec, stream: bool, depth: float) -> None:
    """One pass over the pixels at II=1 (stream) or one pipelined call (parallel); ``depth`` is the
    pipeline depth in cycles (structural: 1 for a compare-and-cast, 1 + log2(k) for a k-way pool)."""
    add = lt.add
    pixels = s.in_pixels if stream else 1
    if stream:  # the pixel loop's counter and its compare
        counter = pixels.bit_length() + 1
        add("ff", "pixel loop counter", None, counter)
        add("lut", "pixel loop counter", None, counter)
        add("latency", "pixels, one per cycle", None, pixels)
        add("latency_min", "pixels, one per cycle", None, pixels)
    if stream:  # io_parallel: HLS inlines the element-wise loop into its neighbours (0 cycles in csynth)
        add("latency", "pipeline depth", None, depth)
        add("latency_min", "pipeline depth", None, depth)
    add("ii", "pixels, one per cycle", None, pixels)
    lt.ii_reason = ("stream width: {} pixels, one per cycle", pixels) if stream else ("one call per image",)
