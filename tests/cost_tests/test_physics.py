"""The physics the model must get right whatever its coefficients: what hls4ml's templates instantiate
and how the HLS tools bind it (nnet_dense_resource.h, nnet_dense_latency.h, nnet_conv2d_stream.h,
Vitis/Vivado FIFO and ROM binding), checked on specs whose answers are counts, not fits."""

from __future__ import annotations

import pytest

from hil.cost import (
    CALIBRATED,
    EXTRAPOLATED,
    IOType,
    LayerKind,
    LayerSpec,
    Strategy,
    Target,
    closest_reuse_factor,
    estimate,
    estimate_layer,
    fits,
    valid_reuse_factors,
)
from hil.cost._memory import bram_blocks, fifo_cost, rom_blocks
from hil.cost._target import DeviceFamily, HlsTool
from hil.errors import InputError
from hil.inventory import load_inventory

VITIS_A7 = Target(HlsTool.VITIS, DeviceFamily.SERIES7, clock_ns=50.0)
VIVADO_ZU = Target(HlsTool.VIVADO, DeviceFamily.ULTRASCALE_PLUS, clock_ns=4.0)


def dense(n_in: int = 64, n_out: int = 32, rf: int = 16, bits: int = 16, **kw: object) -> LayerSpec:
    fields: dict[str, object] = {
        "weight_bits": bits,
        "act_bits": bits,
        "result_bits": bits,
        "acc_bits": bits,
        "reuse_factor": rf,
        "strategy": Strategy.RESOURCE,
    }
    fields.update(kw)
    return LayerSpec(LayerKind.DENSE, (n_in,), (n_out,), **fields)  # type: ignore[arg-type]


def conv2d(
    rf: int = 9, bits: int = 16, chan: int = 16, filt: int = 32, size: int = 16, **kw: object
) -> LayerSpec:
    fields: dict[str, object] = {
        "weight_bits": bits,
        "act_bits": bits,
        "result_bits": bits,
        "acc_bits": bits,
        "reuse_factor": rf,
        "strategy": Strategy.RESOURCE,
    }
    fields.update(kw)
    return LayerSpec(LayerKind.CONV2D, (size, size, chan), (size - 2, size - 2, filt), (3, 3), **fields)  # type: ignore[arg-type]


@pytest.mark.parametrize("make", [dense, conv2d])
def test_more_reuse_fewer_dsp_more_cycles(make) -> None:  # type: ignore[no-untyped-def]
    low, high = estimate_layer(make(rf=4)), estimate_layer(make(rf=64))
    assert high.dsp < low.dsp
    assert high.latency_cycles > low.latency_cycles
    assert high.ii_cycles > low.ii_cycles


def test_six_bit_resource_multiplies_land_in_dsps() -> None:
    """ROM weights are variables: a 6x6 multiply is a real multiplier and HLS binds it to a DSP.
    With several products per output, a narrow tree keeps round(0.6 x multscale) of them in DSPs."""
    one_per_output = dense(50, 4, rf=50, bits=6)  # multscale 1: 4 lanes, 4 DSPs
    assert estimate_layer(one_per_output, target=VITIS_A7).dsp == 4
    tree = dense(125, 10, rf=25, bits=6, acc_bits=20)  # 50 lanes, 5 per output
    assert estimate_layer(tree, target=VITIS_A7).dsp == 10 * 3
    wide_tree = dense(16, 16, rf=2, bits=16)  # 16-bit products: every lane a DSP
    assert estimate_layer(wide_tree).dsp == 128
    two_bit = dense(50, 4, rf=50, bits=6, weight_bits=2)  # a 2-bit weight is built in fabric
    assert estimate_layer(two_bit).dsp == 0


def test_dsp_count_follows_the_dsp_width() -> None:
    # A 26 x 18 bit product fits one 27x18 DSP48E2, but needs two 25x18 DSP48E1s.
    wide = dense(16, 16, rf=16, bits=18, weight_bits=26)
    assert estimate_layer(wide, target=Target(family=DeviceFamily.ULTRASCALE_PLUS)).dsp == 16
    assert estimate_layer(wide, target=VITIS_A7).dsp == 16 * 2
    assert estimate_layer(dense(16, 16, rf=16, bits=20, weight_bits=26), target=VITIS_A7).dsp == 16 * 4


def test_streaming_conv_ii_is_pixels_times_reuse_plus_shift() -> None:
    """Vitis line buffer: every input pixel runs the rf-step kernel in the worst case."""
    small, big = conv2d(rf=9, size=10), conv2d(rf=9, size=20)
    a, b = estimate_layer(small, target=VITIS_A7), estimate_layer(big, target=VITIS_A7)
    assert b.ii_cycles > 3.9 * a.ii_cycles  # 4x the input pixels
    per_pixel = a.ii_cycles / 100
    assert 9 <= per_pixel <= 9 + 10  # reuse + a few cycles of shift and call
    assert "line buffer" in a.ii_reason


