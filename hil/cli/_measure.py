"""`hil measure MODEL --board B`: convert -> build (farm, cached) -> deploy -> run -> one MeasureResult.

Exit codes: 0 the design ran and its outputs matched the C-sim; 1 any failure recorded in the
result (build, deploy, run timeout, wrong answer, unreachable board); 2 bad input, including a
real board asked to run an ``estimate`` build (there is no bitstream to load).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import ARTIFACTS_OPTION, INVENTORY_OPTION, JSON_OPTION, console, print_json
from hil.cli._conversion import (
    BOARD_OPTION,
    BUILD_BACKEND_OPTION,
    INPUT_SHAPE_OPTION,
    IO_TYPE_OPTION,
    MODEL_ARGUMENT,
    PRECISION_OPTION,
    REUSE_OPTION,
    STRATEGY_OPTION,
    check_flow_backend,
    conversion_options,
    resolve_auto_reuse,
    resolve_backend,
)
from hil.errors import InputError


@app.command("measure")
def measure_command(
    model: Path = MODEL_ARGUMENT,
    board: str = BOARD_OPTION,
    precision: str = PRECISION_OPTION,
    reuse: str = REUSE_OPTION,
    io_type: str = IO_TYPE_OPTION,
    strategy: str = STRATEGY_OPTION,
    backend: str = BUILD_BACKEND_OPTION,
    input_shape: str | None = INPUT_SHAPE_OPTION,
    builder: str | None = typer.Option(
        None, "--builder", help="estimate or vivado (default: the inventory's farm.builder)."
    ),
    batch: int = typer.Option(64, "--batch", help="Images per DMA transfer."),
    min_seconds: float = typer.Option(1.0, "--min-seconds", help="Timed window of work on a real board."),
    check_inputs: int = typer.Option(
        16,
        "--check-inputs",
        help="Inputs checked bit-exactly against C-sim (and against the float reference).",
    ),
    warmup: int = typer.Option(3, "--warmup", help="Untimed batches before the timed window."),
    repeats: int = typer.Option(100, "--repeats", help="Single-image transfers timed for latency p50/p99."),
    dma_timeout: float = typer.Option(
        5.0, "--dma-timeout", help="Seconds before a DMA transfer counts as a design fault (a hung design)."
    ),
    min_agreement: float | None = typer.Option(
        None,
        "--min-agreement",
        help="Fail (LOW_AGREEMENT) when the agreement with the float reference is surely below this "
        "(upper bound of its Wilson 95 % interval); default: report it, warn below 0.9.",
    ),
    emulate: bool = typer.Option(
        False, "--emulate", help="Emulate even a board with a host (the agent runs there, over SSH)."
    ),
    connect_timeout: float = typer.Option(10.0, "--connect-timeout", help="Seconds for connect/SFTP."),
    run_timeout: float = typer.Option(120.0, "--run-timeout", help="Seconds before the agent is killed."),
    lease_timeout: float = typer.Option(600.0, "--lease-timeout", help="Seconds to wait for a busy board."),
    records: Path | None = typer.Option(None, "--records", help="Append the result to this JSON-lines file."),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Measure MODEL on BOARD; an emulated board (no host, or --emulate) says so in every metric."""
    from hil.board import BuildFailure, MeasureConfig, build_for_measure, measure_bundle
    from hil.flow import apply_inventory_declarations
    from hil.inventory import load_inventory
    from hil.records import MeasureResult, append_results

    inv = load_inventory(inventory)
    apply_inventory_declarations(inv)
    target = inv.board(board)
    # A board with a host needs a bitstream: build one by default. Without a host it is emulated.
    chosen = builder or ("vivado" if target.host is not None and not emulate else inv.farm.builder)
    if target.host is None and not emulate:
        print(
            f"hil: board {board} has no host in {inv.source}: emulating it "
            "(add its host: to measure the real board)",
            file=sys.stderr,
        )
    if chosen not in ("estimate", "vivado"):
        raise InputError(f"--builder must be estimate or vivado, got {chosen!r}")
    emulated = emulate or target.emulated
    if not emulated and chosen == "estimate":
        raise InputError(
            f"board {board} is a real board ({target.host}) and the estimate builder makes no bitstream "
            "to load; use --builder vivado, or --emulate to run the emulation there"
        )
    backend = resolve_backend(backend, chosen)
    check_flow_backend(backend, chosen)
    options = conversion_options(precision, reuse, io_type, strategy, backend, input_shape)
    config = MeasureConfig(
        batch=batch,
        min_seconds=min_seconds,
        warmup=warmup,
        repeats=repeats,
        dma_timeout_s=dma_timeout,
        min_agreement=min_agreement,
        emulate=emulated,
        connect_timeout_s=connect_timeout,
        run_timeout_s=run_timeout,
        lease_timeout_s=lease_timeout,
    )
    options, _plan = resolve_auto_reuse(model, target, options, reuse)
    candidate: dict[str, Any] = {"model": str(model), "options": options.as_dict(), "builder": chosen}
    stages: dict[str, float] = {}
    try:
        bundle = build_for_measure(
            model, target, options, chosen, inventory=inv, artifacts=artifacts, n_inputs=check_inputs,
            stage_seconds=stages,
        )  # fmt: skip
    except BuildFailure as failure:
        result = MeasureResult(
            design_key="unknown",
            board=target.name,
            error_code=failure.code,
            message=str(failure),
            stage_seconds={k: round(v, 4) for k, v in stages.items()},
            candidate=candidate,
        )
    else:
        result = measure_bundle(target, bundle, config, candidate=candidate, stage_seconds=stages)
    if records is not None:
        append_results(records, [result])
    if as_json:
        print_json(result.model_dump(mode="json"))
    else:
        _print(result)
    return 0 if result.ok else 1


