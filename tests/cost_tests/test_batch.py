"""The batched estimate gives ``estimate``'s numbers, bit for bit, on the search's own candidates."""

from __future__ import annotations

import random

import pytest

from hil.cost import (
    BatchEstimate,
    IOType,
    LayerKind,
    LayerSpec,
    Strategy,
    Target,
    default_params,
    estimate,
    estimate_many,
)
from hil.cost._batch import VECTOR_MIN
from hil.cost._target import DeviceFamily, HlsTool
from hil.errors import InputError
from search.space import SearchSpace, default_space


def _candidates(space: SearchSpace, shape: tuple[int, int, int], n: int, seed: int) -> list:
    rng = random.Random(seed)
    return [space.sample(lambda _name, choices: rng.choice(list(choices)), shape) for _ in range(n)]


def _assert_same(batch: BatchEstimate, networks: list, clocks: list, **kwargs: object) -> None:
    assert len(batch) == len(networks)
    for i, (net, clock) in enumerate(zip(networks, clocks, strict=True)):
        est = estimate(net, clock_mhz=clock, **kwargs)  # type: ignore[arg-type]
        assert batch.totals_at(i) == est.totals, f"network {i}"
        assert batch.bands_at(i) == est.bands, f"network {i}"
        assert batch.latency_min_cycles[i] == est.latency_min_cycles, f"network {i}"
        assert batch.upper_at(i) == est.upper, f"network {i}"


@pytest.mark.parametrize("level", ["hls", "synth"])
def test_search_candidates_equal_the_scalar_estimate(level: str) -> None:
    """300 CIFAR-10 candidates of the co-search's space: every total and band equal, not close."""
    cands = _candidates(default_space("cifar10", 200.0), (3, 32, 32), 300, seed=21)
    nets = [c.layer_specs((3, 32, 32), 10) for c in cands]
    clocks = [c.clock_mhz for c in cands]
    assert len({tuple(n) for n in nets}) == len(nets)  # all distinct
    batch = estimate_many(nets, clock_mhz=clocks, level=level)
    _assert_same(batch, nets, clocks, level=level)
    # the bands differ between candidates (not one band copied to all)
    assert len(set(batch.hi["lut"].tolist())) > 100


@pytest.mark.parametrize(
    "target",
    [
        Target(hls=HlsTool.VIVADO, family=DeviceFamily.SERIES7, clock_ns=10.0),
        Target(hls=HlsTool.VITIS, family=DeviceFamily.ULTRASCALE_PLUS, clock_ns=4.0),
    ],
    ids=["vivado-7series", "vitis-us+"],
)
def test_wider_space_both_io_types_and_tools(target: Target) -> None:
    """The generic space with io_parallel too (Latency strategy, low reuse, other kernels) on both
    HLS tools, where the ROMs, FIFOs and convolution schedules differ."""
    space = SearchSpace(clocks_mhz=(100.0, 200.0), io_types=("io_stream", "io_parallel"))
    cands = _candidates(space, (1, 28, 28), 200, seed=5)
    nets = [c.layer_specs((1, 28, 28), 10) for c in cands]
    assert {n[-1].io_type for n in nets} == {IOType.IO_STREAM, IOType.IO_PARALLEL}
    batch = estimate_many(nets, target=target, level="synth")
    _assert_same(batch, nets, [None] * len(nets), target=target, level="synth")


def _odd_network(i: int) -> list[LayerSpec]:
    """Layers the vectorised path hands to the scalar one (softmax, batch norm, table activations)
    next to ones it prices itself (Conv1D, average pooling, explicit padding, pruned weights)."""
    s, r = IOType.IO_STREAM, Strategy.RESOURCE
    act = ("sigmoid", "leaky_relu", "relu6", "linear", "hard_tanh", "tanh")[i % 6]
    bits = 4 + i % 9
    return [
        LayerSpec(LayerKind.ZEROPADDING, (32, 4), (34, 4), act_bits=bits, result_bits=bits, io_type=s),
        LayerSpec(LayerKind.CONV1D, (34, 4), (32, 8 + i), (3,), weight_bits=bits, act_bits=bits,
                  result_bits=bits + 6, acc_bits=bits + 8, reuse_factor=3 + i, strategy=r, io_type=s),
        LayerSpec(LayerKind.BATCHNORM, (32, 8 + i), (32, 8 + i), weight_bits=bits, act_bits=bits + 6,
                  result_bits=bits, io_type=s),
        LayerSpec(LayerKind.ACTIVATION, (32, 8 + i), (32, 8 + i), act_bits=bits, result_bits=6,
                  activation=act, result_rounding=True, result_saturation=bool(i % 2), io_type=s),
        LayerSpec(LayerKind.POOLING1D, (32, 8 + i), (16, 8 + i), (2,), act_bits=6, result_bits=6,
                  activation="average", io_type=s),
        LayerSpec(LayerKind.FLATTEN, (16, 8 + i), (16 * (8 + i),), act_bits=6, result_bits=6, io_type=s),
        LayerSpec(LayerKind.DENSE, (16 * (8 + i),), (10,), weight_bits=bits, act_bits=6, result_bits=16,
                  acc_bits=18, reuse_factor=1 + 7 * i, n_zeros=3 * i, io_type=s,
                  strategy=r if i % 3 else Strategy.LATENCY),
        LayerSpec(LayerKind.SOFTMAX, (10,), (10,), act_bits=16, result_bits=16, io_type=s),
    ]  # fmt: skip


def test_layers_priced_by_the_scalar_path_inside_a_batch() -> None:
    nets = [_odd_network(i) for i in range(24)] + [[]]  # and an empty network
    clocks = [100.0 + i for i in range(len(nets))]
    batch = estimate_many(nets, clock_mhz=clocks)
    _assert_same(batch, nets, clocks)
    assert batch.totals["lut"][-1] == 0 and "throughput_fps" not in batch.totals_at(len(nets) - 1)


def test_a_few_networks_take_the_scalar_path_with_the_same_result() -> None:
    cands = _candidates(default_space("cifar10", 200.0), (3, 32, 32), VECTOR_MIN + 1, seed=2)
    nets = [c.layer_specs((3, 32, 32), 10) for c in cands]
    params = default_params()
    few = estimate_many(nets[:1], clock_mhz=150.0, params=params, level="synth")
    many = estimate_many(nets, clock_mhz=150.0, params=params, level="synth")
    assert few.totals_at(0) == many.totals_at(0)
    assert few.bands_at(0) == many.bands_at(0)
    _assert_same(few, nets[:1], [150.0], params=params, level="synth")


def test_bad_input_is_one_clear_error() -> None:
    nets = [_odd_network(0)] * 3
    with pytest.raises(InputError, match="2 clocks for 3 networks"):
        estimate_many(nets, clock_mhz=[100.0, 200.0])
    with pytest.raises(InputError, match="hls or synth"):
        estimate_many(nets, level="vivado")
