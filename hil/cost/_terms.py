"""Per-layer cost terms: what each piece of an hls4ml layer costs, as coefficient x feature.

Why terms and not a formula per metric: every metric of a layer is a short sum of
``coefficient * feature`` (a feature counts hardware: multiplier lanes, input bits, reuse steps),
so one function serves both the estimate (multiply by the fitted coefficients) and the
calibration (the features are the columns of a linear least-squares problem). A term whose
coefficient name is None is structural: a count read off hls4ml's code (DSPs = lanes, BRAM =
reshaped weight ROM), not fitted.

How hls4ml builds a multiply-accumulate layer (nnet_dense_resource.h, nnet_conv_stream.h):
the Dense kernel of n_in x n_out multiplies runs ``rf`` (reuse factor) pipelined steps with
``lanes = n_in * n_out / rf`` multipliers; Conv1D/Conv2D in io_stream feed the same kernel with a
window of ``kernel * n_chan`` inputs once per pixel. Resource strategy keeps weights in a ROM
reshaped to ``lanes * weight_bits`` wide and ``rf`` deep (BRAM when big); Latency strategy keeps
them as constants, so HLS turns part of the multiplies into shift-add logic.
When rf >= n_in, each lane accumulates into one output over the steps, which the DSP's own
accumulator does; when rf < n_in, several lanes add into one output per cycle, which costs an
adder (and index muxes) in fabric per lane: this is the ``lut.lane_adder_bit`` term.
"""

from __future__ import annotations

import logging
import math

from hil.cost._reuse import closest_reuse_factor
from hil.cost._spec import MAC_KINDS, IOType, LayerKind, LayerSpec, Strategy

__all__ = ["METRICS", "Terms", "fifo_terms", "layer_terms"]

_log = logging.getLogger(__name__)

#: Metrics a layer's terms cover, in this order. ``latency`` is the worst case (latency_max).
METRICS: tuple[str, ...] = ("lut", "ff", "dsp", "bram_18k", "latency", "latency_min", "ii")

Term = tuple[str | None, float]
#: (terms per metric in METRICS order, effective reuse factor)
Terms = tuple[tuple[list[Term], ...], int]

_ROUTING_KINDS = frozenset({LayerKind.FLATTEN, LayerKind.RESHAPE})
_TABLE_ACTIVATIONS = frozenset({"sigmoid", "tanh", "softplus", "softsign", "elu", "selu", "hard_tanh_table"})


