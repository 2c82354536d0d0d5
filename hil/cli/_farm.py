"""`hil farm run JOBS.yaml | status | export --jsonl FILE`: overnight builds on a dask farm.

Thin: the jobs file, ledger, store and runner live in ``hil.farm``; dask is imported only when
``run`` starts work.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import ARTIFACTS_OPTION, INVENTORY_OPTION, JSON_OPTION, console, print_json

farm_app = typer.Typer(
    help="Run build jobs on a dask farm; show and export the ledger.", no_args_is_help=True
)
app.add_typer(farm_app, name="farm")


@farm_app.command("run")
def run_command(
    jobs_file: Path = typer.Argument(..., help="Jobs YAML: models x options x boards, builder, timeout."),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="tcp://HOST:PORT of a dask scheduler (default: inventory farm.scheduler, else a local cluster).",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes of the local cluster."),
    shared_artifacts: bool = typer.Option(
        False,
        "--shared-artifacts",
        help="Workers write straight into the artifacts folder (mounted on every host); "
        "default: the inventory's farm.shared_artifacts.",
    ),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Build every job of JOBS_FILE that is not done yet; exit 1 when any build failed."""
    from hil.farm import FarmRunner, artifacts_root, expand_jobs, load_jobs_file, open_client, open_farm
    from hil.inventory import load_inventory

    inv = load_inventory(inventory)
    spec = load_jobs_file(jobs_file)
    jobs = expand_jobs(spec, inv)
    address = scheduler or inv.farm.scheduler
    ledger, store = open_farm(artifacts_root(inv, artifacts))
    with ledger:
        runner = FarmRunner(ledger, store, shared_artifacts=shared_artifacts or inv.farm.shared_artifacts)
        todo, _ = runner.pending(jobs)
        if not todo:
            summary = runner.run(None, jobs)
        else:
            with open_client(address, workers=workers) as client:
                if as_json:
                    summary = runner.run(client, jobs)
                else:
                    summary = _run_with_progress(runner, client, jobs)
        rows = [_row(ledger.get(job.key), job) for job in jobs]
    payload = {**summary.to_dict(), "jobs": rows}
    if as_json:
        print_json(payload)
    else:
        _summary_table(rows, payload)
    return 1 if summary.failed else 0


def _run_with_progress(runner: Any, client: Any, jobs: list[Any]) -> Any:
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console(), transient=False,
    ) as progress:  # fmt: skip
        task = progress.add_task("builds", total=len(jobs))

        def on_event(event: Any) -> None:
            if event.kind in ("skipped", "done", "failed"):
                progress.advance(task)
            progress.console.log(escape(f"{event.kind:8} {event.job.describe()} {event.detail}"))

        return runner.run(client, jobs, on_event=on_event)


def _row(entry: Any, job: Any) -> dict[str, Any]:
    metrics = (entry.result or {}).get("metrics", {}) if entry else {}
    return {
        "key": job.key,
        "model": Path(job.model).name,
        "board": job.board,
        "builder": job.builder,
        "state": entry.state if entry else "unknown",
        "attempts": entry.attempts if entry else 0,
        "worker": entry.worker if entry else None,
        "seconds": entry.seconds if entry else None,
        "error_code": entry.error_code if entry else None,
        "message": (entry.message or "").splitlines()[0] if entry and entry.message else "",
        "lut": (metrics.get("lut") or {}).get("value"),
        "provenance": (metrics.get("lut") or {}).get("provenance"),
    }


def _summary_table(rows: list[dict[str, Any]], payload: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"farm: {payload['built']} built, {payload['skipped']} already done, "
                        f"{payload['failed']} failed, {payload['seconds']:.1f} s")  # fmt: skip
    for column in (
        "key",
        "model",
        "board",
        "builder",
        "state",
        "tries",
        "worker",
        "s",
        "code",
        "LUT",
        "message",
    ):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["key"][:12], r["model"], r["board"], r["builder"], r["state"], str(r["attempts"]),
            str(r["worker"] or ""),
            "" if r["seconds"] is None else f"{r['seconds']:.1f}", r["error_code"] or "",
            "" if r["lut"] is None else f"{r['lut']:g} ({r['provenance']})", r["message"][:60],
        )  # fmt: skip
    console().print(table)


@farm_app.command("status")
def status_command(
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Every job in the ledger: state, attempts, worker, time, error code."""
    from hil.farm import artifacts_root, open_farm
    from hil.inventory import load_inventory

    root = artifacts_root(load_inventory(inventory), artifacts)
    ledger, _store = open_farm(root)
    with ledger:
        entries = ledger.entries()
        counts = ledger.counts()
        jobs = [{**e.to_dict(), "attempt_log": ledger.attempts(e.key)} for e in entries]
    if as_json:
        print_json({"artifacts": str(root), "counts": counts, "jobs": jobs})
        return 0
    from rich.table import Table

    table = Table(title=f"{root}: " + ", ".join(f"{n} {s}" for s, n in counts.items()))
    for column in ("key", "model", "board", "builder", "state", "tries", "worker", "s", "code", "message"):
        table.add_column(column)
    for e in entries:
        table.add_row(
            e.key[:12], Path(e.job.get("model", "")).name, e.job.get("board", ""), e.job.get("builder", ""),
            e.state, str(e.attempts), e.worker or "", "" if e.seconds is None else f"{e.seconds:.1f}",
            e.error_code or "",
            (e.message or "").splitlines()[0][:60] if e.message else "",
        )  # fmt: skip
    console().print(table)
    return 0


@farm_app.command("export")
def export_command(
    jsonl: Path = typer.Option(
        ..., "--jsonl", help="JSON-lines file to write (records format).", dir_okay=False
    ),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Write every finished build's metrics, per-layer rows included, as records for `hil costmodel`."""
    from hil.farm import artifacts_root, export_records, open_farm
    from hil.inventory import load_inventory

    ledger, store = open_farm(artifacts_root(load_inventory(inventory), artifacts))
    with ledger:
        counts = export_records(ledger, store, jsonl)
    if as_json:
        print_json({"path": str(jsonl), **counts})
    else:
        console().print(f"wrote {counts['records']} record(s) of {counts['builds']} build(s) to {jsonl}")
    return 0