def test_same_padding_adds_a_zero_padding_stage_in_io_stream() -> None:
    valid = conv2d(rf=9, size=10)
    same = LayerSpec(
        LayerKind.CONV2D, (8, 8, 16), (8, 8, 32), (3, 3), 16, 16, 16, 16, 9, Strategy.RESOURCE, padding="same"
    )
    assert same.padded_shape == (10, 10, 16)
    est = estimate([same], clock_mhz=200.0)
    assert [le.kind for le in est.layers] == ["zeropadding", "conv2d"]
    assert est.layers[1].ii_cycles == estimate_layer(valid).ii_cycles


def test_pruned_latency_layer_costs_less_but_resource_zeros_cost_the_same() -> None:
    dense_latency = dense(64, 32, rf=1, bits=16, strategy=Strategy.LATENCY)
    pruned = dense(64, 32, rf=1, bits=16, strategy=Strategy.LATENCY, n_zeros=1536)
    full, half = estimate_layer(dense_latency), estimate_layer(pruned)
    assert half.dsp < 0.6 * full.dsp and half.lut < 0.8 * full.lut
    resource, resource_pruned = dense(64, 32, rf=16), dense(64, 32, rf=16, n_zeros=1024)
    assert estimate_layer(resource) == estimate_layer(resource_pruned)


def test_latency_strategy_keeps_weights_out_of_bram() -> None:
    lat = estimate_layer(LayerSpec(LayerKind.DENSE, (64,), (32,), reuse_factor=1, strategy=Strategy.LATENCY))
    res = estimate_layer(dense(64, 32, rf=4))
    assert lat.bram_18k == 0 and res.bram_18k > 0
    assert lat.latency_cycles < res.latency_cycles
    # Resource at reuse 1 has no ROM pragma either: constants, like the Latency strategy.
    assert estimate_layer(dense(1, 1, rf=1, bits=6), target=VITIS_A7).bram_18k == 0


def test_weight_rom_binding_differs_between_vitis_and_vivado() -> None:
    tiny = dense(5, 1, rf=5, bits=6)  # 5 words of 6 bits
    assert estimate_layer(tiny, target=VITIS_A7).bram_18k == 1  # Vitis honours ROM_nP_BRAM
    assert estimate_layer(tiny, target=VIVADO_ZU).bram_18k == 0  # Vivado HLS: LUTRAM
    assert rom_blocks(256, 16) == (7, 4)  # N-TORC 16x16 at rf 16: 7 blocks, 4 leftover bits in LUTRAM
    assert rom_blocks(60, 50)[0] == 2


def test_fifo_binding_rules() -> None:
    # Vitis: one FIFO as wide as the pixel; <= 1024 bits stays in shift registers.
    assert fifo_cost(6, 6, 9, HlsTool.VITIS).bram_18k == 0  # 324 bits
    assert fifo_cost(6, 19, 9, HlsTool.VITIS).bram_18k == 7  # 1026 bits: ceil(114 / 18)
    assert fifo_cost(2, 20, 900, HlsTool.VITIS).bram_18k == 3
    assert fifo_cost(1, 8, 4096, HlsTool.VITIS).bram_18k == 2
    # Vivado HLS: one FIFO per channel; deeper than 32 words goes to a block each.
    assert fifo_cost(16, 6, 169, HlsTool.VIVADO).bram_18k == 16
    assert fifo_cost(16, 16, 16, HlsTool.VIVADO).bram_18k == 0
    assert bram_blocks(40, 900) == 3


def test_rounding_and_saturation_cost_logic() -> None:
    plain = LayerSpec(LayerKind.ACTIVATION, (64,), (64,), act_bits=20, result_bits=6, activation="relu")
    cast = LayerSpec(
        LayerKind.ACTIVATION,
        (64,),
        (64,),
        act_bits=20,
        result_bits=6,
        activation="relu",
        result_rounding=True,
        result_saturation=True,
        result_signed=False,
        result_int_bits=0,
        act_int_bits=9,
    )
    assert estimate_layer(cast).lut >= estimate_layer(plain).lut


def test_input_quantizer_costs_a_cast_and_a_noop_costs_nothing() -> None:
    quant = LayerSpec(
        LayerKind.ACTIVATION, (64, 64, 1), (64, 64, 1), act_bits=8, result_bits=8, act_signed=False,
        act_int_bits=8, result_int_bits=1, result_rounding=True, result_saturation=True,
    )  # fmt: skip
    noop = LayerSpec(LayerKind.ACTIVATION, (64, 64, 1), (64, 64, 1), act_bits=8, result_bits=8)
    q, n = estimate_layer(quant), estimate_layer(noop)
    assert q.lut > 0 and q.ii_cycles == 64 * 64
    assert n.lut == 0 and n.ii_cycles == 0


