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


@app.command("build")
def build_command(
    model: Path = MODEL_ARGUMENT,
    board: str = BOARD_OPTION,
    precision: str = PRECISION_OPTION,
    reuse: str = REUSE_OPTION,
    io_type: str = IO_TYPE_OPTION,
    strategy: str = STRATEGY_OPTION,
    backend: str = BACKEND_OPTION,
    input_shape: str | None = INPUT_SHAPE_OPTION,
    builder: str = typer.Option(
        "estimate", "--builder", help="estimate (cost model) or vivado (real tools)."
    ),
    timeout: float = typer.Option(6 * 3600.0, "--timeout", help="Build timeout in seconds."),
    csim_n: int = typer.Option(16, "--csim-n", help="Test inputs (and C-sim outputs) in the board bundle."),
    keep_failed: bool = typer.Option(False, "--keep-failed", help="Keep a failed build's tool projects."),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Build MODEL for BOARD (or return the finished build); exit 1 when the build failed."""
    from hil.farm import artifacts_root, build_one, make_job, open_farm
    from hil.inventory import load_inventory

    inv = load_inventory(inventory)
    target = inv.board(board)
    options = conversion_options(precision, reuse, io_type, strategy, backend, input_shape)
    options, _plan = resolve_auto_reuse(model, target, options, reuse)
    job = make_job(
        model,
        target,
        options.as_dict(),
        builder=builder,
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
