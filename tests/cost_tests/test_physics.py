"""The physics the model must get right, whatever its coefficients."""

from __future__ import annotations

import pytest

from hil.cost import (
    CALIBRATED,
    EXTRAPOLATED,
    IOType,
    LayerKind,
    LayerSpec,
    Strategy,
    closest_reuse_factor,
    estimate,
    estimate_layer,
    fits,
    valid_reuse_factors,
)
from hil.inventory import load_inventory


def dense(n_in: int = 64, n_out: int = 32, rf: int = 16, bits: int = 16, **kw: object) -> LayerSpec:
    return LayerSpec(
        LayerKind.DENSE,
        (n_in,),
        (n_out,),
        weight_bits=bits,
        act_bits=bits,
        result_bits=bits,
        acc_bits=bits,
        reuse_factor=rf,
        strategy=Strategy.RESOURCE,
        **kw,
    )  # type: ignore[arg-type]


def conv2d(rf: int = 9, bits: int = 16, chan: int = 16, filt: int = 32, size: int = 16) -> LayerSpec:
    return LayerSpec(
        LayerKind.CONV2D,
        (size, size, chan),
        (size - 2, size - 2, filt),
        (3, 3),
        weight_bits=bits,
        act_bits=bits,
        result_bits=bits,
        acc_bits=bits,
        reuse_factor=rf,
        strategy=Strategy.RESOURCE,
    )


@pytest.mark.parametrize("make", [dense, conv2d])
def test_more_reuse_fewer_dsp_more_cycles(make) -> None:
    low, high = estimate_layer(make(rf=4)), estimate_layer(make(rf=64))
    assert high.dsp < low.dsp
    assert high.latency_cycles > low.latency_cycles
    assert high.ii_cycles > low.ii_cycles


@pytest.mark.parametrize("make", [dense, conv2d])
def test_wider_precision_costs_more(make) -> None:
    narrow, wide = estimate_layer(make(bits=8)), estimate_layer(make(bits=16))
    assert wide.lut > narrow.lut or wide.dsp > narrow.dsp
    assert wide.dsp > narrow.dsp  # 8-bit products go to LUTs, 16-bit ones to DSPs
    assert estimate_layer(make(bits=12)).ff > estimate_layer(make(bits=6)).ff
    assert estimate_layer(make(bits=6)).lut > estimate_layer(make(bits=3)).lut


def test_invalid_reuse_factor_corrected_like_hls4ml() -> None:
    # Same lists hls4ml 1.3 prints for a 3x3x2 -> 4 Conv2D and a 144 -> 5 Dense.
    assert valid_reuse_factors(18, 4) == (1, 2, 3, 6, 9, 18, 36, 72)
    assert closest_reuse_factor(18, 4, 7) == 6
    assert closest_reuse_factor(144, 5, 7) == 6
    assert closest_reuse_factor(16, 1, 64) == 16  # above the maximum: the maximum
    assert estimate_layer(dense(16, 16, rf=5)).reuse_factor == 4


def test_hls4ml_agrees_on_valid_reuse_factors() -> None:
    from hls4ml.backends import get_backend

    backend = get_backend("Vivado")
    for n_in, n_out in [(48, 16), (96, 32), (27, 16), (144, 10)]:
        want = backend.get_valid_reuse_factors(n_in, n_out)
        assert list(valid_reuse_factors(n_in, n_out)) == want


def test_latency_strategy_keeps_weights_out_of_bram() -> None:
    lat = estimate_layer(LayerSpec(LayerKind.DENSE, (64,), (32,), reuse_factor=1, strategy=Strategy.LATENCY))
    res = estimate_layer(dense(64, 32, rf=4))
    assert lat.bram_18k == 0 and res.bram_18k > 0
    assert lat.latency_cycles < res.latency_cycles


def test_flags_calibrated_vs_extrapolated() -> None:
    assert set(estimate_layer(dense()).terms.values()) == {CALIBRATED}
    assert set(estimate_layer(dense(bits=8)).terms.values()) == {EXTRAPOLATED}
    assert set(estimate_layer(conv2d()).terms.values()) == {EXTRAPOLATED}
    par = estimate_layer(dense(io_type=IOType.IO_PARALLEL)).terms
    assert par["dsp"] == CALIBRATED and par["lut"] == EXTRAPOLATED


def test_throughput_is_clock_over_slowest_ii() -> None:
    layers = [conv2d(rf=9, size=10), dense(32 * 8 * 8, 10, rf=2048)]
    est = estimate(layers, clock_mhz=200.0)
    slowest = max(le.ii_cycles for le in est.layers)
    assert est.totals["ii_cycles"] == slowest
    assert est.totals["throughput_fps"] == pytest.approx(200e6 / slowest)


def test_all_resources_must_fit_and_binding_is_named() -> None:
    board = load_inventory().board("pynq-z2")
    cap = board.resources.as_dict()
    small = {"lut": cap["lut"] * 0.5, "ff": cap["ff"] * 0.5, "dsp": cap["dsp"] * 0.9, "bram_18k": 1}
    report = fits(board, small)
    assert report.ok and report.binding == "dsp"
    for key in ("lut", "ff", "dsp", "bram_18k"):
        over = dict(small, **{key: cap[key] + 1})
        report = fits(board, over)
        assert not report.ok, key
        assert report.binding == key and report.over == (key,)
    assert not fits(board, {"uram": 1}).ok  # pynq-z2 has no URAM


def test_shell_is_subtracted() -> None:
    board = load_inventory().board("pynq-z2")
    lut = board.resources.lut * 0.9
    assert fits(board, {"lut": lut}).ok
    assert not fits(board, {"lut": lut}, shell={"lut": board.resources.lut * 0.2}).ok


@pytest.mark.parametrize("strategy", [Strategy.LATENCY, Strategy.RESOURCE])
def test_low_bit_lanes_cost_far_less_than_16_bit_ones(strategy: Strategy) -> None:
    """The search lives at 2-8 bits: a 4-bit lane must cost several times less fabric than a 16-bit one
    (operand logic grows with weight x activation bits), and 2-bit less than 4-bit."""

    def lut(bits: int) -> float:
        spec = LayerSpec(
            LayerKind.DENSE, (64,), (32,), weight_bits=bits, act_bits=bits, result_bits=bits,
            acc_bits=2 * bits + 6, reuse_factor=4, strategy=strategy,
        )  # fmt: skip
        return estimate_layer(spec).lut

    assert lut(16) > 4 * lut(4) > 4 * lut(2) * 1.2
