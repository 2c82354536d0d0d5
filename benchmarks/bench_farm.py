"""Farm throughput: jobs/hour with 1, 2 and 4 local dask workers for a fixed sleep builder, TCP and TLS.

The ``sleep`` builder takes ``--sleep-s`` per job and builds nothing, so the numbers measure the
farm's own overhead (scheduling, ledger claims and events, heartbeats, artifact sealing and
verification, the transfer back) against the ideal ``workers * 3600 / sleep_s``. Each worker
count runs on plain TCP and on TLS (dask's ``Security``, as a farm on a network runs), and with
``--builders sleep sleep-isolated`` also with isolated builds: each job in its own build child
process with the watchdog, as a Vivado build runs. Each worker keeps one such child loaded ahead
(the runner starts the first before any build), so a job pays the hand-over and the child's own
work (~30 ms on an idle host), while the next child's interpreter start (~0.2 s of CPU) overlaps
the build: with 1 s jobs on 2 cores, 4 workers spend ~0.8 CPU-s a second starting children, so
the isolated figure there measures the host's spare CPU as much as the farm.
Prints a table and writes JSON (``--json FILE``). The run's
wall clock starts after the cluster is up and its workers have imported hil (a farm's workers
are long-lived; their start-up is not the farm's throughput).

    python benchmarks/bench_farm.py [--jobs 16] [--sleep-s 1.0] [--workers 1 2 4]
        [--protocols tcp tls] [--builders sleep sleep-isolated] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path


def _warm_up() -> str:
    """Run on every worker before timing: the imports a build needs, done once per worker process."""
    import hil.farm._build_task
    import hil.farm.builders

    return hil.farm._build_task.__name__ + hil.farm.builders.__name__


def run(
    n_workers: int, n_jobs: int, sleep_s: float, *, tls: bool, builder: str = "sleep"
) -> dict[str, object]:
    from hil.farm import ArtifactStore, FarmRunner, Ledger, make_job, open_client
    from hil.inventory import load_inventory

    board = load_inventory().board("zcu104")
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as tmp:
        model = Path(tmp) / "model.bin"
        model.write_bytes(b"bench")
        jobs = [
            make_job(model, board, {}, builder=builder, builder_params={"sleep_s": sleep_s, "n": i})
            for i in range(n_jobs)
        ]
        root = Path(tmp) / "bs"
        with (
            open_client(None, workers=n_workers, local_tls=tls) as client,
            Ledger(root / "ledger.sqlite") as ledger,
        ):
            client.wait_for_workers(n_workers, timeout=60)
            client.run(_warm_up)
            protocol = client.scheduler.address.split("://")[0]
            started = time.perf_counter()
            summary = FarmRunner(ledger, ArtifactStore(root)).run(client, jobs)
            seconds = time.perf_counter() - started
        assert len(summary.done) == n_jobs, summary.to_dict()
    ideal = n_workers * 3600.0 / sleep_s
    rate = n_jobs * 3600.0 / seconds
    return {"builder": builder, "protocol": protocol, "workers": n_workers, "jobs": n_jobs,
            "seconds": round(seconds, 3),
            "jobs_per_hour": round(rate), "ideal_jobs_per_hour": round(ideal),
            "efficiency": round(rate / ideal, 3)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16)
    parser.add_argument("--sleep-s", type=float, default=1.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--protocols", nargs="+", default=["tcp", "tls"], choices=["tcp", "tls"])
    parser.add_argument("--builders", nargs="+", default=["sleep"], choices=["sleep", "sleep-isolated"])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = [run(n, args.jobs, args.sleep_s, tls=p == "tls", builder=b)
            for p in args.protocols for n in args.workers for b in args.builders]  # fmt: skip
    load = os.getloadavg()[0]
    print(f"sleep builder, {args.jobs} jobs of {args.sleep_s:g} s, local dask workers (1 thread each); "
          f"load average {load:.2f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(f"{'builder':>14} {'protocol':>8} {'workers':>7} {'seconds':>8} {'jobs/hour':>10} {'ideal':>8} "
          f"{'efficiency':>10} {'vs plain':>8}")  # fmt: skip
    plain = {(r["protocol"], r["workers"]): r for r in rows if r["builder"] == "sleep"}
    for r in rows:
        base = plain.get((r["protocol"], r["workers"]))
        ratio = ""
        if base is not None and r is not base:
            ratio = f"{float(str(r['jobs_per_hour'])) / float(str(base['jobs_per_hour'])):.2f}"
            r["vs_plain"] = float(ratio)
        print(f"{r['builder']:>14} {r['protocol']:>8} {r['workers']:>7} {r['seconds']:>8.2f} "
              f"{r['jobs_per_hour']:>10} {r['ideal_jobs_per_hour']:>8} {r['efficiency']:>10.2f} "
              f"{ratio:>8}")  # fmt: skip
    if args.json:
        payload = {"sleep_s": args.sleep_s, "load_average": load, "cpus": os.cpu_count(), "rows": rows}
        args.json.write_text(json.dumps(payload, indent=2))


if __name__ == "__main__":
    main()
