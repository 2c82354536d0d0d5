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
    "BUILD_BACKEND_OPTION",
    "STOP_AFTER_OPTION",
    "resolve_backend",
    "check_flow_backend",
    "INPUT_SHAPE_OPTION",
    "conversion_options",
    "resolve_auto_reuse",
]

MODEL_ARGUMENT = typer.Argument(
    ..., help="Float ONNX, QONNX (e.g. brevitas), TorchScript or torch.export file."
)
BOARD_OPTION = typer.Option(..., "--board", "-b", help="Target board (see `hil boards`).")
PRECISION_OPTION = typer.Option(
    "ap_fixed<16,6>", "--precision", help="Default fixed-point type (what quantizers don't fix)."
)
REUSE_OPTION = typer.Option(
    "1",
    "--reuse",
    help="Reuse factor (hls4ml corrects invalid values), or 'auto': per layer, the smallest valid one "
    "that fits the board by the cost model.",
)
IO_TYPE_OPTION = typer.Option("io_stream", "--io-type", help="io_stream or io_parallel.")
STRATEGY_OPTION = typer.Option("Latency", "--strategy", help="Latency or Resource.")
BACKEND_OPTION = typer.Option("Vitis", "--backend", help="Vivado, Vitis or VivadoAccelerator.")
BUILD_BACKEND_OPTION = typer.Option(
    "auto",
    "--backend",
    help="auto, Vivado, Vitis or VivadoAccelerator. auto: for --builder vivado the installed release's "
    "flow decides (Vitis from 2020.2, VivadoAccelerator up to 2020.1), else Vitis.",
)
STOP_AFTER_OPTION = typer.Option(
    "bitstream", "--stop-after", help="hls, synth or bitstream: how far a vivado build goes."
)
INPUT_SHAPE_OPTION = typer.Option(
    None, "--input-shape", help="Input shape in the model's layout, e.g. 1,3,32,32."
)


def _reuse_factor(reuse: str) -> int | None:
    """None for 'auto', else the integer (an InputError names the option otherwise)."""
    from hil.errors import InputError

    text = str(reuse).strip().lower()
    if text == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise InputError(f"--reuse must be a positive integer or 'auto', got {reuse!r}") from None


def conversion_options(
    precision: str, reuse: str | int, io_type: str, strategy: str, backend: str, input_shape: str | None
) -> Any:
    """A validated ``hil.convert.ConversionOptions`` from the command-line values.

    ``--reuse auto`` gives reuse factor 1 here; ``resolve_auto_reuse`` then sets the per-layer
    choice once the model and the board are known.
    """
    from hil.convert import ConversionOptions, parse_shape

    factor = _reuse_factor(str(reuse))
    return ConversionOptions(
        precision=precision,
        reuse_factor=1 if factor is None else factor,
        io_type=io_type,  # type: ignore[arg-type]
        strategy=strategy,  # type: ignore[arg-type]
        backend=backend,  # type: ignore[arg-type]
        input_shape=parse_shape(input_shape),
    )


def resolve_auto_reuse(model: Any, board: Any, options: Any, reuse: str | int) -> tuple[Any, Any]:
    """(options, plan): with ``--reuse auto`` the per-layer reuse factors of ``hil.convert.resolve_reuse``
    (logged on stderr, so --json output stays one document); otherwise the options unchanged and None."""
    if _reuse_factor(str(reuse)) is not None:
        return options, None
    import sys

    from hil.convert import resolve_reuse

    resolved, plan = resolve_reuse(model, board, options)
    verdict = "fits" if plan.fits else "does NOT fit"
    print(
        f"hil: --reuse auto for {board.name}: {plan.describe() or 'no multiply layers'} "
        f"({verdict}: {plan.binding} at {plan.utilisation.get(plan.binding, 0.0):.0%} by the cost model)",
        file=sys.stderr,
    )
    return resolved, plan


def check_flow_backend(backend: str, builder: str) -> None:
    """Refuse, before anything runs, a backend the installed release's bitstream flow cannot build.

    Only when a usable AMD toolchain is on PATH: without one the build itself says what is missing.
    """
    if builder != "vivado":
        return
    from hil.flow import check_backend, detect_toolchain

    found = detect_toolchain()
    if found.usable and found.flow and found.release:
        check_backend(found.flow, found.release, backend)


def resolve_backend(backend: str, builder: str, release: str | None = None) -> str:
    """The hls4ml backend of a build: ``auto`` follows the bitstream flow of the release.

    ``release`` (a dry run's ``--release``) wins over the installed one; with no tools installed
    a vivado build takes the newest release's flow (the build then says what is missing).
    """
    if backend != "auto":
        return backend
    if builder != "vivado":
        return "Vitis"
    from hil.flow import flow_backend, planned_flow

    return flow_backend(planned_flow(release)[1])
