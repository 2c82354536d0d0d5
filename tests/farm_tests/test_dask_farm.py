"""The farm on real dask processes: a lost worker, a killed owner of the ledger.

Uses the ``sleep`` builder (builds nothing, takes a fixed time) so the tests measure the farm's
plumbing: a real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1 with random ports,
and ``hil farm run`` as a real subprocess killed with SIGKILL. Every wait is bounded; every
process is killed at teardown.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from hil.farm import ArtifactStore, FarmRunner, Ledger, make_job, open_client
from hil.inventory import load_inventory
from tests.farm_tests.conftest import Processes, farm_inventory, free_port, hil_argv, start_cluster, wait_for

pytestmark = pytest.mark.slow


def _builds(log_file: Path) -> Counter[str]:
    if not log_file.is_file():
        return Counter()
    return Counter(json.loads(line)["key"] for line in log_file.read_text().splitlines() if line.strip())


def test_worker_killed_mid_job_every_job_done_once(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    processes.start(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], tmp_path / "scheduler.log",
    )  # fmt: skip
    workers = {}
    for name in ("w1", "w2"):
        workers[name] = processes.start(
            [sys.executable, "-m", "distributed.cli.dask_worker", address, "--name", name, "--nthreads", "1",
             "--no-nanny", "--resources", "vivado=1", "--host", "127.0.0.1", "--no-dashboard"],
            tmp_path / f"{name}.log",
        )  # fmt: skip
    log_file = tmp_path / "builds.jsonl"
    board = load_inventory().board("zcu104")
    jobs = [
        make_job(dense_onnx, board, {}, builder="sleep", timeout_s=60,
                 builder_params={"sleep_s": 2.5, "n": n, "log_file": str(log_file)})
        for n in range(4)
    ]  # fmt: skip
    root = tmp_path / "bs"
    summary: dict[str, object] = {}

    def coordinator() -> None:
        with Ledger(root / "ledger.sqlite") as ledger, open_client(address, timeout_s=30) as client:
            client.wait_for_workers(2, timeout=30)
            summary["run"] = FarmRunner(ledger, ArtifactStore(root)).run(client, jobs)

    thread = threading.Thread(target=coordinator, daemon=True)
    thread.start()
    watcher = Ledger(root / "ledger.sqlite") if (root / "ledger.sqlite").exists() else None
    wait_for(lambda: (root / "ledger.sqlite").exists(), 30, "the ledger")
    watcher = watcher or Ledger(root / "ledger.sqlite")

    def running_on_w1() -> str | None:
        for entry in watcher.entries("running"):
            if entry.worker == "w1":
                return entry.key
        return None

    wait_for(lambda: running_on_w1() is not None, 60, "a job running on w1")
    victim = running_on_w1()
    assert victim is not None
    os.kill(workers["w1"].pid, signal.SIGKILL)  # the worker dies mid-job
    thread.join(timeout=120)
    assert not thread.is_alive(), "coordinator did not finish"
    run = summary["run"]
    assert len(run.done) == 4 and not run.failed  # type: ignore[attr-defined]

    entries = watcher.entries()
    assert len(entries) == 4 and {e.key for e in entries} == {j.key for j in jobs}
    assert all(e.state == "done" and e.error_code == "OK" for e in entries)
    killed = watcher.get(victim)
    assert killed is not None and killed.attempts == 2 and killed.worker == "w2"
    assert [a["worker"] for a in watcher.attempts(victim)] == ["w1", "w2"]  # the retry is recorded
    counts = _builds(log_file)
    assert counts[victim] == 2 and all(counts[j.key] == 1 for j in jobs if j.key != victim)
    assert all(ArtifactStore(root).complete(j.key) for j in jobs)
    watcher.close()


def test_owner_kill9_another_process_takes_over_after_the_heartbeat_limit(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    """kill -9 of the ledger's owner mid-run: a second run waits out the heartbeat limit, then finishes."""
    log_file = tmp_path / "builds.jsonl"
    address = start_cluster(processes, tmp_path, {"w1": {"HIL_SLEEP_LOG": str(log_file)},
                                                  "w2": {"HIL_SLEEP_LOG": str(log_file)}})  # fmt: skip
    limit_s = 3.0
    root = tmp_path / "bs"
    inventory = farm_inventory(tmp_path, artifacts=str(root), heartbeat_limit_s=limit_s)
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep\ntimeout_s: 60\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        "grid: {reuse_factor: [1, 2, 3, 4, 5, 6, 7, 8]}\nbuilder_params: {sleep_s: 1.0}\n"
    )
    argv = hil_argv("farm", "run", jobs_file, "--scheduler", address, "--inventory", inventory, "--json")
    first = processes.start(argv, tmp_path / "run1.log")
    wait_for(lambda: (root / "ledger.sqlite").exists(), 60, "the ledger")
    with Ledger(root / "ledger.sqlite") as ledger:
        wait_for(lambda: ledger.counts()["done"] >= 2, 90, "two finished builds")
        owner = ledger.owner()
        assert owner is not None and owner.process is not None and owner.process.pid == first.pid
        processes.kill(first)  # kill -9 the owner mid-run (the workers keep running)
        killed_at = time.time()
        before = {e.key: e.finished_at for e in ledger.entries("done")}
        assert 2 <= len(before) < 8
        held = {e.key for e in ledger.entries() if e.holder == owner.token}
        assert held, "the dead owner held no unfinished job"

    second = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    payload = json.loads(second.stdout)
    assert payload["total"] == 8 and payload["failed"] == 0
    assert payload["skipped"] >= len(before)  # what was finished is not rebuilt
    with Ledger(root / "ledger.sqlite") as ledger:
        entries = ledger.entries()
        assert len(entries) == 8 and all(e.state == "done" and e.error_code == "OK" for e in entries)
        for key, finished_at in before.items():
            assert ledger.get(key).finished_at == finished_at  # type: ignore[union-attr]
        events = ledger.events()
    takeovers = [e for e in events if e.event == "owner" and e.detail.get("change") == "took-over"]
    assert len(takeovers) == 1
    takeover = takeovers[0]
    assert takeover.detail["previous"] == owner.token and takeover.detail["pid"] == first.pid
    assert takeover.detail["heartbeat_age_s"] >= limit_s  # only after the heartbeat limit
    assert takeover.t - killed_at >= limit_s - limit_s / 6 - 0.5
    requeued = [e for e in events if e.event == "requeued"]
    assert {e.key for e in requeued} == held  # exactly the dead owner's unfinished claims
    assert all(e.by == takeover.by and e.t >= takeover.t for e in requeued)  # by the new owner, after
    counts = _builds(log_file)
    assert all(counts[key] == 1 for key in before)
    assert all(1 <= counts[e.key] <= 2 for e in entries)  # a job running at the kill may run twice
    assert not list(root.glob(".tmp-*"))

    third = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert third.returncode == 0 and json.loads(third.stdout)["skipped"] == 8  # nothing left to do
