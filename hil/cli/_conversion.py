"""The conversion options shared by `hil convert`, `hil build` and `hil measure`.

Why one place: the three commands must accept the same options with the same defaults, or a
design converted by one would get another design key when built or measured by the next.
"""

from __future__ import annotations

from typing import Any

import typer

__all__ = [
    "MODEL_ARGUMENT",
    "BOARD_OPTION",
    "PRECISION_OPTION",
    "REUSE_OPTION",
    "IO_TYPE_OPTION",
    "STRATEGY_OPTION",
    "BACKEND_OPTION",
    "INPUT_SHAPE_OPTION",
    "conversion_options",
]

MODEL_ARGUMENT = typer.Argument(
    ..., help="Float ONNX, QONNX (e.g. brevitas), TorchScript or torch.export file."
)
BOARD_OPTION = typer.Option(..., "--board", "-b", help="Target board (see `hil boards`).")
PRECISION_OPTION = typer.Option(
    "ap_fixed<16,6>", "--precision", help="Default fixed-point type (what quantizers don't fix)."
)
REUSE_OPTION = typer.Option(1, "--reuse", help="Reuse factor (hls4ml corrects invalid values).")
IO_TYPE_OPTION = typer.Option("io_stream", "--io-type", help="io_stream or io_parallel.")
STRATEGY_OPTION = typer.Option("Latency", "--strategy", help="Latency or Resource.")
BACKEND_OPTION = typer.Option("Vitis", "--backend", help="Vivado, Vitis or VivadoAccelerator.")
INPUT_SHAPE_OPTION = typer.Option(
    None, "--input-shape", help="Input shape in the model's layout, e.g. 1,3,32,32."
)


def conversion_options(
    precision: str, reuse: int, io_type: str, strategy: str, backend: str, input_shape: str | None
) -> Any:
    """A validated ``hil.convert.ConversionOptions`` from the command-line values."""
    from hil.convert import ConversionOptions, parse_shape

    return ConversionOptions(
        precision=precision,
        reuse_factor=reuse,
        io_type=io_type,  # type: ignore[arg-type]
        strategy=strategy,  # type: ignore[arg-type]
        backend=backend,  # type: ignore[arg-type]
        input_shape=parse_shape(input_shape),
    )
