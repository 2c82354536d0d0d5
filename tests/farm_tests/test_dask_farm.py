"""The farm on real dask processes: a lost worker, a killed coordinator.

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
from collections import Counter
from pathlib import Path

import pytest

from hil.farm import ArtifactStore, FarmRunner, Ledger, make_job, open_client
from hil.inventory import load_inventory
from tests.farm_tests.conftest import Processes, free_port, wait_for

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


def test_coordinator_kill9_then_rerun_builds_only_the_rest(
    processes: Processes, dense_onnx: Path, tmp_path: Path
) -> None:
    log_file = tmp_path / "builds.jsonl"
    jobs_file = tmp_path / "jobs.yaml"
    jobs_file.write_text(
        f"builder: sleep\ntimeout_s: 60\nmodels: [{dense_onnx}]\nboards: [zcu104]\n"
        f"grid: {{reuse_factor: [1, 2, 3, 4, 5, 6]}}\n"
        f"builder_params: {{sleep_s: 1.5, log_file: {log_file}}}\n"
    )
    root = tmp_path / "bs"
    argv = [sys.executable, "-m", "hil", "farm", "run", str(jobs_file), "--artifacts", str(root),
            "--workers", "2", "--json"]  # fmt: skip
    first = processes.start(argv, tmp_path / "run1.log")
    wait_for(lambda: (root / "ledger.sqlite").exists(), 60, "the ledger")
    with Ledger(root / "ledger.sqlite") as ledger:
        wait_for(lambda: ledger.counts()["done"] >= 2, 90, "two finished builds")
        os.kill(first.pid, signal.SIGKILL)  # kill -9 the coordinator mid-run
        first.wait(timeout=10)
        processes.kill(first)  # and its local cluster's worker processes
        before = {e.key: e.finished_at for e in ledger.entries("done")}
        assert 2 <= len(before) < 6
        assert ledger.counts()["running"] >= 1 or ledger.counts()["queued"] >= 1

    second = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    payload = json.loads(second.stdout)
    assert payload["total"] == 6 and payload["skipped"] == len(before) and payload["failed"] == 0
    with Ledger(root / "ledger.sqlite") as ledger:
        entries = ledger.entries()
        assert len(entries) == 6 and all(e.state == "done" for e in entries)
        for key, finished_at in before.items():  # finished builds were not rebuilt
            assert ledger.get(key).finished_at == finished_at  # type: ignore[union-attr]
    counts = _builds(log_file)
    assert all(counts[key] == 1 for key in before)
    assert set(counts) == {e.key for e in entries}
    assert not list(root.glob(".tmp-*"))

    third = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    assert third.returncode == 0 and json.loads(third.stdout)["skipped"] == 6  # nothing left to do
