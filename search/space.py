"""The co-search space: architecture x per-layer quantization x per-layer hardware, declared once.

Why one ordered list of named categorical decisions: every controller walks the same list through
a ``chooser(name, choices)`` callback (Optuna's ``trial.suggest_categorical`` or the RL policy's
sampling step), so a candidate is fully described by its Optuna params, a stored trial can be
replayed, and a decision that does not exist for a shallower network is never asked. Why a pure
candidate -> ``LayerSpec`` mapping: the cost model must prune thousands of candidates before any
training, so the mapping mirrors what hls4ml builds from the brevitas QONNX export (same shapes,
same ``auto`` accumulator widths) without importing torch or hls4ml.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from hil.cost import IOType, LayerKind, LayerSpec, Strategy, closest_reuse_factor
from hil.errors import InputError

__all__ = ["Architecture", "Candidate", "Chooser", "LayerHw", "SearchSpace", "default_space", "replay"]

_log = logging.getLogger(__name__)

#: ``chooser(name, choices) -> one of choices``: how a controller answers one decision.
Chooser = Callable[[str, Sequence[Any]], Any]

#: Bits of the signed input quantizer (fixed: the data, not the network, sets it).
INPUT_BITS = 8
#: Its integer bits (inputs scaled to [-1, 1): ap_fixed<8,1>).
INPUT_INT_BITS = 1
#: Width of brevitas' Int16Bias: hls4ml sizes the accumulator to hold it.
BIAS_BITS = 16


@dataclass(frozen=True)
class Architecture:
    """The network: conv blocks (conv, optional BatchNorm, ReLU, optional 2x2 max-pool), an optional
    hidden dense layer. ``batch_norm`` puts a BatchNorm after every conv while training; it is
    folded into the conv before export, so the hardware (and the cost model) sees a plain conv."""

    conv_channels: tuple[int, ...]
    kernel_sizes: tuple[int, ...]
    pool: tuple[bool, ...]
    dense_units: tuple[int, ...] = ()
    batch_norm: bool = False

    @property
    def n_mac_layers(self) -> int:
        """Layers with weights: conv blocks, hidden dense layers and the classifier."""
        return len(self.conv_channels) + len(self.dense_units) + 1

    def layer_names(self) -> list[str]:
        """Names of the weight layers in order: conv0.., dense, out (the classifier)."""
        return (
            [f"conv{i}" for i in range(len(self.conv_channels))] + ["dense"] * len(self.dense_units) + ["out"]
        )


@dataclass(frozen=True)
class LayerHw:
    """Quantization and implementation of one weight layer.

    Attributes:
        weight_bits: weight quantizer width (16 = effectively unquantized).
        act_bits: width of the ReLU after this layer; 0 for the classifier (it has none).
        reuse_factor: requested hls4ml ReuseFactor; the hardware uses the closest valid one.
        strategy: hls4ml strategy, "Latency" or "Resource".
    """

    weight_bits: int
    act_bits: int
    reuse_factor: int
    strategy: str


@dataclass(frozen=True)
class Candidate:
    """One point of the space. ``hw`` is empty for a float architecture (the separate baseline's phase 1)."""

    arch: Architecture
    hw: tuple[LayerHw, ...] = ()
    io_type: str = "io_stream"
    clock_mhz: float = 200.0
    learned_scales: bool = False

    @property
    def quantized(self) -> bool:
        """True when the candidate carries quantization and hardware decisions."""
        return bool(self.hw)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with every trial and in reports)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Candidate:
        """Inverse of ``to_dict``."""
        fields: dict[str, Any] = {k: tuple(v) for k, v in raw["arch"].items() if k != "batch_norm"}
        fields["batch_norm"] = bool(raw["arch"].get("batch_norm", False))
        arch = Architecture(**fields)
        hw = tuple(LayerHw(**layer) for layer in raw.get("hw", ()))
        return cls(
            arch=arch,
            hw=hw,
            io_type=raw.get("io_type", "io_stream"),
            clock_mhz=float(raw.get("clock_mhz", 200.0)),
            learned_scales=bool(raw.get("learned_scales", False)),
        )

    def qat_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of ``search.models.QatCnnSpec`` (without shapes)."""
        kwargs: dict[str, Any] = {
            "conv_channels": self.arch.conv_channels,
            "kernel_sizes": self.arch.kernel_sizes,
            "pool": self.arch.pool,
            "dense_units": self.arch.dense_units,
            "input_bits": INPUT_BITS,
            "batch_norm": self.arch.batch_norm,
            "learned_scales": self.learned_scales,
        }
        if self.hw:
            kwargs["weight_bits"] = tuple(h.weight_bits for h in self.hw)
            kwargs["act_bits"] = tuple(h.act_bits for h in self.hw[:-1])
        return kwargs

    def network_key(self) -> str:
        """What training depends on (architecture, quantizers, scales), as a stable string.

        Two candidates with the same key differ only in reuse factors, strategies, io_type or
        clock: the hardware of the same network. With the same recipe, seed and warm start they
        train to the same weights (training is seeded), so the search trains such a network once.
        """
        return json.dumps(self.qat_kwargs(), sort_keys=True)

    def effective_reuse(self, input_shape: tuple[int, int, int], n_classes: int) -> list[int]:
        """The valid reuse factor hls4ml uses for each weight layer (closest to the request)."""
        return [
            closest_reuse_factor(n_in, n_out, h.reuse_factor)
            for (n_in, n_out), h in zip(_mult_sizes(self.arch, input_shape, n_classes), self.hw, strict=True)
        ]

    def layer_specs(self, input_shape: tuple[int, int, int], n_classes: int) -> list[LayerSpec]:
        """The cost model's layers of this design, as hls4ml builds them from the QONNX export.

        Pure and import-free (microseconds). Types follow hls4ml's QONNX handling: the input
        quantizer is folded into the input type (``ap_fixed<8,1>``, rounding and saturating), so it
        is no layer of its own; conv/dense results are the ``auto`` accumulator (``_accumulator``);
        a ReLU rounds and saturates to its quantizer's unsigned type (``ap_ufixed<b,0>``); ``same``
        padding becomes hls4ml's ZeroPadding stage. Zero weights are unknown before training
        (``n_zeros`` 0: the Latency strategy's pruning discount is not claimed).
        """
        if not self.hw:
            raise InputError("a float architecture has no hardware layers; quantize it first")
        io = IOType(self.io_type)
        c, h, w = input_shape
        common: dict[str, Any] = {"io_type": io}
        specs = [
            LayerSpec(
                LayerKind.RESHAPE,
                (c, h, w),
                (h, w, c),
                act_bits=INPUT_BITS,
                result_bits=INPUT_BITS,
                acc_bits=INPUT_BITS,
                name="input_transpose",
                **common,
            ),
        ]
        bits, signed, integer = INPUT_BITS, True, INPUT_INT_BITS
        arch, reuse = self.arch, self.effective_reuse(input_shape, n_classes)
        for i, (ch, k, pool) in enumerate(zip(arch.conv_channels, arch.kernel_sizes, arch.pool, strict=True)):
            hw = self.hw[i]
            acc, acc_int = _accumulator(hw.weight_bits, bits, integer, k * k * c)
            specs += [
                LayerSpec(
                    LayerKind.CONV2D,
                    (h, w, c),
                    (h, w, ch),
                    (k, k),
                    hw.weight_bits,
                    bits,
                    acc,
                    acc,
                    reuse[i],
                    Strategy(hw.strategy.lower()),
                    name=f"conv{i}",
                    padding="same",
                    act_signed=signed,
                    act_int_bits=integer,
                    result_int_bits=acc_int,
                    acc_int_bits=acc_int,
                    weight_int_bits=0,
                    **common,
                ),
                _relu(f"relu{i}", (h, w, ch), acc, acc_int, hw.act_bits, common),
            ]
            bits, signed, integer, c = hw.act_bits, False, 0, ch
            if pool:
                specs.append(
                    LayerSpec(
                        LayerKind.POOLING2D,
                        (h, w, c),
                        (h // 2, w // 2, c),
                        (2, 2),
                        act_bits=bits,
                        result_bits=bits,
                        acc_bits=bits,
                        activation="max",
                        name=f"pool{i}",
                        act_signed=False,
                        act_int_bits=0,
                        result_signed=False,
                        result_int_bits=0,
                        **common,
                    )
                )
                h, w = h // 2, w // 2
        features = h * w * c
        specs.append(
            LayerSpec(
                LayerKind.RESHAPE,
                (h, w, c),
                (features,),
                act_bits=bits,
                result_bits=bits,
                acc_bits=bits,
                name="flatten",
                **common,
            )
        )
        outs = (*arch.dense_units, n_classes)
        for j, units in enumerate(outs):
            index = len(arch.conv_channels) + j
            hw = self.hw[index]
            acc, acc_int = _accumulator(hw.weight_bits, bits, integer, features)
            specs.append(
                LayerSpec(
                    LayerKind.DENSE,
                    (features,),
                    (units,),
                    (),
                    hw.weight_bits,
                    bits,
                    acc,
                    acc,
                    reuse[index],
                    Strategy(hw.strategy.lower()),
                    name=f"dense{j}",
                    act_signed=signed,
                    act_int_bits=integer,
                    result_int_bits=acc_int,
                    acc_int_bits=acc_int,
                    weight_int_bits=0,
                    **common,
                )
            )
            if j < len(outs) - 1:
                specs.append(_relu(f"relu_dense{j}", (units,), acc, acc_int, hw.act_bits, common))
                bits, signed, integer = hw.act_bits, False, 0
            features = units
        return specs


def _relu(
    name: str, shape: tuple[int, ...], acc: int, acc_int: int, bits: int, common: dict[str, Any]
) -> LayerSpec:
    """A QuantReLU as hls4ml builds it: the accumulator rounded and saturated to ``ap_ufixed<bits,0>``."""
    return LayerSpec(
        LayerKind.ACTIVATION,
        shape,
        shape,
        act_bits=acc,
        result_bits=bits,
        acc_bits=bits,
        activation="relu",
        name=name,
        act_int_bits=acc_int,
        result_signed=False,
        result_int_bits=0,
        result_rounding=True,
        result_saturation=True,
        **common,
    )


def _accumulator(weight_bits: int, act_bits: int, act_int: int, n_in: int) -> tuple[int, int]:
    """(width, integer bits) of hls4ml's ``auto`` accumulator for a brevitas layer with Int16Bias.

    Width: max(weight + input bits + ceil(log2 n_in), the 16-bit bias) + 1. Integer bits: max(weight
    int + input int + ceil(log2 n_in), the bias's integer bits) + 1, the bias sitting on the product's
    grid (fraction = input fraction + weight fraction). Weight scales are learned, so the weight's
    integer bits are taken as 0 (weights in [-1, 1)); the width, which is what the hardware costs,
    does not depend on them.
    """
    log_n = math.ceil(math.log2(max(n_in, 1)))
    width = min(64, max(weight_bits + act_bits + log_n, BIAS_BITS) + 1)
    fraction = (act_bits - act_int) + weight_bits
    integer = max(act_int + log_n, BIAS_BITS - fraction) + 1
    return width, min(integer, width)


def _mult_sizes(
    arch: Architecture, input_shape: tuple[int, int, int], n_classes: int
) -> list[tuple[int, int]]:
    """(n_in, n_out) of each weight layer's dense kernel."""
    c, h, w = input_shape
    sizes = []
    for ch, k, pool in zip(arch.conv_channels, arch.kernel_sizes, arch.pool, strict=True):
        sizes.append((k * k * c, ch))
        c = ch
        if pool:
            h, w = h // 2, w // 2
    features = h * w * c
    for units in (*arch.dense_units, n_classes):
        sizes.append((features, units))
        features = units
    return sizes


@dataclass(frozen=True)
class SearchSpace:
    """The choices of every decision. Serializable (``to_dict``) and stored with the study.

    Attributes:
        conv_blocks: how many conv blocks the network may have.
        channels: output channels of a conv block.
        kernels: conv kernel sizes (same padding).
        pool: whether a conv block ends in a 2x2 max-pool (forced off once the map is 1x1).
        dense_units: width of the hidden dense layer; 0 means none.
        weight_bits: weight widths; 16 stands for "unquantized".
        act_bits: ReLU output widths; 16 stands for "unquantized".
        reuse_factors: requested reuse factors (snapped to the closest valid one per layer).
        strategies: hls4ml strategies.
        io_types: hls4ml top-level interfaces.
        clocks_mhz: design clocks.
        batch_norm: whether the conv blocks have BatchNorm (asked only when both are offered).
        learned_scales: weight scales are learned powers of two (a property of the space's
            quantizers, not a decision).
    """

    conv_blocks: tuple[int, ...] = (1, 2, 3)
    channels: tuple[int, ...] = (4, 8, 16, 32)
    kernels: tuple[int, ...] = (3, 5)
    pool: tuple[bool, ...] = (True, False)
    dense_units: tuple[int, ...] = (0, 16, 32)
    weight_bits: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 16)
    act_bits: tuple[int, ...] = (2, 3, 4, 5, 6, 8, 16)
    reuse_factors: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
    strategies: tuple[str, ...] = ("Latency", "Resource")
    io_types: tuple[str, ...] = ("io_stream",)
    clocks_mhz: tuple[float, ...] = (100.0, 150.0, 200.0)
    batch_norm: tuple[bool, ...] = (False,)
    learned_scales: bool = False
    notes: tuple[str, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        for name in (
            "conv_blocks",
            "channels",
            "kernels",
            "pool",
            "dense_units",
            "weight_bits",
            "act_bits",
            "reuse_factors",
            "strategies",
            "io_types",
            "clocks_mhz",
            "batch_norm",
        ):
            if not getattr(self, name):
                raise InputError(f"search space: {name} needs at least one choice")
        if min(self.conv_blocks) < 1 or min(self.channels) < 1 or min(self.reuse_factors) < 1:
            raise InputError("search space: conv_blocks, channels and reuse_factors must be >= 1")
        for bits in (*self.weight_bits, *self.act_bits):
            if not 2 <= bits <= 16:
                raise InputError(f"search space: bit widths must be 2..16, got {bits}")
        if bad := set(self.strategies) - {"Latency", "Resource"}:
            raise InputError(f"search space: unknown strategies {sorted(bad)}")
        if bad := set(self.io_types) - {"io_stream", "io_parallel"}:
            raise InputError(f"search space: unknown io_types {sorted(bad)}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (a space without BatchNorm or learned scales reads as it did before them,
        so the fingerprints of existing studies stay valid)."""
        raw = {k: (v if isinstance(v, bool) else list(v)) for k, v in asdict(self).items()}
        if raw["batch_norm"] == [False]:
            del raw["batch_norm"]
        if not raw["learned_scales"]:
            del raw["learned_scales"]
        return raw

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SearchSpace:
        """Inverse of ``to_dict``."""
        kwargs: dict[str, Any] = {k: (v if isinstance(v, bool) else tuple(v)) for k, v in raw.items()}
        return cls(**kwargs)

    @property
    def _asks_batch_norm(self) -> bool:
        return len(set(self.batch_norm)) > 1

    def all_decisions(self) -> list[tuple[str, tuple[Any, ...]]]:
        """Every decision a candidate of the deepest network can ask, in asking order (RL slots)."""
        out: list[tuple[str, tuple[Any, ...]]] = [("conv_blocks", self.conv_blocks)]
        for i in range(max(self.conv_blocks)):
            out += [
                (f"conv{i}_channels", self.channels),
                (f"conv{i}_kernel", self.kernels),
                (f"conv{i}_pool", self.pool),
            ]
        out.append(("dense_units", self.dense_units))
        if self._asks_batch_norm:
            out.append(("batch_norm", self.batch_norm))
        for name in [f"conv{i}" for i in range(max(self.conv_blocks))] + ["dense", "out"]:
            out += [(f"{name}_wbits", self.weight_bits)]
            if name != "out":
                out += [(f"{name}_abits", self.act_bits)]
            out += [(f"{name}_reuse", self.reuse_factors), (f"{name}_strategy", self.strategies)]
        out += [("io_type", self.io_types), ("clock_mhz", self.clocks_mhz)]
        return out

    def sample_architecture(self, choose: Chooser, input_shape: tuple[int, int, int]) -> Architecture:
        """Ask the architecture decisions (only those the chosen depth needs)."""
        n = int(choose("conv_blocks", self.conv_blocks))
        channels, kernels, pools = [], [], []
        side = min(input_shape[1:])
        for i in range(n):
            channels.append(int(choose(f"conv{i}_channels", self.channels)))
            kernels.append(int(choose(f"conv{i}_kernel", self.kernels)))
            pool = bool(choose(f"conv{i}_pool", self.pool))
            pool = pool and side >= 2  # a 1x1 map cannot be pooled: the decision is moot, not invalid
            side = side // 2 if pool else side
            pools.append(pool)
        units = int(choose("dense_units", self.dense_units))
        norm = bool(choose("batch_norm", self.batch_norm)) if self._asks_batch_norm else self.batch_norm[0]
        return Architecture(tuple(channels), tuple(kernels), tuple(pools), (units,) if units else (), norm)

    def sample_hardware(self, choose: Chooser, arch: Architecture) -> Candidate:
        """Ask the per-layer quantization/hardware decisions of ``arch``, then io_type and clock."""
        hw = []
        for name in arch.layer_names():
            wbits = int(choose(f"{name}_wbits", self.weight_bits))
            abits = int(choose(f"{name}_abits", self.act_bits)) if name != "out" else 0
            reuse = int(choose(f"{name}_reuse", self.reuse_factors))
            strategy = str(choose(f"{name}_strategy", self.strategies))
            hw.append(LayerHw(wbits, abits, reuse, strategy))
        io_type = str(choose("io_type", self.io_types))
        clock = float(choose("clock_mhz", self.clocks_mhz))
        return Candidate(arch, tuple(hw), io_type, clock, self.learned_scales)

    def sample(
        self,
        choose: Chooser,
        input_shape: tuple[int, int, int],
        *,
        arch: Architecture | None = None,
        hardware: bool = True,
    ) -> Candidate:
        """A candidate: architecture (unless fixed) then, when ``hardware``, its quantization/hardware."""
        arch = arch if arch is not None else self.sample_architecture(choose, input_shape)
        return self.sample_hardware(choose, arch) if hardware else Candidate(arch)


def replay(params: dict[str, Any]) -> Chooser:
    """A chooser that answers from stored Optuna params (to rebuild a candidate from a trial)."""

    def choose(name: str, choices: Sequence[Any]) -> Any:
        if name not in params:
            raise KeyError(name)
        return params[name]

    return choose


def default_space(dataset: str, board_clock_mhz: float) -> SearchSpace:
    """The space for a dataset, with clocks no faster than the board's.

    Why io_stream only by default: io_type stays a decision of the space, but hls4ml 1.3 failed here
    to convert a brevitas conv QONNX export with io_parallel ("list index out of range"), and an
    io_parallel conv compiles in ~1 minute and ~1 GB (DESIGN.md); a failed conversion would only cost
    trials. Pass a SearchSpace with ``io_types=("io_stream", "io_parallel")`` to search it anyway.
    """
    clocks = tuple(c for c in (100.0, 150.0, 200.0, 250.0) if c <= board_clock_mhz) or (
        float(board_clock_mhz),
    )
    if dataset == "cifar10":
        # 32x32 maps: a conv layer runs ~1,000 pixels, so reuse below 8 needs thousands of multipliers and
        # random proposals under 30,000 LUTs were 0.2 % feasible with them, 2 % without.
        # Accuracy per CPU-minute (measured, see README): 3-4 conv blocks of 3x3, each pooled, with
        # 32-128 channels reach 75 % float in ~10 epochs where 8-16 channels stall near 60 %; a block
        # without pooling at 32x32 costs ~4x the training time and C-sim time for little accuracy.
        # 2-6 bit weights/activations (8 kept for the first layer's sake), as in low-bit designs.
        # Up to 8 conv blocks (VGG-like stacks: two or three convs per pooled stage, which needs
        # unpooled blocks too), with BatchNorm (folded before export) and learned power-of-two weight
        # scales: what deeper low-bit CNNs need to train at all (issue 20). A pool is forced off once
        # the map is 1x1, so 8 blocks never pool more than 5 times. At the paper's spec the depth
        # buys accuracy, not feasibility: random samples of the small corner (16/32 channels, 2-4
        # bits, reuse >= 128) priced at synthesis level had a minimum of ~15.8k LUT at 3 blocks,
        # ~28.6k at 6 and ~35.2k at 8 (point estimates, 300 samples each), so under 30,000 LUT
        # the search finds 3-6 blocks, and what the controller learns decides how often.
        return SearchSpace(
            conv_blocks=(3, 4, 5, 6, 7, 8),
            channels=(16, 32, 48, 64, 96, 128),
            kernels=(3,),
            pool=(True, False),
            batch_norm=(True,),
            learned_scales=True,
            dense_units=(0, 64),
            weight_bits=(2, 3, 4, 5, 6, 8),
            act_bits=(2, 3, 4, 5, 6, 8),
            reuse_factors=(8, 16, 32, 64, 128, 256, 512, 1024, 2048),
            clocks_mhz=clocks,
        )
    return SearchSpace(clocks_mhz=clocks)
