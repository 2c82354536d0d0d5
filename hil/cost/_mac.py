"""Multiply-accumulate layers (Dense, Conv1D, Conv2D) as hls4ml 1.x's kernels build them.

Resource strategy (``nnet_dense_resource.h``), reuse factor ``rf`` > 1: the weights sit in a ROM
(``#pragma HLS RESOURCE core=ROM_nP_BRAM``) reshaped to ``lanes = ceil(n_in * n_out / rf)`` words of
``lanes * weight_bits``; a pipelined loop of ``rf`` steps (II=1) multiplies ``lanes`` weights by inputs.
When ``rf <= n_in`` each output takes ``multscale = lanes / n_out`` products per step, summed by an
adder tree into one accumulator; when ``rf > n_in`` every lane accumulates on its own and an index
table (``outidx``) routes it. Multiplies by ROM words are real multipliers: HLS binds them to DSPs,
except operands too narrow to be worth one (a 1-2 bit weight is hls4ml's binary/ternary product) and,
in a tree of narrow products, part of the tree (csynth, 6-bit, Vitis 2024.2: 1, 1, 3, 5 and 8 DSPs for
1, 2, 5, 9 and 13 products per output, i.e. round(0.6 x multscale)).

Latency strategy (``nnet_dense_latency.h``) and Resource at ``rf`` = 1: the weights are constants
(``function_instantiate``), so HLS drops multiplies by zero (pruning pays) and turns multiplies by
narrow constants into shift-and-add logic; only some constant multiplies of wide operands stay in
DSPs. ``ALLOCATION ... mul limit=multiplier_limit`` shares multipliers ``rf`` ways.

io_stream convolution (``nnet_conv2d_stream.h``, line buffer): ``kh - 1`` shift registers of
``in_width`` words per channel feed a window; every input pixel is shifted in, and each complete
window calls the dense kernel. Vitis HLS reports the worst case, as if every pixel computed:
``latency = pixels * (rf + 5) + 1`` (exact on the tsopeter layers), which is also the layer's II.
"""

from __future__ import annotations

import logging
import math

from hil.cost._memory import INDEX_TABLE_BRAM_BITS, VIVADO_LUTRAM_MAX_BITS, log2_ceil, rom_blocks
from hil.cost._reuse import closest_reuse_factor
from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy
from hil.cost._target import HlsTool, Target
from hil.cost._term import LayerTerms

__all__ = ["cast_bits", "dsp_per_product", "mac_terms"]

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


def mac_terms(s: LayerSpec, p: dict[str, float], t: Target, in_beats: int) -> LayerTerms:
    """Terms of a Dense/Conv layer (see the module docstring)."""
    n_in, n_out = s.mult_size()
    if s.strategy is Strategy.RESOURCE:
        rf = closest_reuse_factor(n_in, n_out, s.reuse_factor)
    else:
        rf = max(1, min(s.reuse_factor, n_in * n_out))
    lt = LayerTerms(reuse_factor=rf)
    if s.strategy is Strategy.LATENCY or rf == 1:
        _constant_kernel(lt, s, p, t, n_in, n_out, rf)
    else:
        _resource_kernel(lt, s, p, t, n_in, n_out, rf)
    if s.kind is LayerKind.DENSE and in_beats > 1 and s.io_type is IOType.IO_STREAM:
        # nnet::dense (stream) collects n_in values from in_beats beats: a write-select per register slice.
        lt.add("lut", "input collection from stream beats", "lut.beat_demux_bit", n_in * s.act_bits * math.log2(in_beats))
    rounding, saturation = cast_bits(s, s.acc_bits, s.acc_int_bits)
    lt.add("lut", "output cast: rounding", "lut.round_bit", n_out * rounding)
    lt.add("lut", "output cast: saturation", "lut.sat_bit", n_out * saturation)
    stream = s.io_type is IOType.IO_STREAM
    if s.kind is LayerKind.DENSE:
        _dense_schedule(lt, s, t, n_in, n_out, rf, in_beats if stream else 1)
    elif stream:
        _conv_stream(lt, s, t, rf)
    else:
        _conv_parallel(lt, s, rf)
    return lt