def test_network_ii_is_the_slowest_stage_and_latency_overlaps() -> None:
    layers = [conv2d(rf=9, size=10), dense(32 * 8 * 8, 10, rf=2048)]
    est = estimate(layers, clock_mhz=200.0)
    slowest = max(le.ii_cycles for le in est.layers)
    assert est.totals["ii_cycles"] == slowest + 1  # one cycle of handshake between dataflow stages
    assert est.totals["throughput_fps"] == pytest.approx(200e6 / est.totals["ii_cycles"])
    assert est.totals["latency_cycles"] < sum(le.latency_cycles for le in est.layers)
    assert est.ii_layer == max(est.layers, key=lambda le: le.ii_cycles).kind == "dense"
    assert "stream width" in est.ii_reason  # 64 beats of the flattened map, then 2048 reuse steps
    parallel = [dense(16, 8, rf=1, strategy=Strategy.LATENCY, io_type=IOType.IO_PARALLEL)] * 2
    est_par = estimate(parallel, clock_mhz=200.0)
    assert est_par.totals["latency_cycles"] == sum(le.latency_cycles for le in est_par.layers)


def test_clock_target_does_not_change_cycles() -> None:
    """No tight-clock rule: the data's own caveat says the sweep's 30 ns rows (25 % more cycles) are
    not reproduced by the committed project synthesized at 30 ns, so they are weighed as medium
    confidence and the model predicts the same schedule at any clock."""
    layer = conv2d(rf=50, bits=6, chan=2, filt=4, size=30, acc_bits=19)
    at30 = estimate_layer(layer, target=Target(HlsTool.VITIS, DeviceFamily.SERIES7, clock_ns=30.0))
    at50 = estimate_layer(layer, target=Target(HlsTool.VITIS, DeviceFamily.SERIES7, clock_ns=50.0))
    assert at30.latency_cycles == at50.latency_cycles and at30.ff == at50.ff


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


def test_flags_calibrated_vs_extrapolated() -> None:
    assert set(estimate_layer(dense()).terms.values()) == {CALIBRATED}  # 16-bit Resource Dense: N-TORC
    low = conv2d(rf=50, bits=6, acc_bits=20)  # 6-bit Resource Conv2D stream: tsopeter
    assert set(estimate_layer(low).terms.values()) == {CALIBRATED}
    assert set(estimate_layer(conv2d(bits=3)).terms.values()) == {EXTRAPOLATED}  # no 2-4 bit data
    par = estimate_layer(dense(io_type=IOType.IO_PARALLEL, strategy=Strategy.RESOURCE)).terms
    assert set(par.values()) == {EXTRAPOLATED}  # no io_parallel Resource-strategy data
    est = estimate([conv2d(bits=3), dense(bits=16)], clock_mhz=200.0)
    assert not est.calibrated and est.extrapolated == ("conv2d",)


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
def test_low_bit_lanes_cost_less_than_16_bit_ones(strategy: Strategy) -> None:
    """The search lives at 2-8 bits: a 4-bit layer must cost several times less fabric + DSP than a
    16-bit one, and a 2-bit one no more than a 4-bit one."""

    def cost(bits: int) -> float:
        spec = LayerSpec(
            LayerKind.DENSE, (64,), (32,), weight_bits=bits, act_bits=bits, result_bits=bits,
            acc_bits=2 * bits + 6, reuse_factor=4, strategy=strategy,
        )  # fmt: skip
        le = estimate_layer(spec)
        return le.lut + 100 * le.dsp  # a DSP slice is worth ~100 LUTs of fabric

    assert cost(16) > 2 * cost(4)
    assert cost(2) <= cost(4)


def test_synthesis_level_scales_resources_by_the_measured_ratios() -> None:
    """A budget of real LUTs is compared with csynth's estimate x the synth/csynth ratio of the design's
    HLS tool and strategy; cycles stay. Vitis + Resource has no pair in ../shared: ratio 1.0."""
    from hil.cost import default_params

    params = default_params()
    layers = [conv2d(rf=9, size=10), dense(32 * 8 * 8, 10, rf=2048)]
    hls, synth = estimate(layers, clock_mhz=200.0), estimate(layers, clock_mhz=200.0, level="synth")
    assert params.synth_ratio("vitis", "resource", "lut")["pairs"] == 0
    assert synth.totals["lut"] == hls.totals["lut"]  # the documented default: the csynth figure
    assert synth.bands["lut"][0] < 0.5 * hls.totals["lut"]  # ... with a band down to the lowest pair
    vivado = Target(HlsTool.VIVADO, DeviceFamily.ULTRASCALE_PLUS, clock_ns=5.0)
    latency = [dense(64, 32, rf=1, strategy=Strategy.LATENCY)]
    hls_v = estimate(latency, target=vivado)
    synth_v = estimate(latency, target=vivado, level="synth")
    ratio = params.synth_ratio("vivado", "latency", "lut")
    assert 0.3 < ratio["ratio"] < 0.7 and ratio["pairs"] >= 2  # csynth counts ~2x the LUTs Vivado keeps
    assert synth_v.totals["lut"] == round(hls_v.totals["lut"] * ratio["ratio"])
    assert synth_v.totals["ii_cycles"] == hls_v.totals["ii_cycles"]
    assert synth_v.predicts.value == "synth" and hls_v.predicts.value == "hls"
    with pytest.raises(InputError):
        estimate(layers, level="impl")
