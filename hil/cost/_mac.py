"""Multiply-accumulate layers (Dense, Conv1D, Conv2D) as hls4ml 1.x's kernels build them.

Resource strategy (``nnet_dense_resource.h``), reuse factor ``rf`` > 1: the weights sit in a ROM
(``#pragma HLS RESOURCE core=ROM_nP_BRAM``) reshaped to ``lanes = ceil(n_in * n_out / rf)`` words of
``lanes * weight_bits``; a pipelined loop of ``rf`` steps (II=1) multiplies ``lanes`` weights by inputs.
When ``rf <= n_in`` each output takes ``multscale = lanes / n_out`` products per step, summed by an
adder tree into one accumulator; when ``rf > n_in`` every lane accumulates on its own and an index
table (``outidx``) routes it.

Which products become DSPs (the narrow-product rule; AMD's HLS documentation gives the ``bind_op``
controls but no width threshold, so the rule is learned from the per-layer DSP figures in
``../shared``, see ``_rules``):

* a product whose narrow operand has at most ``mult.fabric_max_bits`` bits is built in LUTs;
* a Resource-strategy product (ROM weight x input) is a real multiplier bound to a DSP, except that
  in a tree of narrow products (both operands <= ``mult.narrow_bits``, several products per output)
  only ``dsp.tree_fraction`` of them are (csynth, 6-bit, Vitis 2024.2: 1, 1, 3, 5 and 8 DSPs for 1,
  2, 5, 9 and 13 products per output);
* a constant product (Latency strategy, or Resource at ``rf`` = 1: ``function_instantiate`` makes
  the weights constants, and HLS drops multiplies by zero): with both operands narrow, shift-and-add
  logic; with one narrow operand, a small share ``dsp.const_one_narrow_fraction`` in DSPs; with both
  wide, ``dsp.const_wide_fraction``.

io_stream convolution (``nnet_conv2d_stream.h``, line buffer): ``kh - 1`` shift registers of
``in_width`` words per channel feed a window; every input pixel is shifted in, and each complete
window calls the dense kernel. Vitis HLS reports the worst case as if every pixel computed:
``latency = pixels * (rf + c) + 1`` (c = ``latency.conv_pixel``; exact on the tsopeter layers with
c = 5) and a best case of ``pixels * c_min + 1`` (c_min = 4 there); Vivado HLS counts the kernel
only for the output pixels: ``out_pixels * rf + pixels * c``.
"""

from __future__ import annotations

import logging
import math

from hil.cost._memory import INDEX_TABLE_BRAM_BITS, VIVADO_LUTRAM_MAX_BITS, log2_ceil, rom_blocks
from hil.cost._reuse import closest_reuse_factor
from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy
from hil.cost._target import HlsTool, Target
from hil.cost._term import LayerTerms

__all__ = ["cast_bits", "dsp_per_product", "mac_dsp", "mac_terms", "resource_dsp_lanes", "const_dsp_coef"]

_log = logging.getLogger(__name__)


