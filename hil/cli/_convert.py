"""`hil convert MODEL --board B ...`: hls4ml project + optional bit-accurate C simulation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import INVENTORY_OPTION, JSON_OPTION, console, print_json
from hil.cli._conversion import (
    BACKEND_OPTION,
    BOARD_OPTION,
    INPUT_SHAPE_OPTION,
    IO_TYPE_OPTION,
    MODEL_ARGUMENT,
    PRECISION_OPTION,
    REUSE_OPTION,
    STRATEGY_OPTION,
    conversion_options,
    resolve_auto_reuse,
)
from hil.errors import InputError


def _load_array(path: Path | None, what: str) -> object:
    if path is None:
        return None
    import numpy as np

    if not path.is_file():
        raise InputError(f"{path}: no such {what} file (expected a .npy array)")
    try:
        return np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise InputError(f"{path}: not a .npy array ({exc})") from None


@app.command("convert")
def convert_command(
    model: Path = MODEL_ARGUMENT,
    board: str = BOARD_OPTION,
    precision: str = PRECISION_OPTION,
    reuse: str = REUSE_OPTION,
    io_type: str = IO_TYPE_OPTION,
    strategy: str = STRATEGY_OPTION,
    backend: str = BACKEND_OPTION,
    input_shape: str | None = INPUT_SHAPE_OPTION,
    out: Path | None = typer.Option(
        None, "--out", help="Folder of the hls4ml project (default hil-out/<model>-<key>)."
    ),
    csim: int = typer.Option(0, "--csim", help="C-simulate N inputs and compare with the reference model."),
    inputs: Path | None = typer.Option(
        None, "--inputs", help=".npy batch of real inputs for --csim (else random)."
    ),
    labels: Path | None = typer.Option(None, "--labels", help=".npy labels of --inputs, to report accuracy."),
    min_agreement: float | None = typer.Option(
        None, "--min-agreement", help="Exit 1 when C-sim argmax agreement is below this fraction."
    ),
    seed: int = typer.Option(0, help="Seed of random C-sim inputs."),
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Convert MODEL to an hls4ml project for BOARD; with --csim, check it bit-accurately."""
    from hil.convert import convert
    from hil.inventory import load_inventory

    target = load_inventory(inventory).board(board)
    options = conversion_options(precision, reuse, io_type, strategy, backend, input_shape)
    if min_agreement is not None and not 0.0 <= min_agreement <= 1.0:
        raise InputError(f"--min-agreement must be a fraction in [0, 1], got {min_agreement}")
    if min_agreement is not None and csim <= 0:
        raise InputError("--min-agreement needs --csim N")
    options, _plan = resolve_auto_reuse(model, target, options, reuse)
    data = _load_array(inputs, "--inputs")
    label_data = _load_array(labels, "--labels")
    result = convert(
        model,
        target,
        options,
        output_dir=out,
        csim_n=csim,
        csim_data=data,  # type: ignore[arg-type]
        csim_labels=label_data,  # type: ignore[arg-type]
        seed=seed,
    )
    summary = result.summary()
    failed = (
        min_agreement is not None and result.csim is not None and result.csim.argmax_agreement < min_agreement
    )
    summary["passed"] = not failed
    if as_json:
        print_json(summary)
    else:
        _print_summary(summary, min_agreement)
    return 1 if failed else 0


def _print_summary(summary: dict[str, Any], min_agreement: float | None) -> None:
    from rich.table import Table

    out = console()
    out.print(
        f"[bold]{summary['model']}[/] ({summary['format']}) -> {summary['board']} "
        f"{summary['part']} @ {summary['clock_mhz']:g} MHz, key {summary['design_key'][:12]}"
    )
    table = Table(title=f"hls4ml layers ({summary['options']['io_type']}, {summary['options']['backend']})")
    for column in ("layer", "class", "result", "weight", "reuse"):
        table.add_column(column)
    for layer in summary["layers"]:
        precision = layer["precision"]
        table.add_row(
            layer["name"],
            layer["class"],
            precision.get("result", ""),
            precision.get("weight", ""),
            str(layer.get("reuse_factor", "")),
        )
    out.print(table)
    out.print(f"project: {summary['project_dir']}")
    csim = summary.get("csim")
    if csim:
        verdict = ""
        if min_agreement is not None:
            verdict = " [green]PASS[/]" if summary["passed"] else f" [red]FAIL (< {min_agreement:g})[/]"
        out.print(
            f"C-sim of {csim['n_inputs']} inputs: argmax agreement {csim['argmax_agreement']:.4f}{verdict}, "
            f"bit-identical {csim['bit_identical_fraction']:.4f}, max |err| {csim['max_abs_error']:.4g}, "
            f"mean |err| {csim['mean_abs_error']:.4g}; compile {csim['compile_seconds']:.1f} s"
            f"{' (cache hit)' if csim['cache_hit'] else ''}, run {csim['run_seconds']:.2f} s"
        )
        emulator = summary.get("emulator")
        if emulator:
            if emulator.get("bit_identical") is None:
                reason = emulator.get("refused") or emulator.get("error")
                out.print(f"bit-exact emulator: not run on this design ({reason})")
            else:
                out.print(
                    f"bit-exact emulator vs C-sim on {emulator['n']} inputs: bit-identical "
                    f"{emulator['bit_identical']:.4f}, max |diff| {emulator['max_abs_diff']:.4g}"
                )
        if csim.get("hls_accuracy") is not None:
            out.print(
                f"accuracy on the given labels: fixed-point {csim['hls_accuracy']:.4f}, "
                f"reference {csim['reference_accuracy']:.4f}"
            )
