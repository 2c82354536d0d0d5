"""The light layer spec: what the cost model needs to know about one hls4ml layer.

Why plain frozen dataclasses and not an hls4ml ``ModelGraph``: the search proposes thousands of
candidates per second and prunes them before anything is trained or converted, so a spec must be
cheap to build (no hls4ml import, no weights) and an estimate must take microseconds.
``spec_from_hls_model`` builds the same spec from a converted model, so both paths share one model.

Shapes are channels-last and exclude the batch dimension, as in hls4ml: a Dense layer is
``(n_in,) -> (n_out,)``, a Conv1D ``(width, n_chan) -> (out_width, n_filt)``, a Conv2D
``(height, width, n_chan) -> (out_height, out_width, n_filt)``.

Why the precision details (integer bits, signedness, rounding, saturation) and not only widths: hls4ml
writes a cast after every layer, and what it costs is set by them (a rounding incrementer, a
saturating clamp). Every field added after the first release has a default, so old records, params
files and the search's fast path keep working.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from hil.errors import InputError

__all__ = ["IOType", "LayerKind", "LayerSpec", "Strategy", "layer_from_dict", "layer_to_dict"]

_log = logging.getLogger(__name__)


class LayerKind(str, Enum):
    """Layer kinds the cost model knows, named after hls4ml's layer classes."""

    DENSE = "dense"
    CONV1D = "conv1d"
    CONV2D = "conv2d"
    POOLING1D = "pooling1d"
    POOLING2D = "pooling2d"
    ACTIVATION = "activation"
    SOFTMAX = "softmax"
    BATCHNORM = "batchnorm"
    FLATTEN = "flatten"
    RESHAPE = "reshape"
    ZEROPADDING = "zeropadding"


class Strategy(str, Enum):
    """hls4ml's implementation strategy of a multiply-accumulate layer."""

    LATENCY = "latency"
    RESOURCE = "resource"


class IOType(str, Enum):
    """hls4ml's top-level interface: one pixel per stream beat, or whole arrays."""

    IO_STREAM = "io_stream"
    IO_PARALLEL = "io_parallel"


