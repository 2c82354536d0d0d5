"""ConversionOptions: every knob of an hls4ml conversion, validated before hls4ml runs.

Why a frozen dataclass: the options are hashed into ``design_key`` (so two runs with the same
options share a cache entry), and an invalid precision string must fail at the command line,
not minutes later inside a C++ compiler.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

from hil.errors import InputError

__all__ = ["ConversionOptions", "parse_precision", "parse_shape", "IO_TYPES", "STRATEGIES", "BACKENDS"]

IO_TYPES = ("io_stream", "io_parallel")
STRATEGIES = ("Latency", "Resource")
BACKENDS = ("Vivado", "Vitis", "VivadoAccelerator")

FIXED_PRECISION = re.compile(
    r"^(?:ap_)?(?P<sign>u?)fixed<\s*(?P<width>\d+)\s*,\s*(?P<int>-?\d+)\s*"
    r"(?:,\s*(?P<q>AP_(?:RND|RND_ZERO|RND_MIN_INF|RND_INF|RND_CONV|TRN|TRN_ZERO))\s*)?"
    r"(?:,\s*(?P<o>AP_(?:SAT|SAT_ZERO|SAT_SYM|WRAP|WRAP_SM))\s*)?>$"
)
_INT = re.compile(r"^(?:ap_)?(?P<sign>u?)int<\s*(?P<width>\d+)\s*>$")


def parse_precision(text: str) -> tuple[bool, int, int]:
    """Validate an HLS precision string; returns (signed, total bits, integer bits).

    Accepts ap_fixed<W,I[,Q[,O]]>, ap_ufixed<...>, ap_int<W>, ap_uint<W> (the ``ap_`` prefix
    optional). Raises InputError naming the string otherwise.
    """
    cleaned = text.strip()
    match = FIXED_PRECISION.match(cleaned)
    if match:
        width, integer = int(match["width"]), int(match["int"])
    else:
        match = _INT.match(cleaned)
        if not match:
            raise InputError(
                f"invalid precision {text!r}: expected e.g. ap_fixed<16,6>, ap_ufixed<8,0>, ap_int<8>"
            )
        width = integer = int(match["width"])
    if not 1 <= width <= 64:
        raise InputError(f"invalid precision {text!r}: total width must be 1..64 bits, got {width}")
    return match["sign"] != "u", width, integer


@dataclass(frozen=True)
class ConversionOptions:
    """How a model becomes an hls4ml design.

    Attributes:
        precision: default fixed-point type for everything a QONNX quantizer does not fix
            (all of a float model's weights and activations).
        reuse_factor: multiplications per multiplier (1 = fully parallel); hls4ml corrects an
            invalid value to the nearest valid one.
        io_type: io_stream (dataflow, FIFOs between layers) or io_parallel (arrays, for small nets).
        strategy: Latency (registers, fully unrolled) or Resource (BRAM weights, reuse).
        backend: hls4ml backend: Vivado (Vivado HLS), Vitis (Vitis HLS), VivadoAccelerator
            (adds the PYNQ AXI wrapper; board files needed).
        input_shape: the input shape in the model's own layout, when the file does not fix it.
        softmax_implementation: hls4ml Softmax implementation; 'stable' with a 4096-entry table
            is used because the default table implementation gave wrong argmax at some
            precisions here.
        layer_overrides: per-layer (hls4ml/ONNX layer name, reuse factor, strategy) that replace
            the model-wide ``reuse_factor``/``strategy`` for those layers: a co-search picks
            them per layer. Names are the cleaned graph's node names (Conv_0, MatMul_1, ...).
        portable_csim: compile the weights into the C-sim library so it runs on another host
            (a board's emulation, a farm worker); ~2.5x slower to compile than reading them
            from txt files by absolute path, which ties the library to its project folder.
    """

    precision: str = "ap_fixed<16,6>"
    reuse_factor: int = 1
    io_type: Literal["io_stream", "io_parallel"] = "io_stream"
    strategy: Literal["Latency", "Resource"] = "Latency"
    backend: Literal["Vivado", "Vitis", "VivadoAccelerator"] = "Vitis"
    input_shape: tuple[int, ...] | None = None
    softmax_implementation: str = "stable"
    softmax_table_size: int = 4096
    layer_overrides: tuple[tuple[str, int, str], ...] = ()
    portable_csim: bool = False

    def __post_init__(self) -> None:
        parse_precision(self.precision)
        if self.reuse_factor < 1:
            raise InputError(f"--reuse must be >= 1, got {self.reuse_factor}")
        if self.io_type not in IO_TYPES:
            raise InputError(f"--io-type must be one of {', '.join(IO_TYPES)}, got {self.io_type!r}")
        if self.strategy not in STRATEGIES:
            raise InputError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {self.strategy!r}")
        if self.backend not in BACKENDS:
            raise InputError(f"--backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}")
        overrides = tuple((str(n), int(r), str(s)) for n, r, s in self.layer_overrides)
        object.__setattr__(self, "layer_overrides", overrides)  # lists from JSON -> hashable tuples
        for name, reuse, strategy in overrides:
            if reuse < 1 or strategy not in STRATEGIES:
                raise InputError(
                    f"layer override {name}: reuse factor must be >= 1 and strategy one of "
                    f"{', '.join(STRATEGIES)}, got {reuse}, {strategy!r}"
                )
        if self.input_shape is not None and (not self.input_shape or any(d < 1 for d in self.input_shape)):
            raise InputError(f"--input-shape must be positive integers, got {self.input_shape}")

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form, hashed into the design key."""
        data = asdict(self)
        data["input_shape"] = list(self.input_shape) if self.input_shape else None
        data["layer_overrides"] = [list(entry) for entry in self.layer_overrides]
        return data


def parse_shape(text: str | None) -> tuple[int, ...] | None:
    """'1,32,32,3' -> (1, 32, 32, 3); None stays None."""
    if text is None or not text.strip():
        return None
    try:
        shape = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError:
        raise InputError(
            f"--input-shape must be comma-separated integers like 1,3,32,32, got {text!r}"
        ) from None
    if not shape or any(d < 1 for d in shape):
        raise InputError(f"--input-shape must be positive integers, got {text!r}")
    return shape