def _print(result: Any) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    colour = "green" if result.ok else "red"
    out.print(f"[bold]{result.board}[/] {result.design_key[:12]}: [{colour}]{result.error_code.value}[/]")
    out.print(escape(result.message))
    table = Table(title="measurement")
    for column in ("what", "value", "provenance"):
        table.add_column(column)
    rows = (
        ("throughput_fps", "images/s (p50 of timed batches)"),
        ("latency_ms_p50", "latency p50 (ms, one image)"),
        ("latency_ms_p99", "latency p99 (ms, one image)"),
        ("power_w", "power (W)"),
        ("clock_mhz", "PL clock (MHz)"),
        ("ii_cycles", "II (cycles)"),
        ("latency_cycles", "latency (cycles)"),
    )
    for key, label in rows:
        metric = result.metrics.get(key)
        if metric is None:
            if key == "power_w" and result.ok:
                table.add_row(label, "no power sensors", "-")
            continue
        source = f" (from {metric.source.value})" if metric.source is not None else ""
        value = "-" if metric.value is None else f"{metric.value:,.6g}"
        table.add_row(label, value, f"{metric.provenance.value}{source}")
    checks = (result.candidate or {}).get("checks") or {}
    exact = checks.get("bit_exact")
    if exact:
        verdict = f"{exact['exact']}/{exact['checked']}" + (
            " (vacuous: emulated)" if exact.get("vacuous") else ""
        )
        table.add_row(
            "bit-exact vs C-sim", verdict, "emulated" if exact.get("vacuous") else "checked on board"
        )
    agreement = checks.get("reference_agreement")
    if agreement:
        low, high = agreement["wilson95"]
        table.add_row(
            "agreement with float reference",
            f"{agreement['agree']}/{agreement['n']} (95 % CI {low:.3f}-{high:.3f})",
            "design property",
        )
    if result.metrics or exact:
        out.print(table)
    for basis in dict.fromkeys(m.basis for m in result.metrics.values() if m.basis):
        out.print(f"basis: {escape(basis)}")
    stages = ", ".join(f"{k} {v:.3f}" for k, v in result.stage_seconds.items())
    out.print(f"seconds per stage: {stages}")
