"""The search space: conditional decisions, serialization, the pure candidate -> cost-model mapping."""

from __future__ import annotations

import random
import time

import pytest

from hil.cost import estimate, valid_reuse_factors
from hil.errors import InputError
from search.space import Architecture, Candidate, LayerHw, SearchSpace, default_space, replay

SHAPE = (1, 8, 8)


def _random(space: SearchSpace, seed: int) -> Candidate:
    rng = random.Random(seed)
    return space.sample(lambda _name, choices: rng.choice(choices), SHAPE)


def test_only_decisions_of_existing_layers_are_asked() -> None:
    space = SearchSpace(conv_blocks=(1,), dense_units=(0,))
    asked: list[str] = []

    def choose(name: str, choices: tuple) -> object:
        asked.append(name)
        return choices[0]

    cand = space.sample(choose, SHAPE)
    assert cand.arch.n_mac_layers == 2
    assert not any(name.startswith(("conv1", "conv2")) for name in asked)
    assert not any(name.startswith("dense_") and name != "dense_units" for name in asked)
    assert {"conv0_wbits", "conv0_abits", "out_wbits", "out_reuse", "io_type", "clock_mhz"} <= set(asked)
    assert "out_abits" not in asked  # the classifier has no ReLU
    assert set(asked) <= {n for n, _ in space.all_decisions()}  # every asked name is an RL slot


def test_replay_rebuilds_the_same_candidate_and_dict_round_trip() -> None:
    space = default_space("digits", 200.0)
    params: dict[str, object] = {}
    rng = random.Random(3)

    def choose(name: str, choices: tuple) -> object:
        params[name] = rng.choice(choices)
        return params[name]

    cand = space.sample(choose, SHAPE)
    assert space.sample(replay(params), SHAPE) == cand
    assert Candidate.from_dict(cand.to_dict()) == cand
    assert SearchSpace.from_dict(space.to_dict()) == space


def test_space_offers_16_bits_and_clocks_no_faster_than_the_board() -> None:
    space = default_space("digits", 150.0)
    assert 16 in space.weight_bits and 2 in space.act_bits
    assert max(space.clocks_mhz) <= 150.0
    with pytest.raises(InputError):
        SearchSpace(weight_bits=(1, 4))


def test_reuse_factors_are_snapped_to_valid_values() -> None:
    space = default_space("digits", 200.0)
    for seed in range(50):
        cand = _random(space, seed)
        specs = [s for s in cand.layer_specs(SHAPE, 10) if s.kind.value in ("conv2d", "dense")]
        for spec, rf in zip(specs, cand.effective_reuse(SHAPE, 10), strict=True):
            assert rf in valid_reuse_factors(*spec.mult_size())
            assert spec.reuse_factor == rf


def test_layer_specs_shapes_and_widths() -> None:
    arch = Architecture((8, 16), (3, 5), (True, True), (16,))
    hw = (
        LayerHw(4, 4, 4, "Resource"),
        LayerHw(3, 5, 8, "Latency"),
        LayerHw(6, 6, 16, "Resource"),
        LayerHw(8, 0, 2, "Resource"),
    )
    specs = {s.name: s for s in Candidate(arch, hw, "io_stream", 150.0).layer_specs(SHAPE, 10)}
    # Same values hls4ml's converted model gave for this candidate (checked in test_search_csim.py).
    assert specs["conv0"].in_shape == (8, 8, 1) and specs["conv0"].padding == "same"
    assert specs["conv0"].padded_shape == (10, 10, 1) and specs["conv0"].acc_bits == 17
    assert specs["conv1"].in_shape == (4, 4, 8) and specs["conv1"].padded_shape == (8, 8, 8)
    assert specs["conv1"].out_shape == (4, 4, 16)
    assert specs["dense0"].in_shape == (64,) and specs["dense0"].acc_bits == 18
    assert specs["dense1"].acc_bits == 19 and specs["relu1"].result_bits == 5
    # ReLUs round and saturate into ap_ufixed<b,0>; the input quantizer is the input type, no layer.
    relu = specs["relu1"]
    assert not relu.result_signed and relu.result_rounding and relu.result_saturation
    assert specs["conv1"].act_signed is False and specs["conv0"].act_int_bits == 1
    assert "input_quant" not in specs


def test_estimating_a_candidate_takes_well_under_a_millisecond_or_so() -> None:
    space = default_space("digits", 200.0)
    cands = [_random(space, s) for s in range(200)]
    started = time.perf_counter()
    for cand in cands:
        estimate(cand.layer_specs(SHAPE, 10), clock_mhz=cand.clock_mhz)
    assert (time.perf_counter() - started) / len(cands) < 0.005
