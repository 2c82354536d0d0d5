"""`hil farm run JOBS.yaml | status [--watch] | export --jsonl FILE | certs DIR`: the build farm.

Thin: the jobs file, ledger, sessions, store, runner and certificates live in ``hil.farm``; the
displays in ``hil.cli._farm_view``; dask is imported only when ``run`` starts work.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from hil.cli._app import app
from hil.cli._common import ARTIFACTS_OPTION, INVENTORY_OPTION, JSON_OPTION, console, print_json

farm_app = typer.Typer(
    help="Run build jobs on a dask farm; show and export the ledger; make TLS certificates.",
    no_args_is_help=True,
)
app.add_typer(farm_app, name="farm")


@farm_app.command("run")
def run_command(
    jobs_file: Path = typer.Argument(..., help="Jobs YAML: models x options x boards, builder, timeout."),
    scheduler: str | None = typer.Option(
        None,
        "--scheduler",
        help="tls://HOST:PORT (or tcp:// on loopback) of a dask scheduler "
        "(default: inventory farm.scheduler, else a local cluster).",
    ),
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes of the local cluster."),
    shared_artifacts: bool = typer.Option(
        False,
        "--shared-artifacts",
        help="Workers write straight into the artifacts folder (mounted on every host); "
        "default: the inventory's farm.shared_artifacts.",
    ),
    insecure: bool = typer.Option(
        False,
        "--insecure",
        help="Allow plain tcp:// to a non-loopback scheduler. Dangerous: dask pickles tasks, so anyone "
        "who can reach the port can run code on the build hosts and on this machine.",
    ),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Build every job of JOBS_FILE that is not done yet; exit 1 when any build failed."""
    from hil.cli._farm_view import RunDisplay, summary_tables
    from hil.farm import (
        FarmRunner,
        FarmSession,
        artifacts_root,
        expand_jobs,
        load_jobs_file,
        open_client,
        open_farm,
        scheduler_security,
        tls_files,
    )
    from hil.flow import apply_inventory_declarations
    from hil.inventory import load_inventory

    inv = load_inventory(inventory)
    apply_inventory_declarations(inv)
    spec = load_jobs_file(jobs_file)
    jobs = expand_jobs(spec, inv)
    address = scheduler or inv.farm.scheduler
    tls = tls_files(inv)
    if address is not None:  # refuse an unsafe or unconfigured scheduler before touching the ledger
        scheduler_security(address, tls, insecure=insecure, warn=False)
    ledger, store = open_farm(artifacts_root(inv, artifacts), max_archive_gib=inv.farm.max_archive_gib)
    out = console()
    with ledger, FarmSession(ledger.path, store, heartbeat_limit_s=inv.farm.heartbeat_limit_s) as session:
        runner = FarmRunner(
            ledger, store, shared_artifacts=shared_artifacts or inv.farm.shared_artifacts, session=session
        )
        prepared = runner.prepare(jobs, by=session.token)
        display = RunDisplay(out, len(jobs), live=sys.stdout.isatty(), quiet=as_json)
        if not prepared[0]:  # everything is done: no cluster needed
            summary = runner.run(None, jobs, on_event=display.on_event, prepared=prepared)
        else:
            with open_client(address, workers=workers, tls=tls, insecure=insecure) as client, display:
                summary = runner.run(client, jobs, on_event=display.on_event, prepared=prepared)
        rows = [_row(ledger.get(job.key), job) for job in jobs]
    payload = {**summary.to_dict(), "jobs": rows}
    if as_json:
        print_json(payload)
    else:
        for table in summary_tables(rows, payload):
            out.print(table)
    return 1 if summary.failed or summary.requeued else 0


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


def _snapshot(ledger: Any, root: Path, events: int) -> dict[str, Any]:
    now = time.time()
    owner = ledger.owner()
    return {
        "artifacts": str(root),
        "counts": ledger.counts(),
        "owner": None if owner is None else {
            "token": owner.token, "acquired_at": owner.acquired_at,
            "process": None if owner.process is None else owner.process.to_dict(now),
        },
        "processes": [p.to_dict(now) for p in ledger.processes()],
        "jobs": [
            {**e.to_dict(), "attempt_log": ledger.attempts(e.key),
             "history": [ev.to_dict() for ev in ledger.events(e.key)]}
            for e in ledger.entries()
        ],
        "events": [ev.to_dict() for ev in ledger.events(limit=events)],
    }  # fmt: skip


