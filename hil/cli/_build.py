"""`hil build MODEL --board B [--builder estimate|vivado]`: one build, answered from the ledger when done.

Start-up matters here: a finished build must answer in well under 2 s as a whole process, so
nothing heavy (hls4ml, torch, dask) is imported unless the build really runs.
"""

from __future__ import annotations

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
    STOP_AFTER_OPTION,
    STRATEGY_OPTION,
    check_flow_backend,
    conversion_options,
    resolve_auto_reuse,
    resolve_backend,
)


@app.command("build")
def build_command(
    model: Path = MODEL_ARGUMENT,
    board: str = BOARD_OPTION,
    precision: str = PRECISION_OPTION,
    reuse: str = REUSE_OPTION,
    io_type: str = IO_TYPE_OPTION,
    strategy: str = STRATEGY_OPTION,
    backend: str = BUILD_BACKEND_OPTION,
    input_shape: str | None = INPUT_SHAPE_OPTION,
    builder: str = typer.Option(
        "estimate",
        "--builder",
        help="estimate (cost model) or vivado (the installed AMD tools: a bitstream).",
    ),
    stop_after: str = STOP_AFTER_OPTION,
    dry_run: bool = typer.Option(
        False, "--dry-run", help="vivado: write every script and plan.json (each tool call), run nothing."
    ),
    release: str | None = typer.Option(
        None,
        "--release",
        help="--dry-run: plan for this AMD release (default: the installed one, else 2025.1).",
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="--dry-run: the folder to write into (default hil-out/<model>-<board>-plan).",
        file_okay=False,
    ),
    timeout: float = typer.Option(6 * 3600.0, "--timeout", help="Build timeout in seconds."),
    csim_n: int = typer.Option(16, "--csim-n", help="Test inputs (and C-sim outputs) in the board bundle."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep a failed build's tool projects."),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Build MODEL for BOARD (or return the finished build); exit 1 when the build failed.

    With --builder vivado the installed AMD release's flow makes a bitstream (see `hil toolchain`).
    """
    from hil.errors import InputError
    from hil.farm import artifacts_root, build_one, make_job, open_farm
    from hil.flow import apply_inventory_declarations
    from hil.inventory import load_inventory

    inv = load_inventory(inventory)
    apply_inventory_declarations(inv)
    target = inv.board(board)
    if dry_run and builder != "vivado":
        raise InputError("--dry-run plans a vivado build: add --builder vivado")
    backend = resolve_backend(backend, builder, release if dry_run else None)
    options = conversion_options(precision, reuse, io_type, strategy, backend, input_shape)
    options, _plan = resolve_auto_reuse(model, target, options, reuse)
    if dry_run:
        return _dry_run(model, target, options, release, stop_after, out, as_json)
    check_flow_backend(options.backend, builder)
    params = {"stop_after": stop_after} if builder == "vivado" else {}
    job = make_job(
        model,
        target,
        options.as_dict(),
        builder=builder,
        builder_params=params,
        timeout_s=timeout,
        csim_n=csim_n,
        keep_failed=keep_failed,
        tools=inv.farm.tools,
    )
    ledger, store = open_farm(artifacts_root(inv, artifacts))
    with ledger:
        outcome = build_one(job, ledger, store, heartbeat_limit_s=inv.farm.heartbeat_limit_s)
    if as_json:
        print_json(outcome)
    else:
        _print(outcome, job.describe())
    return 0 if outcome["state"] == "done" else 1


def _print(outcome: dict[str, Any], label: str) -> None:
    from rich.markup import escape
    from rich.table import Table

    out = console()
    label = escape(label)
    verdict = "[green]done[/]" if outcome["state"] == "done" else f"[red]{outcome['state']}[/]"
    hit = " (cache hit)" if outcome["cache_hit"] else ""
    if outcome.get("waited"):
        hit = " (built by another process while this one waited)"
    out.print(f"{label}: {verdict}{hit}, error code {outcome['error_code']}")
    if outcome["metrics"]:
        table = Table(title="metrics")
        for column in ("metric", "value", "provenance"):
            table.add_column(column)
        for key, metric in outcome["metrics"].items():
            value = metric.get("value")
            table.add_row(key, "n/a" if value is None else f"{value:g}", metric.get("provenance", ""))
        out.print(table)
    if outcome["artifact"]:
        out.print(f"artifact: {outcome['artifact']}")
    if outcome["state"] != "done":
        out.print(outcome["message"] or "")


def _dry_run(
    model: Path,
    board: Any,
    options: Any,
    release: str | None,
    stop_after: str,
    out: Path | None,
    as_json: bool,
) -> int:
    """Write the flow's scripts and plan.json for ``board``; run no tool."""
    from rich.markup import escape
    from rich.table import Table

    from hil.flow import rehearse

    folder = out if out is not None else Path("hil-out") / f"{model.stem}-{board.name}-plan"
    plan, _hls_model = rehearse(model, board, options, out=folder, release=release, stop_after=stop_after)
    payload = {
        **plan.to_dict(),
        "folder": str(folder.resolve()),
        "plan_file": str((folder / "plan.json").resolve()),
    }
    if as_json:
        print_json(payload)
        return 0
    console_ = console()
    console_.print(
        f"dry run: {plan.flow} flow for AMD {plan.release}, board {board.name} ({plan.part}, "
        f"{plan.clock_mhz:g} MHz), stop after {plan.stop_after}; nothing was run"
    )
    table = Table(title=f"tool calls (in {escape(str(folder))})")
    for column in ("#", "argv", "must produce"):
        table.add_column(column)
    for index, call in enumerate(plan.calls, 1):
        table.add_row(str(index), escape(" ".join(call.argv)), escape("\n".join(call.produces)))
    console_.print(table)
    console_.print(f"scripts: {escape(', '.join(plan.scripts))}; plan: {escape(payload['plan_file'])}")
    return 0