def _resource_kernel(
    lt: LayerTerms, s: LayerSpec, p: dict[str, float], t: Target, n_in: int, n_out: int, rf: int
) -> None:
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    lanes = -(-(n_in * n_out) // rf)
    per_out = max(1, lanes // n_out) if rf <= n_in else 1
    wide, narrow = max(wb, ab), min(wb, ab)
    if narrow <= p["mult.lut_max_narrow_bits"]:
        dsp_lanes = 0
    elif per_out > 1 and wide <= p["mult.tree_narrow_bits"]:
        per_output = max(1, math.floor(p["dsp.resource_tree_fraction"] * per_out + 0.5))
        dsp_lanes = min(lanes, per_output * n_out)
    else:
        dsp_lanes = lanes
    conv = s.kind is not LayerKind.DENSE
    lt.add("dsp", "multipliers (ROM weights x inputs)", None, dsp_lanes * dsp_per_product(wide, narrow, t))
    lt.add("lut", "control and FSM", "lut.mac_layer", 1.0)
    if conv:
        kind = s.kind.value
        lt.add("lut", "window control (counters, stride, shift)", f"lut.{kind}_control", 1.0)
        lt.add("lut", "window select", f"lut.{kind}_window_bit", n_in * ab)
    else:
        lt.add("lut", "input select", "lut.input_bit", n_in * ab)
    lt.add("lut", "multipliers in fabric", "lut.mult_bit2", (lanes - dsp_lanes) * wb * ab)
    lt.add("lut", "lanes: control", "lut.lane", lanes)
    lt.add("lut", "lanes: operand and ROM-word logic", "lut.lane_bit2", lanes * wb * ab)
    if per_out > 1:
        # Several products per output and cycle: the DSP's own accumulator cannot absorb the sum, so
        # every lane gets a fabric adder into a tree per output.
        lt.add("lut", "adder trees (several products per output)", "lut.conv_tree_bit" if conv else "lut.tree_bit", lanes * accb)
    if rf > n_in:
        # Lanes accumulate into outputs chosen by the index table: per-output accumulators and muxes.
        lt.add("lut", "indexed accumulators", "lut.acc_bit", n_out * accb)
    lt.add("ff", "control", "ff.mac_layer", 1.0)
    if conv:
        lt.add("ff", "window registers", f"ff.{s.kind.value}_window_bit", n_in * ab)
    else:
        lt.add("ff", "input registers", "ff.input_bit", n_in * ab)
    lt.add("ff", "product pipeline", "ff.lane_bit", lanes * (wb + ab))
    if per_out > 1:
        lt.add("ff", "adder-tree pipeline", "ff.tree_bit", lanes * accb)
    if rf > n_in:
        lt.add("ff", "indexed accumulators", "ff.acc_bit", n_out * accb)
    if t.tight:
        # A clock shorter than the kernel's operation chain: HLS splits it with pipeline registers.
        lt.add("ff", "tight clock: extra pipeline registers", "ff.tight_lane_bit", lanes * accb)
        lt.add("ff", "tight clock: extra input registers", "ff.tight_input_bit", n_in * ab)
        lt.add("lut", "tight clock: re-timed lane logic", "lut.tight_lane_bit", lanes * accb)
    # The weight ROM: Vitis honours ROM_nP_BRAM for any size; Vivado HLS keeps small ROMs in LUTRAM.
    width, bits = lanes * wb, lanes * wb * rf
    if t.hls is HlsTool.VIVADO and bits < VIVADO_LUTRAM_MAX_BITS:
        blocks, lutram = 0, width * -(-rf // 64)
    else:
        blocks, lutram = rom_blocks(width, rf)
        if t.hls is HlsTool.VITIS and blocks == 0:
            blocks, lutram = 1, 0
    lt.add("bram_18k", "weight ROM", None, blocks)
    lt.add("lut", "weight ROM in LUTRAM", None, lutram)
    if rf > n_in:
        index_bits = rf * log2_ceil(-(-rf // n_in))
        lt.add("bram_18k", "output index table", None, 1 if index_bits > INDEX_TABLE_BRAM_BITS else 0)


def _constant_kernel(
    lt: LayerTerms, s: LayerSpec, p: dict[str, float], t: Target, n_in: int, n_out: int, rf: int
) -> None:
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    nonzero = max(n_in * n_out - s.n_zeros, 0)
    mults = -(-nonzero // rf)
    wide, narrow = max(wb, ab), min(wb, ab)
    if narrow <= p["mult.lut_max_narrow_bits"]:
        coef = None
    elif wide <= p["mult.const_narrow_bits"]:
        coef = "dsp.const_fraction_narrow"
    elif narrow > p["mult.const_narrow_bits"]:
        coef = "dsp.const_fraction_wide"
    elif wb > ab:
        coef = "dsp.const_fraction_wide_weight"
    else:
        coef = "dsp.const_fraction_narrow_weight"
    in_dsp = p[coef] if coef else 0.0
    if coef:
        lt.add("dsp", "constant multiplies kept in DSPs", coef, mults * dsp_per_product(wide, narrow, t))
    lt.add("lut", "control", "lut.const_layer", 1.0)
    lt.add("lut", "outputs: bias add and register", "lut.const_output_bit", n_out * accb)
    lt.add("lut", "constant multiplies in shift-add logic", "lut.const_mult_bit2", mults * (1 - in_dsp) * wb * ab)
    lt.add("lut", "adder tree", "lut.const_adder_bit", mults * accb)
    lt.add("ff", "control", "ff.const_layer", 1.0)
    lt.add("ff", "output registers", "ff.const_output_bit", n_out * accb)
    lt.add("ff", "input registers", "ff.input_bit", n_in * ab)
    conv_stream = s.kind is not LayerKind.DENSE and s.io_type is IOType.IO_STREAM
    lt.add("ff", "adder-tree pipeline", "ff.const_conv_bit" if conv_stream else "ff.const_adder_bit", mults * accb)
    if rf > 1:  # multipliers shared rf ways: operand multiplexers
        lt.add("lut", "multiplier sharing muxes", "lut.input_bit", n_in * ab)


def _dense_schedule(
    lt: LayerTerms, s: LayerSpec, t: Target, n_in: int, n_out: int, rf: int, beats: int
) -> None:
    constant = s.strategy is Strategy.LATENCY or rf == 1
    if constant:  # one pipelined pass: adder tree over all n_in products, rf-1 extra steps when shared
        steps, depth, tree, fanin = rf - 1, "const_depth", "const_fanin_log2", math.log2(max(n_in, 2))
    else:  # rf pipelined steps, then the tree over multscale products per output
        lanes = -(-(n_in * n_out) // rf)
        per_out = lanes // n_out if rf <= n_in else 1
        steps, depth, tree, fanin = rf, "mac_depth", "fanin_log2", math.log2(max(per_out, 1)) + 1
    for metric in ("latency", "latency_min"):
        lt.add(metric, "reuse steps (II=1 loop)", None, steps)
        lt.add(metric, "pipeline depth", f"{metric}.{depth}", 1.0)
        lt.add(metric, "adder tree depth", f"{metric}.{tree}", fanin)
        if beats > 1:
            lt.add(metric, "input stream beats", f"{metric}.beat", beats)
    lt.add("ii", "reuse steps", None, rf)
    if beats > 1:
        lt.add("ii", "input stream beats", None, beats)
        lt.ii_reason = f"stream width: {beats} input beats + reuse {rf}"
    else:
        lt.ii_reason = f"reuse {rf}"


def _conv_stream(lt: LayerTerms, s: LayerSpec, t: Target, rf: int) -> None:
    padded = s.padded_shape
    pixels = math.prod(padded[:-1])
    out_pixels = s.out_pixels
    tool = t.hls.value
    constant = s.strategy is Strategy.LATENCY or rf == 1
    if s.kind is LayerKind.CONV2D:
        kh = s.kernel[0]
        # ap_shift_reg<T, in_width> line_buffer[kh - 1][n_chan]: SRL32 shift registers, one LUT per bit.
        lt.add("lut", "line buffer (shift registers)", None, (kh - 1) * s.n_chan * s.act_bits * -(-padded[1] // 32))
    if constant:
        for metric in ("latency", "latency_min"):
            lt.add(metric, "pixels x reuse (pipelined, II=rf)", f"{metric}.const_conv_pixel", pixels * rf)
            lt.add(metric, "pipeline depth", f"{metric}.const_depth", 1.0)
        lt.add("ii", "pixels x reuse", "latency.const_conv_pixel", pixels * rf)
        lt.ii_reason = f"line buffer: {pixels} pixels at II={rf}"
        return
    # Vitis: every input pixel runs the kernel's rf-step loop at II=1 in the worst case (structural).
    reuse_coef = None if t.hls is HlsTool.VITIS else f"latency.conv_pixel_reuse.{tool}"
    lt.add("latency", "pixels x reuse steps", reuse_coef, pixels * rf)
    lt.add("latency", "per-pixel shift and call", f"latency.conv_pixel.{tool}", pixels)
    lt.add("latency", "outputs x reuse steps", f"latency.conv_out_reuse.{tool}", out_pixels * rf)
    lt.add("latency", "pipeline depth", "latency.mac_depth", 1.0)
    if t.tight:
        for metric in ("latency", "latency_min"):
            lt.add(metric, "tight clock: per-pixel chain split", f"{metric}.tight_conv_pixel", pixels)
        lt.add("ii", "tight clock: per-pixel chain split", "latency.tight_conv_pixel", pixels)
    lt.add("latency_min", "per-pixel shift", f"latency_min.conv_pixel.{tool}", pixels)
    lt.add("latency_min", "outputs x reuse steps", f"latency_min.conv_out_reuse.{tool}", out_pixels * rf)
    lt.add("latency_min", "pipeline depth", "latency_min.mac_depth", 1.0)
    lt.add("ii", "pixels x reuse steps", reuse_coef, pixels * rf)
    lt.add("ii", "per-pixel shift and call", f"latency.conv_pixel.{tool}", pixels)
    lt.add("ii", "outputs x reuse steps", f"latency.conv_out_reuse.{tool}", out_pixels * rf)
    lt.ii_reason = f"line buffer: {pixels} pixels x (reuse {rf} + shift)"


def _conv_parallel(lt: LayerTerms, s: LayerSpec, rf: int) -> None:
    out_pixels = s.out_pixels
    for metric in ("latency", "latency_min"):
        lt.add(metric, "outputs x reuse", f"{metric}.reuse", out_pixels * rf)
        lt.add(metric, "pipeline depth", f"{metric}.const_depth", 1.0)
    lt.add("ii", "outputs x reuse", None, out_pixels * rf)
    lt.ii_reason = f"reuse {rf} over {out_pixels} output pixels"