@farm_app.command("status")
def status_command(
    watch: bool = typer.Option(False, "--watch", help="Refresh every --interval seconds (Ctrl-C stops)."),
    interval: float = typer.Option(
        2.0, "--interval", min=0.05, help="Seconds between refreshes with --watch."
    ),
    until_idle: bool = typer.Option(
        False, "--until-idle", help="With --watch: stop once no job is queued or running."
    ),
    events: int = typer.Option(10, "--events", min=0, help="Recent ledger events to show."),
    artifacts: Path | None = ARTIFACTS_OPTION,
    inventory: Path | None = INVENTORY_OPTION,
    as_json: bool = JSON_OPTION,
) -> int:
    """Every job in the ledger (state, attempts, worker, holder, error code), its owner and its events."""
    from hil.cli._farm_view import status_renderable
    from hil.farm import Ledger, artifacts_root
    from hil.inventory import load_inventory

    root = artifacts_root(load_inventory(inventory), artifacts)
    path = root / "ledger.sqlite"
    if not path.is_file():
        from hil.errors import ConfigError

        raise ConfigError(f"{path}: no ledger here (nothing was built with --artifacts {root})")
    out = console()
    with Ledger(path) as ledger:
        if not watch:
            snapshot = _snapshot(ledger, root, events)
            if as_json:
                print_json(snapshot)
            else:
                out.print(status_renderable(snapshot))
            return 0
        return _watch(ledger, root, events, interval, until_idle, as_json)


def _idle(snapshot: dict[str, Any]) -> bool:
    return snapshot["counts"]["queued"] == 0 and snapshot["counts"]["running"] == 0


def _watch(ledger: Any, root: Path, events: int, interval: float, until_idle: bool, as_json: bool) -> int:
    from hil.cli._farm_view import status_renderable

    out = console()
    try:
        if sys.stdout.isatty() and not as_json:
            from rich.live import Live

            with Live(status_renderable(_snapshot(ledger, root, events), watch=True), console=out,
                      refresh_per_second=4) as live:  # fmt: skip
                while True:
                    time.sleep(interval)
                    snapshot = _snapshot(ledger, root, events)
                    live.update(status_renderable(snapshot, watch=True))
                    if until_idle and _idle(snapshot):
                        return 0
        last = None
        while True:  # not a terminal: a block (or a JSON line) whenever something changed
            snapshot = _snapshot(ledger, root, events)
            mark = (snapshot["counts"], [e["id"] for e in snapshot["events"]])
            if mark != last:
                last = mark
                if as_json:
                    sys.stdout.write(json.dumps({**snapshot, "t": time.time()}, default=str) + "\n")
                    sys.stdout.flush()
                else:
                    out.print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')}", markup=False)
                    out.print(status_renderable(snapshot, watch=True))
            if until_idle and _idle(snapshot):
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
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


@farm_app.command("certs")
def certs_command(
    folder: Path = typer.Argument(..., help="Folder for the CA and the certificates (created, mode 0700)."),
    host: list[str] = typer.Option(
        [], "--host", help="A host to issue a certificate for: the scheduler's, each build host's, the "
        "coordinator's (repeat). Each certificate names its host."
    ),
    rotate: bool = typer.Option(
        False, "--rotate", help="Make a new CA and re-issue exactly the --host certificates; every older "
        "certificate, and every host left off the list, is refused from then on."
    ),
    days: int = typer.Option(825, "--days", help="Validity of new certificates, in days."),
    as_json: bool = JSON_OPTION,
) -> int:
    """Make a farm CA and one certificate per --host for dask's mutual TLS (or rotate the CA)."""
    from hil.farm import make_certificates, rotate_certificates

    made = (rotate_certificates if rotate else make_certificates)(folder, host, days=days)
    if as_json:
        print_json(made.to_dict())
        return 0
    out = console()
    d = made.folder
    out.print(f"CA: {made.ca_file} (keep {made.ca_key_file.name} off the farm); "
              f"{len(made.created)} new file(s)", markup=False)  # fmt: skip
    if made.rotated:
        out.print(f"new CA: copy {made.ca_file.name} and each host's new pair to that host and restart the "
                  f"farm; revoked: {', '.join(made.revoked) or 'none'}", markup=False)  # fmt: skip
    for name, (cert, key) in made.certificates.items():
        out.print(f"  {name}: {cert.name} + {key.name}", markup=False)
    s = host[0]
    w = host[1] if len(host) > 1 else s
    out.print(
        "Start the farm with them (copy ca.pem and each host's own pair to that host; here "
        f"{s} runs the scheduler):\n"
        f"  dask scheduler --protocol tls --tls-ca-file {d}/ca.pem --tls-cert {d}/{s}.pem "
        f"--tls-key {d}/{s}-key.pem\n"
        f"  dask worker tls://{s}:8786 --tls-ca-file {d}/ca.pem --tls-cert {d}/{w}.pem "
        f"--tls-key {d}/{w}-key.pem --resources vivado=1 --nthreads 1\n"
        "and in the coordinator's inventory.yaml (its own host's pair; the scheduler's certificate "
        "must name the host in the address):\n"
        f"  farm:\n    scheduler: tls://{s}:8786\n"
        f"    tls: {{ca_file: {d}/ca.pem, cert_file: {d}/COORDINATOR.pem, "
        f"key_file: {d}/COORDINATOR-key.pem}}",
        markup=False,
    )
    return 0
