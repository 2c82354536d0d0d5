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


_DENSE, _CONV2D = LayerKind.DENSE, LayerKind.CONV2D
_LATENCY_STRATEGY = Strategy.LATENCY
_STREAM = IOType.IO_STREAM
_VITIS, _VIVADO = HlsTool.VITIS, HlsTool.VIVADO
#: Coefficient names that depend on the layer kind: (control, window select, window registers).
_CONV_COEFS = {
    LayerKind.CONV1D: ("lut.conv1d_control", "lut.conv1d_window_bit", "ff.conv1d_window_bit"),
    LayerKind.CONV2D: ("lut.conv2d_control", "lut.conv2d_window_bit", "ff.conv2d_window_bit"),
}
#: Coefficient names of streaming-convolution timing that depend on the HLS tool:
#: (pixel x reuse or None when structural, per pixel, output x reuse, best-case per pixel,
#: best-case output x reuse).
_CONV_TIMING = {
    tool: (
        None if tool is HlsTool.VITIS else f"latency.conv_pixel_reuse.{tool.value}",
        f"latency.conv_pixel.{tool.value}",
        f"latency.conv_out_reuse.{tool.value}",
        f"latency_min.conv_pixel.{tool.value}",
        f"latency_min.conv_out_reuse.{tool.value}",
    )
    for tool in HlsTool
}


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
    if dense and stream and in_beats > 1:
        # nnet::dense (stream) collects n_in values from in_beats beats: a write-select per register slice.
        lt.add(
            "lut",
            "input collection from stream beats",
            "lut.beat_demux_bit",
            n_in * s.act_bits * math.log2(in_beats),
        )
    if s.result_rounding or s.result_saturation:
        rounding, saturation = cast_bits(s, s.acc_bits, s.acc_int_bits)
        lt.add("lut", "output cast: rounding", "lut.round_bit", n_out * rounding)
        lt.add("lut", "output cast: saturation", "lut.sat_bit", n_out * saturation)
    if dense:
        _dense_schedule(lt, n_in, n_out, rf, constant, in_beats if stream else 1)
    elif stream:
        _conv_stream(lt, s, t, rf, constant)
    else:
        _conv_parallel(lt, s, rf)
    return lt


