"""Many networks at once: the same numbers as ``estimate``, computed over arrays of layers.

Why a second path: a search screens candidates by the thousand, and the per-layer Python of
``estimate`` (a dozen ``LayerTerms.add`` calls, a dataclass hash per memo lookup) costs ~15 us a
layer, ~200 us a network. Here every layer of every network is one row of a few numpy columns; each
layer class's terms (``_mac``, ``_elementwise``, ``_memory``) are evaluated once per column, in the
same order and with the same float operations as the scalar path, so the sums are bit-identical
(``tests/cost_tests/test_batch.py`` checks it on hundreds of sampled candidates). Layers this path
does not vectorise (softmax, batch norm, table activations, shapes of more than three dimensions)
are priced by the scalar ``layer_terms`` and dropped into the same columns. The result holds only
what a feasibility test reads (totals and bands); ``estimate`` keeps the per-layer detail, ``explain``
and which layer sets the II.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np

from hil.cost._estimate import (
    _DEFAULT_TARGET,
    _layer_estimate,
    _make_entry,
    estimate,
)
from hil.cost._memory import (
    FIFO_FF,
    INDEX_TABLE_BRAM_BITS,
    VITIS_SRL_MAX_BITS,
    VIVADO_LUTRAM_MAX_BITS,
    VIVADO_SRL_MAX_DEPTH,
    log2_ceil,
)
from hil.cost._params import CostParams, default_params
from hil.cost._reuse import closest_reuse_factor
from hil.cost._spec import IOType, LayerKind, LayerSpec, Strategy
from hil.cost._target import HlsTool, Target
from hil.cost._terms import layer_terms
from hil.errors import InputError

__all__ = ["VECTOR_MIN", "BatchEstimate", "estimate_many"]

_log = logging.getLogger(__name__)

#: Fewer networks than this are estimated one by one (same numbers; numpy's fixed cost per call,
#: ~1 ms, would exceed the ~0.2 ms a network costs the scalar path).
VECTOR_MIN = 8

# Kind codes of the layer columns.
_DENSE, _CONV1, _CONV2, _POOL1, _POOL2, _ACT, _PAD, _ROUTE, _OTHER = range(9)
_KIND_CODE = {
    LayerKind.DENSE: _DENSE,
    LayerKind.CONV1D: _CONV1,
    LayerKind.CONV2D: _CONV2,
    LayerKind.POOLING1D: _POOL1,
    LayerKind.POOLING2D: _POOL2,
    LayerKind.ACTIVATION: _ACT,
    LayerKind.ZEROPADDING: _PAD,
    LayerKind.FLATTEN: _ROUTE,
    LayerKind.RESHAPE: _ROUTE,
    LayerKind.SOFTMAX: _OTHER,
    LayerKind.BATCHNORM: _OTHER,
}
#: Activations priced here (compare-and-cast; ``_elementwise._COMPARE_ACTIVATIONS``); others: scalar.
_ACT_CODE = {"linear": 0, "relu": 1, "relu6": 1, "hard_sigmoid": 2, "hard_tanh": 2}
_IS_STREAM = {IOType.IO_STREAM: True, IOType.IO_PARALLEL: False}
_SAME = "same"
_METRIC_KEYS = ("lut", "ff", "dsp", "bram_18k", "latency_cycles")
#: Every total ``estimate`` may report.
_TOTAL_KEYS = ("lut", "ff", "dsp", "bram_18k", "uram", "ii_cycles", "latency_cycles", "clock_mhz",
               "throughput_fps")  # fmt: skip
_RESOURCES = ("lut", "ff", "dsp", "bram_18k")
_CLASSES = ("mac_resource", "mac_constant", "other")  # the codes 0, 1, 2 of the stage class column
_BAND_METRICS = (
    ("lut", "lut"), ("ff", "ff"), ("dsp", "dsp"), ("bram_18k", "bram_18k"), ("latency_cycles", "latency"),
)  # fmt: skip

#: Fields every layer needs here; the layer classes read theirs from their own rows only.
_FIELDS = (
    "kind", "io_type", "in_shape", "out_shape", "act_bits", "result_bits", "act_int_bits",
    "result_int_bits", "result_rounding", "result_saturation",
)  # fmt: skip


@dataclass(frozen=True)
class BatchEstimate:
    """Totals and 80 % bands of many networks, one array entry per network (``estimate``'s keys).

    Attributes:
        totals: lut, ff, dsp, bram_18k, uram, ii_cycles, latency_cycles, clock_mhz and
            throughput_fps (NaN where a network has no clock or no II).
        lo, hi: the band edges of lut, ff, dsp, bram_18k and latency_cycles.
        latency_min_cycles: best-case latency.
        predicts: ``hls`` (csynth) or ``synth`` (post-synthesis resources), as ``level`` asked.
    """

    totals: dict[str, np.ndarray]
    lo: dict[str, np.ndarray]
    hi: dict[str, np.ndarray]
    latency_min_cycles: np.ndarray
    predicts: str = "hls"

    def __len__(self) -> int:
        return int(self.totals["lut"].shape[0])

    def totals_at(self, i: int) -> dict[str, float]:
        """Network ``i``'s totals as ``Estimate.totals`` has them (absent keys left out)."""
        return {k: float(v[i]) for k, v in self.totals.items() if not math.isnan(v[i])}

    def bands_at(self, i: int) -> dict[str, tuple[float, float]]:
        """Network ``i``'s bands as ``Estimate.bands`` has them."""
        return {k: (float(self.lo[k][i]), float(self.hi[k][i])) for k in _METRIC_KEYS}

    def upper_at(self, i: int) -> dict[str, float]:
        """Network ``i``'s totals with every banded metric at its band's upper edge (``Estimate.upper``)."""
        out = self.totals_at(i)
        out.update({k: float(self.hi[k][i]) for k in _METRIC_KEYS})
        return out


def _col(values: Sequence[Any]) -> np.ndarray:
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _shape3(shapes: Sequence[tuple[int, ...]]) -> tuple[np.ndarray, np.ndarray]:
    """Shapes left-padded to three entries (``(n,)`` -> ``(1, 1, n)``) as an (n, 3) array, and each
    shape's length. Networks share few distinct shapes: each is converted once."""
    table = dict.fromkeys(shapes, 0)
    for i, shape in enumerate(table):
        table[shape] = i
    codes = np.fromiter(map(table.__getitem__, shapes), dtype=np.int64, count=len(shapes))
    uniq = [((1,) * (3 - len(sh)) + sh)[-3:] for sh in table]
    arr = np.array(uniq, dtype=np.int64).reshape(-1, 3)
    lengths = np.array([len(sh) for sh in table], dtype=np.int64)
    return arr[codes], lengths[codes]


def _map(fn: Any, values: np.ndarray) -> np.ndarray:
    """``fn`` of each entry, evaluated once per distinct value (math.log2 exactly as the scalar path)."""
    if values.size == 0:
        return np.zeros(0)
    uniq, inverse = np.unique(values, return_inverse=True)
    return np.array([fn(int(v)) for v in uniq.tolist()], dtype=np.float64)[inverse]


def _ceil_div(a: np.ndarray, b: np.ndarray | int) -> np.ndarray:
    return -(-a // b)


def _dsp_per_product(wide: np.ndarray, narrow: np.ndarray, target: Target) -> np.ndarray:
    a, b = target.dsp_ports
    return np.where((wide <= a) & (narrow <= b), 1, _ceil_div(wide, a) * _ceil_div(narrow, b))


def _cast(
    rounding: np.ndarray,
    saturation: np.ndarray,
    result_bits: np.ndarray,
    result_int: np.ndarray,
    from_bits: np.ndarray,
    from_int: np.ndarray,
) -> np.ndarray:
    """``rounding + 2 * saturation`` bits of ``_mac.cast_bits`` (int columns; -1 encodes None)."""
    r = np.where(rounding, result_bits, 0)
    res_int = np.where(result_int >= -(2**40), result_int, result_bits // 2)
    src_int = np.where(from_int >= -(2**40), from_int, from_bits // 2)
    s = np.where(saturation, np.maximum(src_int - res_int, 0) + result_bits, 0)
    return r + 2 * s


_NONE = -(2**50)


def _opt(values: Sequence[int | None]) -> np.ndarray:
    return _col([_NONE if v is None else v for v in values])


def _bram_blocks(width: np.ndarray, depth: np.ndarray) -> np.ndarray:
    """``_memory.bram_blocks`` (true-dual-port modes) over arrays."""
    best = None
    for w, d in ((18, 1024), (9, 2048), (4, 4096), (2, 8192), (1, 16384)):
        blocks = _ceil_div(width, w) * _ceil_div(depth, d)
        best = blocks if best is None else np.minimum(best, blocks)
    assert best is not None
    return np.where((width <= 0) | (depth <= 0), 0, best)


def _rom_blocks(width: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_memory.rom_blocks`` over arrays: (BRAM18 blocks, LUTRAM LUTs)."""
    cpb = np.where(depth <= 512, 36, np.where(depth <= 1024, 18, np.where(depth <= 2048, 9, 4)))
    stack = np.maximum(1, _ceil_div(depth, 18432 // cpb))
    full, rest = width // cpb, width % cpb
    wide_rest = rest > 9
    lutram = np.where(rest > 0, rest * _ceil_div(depth, 64), 0)
    blocks = np.where(wide_rest, (full + 1) * stack, np.where((full == 0) & (rest > 0), 0, full * stack))
    return blocks, np.where(wide_rest, 0, lutram)


class _Cols:
    """The stage columns (one row per HLS function of every network)."""

    def __init__(self, n: int) -> None:
        self.v = {m: np.zeros(n) for m in ("lut", "ff", "dsp", "bram", "lat", "lat_min", "ii")}


def estimate_many(
    networks: Sequence[Sequence[LayerSpec]],
    *,
    clock_mhz: float | Sequence[float | None] | None = None,
    params: CostParams | None = None,
    include_io: bool = True,
    target: Target | None = None,
    level: str = "hls",
) -> BatchEstimate:
    """Estimate many networks in one call: ``estimate``'s totals and bands, per network.

    Args:
        networks: each a network as layer specs, in hls4ml order.
        clock_mhz: one clock for all, or one per network (None: the target's, as ``estimate``).
        params: coefficients (default: the shipped ones).
        include_io: add the FIFOs between layers and the top-level glue.
        target: HLS tool and device family of all of them (default: Vitis HLS, UltraScale+).
        level: ``hls`` (csynth) or ``synth`` (resources x the synthesis ratios), as ``estimate``.
    """
    if level not in ("hls", "synth"):
        raise InputError(f"estimate level must be hls or synth, got {level!r}")
    params = params or default_params()
    n_net = len(networks)
    clocks = _clocks(clock_mhz, target, n_net)
    if n_net < VECTOR_MIN:
        return _one_by_one(networks, clock_mhz, params, include_io, target, level)
    target = target or _DEFAULT_TARGET
    p = params.coefficients
    counts = np.fromiter((len(net) for net in networks), dtype=np.int64, count=n_net)
    flat: list[LayerSpec] = list(chain.from_iterable(networks))
    net_of = np.repeat(np.arange(n_net), counts)
    # One list per field (a list per column is far cheaper than a tuple per layer).
    cols = [list(map(attrgetter(name), flat)) for name in _FIELDS]
    kinds, ios, in_shapes, out_shapes, ab, rb, act_int, res_int, res_rnd, res_sat = cols
    kind = _col(list(map(_KIND_CODE.__getitem__, kinds)))
    ishape, ndim = _shape3(in_shapes)
    oshape, ndim_out = _shape3(out_shapes)
    # Shapes of more than three dimensions: the scalar path (the columns hold three).
    kind = np.where(((ndim > 3) | (ndim_out > 3)) & (kind != _ROUTE), _OTHER, kind)
    keep = kind != _ROUTE
    idx = np.flatnonzero(keep)  # layers that become functions (a pad stage may precede one)
    stream_all = np.array(list(map(_IS_STREAM.__getitem__, ios)), dtype=bool)
    n_flat = len(flat)
    # Multiply-accumulate layers: their own fields, read from their rows only.
    mac_all = np.flatnonzero((kind == _DENSE) | (kind == _CONV1) | (kind == _CONV2))
    mac_specs = [flat[i] for i in mac_all.tolist()]

    def mac_field(name: str) -> list[Any]:
        return list(map(attrgetter(name), mac_specs))

    wb_a, accb_a = np.zeros(n_flat, dtype=np.int64), np.zeros(n_flat, dtype=np.int64)
    acc_int_a = np.full(n_flat, _NONE, dtype=np.int64)
    wb_a[mac_all], accb_a[mac_all] = _col(mac_field("weight_bits")), _col(mac_field("acc_bits"))
    acc_int_a[mac_all] = _opt(mac_field("acc_int_bits"))
    kernels: list[tuple[int, ...]] = [()] * n_flat
    strides: list[tuple[int, ...]] = [()] * n_flat
    same_pad = np.zeros(n_flat, dtype=bool)
    for i, ker, strd, pad in zip(
        mac_all.tolist(), mac_field("kernel"), mac_field("stride"), mac_field("padding"), strict=True
    ):
        kernels[i], strides[i], same_pad[i] = ker, strd, pad == _SAME
    in_pix, out_pix = ishape[:, 0] * ishape[:, 1], oshape[:, 0] * oshape[:, 1]

    # in_beats of a Dense: the previous function's output pixels in its network (1 when first).
    k_net = net_of[idx]
    prev_out = np.ones(idx.size, dtype=np.int64)
    if idx.size > 1:
        same = k_net[1:] == k_net[:-1]
        prev_out[1:] = np.where(same, out_pix[idx[:-1]], 1)
    in_beats = np.zeros(len(flat), dtype=np.int64)
    in_beats[idx] = np.where(kind[idx] == _DENSE, prev_out, 0)

    conv = (kind == _CONV1) | (kind == _CONV2)
    pads = np.flatnonzero(conv & same_pad & stream_all)

    # Stage order: a pad stage just before its convolution.
    order_key = np.concatenate([2 * idx + 1, 2 * pads])
    order = np.argsort(order_key, kind="stable")
    n_stage = order.size
    is_pad = order >= idx.size
    layer_row = np.concatenate([idx, pads])[order]  # the flat layer each stage comes from
    st_net = net_of[layer_row]

    v = {m: np.zeros(n_stage) for m in ("lut", "ff", "dsp", "bram", "lat", "lat_min", "ii")}
    cls = np.full(n_stage, 2, dtype=np.int64)  # 0 mac_resource, 1 mac_constant, 2 other
    fallback: list[int] = []

    # Padded input of convolutions (what the line buffer stores and the pad stage writes).
    kern2 = _shape3(kernels)[0][:, 1:]
    strd2 = np.ones_like(kern2)  # a convolution's default stride is 1
    conv_rows = np.flatnonzero(conv)
    if conv_rows.size:
        strd2[conv_rows] = _shape3([strides[i] or (1, 1) for i in conv_rows.tolist()])[0][:, 1:]
    padded_h = np.where(
        same_pad & conv,
        np.maximum(ishape[:, 0], (oshape[:, 0] - 1) * strd2[:, 0] + kern2[:, 0]),
        ishape[:, 0],
    )
    padded_w = np.where(
        same_pad & conv,
        np.maximum(ishape[:, 1], (oshape[:, 1] - 1) * strd2[:, 1] + kern2[:, 1]),
        ishape[:, 1],
    )

    ab_a, rb_a = _col(ab), _col(rb)
    rnd = np.array(res_rnd, dtype=bool)
    sat = np.array(res_sat, dtype=bool)
    res_int_a, act_int_a = _opt(res_int), _opt(act_int)

    def add(metric: str, rows: np.ndarray, mask: np.ndarray | None, value: Any) -> None:
        """``LayerTerms.add`` for the stage rows ``rows`` (where ``mask``)."""
        if mask is None:
            v[metric][rows] += value
        else:
            v[metric][rows] += np.where(mask, value, 0.0)

    # ---- pad stages (``_elementwise._padding``, io_stream)
    st_pad = np.flatnonzero(is_pad)
    lr = layer_row[st_pad]
    pad_pix = padded_h[lr] * padded_w[lr]
    add("lut", st_pad, None, p["lut.loop"] * 1.0)
    for m in ("lat", "lat_min", "ii"):
        add(m, st_pad, None, pad_pix.astype(np.float64))

    st_kind = np.where(is_pad, _PAD + 100, kind[layer_row])
    st_stream = stream_all[layer_row]

    # ---- multiply-accumulate layers (``_mac.mac_terms``)
    st = np.flatnonzero((st_kind == _DENSE) | (st_kind == _CONV1) | (st_kind == _CONV2))
    lr = layer_row[st]
    variants = params.rule_variants()
    mac_variants: list[np.ndarray] = []
    mac_stages = st
    if st.size:
        dense = kind[lr] == _DENSE
        n_in = np.where(dense, ishape[lr, 2], kern2[lr, 0] * kern2[lr, 1] * ishape[lr, 2])
        n_out = oshape[lr, 2]
        # the MAC stages are the MAC layers, in order (``lr`` equals ``mac_all``)
        req = _col(mac_field("reuse_factor"))
        latency_strategy = np.array([x is Strategy.LATENCY for x in mac_field("strategy")], dtype=bool)
        rf = np.where(latency_strategy, np.maximum(1, np.minimum(req, n_in * n_out)), 0)
        res_rows = np.flatnonzero(~latency_strategy)
        if res_rows.size:
            rf[res_rows] = [
                closest_reuse_factor(a, b, c)
                for a, b, c in zip(
                    n_in[res_rows].tolist(), n_out[res_rows].tolist(), req[res_rows].tolist(), strict=True
                )
            ]

        constant = latency_strategy | (rf == 1)
        cls[st] = np.where(constant, 1, 0)
        w, a_, acc = wb_a[lr], ab_a[lr], accb_a[lr]
        wide, narrow = np.maximum(w, a_), np.minimum(w, a_)
        dpp = _dsp_per_product(wide, narrow, target)
        conv_l = ~dense
        stream = st_stream[st]

        # Resource kernel
        res = ~constant
        lanes = _ceil_div(n_in * n_out, np.maximum(rf, 1))
        per_out_r = np.where(rf <= n_in, np.maximum(lanes // n_out, 1), 1)
        per_output = np.floor(p["dsp.tree_fraction"] * per_out_r + 0.5).astype(np.int64)
        per_output = np.where(per_output == 0, 1, per_output)
        dsp_lanes = np.where(
            narrow <= p["mult.fabric_max_bits"],
            0,
            np.where(
                (per_out_r > 1) & (wide <= p["mult.narrow_bits"]),
                np.minimum(lanes, per_output * n_out),
                lanes,
            ),
        )
        add("dsp", st, res, (dsp_lanes * dpp).astype(np.float64))
        add("lut", st, res, p["lut.function"] * np.where(conv_l, 2.0, 1.0))
        add("ff", st, res, p["ff.function"] * 1.0)
        add("lut", st, res, p["lut.select_bit"] * (n_in * a_))
        add("ff", st, res, p["ff.operand_bit"] * (n_in * a_))
        add("lut", st, res, p["lut.mult_bit2"] * (lanes * w * a_))
        add("lut", st, res & (lanes > dsp_lanes), p["lut.mult_bit2"] * ((lanes - dsp_lanes) * w * a_))
        add("ff", st, res, p["ff.operand_bit"] * (lanes * (w + a_)))
        tree = res & (per_out_r > 1)
        add("lut", st, tree, p["lut.adder_bit"] * (lanes * acc))
        add("ff", st, tree, p["ff.acc_bit"] * (lanes * acc))
        add("lut", st, tree & conv_l, p["lut.fanout_bit"] * (n_out * n_in * a_))
        indexed = res & (rf > n_in)
        add("lut", st, indexed, p["lut.adder_bit"] * (n_out * acc))
        add("ff", st, indexed, p["ff.acc_bit"] * (n_out * acc))
        index_bits = rf * _map(log2_ceil, _ceil_div(rf, n_in)).astype(np.int64)
        add("bram", st, indexed, (index_bits > INDEX_TABLE_BRAM_BITS).astype(np.float64))
        width = lanes * w
        blocks, lutram = _rom_blocks(width, np.maximum(rf, 1))
        if target.hls is HlsTool.VIVADO:
            small = width * rf < VIVADO_LUTRAM_MAX_BITS
            blocks = np.where(small, 0, blocks)
            lutram = np.where(small, width * _ceil_div(rf, 64), lutram)
        else:
            lutram = np.where(blocks == 0, 0, lutram)
            blocks = np.where(blocks == 0, 1, blocks)
        add("bram", st, res, blocks.astype(np.float64))
        add("lut", st, res, lutram.astype(np.float64))

        # Constant kernel
        zeros_a = _col(mac_field("n_zeros"))
        mults = _ceil_div(np.maximum(n_in * n_out - zeros_a, 0), np.maximum(rf, 1))
        limit, fabric = p["mult.narrow_bits"], p["mult.fabric_max_bits"]
        has_coef = ~((narrow <= fabric) | (wide <= limit))
        frac = np.where(narrow > limit, p["dsp.const_wide_fraction"], p["dsp.const_one_narrow_fraction"])
        in_dsp = np.where(has_coef, frac, 0.0)
        add("dsp", st, constant & has_coef, frac * (mults * dpp))

        def mac_dsp(q: dict[str, float]) -> np.ndarray:
            """The DSP terms above with another parameter set's narrow-product rule values."""
            fab, nb = q["mult.fabric_max_bits"], q["mult.narrow_bits"]
            share = np.floor(q["dsp.tree_fraction"] * per_out_r + 0.5).astype(np.int64)
            share = np.where(share == 0, 1, share)
            tree_ok = (per_out_r > 1) & (wide <= nb)
            lanes_q = np.where(narrow <= fab, 0, np.where(tree_ok, np.minimum(lanes, share * n_out), lanes))
            coef = ~((narrow <= fab) | (wide <= nb))
            frac_q = np.where(narrow > nb, q["dsp.const_wide_fraction"], q["dsp.const_one_narrow_fraction"])
            const = np.where(coef, frac_q * (mults * dpp), 0.0)
            return np.where(constant, const, (lanes_q * dpp).astype(np.float64))

        mac_variants = [mac_dsp(var.coefficients) for var in variants]
        mac_stages = st
        add("lut", st, constant, p["lut.function"] * 1.0)
        add("lut", st, constant, p["lut.adder_bit"] * (n_out * acc))
        add("lut", st, constant, p["lut.const_mult_bit2"] * (mults * (1 - in_dsp) * w * a_))
        add("lut", st, constant, p["lut.adder_bit"] * (mults * acc))
        add("ff", st, constant, p["ff.function"] * 1.0)
        add("ff", st, constant, p["ff.operand_bit"] * (n_in * a_))
        add("ff", st, constant, p["ff.const_tree_bit"] * (mults * acc))
        add("ff", st, constant, p["ff.acc_bit"] * (n_out * acc))
        add("lut", st, constant & (rf > 1), p["lut.select_bit"] * (n_in * a_))

        beats = in_beats[lr]
        collect = dense & stream & (beats > 1)
        add("lut", st, collect, p["lut.adder_bit"] * (n_in * _map(math.log2, np.maximum(beats, 1))))
        cast = rnd[lr] | sat[lr]
        bits = _cast(rnd[lr], sat[lr], rb_a[lr], res_int_a[lr], acc, acc_int_a[lr])
        add("lut", st, cast, p["lut.adder_bit"] * (n_out * bits))

        # Dense schedule
        d_const, d_res = dense & constant, dense & ~constant
        levels_c = np.where(n_in > 2, _map(math.log2, np.maximum(n_in, 1)), 1.0)
        per_out_s = np.where(rf <= n_in, lanes // n_out, 1)
        levels_r = np.where(per_out_s > 1, _map(math.log2, np.maximum(per_out_s, 1)), 0.0) + 1
        for m in ("lat", "lat_min"):
            add(m, st, d_const, p["latency.const_adder_level"] * levels_c)
            add(m, st, d_const, (rf - 1).astype(np.float64))
            add(m, st, d_res, p["latency.kernel_depth"] * 1.0)
            add(m, st, d_res, p["latency.adder_level"] * levels_r)
            add(m, st, d_res, rf.astype(np.float64))
        add("ii", st, dense, rf.astype(np.float64))
        sched_beats = np.where(stream, beats, 1)
        for m in ("lat", "lat_min", "ii"):
            add(m, st, dense & (sched_beats > 1), sched_beats.astype(np.float64))

        # Convolution, io_stream (line buffer)
        c_stream = conv_l & stream
        pixels = padded_h[lr] * padded_w[lr]
        line = (kern2[lr, 0] - 1) * ishape[lr, 2] * a_ * _ceil_div(padded_w[lr], 32)
        add("lut", st, c_stream & (kind[lr] == _CONV2), line.astype(np.float64))
        adder_levels = p["latency.const_adder_level"] * _map(math.log2, np.maximum(n_in, 2))
        cs_const = c_stream & constant
        for m in ("lat", "lat_min", "ii"):
            add(m, st, cs_const, (pixels * rf).astype(np.float64))
        for m in ("lat", "lat_min"):
            add(m, st, cs_const, adder_levels)
        cs_res = c_stream & ~constant
        if target.hls is HlsTool.VITIS:
            for m in ("lat", "ii"):
                add(m, st, cs_res, (pixels * rf).astype(np.float64))
                add(m, st, cs_res, p["latency.conv_pixel"] * pixels)
            add("lat", st, cs_res, 1.0)
            add("lat_min", st, cs_res, p["latency_min.conv_pixel"] * pixels)
            add("lat_min", st, cs_res, 1.0)
        else:
            for m in ("lat", "ii"):
                add(m, st, cs_res, p["latency.vivado_conv_reuse_share"] * (pixels * rf))
                add(m, st, cs_res, p["latency.conv_pixel"] * pixels)
            add("lat", st, cs_res, p["latency.kernel_depth"] * 1.0)
            add("lat_min", st, cs_res, p["latency_min.conv_pixel"] * pixels)
            add("lat_min", st, cs_res, p["latency.kernel_depth"] * 1.0)
        # Convolution, io_parallel
        c_par = conv_l & ~stream
        out_steps = out_pix[lr] * rf
        for m in ("lat", "lat_min"):
            add(m, st, c_par, out_steps.astype(np.float64))
            add(m, st, c_par, adder_levels)
        add("ii", st, c_par, out_steps.astype(np.float64))

    # ---- pooling (``_elementwise._pooling``)
    st = np.flatnonzero(((st_kind == _POOL1) | (st_kind == _POOL2)) & (ndim[layer_row] <= 3))
    lr = layer_row[st]
    if st.size:
        stream = st_stream[st]
        pool_specs = [flat[i] for i in lr.tolist()]
        pool_kernels = list(map(attrgetter("kernel"), pool_specs))
        kp = _col([math.prod(k) if k else 2 for k in pool_kernels])
        ch = ishape[lr, 2]
        values = np.where(stream, ch, oshape[lr, 0] * oshape[lr, 1] * oshape[lr, 2])
        a_, r_ = ab_a[lr], rb_a[lr]
        add("lut", st, None, p["lut.loop"] * 1.0)
        add("lut", st, None, p["lut.adder_bit"] * (values * np.maximum(a_, r_) * (kp - 1)))
        add("ff", st, None, p["ff.operand_bit"] * (values * np.maximum(a_, r_) * kp))
        avg = np.array([s.activation.lower().startswith("av") for s in pool_specs], dtype=bool)
        add("lut", st, avg, p["lut.const_mult_bit2"] * (values * a_ * 8))
        has_kernel = np.array([bool(k) for k in pool_kernels], dtype=bool)
        buf = stream & (kind[lr] == _POOL2) & (ndim[lr] == 3) & has_kernel
        kh = _col([k[0] if k else 1 for k in pool_kernels])
        line = (kh - 1) * ch * a_ * _ceil_div(ishape[lr, 1], 32)
        add("lut", st, buf, line.astype(np.float64))
        _cast_terms(add, st, lr, values, rnd, sat, rb_a, res_int_a, ab_a, act_int_a, p)
        _schedule_terms(add, st, stream, in_pix[lr], 1.0 + _map(math.log2, np.maximum(kp, 2)))

    # ---- zero padding layers (``_elementwise._padding``)
    st = np.flatnonzero(st_kind == _PAD)
    if st.size:
        lr = layer_row[st]
        add("lut", st, None, p["lut.loop"] * 1.0)
        pix = np.where(st_stream[st], out_pix[lr], 1).astype(np.float64)
        for m in ("lat", "lat_min", "ii"):
            add(m, st, None, pix)

    # ---- activations of the compare family (``_elementwise._activation``)
    act_rows = np.flatnonzero(st_kind == _ACT)
    act_specs = [flat[i] for i in layer_row[act_rows].tolist()]
    act_code = _col([_ACT_CODE.get(s.activation.lower(), -1) for s in act_specs])
    fallback.extend(act_rows[act_code < 0].tolist())
    known = act_code >= 0
    st, act_code = act_rows[known], act_code[known]
    if st.size:
        act_specs = [s for s, ok in zip(act_specs, known.tolist(), strict=True) if ok]
        lr = layer_row[st]
        stream = st_stream[st]
        values = np.where(stream, ishape[lr, 2], ishape[lr, 0] * ishape[lr, 1] * ishape[lr, 2])
        a_ = ab_a[lr]
        changes = (
            (a_ != rb_a[lr])
            | np.array([s.act_signed != s.result_signed for s in act_specs], dtype=bool)
            | ((act_int_a[lr] != _NONE) & (res_int_a[lr] != _NONE) & (act_int_a[lr] != res_int_a[lr]))
            | rnd[lr]
            | sat[lr]
        )
        live = (act_code != 0) | changes
        st, lr, values, a_, stream, act_code = (
            st[live],
            lr[live],
            values[live],
            a_[live],
            stream[live],
            act_code[live],
        )
        add("lut", st, None, p["lut.loop"] * 1.0)
        add("lut", st, act_code != 0, p["lut.adder_bit"] * (2 * values * a_))
        add("lut", st, act_code == 2, p["lut.const_mult_bit2"] * (values * a_ * 2))
        _cast_terms(add, st, lr, values, rnd, sat, rb_a, res_int_a, ab_a, act_int_a, p)
        _schedule_terms(add, st, stream, in_pix[lr], np.ones(st.size))

    # ---- everything else: the scalar path, layer by layer
    fallback.extend(
        np.flatnonzero(
            (st_kind == _OTHER) | (((st_kind == _POOL1) | (st_kind == _POOL2)) & (ndim[layer_row] > 3))
        ).tolist()
    )
    fb_fifo: dict[int, tuple[int, int]] = {}
    for s in fallback:
        spec = flat[int(layer_row[s])]
        le = _layer_estimate(spec, layer_terms(spec, p, target, int(in_beats[layer_row[s]])), params)
        entry = _make_entry(le, params, target)
        v["lut"][s], v["ff"][s], v["dsp"][s], v["bram"][s] = le.lut, le.ff, le.dsp, le.bram_18k
        v["lat"][s], v["lat_min"][s], v["ii"][s] = le.latency_cycles, le.latency_min_cycles, le.ii_cycles
        fb_fifo[s] = (entry.fifo_bram, entry.fifo_ff)

    # The DSPs of every stage under each narrow-product rule variant (the DSP band spans them).
    variant_dsp = []
    for k, var in enumerate(variants):
        col = v["dsp"].copy()
        if mac_variants:
            col[mac_stages] = mac_variants[k]
        for stage in fallback:
            spec = flat[int(layer_row[stage])]
            col[stage] = layer_terms(spec, var.coefficients, target, int(in_beats[layer_row[stage]])).values[
                "dsp"
            ]
        variant_dsp.append(col)
    out = _networks(
        v, cls, st_net, n_net, layer_row, is_pad, stream_all, out_pix, oshape, rb_a, ab_a, ishape, padded_h,
        padded_w, fb_fifo, variant_dsp, params, target, include_io, clocks, level,
    )  # fmt: skip
    return out


def _cast_terms(
    add: Any,
    st: np.ndarray,
    lr: np.ndarray,
    values: np.ndarray,
    rnd: np.ndarray,
    sat: np.ndarray,
    rb_a: np.ndarray,
    res_int_a: np.ndarray,
    ab_a: np.ndarray,
    act_int_a: np.ndarray,
    p: dict[str, float],
) -> None:
    """``_elementwise._cast``: rounding and saturation of the result type, from the input type."""
    cast = rnd[lr] | sat[lr]
    bits = _cast(rnd[lr], sat[lr], rb_a[lr], res_int_a[lr], ab_a[lr], act_int_a[lr])
    add("lut", st, cast, p["lut.adder_bit"] * (values * bits))


def _schedule_terms(
    add: Any, st: np.ndarray, stream: np.ndarray, in_pix: np.ndarray, depth: np.ndarray
) -> None:
    """``_elementwise._elementwise_schedule``."""
    pixels = np.where(stream, in_pix, 1)
    counter = np.zeros(pixels.size, dtype=np.int64)
    ps = pixels.copy()
    while np.any(ps > 0):  # int.bit_length
        counter += ps > 0
        ps >>= 1
    counter += 1
    add("ff", st, stream, counter.astype(np.float64))
    add("lut", st, stream, counter.astype(np.float64))
    add("lat", st, stream, pixels.astype(np.float64))
    add("lat_min", st, stream, pixels.astype(np.float64))
    add("lat", st, stream, depth)
    add("lat_min", st, stream, depth)
    add("ii", st, None, pixels.astype(np.float64))


def _one_by_one(
    networks: Sequence[Sequence[LayerSpec]],
    clock_mhz: float | Sequence[float | None] | None,
    params: CostParams,
    include_io: bool,
    target: Target | None,
    level: str,
) -> BatchEstimate:
    """A few networks: ``estimate`` each (numpy's per-call overhead would cost more than it saves)."""
    n = len(networks)
    clocks: list[float | None] = (
        [clock_mhz] * n if clock_mhz is None or isinstance(clock_mhz, (int, float)) else list(clock_mhz)
    )
    totals = {k: np.full(n, np.nan) for k in _TOTAL_KEYS}
    lo = {k: np.zeros(n) for k in _METRIC_KEYS}
    hi = {k: np.zeros(n) for k in _METRIC_KEYS}
    lat_min = np.zeros(n)
    for i, (net, clock) in enumerate(zip(networks, clocks, strict=True)):
        est = estimate(net, clock_mhz=clock, params=params, include_io=include_io, target=target, level=level)
        for k, value in est.totals.items():
            totals[k][i] = value
        for k, (low, high) in est.bands.items():
            lo[k][i], hi[k][i] = low, high
        lat_min[i] = est.latency_min_cycles
    return BatchEstimate(totals, lo, hi, lat_min, level)


def _clocks(clock_mhz: float | Sequence[float | None] | None, target: Target | None, n: int) -> np.ndarray:
    """Per network, the clock ``estimate`` would report (NaN: none)."""
    if clock_mhz is None or isinstance(clock_mhz, (int, float)):
        values: list[float | None] = [clock_mhz] * n
    else:
        values = list(clock_mhz)
        if len(values) != n:
            raise InputError(f"estimate_many: {len(values)} clocks for {n} networks")
    out = np.full(n, np.nan)
    for i, c in enumerate(values):
        if c is not None:
            out[i] = float(c)
        elif target is not None:
            out[i] = target.clock_mhz
    return out


def _networks(
    v: dict[str, np.ndarray],
    cls: np.ndarray,
    st_net: np.ndarray,
    n_net: int,
    layer_row: np.ndarray,
    is_pad: np.ndarray,
    stream_all: np.ndarray,
    out_pix: np.ndarray,
    oshape: np.ndarray,
    rb_a: np.ndarray,
    ab_a: np.ndarray,
    ishape: np.ndarray,
    padded_h: np.ndarray,
    padded_w: np.ndarray,
    fb_fifo: dict[int, tuple[int, int]],
    variant_dsp: list[np.ndarray],
    params: CostParams,
    target: Target,
    include_io: bool,
    clocks: np.ndarray,
    level: str,
) -> BatchEstimate:
    """Per-layer rounding, FIFOs and the dataflow schedule (``estimate``'s network part)."""
    p = params.coefficients
    n = st_net.size
    # _layer_estimate's rounding
    lut, ff = np.rint(v["lut"]), np.rint(v["ff"])
    dsp, bram = np.ceil(v["dsp"] - 1e-9), np.ceil(v["bram"] - 1e-9)
    lat, lat_min = np.rint(v["lat"]), np.rint(v["lat_min"])
    ii = np.where(v["ii"] != 0, np.maximum(1, np.rint(v["ii"])), 0)
    built = (lut != 0) | (ff != 0) | (dsp != 0) | (ii != 0)

    # FIFOs after each built io_stream stage (``_memory.fifo_cost``)
    stream = np.where(is_pad, True, stream_all[layer_row])
    channels = np.where(is_pad, ishape[layer_row, 2], oshape[layer_row, 2])
    bits = np.where(is_pad, ab_a[layer_row], rb_a[layer_row])
    depth = np.maximum(np.where(is_pad, padded_h[layer_row] * padded_w[layer_row], out_pix[layer_row]), 1)
    if target.hls is HlsTool.VITIS:
        width = channels * bits
        srl = (width * depth <= VITIS_SRL_MAX_BITS) | (depth <= 2)
        f_bram = np.where(srl, 0, _bram_blocks(width, depth))
        f_ff = np.where(srl, FIFO_FF["vitis_srl"], FIFO_FF["vitis_bram"])
    else:
        f_bram = np.where(depth <= VIVADO_SRL_MAX_DEPTH, 0, channels * _bram_blocks(bits, depth))
        f_ff = channels * FIFO_FF["vivado"]
    has_fifo = built & stream
    f_bram, f_ff = np.where(has_fifo, f_bram, 0), np.where(has_fifo, f_ff, 0)
    for s, (fb, ffb) in fb_fifo.items():
        f_bram[s], f_ff[s] = fb, ffb

    last = np.ones(n, dtype=bool)
    if n > 1:
        last[:-1] = st_net[1:] != st_net[:-1]
    n_stages = np.bincount(st_net, minlength=n_net)
    has = n_stages > 0
    net_stream = np.zeros(n_net, dtype=bool)
    net_stream[st_net[last]] = stream[last]

    def seg_sum(values: np.ndarray) -> np.ndarray:
        return np.bincount(st_net, weights=values, minlength=n_net)

    # io (``_io_fast``)
    io_on = has & include_io
    io_bram = np.where(io_on, seg_sum(np.where(last, 0, f_bram).astype(np.float64)), 0.0)
    io_ff = np.where(
        io_on, np.rint(seg_sum(np.where(last, 0, f_ff).astype(np.float64)) + p["ff.function"]), 0.0
    )
    io_lut = np.where(io_on, float(round(p["lut.function"])), 0.0)

    totals: dict[str, np.ndarray] = {
        "lut": seg_sum(lut) + io_lut,
        "ff": seg_sum(ff) + io_ff,
        "dsp": seg_sum(dsp),
        "bram_18k": seg_sum(bram) + io_bram,
    }
    totals["uram"] = np.zeros(n_net)

    # Which built stage is slowest (first maximum of II in the network) and the latency schedule.
    b_idx = np.flatnonzero(built)
    b_net = st_net[b_idx]
    slow_ii = _first_argmax(ii[b_idx], b_net, n_net)  # index into b_idx, -1 when none
    has_fn = slow_ii >= 0
    slow_stage = np.where(has_fn, b_idx[np.maximum(slow_ii, 0)] if b_idx.size else 0, -1)
    ii_net = np.where(has_fn, ii[np.maximum(slow_stage, 0)] if n else 0, 0) + (net_stream & has_fn)
    totals["ii_cycles"] = ii_net.astype(np.float64)
    n_built = np.bincount(b_net, minlength=n_net)
    first_b = np.zeros(n_net, dtype=np.int64)
    if b_idx.size:
        first_b[b_net[::-1]] = np.arange(b_idx.size)[::-1]  # first built index of each network
    per_stage = p["latency.stage"]

    def schedule(values: np.ndarray) -> np.ndarray:
        bv = values[b_idx]
        arg = _first_argmax(bv, b_net, n_net)
        k = np.maximum(arg, 0)
        after = n_built - 1 - (k - first_b)
        streamed = np.rint(bv[k] + per_stage * after) if bv.size else np.zeros(n_net)
        summed = np.bincount(b_net, weights=bv, minlength=n_net)
        return np.where(has_fn, np.where(net_stream, streamed, summed), 0.0)

    totals["latency_cycles"] = schedule(lat)
    lat_min_net = schedule(lat_min)
    slow_ii_val = np.where(has_fn, ii[np.maximum(slow_stage, 0)] if n else 0, 0)
    lat_min_net = np.where(net_stream & has_fn, np.maximum(lat_min_net, slow_ii_val), lat_min_net)
    # ``_estimate.design_bands``: the design band of each metric; counts get their slack in units.
    lo: dict[str, np.ndarray] = {}
    hi: dict[str, np.ndarray] = {}
    slow_cls = np.where(has_fn, cls[np.maximum(slow_stage, 0)] if n else 2, 2)
    for key, metric in _BAND_METRICS:
        if metric == "latency":  # the band of the class of the layer that sets the II
            lo_f = np.array([params.class_bands[c]["latency"][0] for c in _CLASSES])[slow_cls]
            hi_f = np.array([params.class_bands[c]["latency"][1] for c in _CLASSES])[slow_cls]
            lo[key], hi[key] = totals[key] * lo_f, totals[key] * hi_f
            continue
        band = params.band(metric)
        lo[key], hi[key] = totals[key] * band["lo"], totals[key] * band["hi"]
        if metric in ("dsp", "bram_18k"):
            slack = params.slack(metric)
            lo[key], hi[key] = np.maximum(0.0, lo[key] - slack), hi[key] + slack
    dsp_band, dsp_slack = params.band("dsp"), params.slack("dsp")
    for col in variant_dsp:  # as ``estimate``: the union with the band at each rule variant
        total = seg_sum(np.ceil(col - 1e-9))
        lo["dsp"] = np.minimum(lo["dsp"], np.maximum(0.0, total * dsp_band["lo"] - dsp_slack))
        hi["dsp"] = np.maximum(hi["dsp"], total * dsp_band["hi"] + dsp_slack)
    if level == "synth":
        resource = np.bincount(st_net, weights=(cls == 0).astype(np.float64), minlength=n_net) > 0
        for metric in _RESOURCES:
            r_res = params.synth_ratio(target.hls.value, "resource", metric)
            r_lat = params.synth_ratio(target.hls.value, "latency", metric)
            ratio = np.where(resource, r_res["ratio"], r_lat["ratio"])
            lo[metric] = lo[metric] * np.where(resource, r_res["lo"], r_lat["lo"])
            hi[metric] = hi[metric] * np.where(resource, r_res["hi"], r_lat["hi"])
            totals[metric] = np.rint(totals[metric] * ratio)
    totals["clock_mhz"] = clocks
    with np.errstate(divide="ignore", invalid="ignore"):
        totals["throughput_fps"] = np.where(
            ii_net > 0, clocks * 1e6 / np.where(ii_net > 0, ii_net, 1), np.nan
        )
    return BatchEstimate(totals, lo, hi, lat_min_net, "synth" if level == "synth" else "hls")


def _first_argmax(values: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Per segment, the position (into ``values``) of its first maximum; -1 for an empty segment.
    ``seg`` is sorted (segments are contiguous)."""
    out = np.full(n_seg, -1, dtype=np.int64)
    if values.size == 0:
        return out
    seg_max = np.full(n_seg, -np.inf)
    np.maximum.at(seg_max, seg, values)
    hit = values == seg_max[seg]
    positions = np.flatnonzero(hit)
    segs = seg[positions]
    out[segs[::-1]] = positions[::-1]
    return out