def _dsp_per_mult(wb: int, ab: int, p: dict[str, float]) -> int:
    """DSP48E2 slices per product, 0 when Vivado HLS maps it to LUTs (narrow operands)."""
    wide, narrow = max(wb, ab), min(wb, ab)
    if narrow <= p["mult.lut_min_bits"] or wide <= p["mult.lut_max_bits"]:
        return 0
    return -(-wide // 27) * -(-narrow // 18)


def _rom_bram(lanes: int, rf: int, wb: int, n_mult: int, p: dict[str, float]) -> tuple[int, float]:
    """(BRAM18 blocks, LUTRAM LUTs) of a weight ROM reshaped to lanes*wb bits x rf words."""
    if n_mult * wb < p["bram.min_rom_bits"]:
        return 0, lanes * wb * -(-rf // 64)
    # One BRAM18 is 36 bits wide up to 512 words; deeper ROMs use narrower, deeper modes.
    cols = lanes * wb * -(-rf // 512)
    blocks, rest = divmod(cols, 36)
    if rest > p["bram.lutram_remainder_bits"]:
        return blocks + 1, 0.0
    return blocks, rest * -(-rf // 64)


def lane_bits(wb: int, ab: int, accb: int) -> float:
    """Effective bit count of one multiplier lane's fabric logic, equal to ``accb`` at 16/16/16.

    Why this shape: the calibration data are all 16-bit, so they fix the per-lane LUT cost at
    16 bits (~270 LUTs) but cannot say how it scales. Physics splits it into an adder part,
    about one LUT per accumulator bit, and an operand part (multiply in fabric, operand muxes)
    that grows with weight bits x activation bits. ``(accb + wb*ab) / 17`` is exactly 16 at
    16/16/16, so the fitted coefficients are unchanged there, while a 4-bit lane costs ~10x
    less than a 16-bit one instead of ~1.3x (which a plain ``accb`` feature would claim).
    """
    return (accb + wb * ab) / 17.0


def _mac_terms(s: LayerSpec, p: dict[str, float]) -> Terms:
    n_in, n_out = s.mult_size()
    n_mult = n_in * n_out
    wb, ab, accb = s.weight_bits, s.act_bits, s.acc_bits
    conv = s.kind is not LayerKind.DENSE
    p_in, p_out = (s.in_pixels, s.out_pixels) if conv else (1, 1)
    dsp_per = _dsp_per_mult(wb, ab, p)
    fanin = math.log2(max(n_in, 2))
    lut: list[Term] = [("lut.layer", 1.0)]
    ff: list[Term] = [("ff.layer", 1.0)]
    bram: list[Term] = []
    if s.strategy is Strategy.RESOURCE:
        rf = closest_reuse_factor(n_in, n_out, s.reuse_factor)
        lanes = n_mult // rf
        split = rf < n_in
        lut += [("lut.input_bit", n_in * ab), ("lut.output_tree_bit", n_out * fanin * accb)]
        ff += [
            ("ff.window_bit_conv" if conv else "ff.input_bit_dense", n_in * ab),
            ("ff.lane_bit", lanes * (wb + ab)),
            ("ff.output_acc_bit", n_out * (wb + ab + fanin)),
        ]
        if split:
            lut.append(("lut.lane_adder_bit", lanes * lane_bits(wb, ab, accb)))
            ff.append(("ff.lane_adder_bit", lanes * accb))
        dsp: list[Term] = [(None, lanes * dsp_per)]
        if not dsp_per:
            lut.append(("lut.lut_mult_bit2", lanes * wb * ab))
            if not split:  # no DSP accumulator to absorb the accumulate
                lut.append((None, lanes * accb))
        blocks, lutram = _rom_bram(lanes, rf, wb, n_mult, p)
        if rf > n_in and n_out >= p["bram.acc_outputs_per_lane"] * lanes:
            blocks += -(-(n_out * accb) // (36 * 512))
        bram.append((None, blocks))
        if lutram:
            lut.append((None, lutram))
        lat: list[Term] = [("latency.layer", 1.0), ("latency.reuse", rf), ("latency.fanin_log2", fanin)]
        lat_min: list[Term] = [("latency_min.layer", 1.0), ("latency_min.fanin_log2", fanin)]
        if conv:
            per_image = [("latency.pixel", p_in), ("latency.pixel_reuse", p_out * rf)]
            lat += per_image
            lat_min.append(("latency_min.pixel", p_in))
            ii: list[Term] = list(per_image)
        else:
            lat_min.append(("latency_min.reuse", rf))
            ii = [(None, rf)]
    else:
        # Latency strategy: hls4ml does not correct rf here; the multiplier limit is ceil(n_mult/rf).
        rf = s.reuse_factor
        lanes = -(-n_mult // rf)
        lut.append(("lut.latency_mac_bit", lanes * lane_bits(wb, ab, accb)))
        ff.append(("ff.latency_mac_bit", lanes * accb))
        dsp = [("dsp.latency_const_fraction", lanes * dsp_per)]
        if not dsp_per:
            lut.append(("lut.lut_mult_bit2", lanes * wb * ab))
        lat = [("latency.layer", 1.0), ("latency.fanin_log2", fanin)]
        lat_min = [("latency_min.layer", 1.0), ("latency_min.fanin_log2", fanin)]
        if conv:
            lat.append(("latency.latency_pixel", p_in * rf))
            lat_min.append(("latency_min.latency_pixel", p_in * rf))
            ii = [("latency.latency_pixel", p_in * rf)]
        else:
            lat.append(("latency.reuse", rf))
            lat_min.append(("latency_min.reuse", rf))
            ii = [(None, rf)]
    if s.kind is LayerKind.CONV2D and s.io_type is IOType.IO_STREAM:
        # (kh - 1) line buffers per channel, each an SRL shift register of in_width words.
        lut.append((None, (s.kernel[0] - 1) * s.n_chan * ab * -(-s.in_shape[1] // 32)))
    return (lut, ff, dsp, bram, lat, lat_min, ii), rf


def _parallel_lanes(s: LayerSpec) -> int:
    """Values a non-MAC layer handles per cycle: one pixel in io_stream, the whole tensor in io_parallel."""
    return s.in_shape[-1] if s.io_type is IOType.IO_STREAM else math.prod(s.in_shape)


def _other_terms(s: LayerSpec, p: dict[str, float]) -> Terms:
    # Fixed physics guesses: the calibration data hold no such layers, so these are extrapolated.
    n = _parallel_lanes(s)
    pix = float(s.in_pixels if s.io_type is IOType.IO_STREAM else 1)
    ab, rb = s.act_bits, s.result_bits
    lut = ff = dsp = bram = 0.0
    depth = 1.0
    kind = s.kind
    if kind in _ROUTING_KINDS:
        return ([], [], [], [], [], [], []), s.reuse_factor
    if kind in (LayerKind.POOLING1D, LayerKind.POOLING2D):
        k = math.prod(s.kernel) if s.kernel else 2
        lut = n * ab * (k - 1) + 40
        ff = n * ab * k + 40
        if kind is LayerKind.POOLING2D and s.io_type is IOType.IO_STREAM and len(s.in_shape) == 3:
            lut += (s.kernel[0] - 1) * n * ab * -(-s.in_shape[1] // 32)
        depth = 3 + math.log2(k)
    elif kind is LayerKind.ACTIVATION:
        act = s.activation.lower()
        if act == "linear":
            return ([], [], [], [], [], [], []), s.reuse_factor
        if act in ("relu", "relu6", "hard_sigmoid", "hard_tanh"):
            lut, ff, depth = n * rb, n * rb, 1
        elif act in _TABLE_ACTIVATIONS:
            lut, ff, bram, depth = n * (ab + 8), n * 18, -(-n // 2), 3
        else:  # leaky_relu, prelu, thresholded relu: a compare and a constant multiply per value
            dsp = n * _dsp_per_mult(ab, 16, p)
            lut, ff, depth = n * ab * 3, n * rb * 2, 3
    elif kind is LayerKind.SOFTMAX:
        lut = n * (ab + 18) * 2 + 200
        ff = n * (ab + 18) * 2
        dsp = n * _dsp_per_mult(18, 18, p)
        bram = -(-n // 2) + 1
        depth = 8 + 2 * math.log2(max(n, 2))
    elif kind is LayerKind.BATCHNORM:
        per = _dsp_per_mult(s.weight_bits, ab, p)
        dsp = n * per
        lut = n * s.acc_bits + (0 if per else n * s.weight_bits * ab * p["lut.lut_mult_bit2"])
        ff = n * (s.acc_bits + ab)
        depth = 4
    lat = pix + depth
    return (
        [(None, lut)],
        [(None, ff)],
        [(None, dsp)],
        [(None, bram)],
        [(None, lat)],
        [(None, lat)],
        [(None, pix)],
    ), s.reuse_factor


def layer_terms(s: LayerSpec, p: dict[str, float]) -> Terms:
    """Cost terms of one layer (see the module docstring); ``p`` maps coefficient names to values."""
    if s.kind in MAC_KINDS:
        return _mac_terms(s, p)
    return _other_terms(s, p)


def fifo_terms(
    shape: tuple[int, ...], bits: int, io_type: IOType, p: dict[str, float]
) -> tuple[float, float, float]:
    """(LUT, FF, BRAM18) of the tensor between two layers.

    io_stream: an hls::stream FIFO one pixel wide (channels x bits) and, as hls4ml sets it before
    FIFO-depth optimisation, as deep as the tensor has pixels; SRL when shallow, else BRAM.
    io_parallel: the tensor is a fully partitioned array, i.e. registers.
    """
    if io_type is IOType.IO_PARALLEL:
        return 0.0, float(math.prod(shape) * bits), 0.0
    width = shape[-1] * bits
    depth = math.prod(shape[:-1]) if len(shape) > 1 else 1
    if depth <= p["fifo.srl_max_depth"]:
        return width * -(-depth // 32) + 20.0, width + 10.0, 0.0
    port = 36 if depth <= 512 else 18 if depth <= 1024 else 9 if depth <= 2048 else 4
    blocks = -(-width // port) * max(1, -(-depth // 4096))
    return 40.0, 2.0 * width + 20, float(blocks)