def dsp_per_product(wide: int, narrow: int, target: Target) -> int:
    """DSP slices of one ``wide`` x ``narrow`` bit product on the target's DSP (25x18 or 27x18)."""
    a, b = target.dsp_ports
    if wide <= a and narrow <= b:
        return 1
    return -(-wide // a) * -(-narrow // b)


def cast_bits(s: LayerSpec, from_bits: int, from_int: int | None) -> tuple[int, int]:
    """(rounding bits, saturation bits) of casting a ``from_bits`` value to the layer's result type.

    Rounding adds an incrementer across the result (``result_bits``); saturation compares the
    dropped integer bits and clamps the result, so it grows with both.
    """
    rounding = s.result_bits if s.result_rounding else 0
    saturation = 0
    if s.result_saturation:
        res_int = s.result_int_bits if s.result_int_bits is not None else s.result_bits // 2
        src_int = from_int if from_int is not None else from_bits // 2
        saturation = max(src_int - res_int, 0) + s.result_bits
    return rounding, saturation


def resource_dsp_lanes(
    lanes: int, per_out: int, n_out: int, wide: int, narrow: int, p: dict[str, float]
) -> int:
    """Lanes of a Resource-strategy kernel bound to DSPs (the narrow-product rule)."""
    if narrow <= p["mult.fabric_max_bits"]:
        return 0
    if per_out > 1 and wide <= p["mult.narrow_bits"]:
        per_output = math.floor(p["dsp.tree_fraction"] * per_out + 0.5) or 1
        return min(lanes, per_output * n_out)
    return lanes


def const_dsp_coef(wide: int, narrow: int, p: dict[str, float]) -> str | None:
    """Which share of constant products goes to DSPs (None: all in fabric)."""
    limit = p["mult.narrow_bits"]
    if narrow <= p["mult.fabric_max_bits"] or wide <= limit:
        return None
    return "dsp.const_wide_fraction" if narrow > limit else "dsp.const_one_narrow_fraction"


_DENSE, _CONV2D = LayerKind.DENSE, LayerKind.CONV2D
_LATENCY_STRATEGY = Strategy.LATENCY
_STREAM = IOType.IO_STREAM
_VITIS, _VIVADO = HlsTool.VITIS, HlsTool.VIVADO


def mac_terms(
    s: LayerSpec, p: dict[str, float], t: Target, in_beats: int, record: bool = False
) -> LayerTerms:
    """Terms of a Dense/Conv layer (see the module docstring)."""
    n_in, n_out = s.mult_size()
    constant = s.strategy is _LATENCY_STRATEGY
    rf = (
        max(1, min(s.reuse_factor, n_in * n_out))
        if constant
        else closest_reuse_factor(n_in, n_out, s.reuse_factor)
    )
    constant = constant or rf == 1
    lt = LayerTerms(p, record=record, reuse_factor=rf)
    if constant:
        _constant_kernel(lt, s, p, t, n_in, n_out, rf)
    else:
        _resource_kernel(lt, s, p, t, n_in, n_out, rf)
    stream = s.io_type is _STREAM
    dense = s.kind is _DENSE
    add = lt.add
    if dense and stream and in_beats > 1:
        # nnet::dense (stream) collects n_in values from in_beats beats: each register slice compares
        # the beat counter (log2 beats bits) to know when to load; the data wires go to all of them.
        add("lut", "input collection from stream beats", "lut.adder_bit", n_in * math.log2(in_beats))
    if s.result_rounding or s.result_saturation:
        rounding, saturation = cast_bits(s, s.acc_bits, s.acc_int_bits)
        add(
            "lut",
            "output cast: rounding and saturation",
            "lut.adder_bit",
            n_out * (rounding + 2 * saturation),
        )
    if dense:
        _dense_schedule(lt, n_in, n_out, rf, constant, in_beats if stream else 1)
    elif stream:
        _conv_stream(lt, s, t, rf, constant)
    else:
        _conv_parallel(lt, s, rf)
    return lt


def mac_dsp(s: LayerSpec, p: dict[str, float], t: Target) -> float:
    """The DSP terms of ``mac_terms`` alone, summed as it sums them: what a narrow-product rule
    variant changes (the DSP band prices every layer once per variant, so this must be cheap)."""
    n_in, n_out = s.mult_size()
    constant = s.strategy is _LATENCY_STRATEGY
    rf = (
        max(1, min(s.reuse_factor, n_in * n_out))
        if constant
        else closest_reuse_factor(n_in, n_out, s.reuse_factor)
    )
    wb, ab = s.weight_bits, s.act_bits
    wide, narrow = (wb, ab) if wb >= ab else (ab, wb)
    if constant or rf == 1:
        coef = const_dsp_coef(wide, narrow, p)
        if coef is None:
            return 0.0
        x = -(-max(n_in * n_out - s.n_zeros, 0) // rf) * dsp_per_product(wide, narrow, t)
        return 0.0 + p[coef] * x if x else 0.0
    lanes = -(-(n_in * n_out) // rf)
    per_out = (lanes // n_out or 1) if rf <= n_in else 1
    x = resource_dsp_lanes(lanes, per_out, n_out, wide, narrow, p) * dsp_per_product(wide, narrow, t)
    return 0.0 + x if x else 0.0


def _resource_kernel(
    lt: LayerTerms, s: LayerSpec, p: dict[str, float], t: Target, n_in: int, n_out: int, rf: int
) -> None:
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    lanes = -(-(n_in * n_out) // rf)
    per_out = (lanes // n_out or 1) if rf <= n_in else 1
    wide, narrow = (wb, ab) if wb >= ab else (ab, wb)
    dsp_lanes = resource_dsp_lanes(lanes, per_out, n_out, wide, narrow, p)
    add = lt.add
    add("dsp", "multipliers (ROM weights x inputs)", None, dsp_lanes * dsp_per_product(wide, narrow, t))
    conv = s.kind is not _DENSE
    add(
        "lut",
        "kernel control and FSM" + (", window control" if conv else ""),
        "lut.function",
        2.0 if conv else 1.0,
    )
    add("ff", "kernel control", "ff.function", 1.0)
    add("lut", "input/window select to the lanes", "lut.select_bit", n_in * ab)
    add("ff", "input/window registers", "ff.operand_bit", n_in * ab)
    add("lut", "lanes: operand and ROM-word logic", "lut.mult_bit2", lanes * wb * ab)
    if lanes > dsp_lanes:
        add("lut", "multipliers in fabric", "lut.mult_bit2", (lanes - dsp_lanes) * wb * ab)
    add("ff", "product pipeline", "ff.operand_bit", lanes * (wb + ab))
    if per_out > 1:
        # Several products per output and cycle: every lane adds into a fabric adder tree.
        add("lut", "adder trees (several products per output)", "lut.adder_bit", lanes * accb)
        add("ff", "adder-tree pipeline", "ff.acc_bit", lanes * accb)
        if conv:
            add("lut", "window fan-out to the output trees", "lut.fanout_bit", n_out * n_in * ab)
    if rf > n_in:
        # Lanes accumulate into outputs chosen by the index table: per-output accumulators and muxes.
        add("lut", "indexed accumulators", "lut.adder_bit", n_out * accb)
        add("ff", "indexed accumulators", "ff.acc_bit", n_out * accb)
        index_bits = rf * log2_ceil(-(-rf // n_in))
        add("bram_18k", "output index table", None, 1 if index_bits > INDEX_TABLE_BRAM_BITS else 0)
    # The weight ROM: Vitis honours ROM_nP_BRAM for any size; Vivado HLS keeps small ROMs in LUTRAM.
    width = lanes * wb
    if t.hls is _VIVADO and width * rf < VIVADO_LUTRAM_MAX_BITS:
        blocks, lutram = 0, width * -(-rf // 64)
    else:
        blocks, lutram = rom_blocks(width, rf)
        if blocks == 0 and t.hls is _VITIS:
            blocks, lutram = 1, 0
    add("bram_18k", "weight ROM", None, blocks)
    add("lut", "weight ROM in LUTRAM", None, lutram)


def _constant_kernel(
    lt: LayerTerms, s: LayerSpec, p: dict[str, float], t: Target, n_in: int, n_out: int, rf: int
) -> None:
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    nonzero = max(n_in * n_out - s.n_zeros, 0)
    mults = -(-nonzero // rf)
    wide, narrow = (wb, ab) if wb >= ab else (ab, wb)
    coef = const_dsp_coef(wide, narrow, p)
    add = lt.add
    in_dsp = 0.0
    if coef:
        in_dsp = p[coef]
        add("dsp", "constant multiplies kept in DSPs", coef, mults * dsp_per_product(wide, narrow, t))
    add("lut", "control", "lut.function", 1.0)
    add("lut", "outputs: bias add", "lut.adder_bit", n_out * accb)
    add(
        "lut", "constant multiplies in shift-add logic", "lut.const_mult_bit2", mults * (1 - in_dsp) * wb * ab
    )
    add("lut", "adder tree", "lut.adder_bit", mults * accb)
    add("ff", "control", "ff.function", 1.0)
    add("ff", "input registers", "ff.operand_bit", n_in * ab)
    add("ff", "adder-tree pipeline", "ff.const_tree_bit", mults * accb)
    add("ff", "output registers", "ff.acc_bit", n_out * accb)
    if rf > 1:  # multipliers shared rf ways: operand multiplexers
        add("lut", "multiplier sharing muxes", "lut.select_bit", n_in * ab)


def _dense_schedule(lt: LayerTerms, n_in: int, n_out: int, rf: int, constant: bool, beats: int) -> None:
    add = lt.add
    if constant:  # one pipelined pass: adder tree over all n_in products, rf-1 extra steps when shared
        levels = math.log2(n_in) if n_in > 2 else 1.0
        for metric in ("latency", "latency_min"):
            add(metric, "adder tree depth", "latency.const_adder_level", levels)
            add(metric, "reuse steps (II=1 loop)", None, rf - 1)
    else:  # rf pipelined steps, then the tree over multscale products per output
        lanes = -(-(n_in * n_out) // rf)
        per_out = lanes // n_out if rf <= n_in else 1
        levels = (math.log2(per_out) if per_out > 1 else 0.0) + 1
        for metric in ("latency", "latency_min"):
            add(metric, "pipeline depth", "latency.kernel_depth", 1.0)
            add(metric, "adder tree depth", "latency.adder_level", levels)
            add(metric, "reuse steps (II=1 loop)", None, rf)
    add("ii", "reuse steps", None, rf)
    if beats > 1:
        for metric in ("latency", "latency_min", "ii"):
            add(metric, "input stream beats, one per cycle", None, beats)
        lt.ii_reason = ("stream width: {} input beats + reuse {}", beats, rf)
    else:
        lt.ii_reason = ("reuse {}", rf)


def _conv_stream(lt: LayerTerms, s: LayerSpec, t: Target, rf: int, constant: bool) -> None:
    padded = s.padded_shape
    pixels = math.prod(padded[:-1])
    add = lt.add
    if s.kind is _CONV2D:
        # ap_shift_reg<T, in_width> line_buffer[kh - 1][n_chan]: SRL32 shift registers, one LUT per 32 bits.
        add(
            "lut",
            "line buffer (shift registers)",
            None,
            (s.kernel[0] - 1) * s.n_chan * s.act_bits * -(-padded[1] // 32),
        )
    if constant:
        for metric in ("latency", "latency_min", "ii"):
            add(metric, "pixels x reuse (pipelined, II=rf)", None, pixels * rf)
        for metric in ("latency", "latency_min"):
            add(metric, "adder tree depth", "latency.const_adder_level", math.log2(max(s.mult_size()[0], 2)))
        lt.ii_reason = ("line buffer: {} pixels at II={}", pixels, rf)
        return
    if t.hls is _VITIS:
        # Vitis: every input pixel runs the kernel's rf-step loop at II=1 in the worst case.
        for metric in ("latency", "ii"):
            add(metric, "pixels x reuse steps", None, pixels * rf)
            add(metric, "per-pixel shift and call", "latency.conv_pixel", pixels)
        add("latency", "pipeline fill", None, 1.0)
        add("latency_min", "per-pixel shift", "latency_min.conv_pixel", pixels)
        add("latency_min", "pipeline fill", None, 1.0)
    else:
        # Vivado HLS reports a share of the pixels running the kernel in the worst case, none in the best.
        for metric in ("latency", "ii"):
            add(metric, "pixels x reuse steps (share)", "latency.vivado_conv_reuse_share", pixels * rf)
            add(metric, "per-pixel shift and call", "latency.conv_pixel", pixels)
        add("latency", "pipeline depth", "latency.kernel_depth", 1.0)
        add("latency_min", "per-pixel shift", "latency_min.conv_pixel", pixels)
        add("latency_min", "pipeline depth", "latency.kernel_depth", 1.0)
    lt.ii_reason = ("line buffer: {} pixels x (reuse {} + shift)", pixels, rf)


def _conv_parallel(lt: LayerTerms, s: LayerSpec, rf: int) -> None:
    out_steps = s.out_pixels * rf
    for metric in ("latency", "latency_min"):
        lt.add(metric, "outputs x reuse", None, out_steps)
        lt.add(metric, "adder tree depth", "latency.const_adder_level", math.log2(max(s.mult_size()[0], 2)))
    lt.add("ii", "outputs x reuse", None, out_steps)
    lt.ii_reason = ("reuse {} over {} output pixels", rf, s.out_pixels)
