"""The parameters an FPGA engineer signs: physical, few, inside their documented ranges, each resting
on at least two source families (or saying it does not), and the implausible predictions fixed."""

from __future__ import annotations

import dataclasses
import math

import pytest

from hil.cost import (
    CostParams,
    LayerKind,
    LayerSpec,
    Strategy,
    default_params,
    estimate,
    estimate_layer,
    fits,
    predict_row,
    read_cost_data,
)
from hil.cost._calibrate import calibration_rows, features, layer_rows
from hil.cost._params import HOW, PARAMS, fitted_names
from hil.cost._rules import RULE_GRID
from hil.cost._target import DeviceFamily, HlsTool, Target
from hil.errors import ConfigError
from tests._shared import require_shared

DATA = ("costdata/ntorc_dense.csv", "costdata/ntorc_conv1d.csv", "costdata/lowbit/hls4ml_lowbit_calib.jsonl")


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    return read_cost_data([require_shared(p) for p in DATA])


def test_every_parameter_is_physical_with_a_range_and_a_source() -> None:
    for name, p in PARAMS.items():
        assert p.how in HOW, name
        assert p.unit and p.prices and p.source, name
        assert p.low <= p.prior <= p.high, name
        if p.how == "documented":
            assert p.low == p.high == p.prior, name  # fixed, not fitted


def test_shipped_parameters_lie_inside_their_documented_ranges() -> None:
    for name, value in default_params().coefficients.items():
        assert PARAMS[name].low <= value <= PARAMS[name].high, (name, value)


@pytest.mark.parametrize(
    "name", ["lut.adder_bit", "ff.operand_bit", "latency.conv_pixel", "dsp.tree_fraction"]
)
def test_a_parameter_outside_its_range_is_refused(name: str) -> None:
    values = dict(default_params().coefficients)
    values[name] = PARAMS[name].high * 2 + 1
    with pytest.raises(ConfigError, match=name):
        CostParams(values)


def test_fewer_parameters_than_layer_stacks(rows) -> None:  # type: ignore[no-untyped-def]
    """Well under one data-chosen parameter per independent layer stack of the calibration data."""
    stacks = len({r.group for r in rows})
    chosen = len(fitted_names()) + len(RULE_GRID)
    assert stacks == 28
    assert chosen <= 0.75 * stacks, (chosen, stacks)


def test_each_fitted_parameter_rests_on_two_families_or_says_so(rows) -> None:  # type: ignore[no-untyped-def]
    coeffs = default_params().coefficients
    fit_rows, _ = calibration_rows(rows)
    families: dict[str, set[str]] = {name: set() for name in fitted_names()}
    for metric in ("dsp", "lut", "ff", "latency", "latency_min"):
        names = fitted_names(metric)
        for row in fit_rows:
            if row.truth.get(metric) is None:
                continue
            x, _ = features(row, metric, names, coeffs)
            for name, value in zip(names, x, strict=True):
                if value:
                    families[name].add(row.family)
    for name, seen in families.items():
        if PARAMS[name].how == "one_family":
            assert len(seen) >= 1, name
        else:
            assert len(seen) >= 2, (name, seen)


#: Layers whose real csynth DSP count the model misses by more than 1 and 25 %, and why. The SVHN
#: designs are ~50 % pruned with unknown zero counts, and HLS keeps a constant product in a DSP or
#: not by the weight's value (its nonzero digits), which no layer spec carries: the band of the
#: ``mac_constant`` class (10 %-177 % of the estimate) is what the model says about them.
KNOWN_DSP_MISSES = {
    "svhn_cnn_f16_pruned50_xcu250/output_dense",
    "svhn_cnn_q6_pruned50_xcu250/fused_convbn_0",
    "svhn_cnn_q6_pruned50_xcu250/fused_convbn_1",
    "svhn_cnn_q6_pruned50_xcu250/output_dense",
}


def _layer_truths(rows):  # type: ignore[no-untyped-def]
    for row in rows:
        if row.layer_truth:
            yield from layer_rows(row)
        elif not row.include_io:
            yield row  # N-TORC: one layer synthesized alone


def test_each_layer_dsps_within_one_or_25_percent(rows) -> None:  # type: ignore[no-untyped-def]
    params = default_params()
    misses, checked = set(), 0
    for layer in _layer_truths(rows):
        true = layer.truth.get("dsp")
        if true is None:
            continue
        checked += 1
        pred = predict_row(layer, params)["dsp"]
        if abs(pred - true) > max(1.0, 0.25 * true):
            misses.add(layer.name)
    assert checked == 108
    assert misses == KNOWN_DSP_MISSES  # a new miss fails, and so does a fixed one (update the list)


#: Best-case latencies more than 2x off, and why: 1-3 cycle constant-weight layers whose adder tree
#: HLS chains into fewer cycles than one per level (io_parallel jet MLP: 9 cycles for 8 layers).
KNOWN_LATENCY_MIN_MISSES = {
    "svhn_cnn_f16_pruned50_xcu250/dense_1",  # 3 cycles, predicted 1
    "svhn_cnn_q6_pruned50_xcu250/dense_1",  # 3 cycles, predicted 1
}


def test_best_case_latency_within_2x_where_reported(rows) -> None:  # type: ignore[no-untyped-def]
    params = default_params()
    misses, checked = set(), 0
    for row in rows:
        for item in (row, *layer_rows(row)):
            true = item.truth.get("latency_min")
            if not true:
                continue
            checked += 1
            pred = predict_row(item, params)["latency_min"]
            if not 0.5 <= pred / true <= 2.0:
                misses.add(item.name)
    assert checked > 150
    assert misses == KNOWN_LATENCY_MIN_MISSES