#: Kinds that multiply by weights (the dense kernel of hls4ml does the work).
MAC_KINDS = frozenset({LayerKind.DENSE, LayerKind.CONV1D, LayerKind.CONV2D})
#: Kinds that only move data (no function of their own in the HLS design).
ROUTING_KINDS = frozenset({LayerKind.FLATTEN, LayerKind.RESHAPE})
_PADDINGS = ("valid", "same")


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer as hls4ml implements it.

    Attributes:
        kind: what the layer computes.
        in_shape: input tensor shape, channels-last, without batch.
        out_shape: output tensor shape, channels-last, without batch.
        kernel: filter size (conv) or pool size (pooling); empty for other kinds.
        weight_bits: total width of the weight type (ap_fixed<W, I>: W).
        act_bits: total width of the layer's input type.
        result_bits: total width of the layer's output type.
        acc_bits: total width of the accumulator type (hls4ml ``accum_t``).
        reuse_factor: hls4ml ReuseFactor as configured; the model corrects an invalid one the way
            hls4ml does (see ``effective_reuse_factor``).
        strategy: Latency or Resource.
        io_type: io_stream or io_parallel.
        activation: for ACTIVATION layers: relu, sigmoid, tanh, linear, leaky_relu, ...;
            for POOLING layers: max or average. A ``linear`` activation whose input and result
            types differ is a quantizer (e.g. the network's input quantizer): it costs a cast.
        name: a label for reports.
        stride: conv/pooling stride per spatial dimension; empty means 1 (conv) or the pool size.
        padding: ``valid``, or ``same``: then ``in_shape`` is the unpadded input and, in io_stream,
            hls4ml adds a ZeroPadding stage in front (priced with the layer).
        n_zeros: zero-valued weights. The Latency strategy keeps weights as constants and HLS drops
            multiplies by zero; the Resource strategy keeps them in a ROM, where zeros cost as much.
        use_bias: whether the layer adds a bias (hls4ml's zero bias is removed by HLS).
        act_signed, act_int_bits: sign and integer bits of the input type (None: unknown).
        result_signed, result_int_bits: sign and integer bits of the output type.
        result_rounding, result_saturation: the output type rounds (AP_RND*) / saturates (AP_SAT*).
        acc_int_bits, weight_int_bits: integer bits of the accumulator and weight types.
        table_size: entries of a Softmax / sigmoid / tanh lookup table.
        implementation: Softmax implementation (stable, latency, legacy, argmax) or convolution
            implementation (linebuffer, encoded); empty for hls4ml's default.
    """

    kind: LayerKind
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    kernel: tuple[int, ...] = ()
    weight_bits: int = 16
    act_bits: int = 16
    result_bits: int = 16
    acc_bits: int = 16
    reuse_factor: int = 1
    strategy: Strategy = Strategy.LATENCY
    io_type: IOType = IOType.IO_STREAM
    activation: str = "linear"
    name: str = ""
    stride: tuple[int, ...] = ()
    padding: str = "valid"
    n_zeros: int = 0
    use_bias: bool = True
    act_signed: bool = True
    act_int_bits: int | None = None
    result_signed: bool = True
    result_int_bits: int | None = None
    result_rounding: bool = False
    result_saturation: bool = False
    acc_int_bits: int | None = None
    weight_int_bits: int | None = None
    table_size: int = 1024
    implementation: str = ""

    def __post_init__(self) -> None:
        # Cheap checks only: this runs for every candidate of a search.
        if not self.in_shape or not self.out_shape:
            raise InputError(
                f"layer {self.name or self.kind.value}: in_shape and out_shape must be non-empty"
            )
        if min(self.in_shape) < 1 or min(self.out_shape) < 1:
            raise InputError(
                f"layer {self.name or self.kind.value}: shapes must be positive, got "
                f"{self.in_shape} -> {self.out_shape}"
            )
        for field in ("weight_bits", "act_bits", "result_bits", "acc_bits"):
            bits = getattr(self, field)
            if not 1 <= bits <= 64:
                raise InputError(f"layer {self.name or self.kind.value}: {field}={bits} outside 1..64")
        if self.reuse_factor < 1:
            raise InputError(f"layer {self.name or self.kind.value}: reuse_factor must be >= 1")
        if self.kind in (LayerKind.CONV1D, LayerKind.CONV2D) and len(self.kernel) != len(self.in_shape) - 1:
            raise InputError(
                f"layer {self.name or self.kind.value}: kernel {self.kernel} does not match "
                f"a {len(self.in_shape)}-d input"
            )
        if self.padding not in _PADDINGS:
            raise InputError(f"layer {self.name or self.kind.value}: padding must be valid or same")
        if self.n_zeros < 0 or (self.n_zeros and self.kind in MAC_KINDS and self.n_zeros > self.n_weights):
            raise InputError(
                f"layer {self.name or self.kind.value}: n_zeros={self.n_zeros} outside 0..{self.n_weights}"
            )

    @property
    def n_chan(self) -> int:
        """Input channels (the innermost dimension)."""
        return self.in_shape[-1]

    @property
    def in_pixels(self) -> int:
        """Positions a stream layer reads (one beat per pixel in io_stream)."""
        return math.prod(self.in_shape[:-1]) if len(self.in_shape) > 1 else 1

    @property
    def out_pixels(self) -> int:
        """Positions a stream layer writes."""
        return math.prod(self.out_shape[:-1]) if len(self.out_shape) > 1 else 1

    @property
    def strides(self) -> tuple[int, ...]:
        """The stride per spatial dimension, defaults filled in."""
        if self.stride:
            return self.stride
        if self.kind in (LayerKind.POOLING1D, LayerKind.POOLING2D) and self.kernel:
            return self.kernel
        return (1,) * max(len(self.in_shape) - 1, 0)

    @property
    def padded_shape(self) -> tuple[int, ...]:
        """The input as the kernel reads it: ``same`` padding added (what a line buffer stores)."""
        if self.padding != "same" or not self.kernel:
            return self.in_shape
        spatial = []
        dims = zip(self.in_shape[:-1], self.kernel, self.strides, self.out_shape[:-1], strict=False)
        for size, k, s, out in dims:
            spatial.append(max(size, (out - 1) * s + k))
        return (*spatial, self.in_shape[-1])

    @property
    def n_weights(self) -> int:
        """Weights of a multiply-accumulate layer (0 for other kinds)."""
        if self.kind not in MAC_KINDS:
            return 0
        n_in, n_out = self.mult_size()
        return n_in * n_out

    def mult_size(self) -> tuple[int, int]:
        """(n_in, n_out) of the dense kernel, as hls4ml's ``get_layer_mult_size``."""
        if self.kind is LayerKind.DENSE:
            return self.in_shape[-1], self.out_shape[-1]
        return math.prod(self.kernel) * self.in_shape[-1], self.out_shape[-1]


def layer_to_dict(spec: LayerSpec) -> dict[str, Any]:
    """JSON-ready dict (enums as their values, tuples as lists): the ``candidate`` layout of records."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(spec):
        value = getattr(spec, field.name)
        out[field.name] = (
            value.value if isinstance(value, Enum) else list(value) if isinstance(value, tuple) else value
        )
    return out


_FIELDS = {f.name for f in dataclasses.fields(LayerSpec)}


def layer_from_dict(raw: dict[str, Any], where: str = "layer") -> LayerSpec:
    """Inverse of ``layer_to_dict``; raises InputError naming ``where`` and the bad key."""
    unknown = sorted(set(raw) - _FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown layer field(s) {unknown}")
    try:
        kwargs = dict(raw)
        kwargs["kind"] = LayerKind(raw["kind"])
        for key in ("in_shape", "out_shape", "kernel", "stride"):
            if key in kwargs:
                kwargs[key] = tuple(int(v) for v in kwargs[key])
        if "strategy" in kwargs:
            kwargs["strategy"] = Strategy(str(kwargs["strategy"]).lower())
        if "io_type" in kwargs:
            kwargs["io_type"] = IOType(str(kwargs["io_type"]).lower())
        return LayerSpec(**kwargs)
    except KeyError as exc:
        raise InputError(f"{where}: missing layer field {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise InputError(f"{where}: {exc}") from None