def _resource_kernel(
    lt: LayerTerms, s: LayerSpec, p: dict[str, float], t: Target, n_in: int, n_out: int, rf: int
) -> None:
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    lanes = -(-(n_in * n_out) // rf)
    per_out = (lanes // n_out or 1) if rf <= n_in else 1
    wide, narrow = (wb, ab) if wb >= ab else (ab, wb)
    if narrow <= p["mult.lut_max_narrow_bits"]:
        dsp_lanes = 0
    elif per_out > 1 and wide <= p["mult.tree_narrow_bits"]:
        per_output = math.floor(p["dsp.resource_tree_fraction"] * per_out + 0.5) or 1
        dsp_lanes = min(lanes, per_output * n_out)
    else:
        dsp_lanes = lanes
    add = lt.add
    add("dsp", "multipliers (ROM weights x inputs)", None, dsp_lanes * dsp_per_product(wide, narrow, t))
    add("lut", "control and FSM", "lut.mac_layer", 1.0)
    conv = _CONV_COEFS.get(s.kind)
    if conv:
        add("lut", "window control (counters, stride, shift)", conv[0], 1.0)
        add("lut", "window select", conv[1], n_in * ab)
        add("ff", "window registers", conv[2], n_in * ab)
    else:
        add("lut", "input select", "lut.input_bit", n_in * ab)
        add("ff", "input registers", "ff.input_bit", n_in * ab)
    if lanes > dsp_lanes:
        add("lut", "multipliers in fabric", "lut.mult_bit2", (lanes - dsp_lanes) * wb * ab)
    add("lut", "lanes: control", "lut.lane", lanes)
    add("lut", "lanes: operand and ROM-word logic", "lut.lane_bit2", lanes * wb * ab)
    add("ff", "control", "ff.mac_layer", 1.0)
    add("ff", "product pipeline", "ff.lane_bit", lanes * (wb + ab))
    if per_out > 1:
        # Several products per output and cycle: the DSP's own accumulator cannot absorb the sum, so
        # every lane gets a fabric adder into a tree per output.
        add(
            "lut",
            "adder trees (several products per output)",
            "lut.conv_tree_bit" if conv else "lut.tree_bit",
            lanes * accb,
        )
        if conv:
            # Each output's tree reads its own slice of the window every step: window fan-out.
            add("lut", "window fan-out to the output trees", "lut.conv_tree_window_bit", n_out * n_in * ab)
            add("ff", "window fan-out registers", "ff.conv_tree_window_bit", n_out * n_in * ab)
        add("ff", "adder-tree pipeline", "ff.tree_bit", lanes * accb)
    if rf > n_in:
        # Lanes accumulate into outputs chosen by the index table: per-output accumulators and muxes.
        add("lut", "indexed accumulators", "lut.acc_bit", n_out * accb)
        add("ff", "indexed accumulators", "ff.acc_bit", n_out * accb)
        index_bits = rf * log2_ceil(-(-rf // n_in))
        add("bram_18k", "output index table", None, 1 if index_bits > INDEX_TABLE_BRAM_BITS else 0)
    if t.tight:
        # A clock shorter than the kernel's operation chain: HLS splits it with pipeline registers.
        add("ff", "tight clock: extra pipeline registers", "ff.tight_lane_bit", lanes * accb)
        add("ff", "tight clock: extra input registers", "ff.tight_input_bit", n_in * ab)
        add("lut", "tight clock: re-timed lane logic", "lut.tight_lane_bit", lanes * accb)
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
    limit = p["mult.const_narrow_bits"]
    if narrow <= p["mult.lut_max_narrow_bits"]:
        coef = None
    elif wide <= limit:
        coef = "dsp.const_fraction_narrow"
    elif narrow > limit:
        coef = "dsp.const_fraction_wide"
    elif wb > ab:
        coef = "dsp.const_fraction_wide_weight"
    else:
        coef = "dsp.const_fraction_narrow_weight"
    add = lt.add
    in_dsp = 0.0
    if coef:
        in_dsp = p[coef]
        add("dsp", "constant multiplies kept in DSPs", coef, mults * dsp_per_product(wide, narrow, t))
    add("lut", "control", "lut.const_layer", 1.0)
    add("lut", "outputs: bias add and register", "lut.const_output_bit", n_out * accb)
    add(
        "lut", "constant multiplies in shift-add logic", "lut.const_mult_bit2", mults * (1 - in_dsp) * wb * ab
    )
    add("lut", "adder tree", "lut.const_adder_bit", mults * accb)
    add("ff", "control", "ff.const_layer", 1.0)
    add("ff", "output registers", "ff.const_output_bit", n_out * accb)
    add("ff", "input registers", "ff.input_bit", n_in * ab)
    conv_stream = s.kind is not _DENSE and s.io_type is _STREAM
    add(
        "ff",
        "adder-tree pipeline",
        "ff.const_conv_bit" if conv_stream else "ff.const_adder_bit",
        mults * accb,
    )
    if rf > 1:  # multipliers shared rf ways: operand multiplexers
        add("lut", "multiplier sharing muxes", "lut.input_bit", n_in * ab)


def _dense_schedule(lt: LayerTerms, n_in: int, n_out: int, rf: int, constant: bool, beats: int) -> None:
    add = lt.add
    if constant:  # one pipelined pass: adder tree over all n_in products, rf-1 extra steps when shared
        steps, fanin = rf - 1, math.log2(n_in) if n_in > 2 else 1.0
        add("latency", "pipeline depth", "latency.const_depth", 1.0)
        add("latency", "adder tree depth", "latency.const_fanin_log2", fanin)
        add("latency_min", "pipeline depth", "latency_min.const_depth", 1.0)
        add("latency_min", "adder tree depth", "latency_min.const_fanin_log2", fanin)
    else:  # rf pipelined steps, then the tree over multscale products per output
        lanes = -(-(n_in * n_out) // rf)
        per_out = lanes // n_out if rf <= n_in else 1
        steps, fanin = rf, (math.log2(per_out) if per_out > 1 else 0.0) + 1
        add("latency", "pipeline depth", "latency.mac_depth", 1.0)
        add("latency", "adder tree depth", "latency.fanin_log2", fanin)
        add("latency_min", "pipeline depth", "latency_min.mac_depth", 1.0)
        add("latency_min", "adder tree depth", "latency_min.fanin_log2", fanin)
    add("latency", "reuse steps (II=1 loop)", None, steps)
    add("latency_min", "reuse steps (II=1 loop)", None, steps)
    add("ii", "reuse steps", None, rf)
    if beats > 1:
        add("latency", "input stream beats", "latency.beat", beats)
        add("latency_min", "input stream beats", "latency_min.beat", beats)
        add("ii", "input stream beats", None, beats)
        lt.ii_reason = ("stream width: {} input beats + reuse {}", beats, rf)
    else:
        lt.ii_reason = ("reuse {}", rf)


def _conv_stream(lt: LayerTerms, s: LayerSpec, t: Target, rf: int, constant: bool) -> None:
    padded = s.padded_shape
    pixels = math.prod(padded[:-1])
    add = lt.add
    if s.kind is _CONV2D:
        # ap_shift_reg<T, in_width> line_buffer[kh - 1][n_chan]: SRL32 shift registers, one LUT per bit.
        add(
            "lut",
            "line buffer (shift registers)",
            None,
            (s.kernel[0] - 1) * s.n_chan * s.act_bits * -(-padded[1] // 32),
        )
    if constant:
        add("latency", "pixels x reuse (pipelined, II=rf)", "latency.const_conv_pixel", pixels * rf)
        add("latency", "pipeline depth", "latency.const_depth", 1.0)
        add("latency_min", "pixels x reuse (pipelined, II=rf)", "latency_min.const_conv_pixel", pixels * rf)
        add("latency_min", "pipeline depth", "latency_min.const_depth", 1.0)
        add("ii", "pixels x reuse", "latency.const_conv_pixel", pixels * rf)
        lt.ii_reason = ("line buffer: {} pixels at II={}", pixels, rf)
        return
    # Vitis: every input pixel runs the kernel's rf-step loop at II=1 in the worst case (structural).
    reuse, per_pixel, out_reuse, min_pixel, min_out_reuse = _CONV_TIMING[t.hls]
    out_steps = s.out_pixels * rf
    for metric in ("latency", "ii"):
        add(metric, "pixels x reuse steps", reuse, pixels * rf)
        add(metric, "per-pixel shift and call", per_pixel, pixels)
        add(metric, "outputs x reuse steps", out_reuse, out_steps)
    add("latency", "pipeline depth", "latency.mac_depth", 1.0)
    add("latency_min", "per-pixel shift", min_pixel, pixels)
    add("latency_min", "outputs x reuse steps", min_out_reuse, out_steps)
    add("latency_min", "pipeline depth", "latency_min.mac_depth", 1.0)
    if t.tight:
        add("latency", "tight clock: per-pixel chain split", "latency.tight_conv_pixel", pixels)
        add("latency_min", "tight clock: per-pixel chain split", "latency_min.tight_conv_pixel", pixels)
        add("ii", "tight clock: per-pixel chain split", "latency.tight_conv_pixel", pixels)
    lt.ii_reason = ("line buffer: {} pixels x (reuse {} + shift)", pixels, rf)


def _conv_parallel(lt: LayerTerms, s: LayerSpec, rf: int) -> None:
    out_steps = s.out_pixels * rf
    for metric in ("latency", "latency_min"):
        lt.add(metric, "outputs x reuse", f"{metric}.reuse", out_steps)
        lt.add(metric, "pipeline depth", f"{metric}.const_depth", 1.0)
    lt.add("ii", "outputs x reuse", None, out_steps)
    lt.ii_reason = ("reuse {} over {} output pixels", rf, s.out_pixels)