def test_a_six_bit_constant_weight_dense_uses_next_to_no_dsps() -> None:
    """The first model predicted 79 DSPs for a 6-bit constant-weight Dense. HLS builds 6 x 6 constant
    products in shift-add logic (SVHN dense_1: 0 DSPs for 2,688 products) and keeps only a few
    6-bit x 16-bit ones in DSPs (jet MLP: 18 for 244)."""
    narrow = LayerSpec(LayerKind.DENSE, (64,), (32,), weight_bits=6, act_bits=6, result_bits=16,
                       acc_bits=16, strategy=Strategy.LATENCY)  # fmt: skip
    assert estimate_layer(narrow).dsp == 0
    assert estimate_layer(narrow).lut > 1000  # the products are still priced, in fabric
    wide_input = dataclasses.replace(narrow, act_bits=16)
    assert estimate_layer(wide_input).dsp <= 0.1 * 64 * 32


def test_four_bit_resource_conv_products_are_built_in_fabric() -> None:
    """The first model predicted 176 DSPs for 4 x 4-bit products of a Resource-strategy convolution;
    the real 6 x 6-bit ones in ../shared take 1-6 DSPs a layer. 4-bit products go to LUTs."""
    conv = LayerSpec(LayerKind.CONV2D, (32, 32, 16), (30, 30, 32), (3, 3), weight_bits=4, act_bits=4,
                     result_bits=4, acc_bits=12, reuse_factor=9, strategy=Strategy.RESOURCE)  # fmt: skip
    le = estimate_layer(conv)
    assert le.dsp == 0
    six = estimate_layer(dataclasses.replace(conv, weight_bits=6, act_bits=6))
    assert 0 < six.dsp < 0.7 * (16 * 9 * 32 / 9)  # a narrow tree keeps ~60 % of its products in DSPs
    assert le.lut < six.lut + 50 * six.dsp  # fabric multipliers cost LUTs, not more than the DSPs saved


def test_every_estimate_carries_a_band_and_fits_judges_its_upper_edge() -> None:
    layers = [
        LayerSpec(LayerKind.CONV2D, (16, 16, 3), (14, 14, 16), (3, 3), weight_bits=6, act_bits=6,
                  result_bits=6, acc_bits=16, reuse_factor=27, strategy=Strategy.RESOURCE),
        LayerSpec(LayerKind.ACTIVATION, (14, 14, 16), (14, 14, 16), activation="relu"),
    ]  # fmt: skip
    est = estimate(layers, clock_mhz=200.0)
    for key in ("lut", "ff", "dsp", "bram_18k", "latency_cycles"):
        lo, hi = est.bands[key]
        assert lo <= est.totals[key] <= hi, key
    assert est.bands["lut"][1] > est.totals["lut"]  # a LUT estimate is never exact
    between = (est.totals["lut"] + est.bands["lut"][1]) / 2  # the point fits, the upper edge does not
    part = {"lut": between, "ff": 1e9, "dsp": 1e9, "bram_18k": 1e9, "uram": 0}
    assert not fits(part, est).ok and fits(part, est).binding == "lut"
    assert fits(part, est, edge="point").ok
    assert fits(part, est.totals).ok  # a plain mapping is judged as given (a measured figure)
    assert "bands" in est.to_dict()


def test_bands_widen_at_synthesis_level_by_the_ratio_band() -> None:
    layers = [LayerSpec(LayerKind.DENSE, (64,), (32,), reuse_factor=1, strategy=Strategy.LATENCY)]
    vivado = Target(HlsTool.VIVADO, DeviceFamily.ULTRASCALE_PLUS, clock_ns=5.0)
    hls = estimate(layers, target=vivado)
    synth = estimate(layers, target=vivado, level="synth")
    ratio = default_params().synth_ratio("vivado", "latency", "lut")
    assert math.isclose(synth.bands["lut"][1], hls.bands["lut"][1] * ratio["hi"], rel_tol=1e-9)


def test_reuse_auto_estimates_for_the_boards_device_family() -> None:
    """A PYNQ-Z2 (xc7z020, DSP48E1 25 x 18) needs two DSPs for a 26 x 18-bit product where an
    UltraScale+ DSP48E2 (27 x 18) needs one: ``--reuse auto`` must price the board's own family."""
    from hil.convert import choose_reuse

    spec = LayerSpec(LayerKind.DENSE, (16,), (16,), weight_bits=26, act_bits=18, result_bits=18,
                     acc_bits=32, reuse_factor=1, strategy=Strategy.LATENCY, name="fc")  # fmt: skip
    room = {"lut": 1e9, "ff": 1e9, "dsp": 1e9, "bram_18k": 1e9, "uram": 0}
    seven = choose_reuse([spec], room, 100.0, part="xc7z020clg400-1", backend="Vivado")
    plus = choose_reuse([spec], room, 100.0, part="xczu7ev-ffvc1156-2-e", backend="Vivado")
    assert seven.totals["dsp"] == 2 * plus.totals["dsp"] > 0


def test_the_fast_memoised_path_gives_the_explained_paths_numbers() -> None:
    """The search's path (layer memo, FIFOs summed directly) and ``explain`` (every term kept) must
    agree to the unit on distinct candidates of the search's own space, twice (memo cold and warm)."""
    import random

    from search.space import default_space

    space = default_space("cifar10", 200.0)
    rng = random.Random(3)
    params = default_params()
    for _ in range(40):
        cand = space.sample(lambda _name, choices: rng.choice(list(choices)), (3, 32, 32))
        specs = cand.layer_specs((3, 32, 32), 10)
        explained = estimate(specs, clock_mhz=cand.clock_mhz, params=params, explain=True)
        for _ in range(2):
            fast = estimate(specs, clock_mhz=cand.clock_mhz, params=params)
            assert fast.totals == explained.totals
            assert fast.bands == explained.bands
